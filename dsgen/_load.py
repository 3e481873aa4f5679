"""load_spec: YAML text -> typed Spec, with every shape error located at file:line:col."""

from __future__ import annotations

import difflib
import keyword
import math
import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
    ScalarEvent,
)
from ruamel.yaml.reader import ReaderError

from dsgen._errors import Diagnostic, Location, SpecError
from dsgen._model import (
    NOW,
    App,
    Auth,
    Backend,
    Field,
    FieldType,
    Index,
    Screen,
    Spec,
    Store,
)
from dsgen._names import IDENTIFIER, Name

SPEC_VERSION = 1
TOP_KEYS = ("dsgen", "app", "stores", "screens", "signals")
APP_KEYS = ("name", "title", "backend", "auth")
STORE_KEYS = ("fields", "realtime", "indexes")
INDEX_KEYS = ("fields", "unique", "partial")
FIELD_KEYS = (
    "type", "required", "unique", "default", "min", "max", "values", "store", "many", "label",
    "renamed_from",
)
SCREEN_CORE_KEYS = ("pattern", "store", "title", "nav")
SIGNAL_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*\Z")
# Bounds on what a spec file may make the loader build (hostile input, issue 13): nesting
# deeper than any spec needs overflows recursive walks; aliases may add at most this many
# nodes (a few hundred bytes of nested aliases otherwise expand to billions); and a number
# longer than Python converts (4,300 digits) is no number a spec needs.
MAX_DEPTH = 64
ALIAS_BUDGET = 10_000
MAX_NUMBER_CHARS = 1_000
_NUMBER_CHARS = frozenset("0123456789abcdefABCDEFxXoObB_:+-.")
# Characters no spec value needs: C0/C1 controls (tab and line breaks aside), DEL, UTF-16
# surrogate halves (not characters: they cannot be written out as UTF-8) and non-characters.
_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f"
                       "\ud800-\udfff\ufffe\uffff]")
# ...and, in one-line text (titles, labels, enum values), line breaks and tabs too.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
# Columns every store gets; a store may declare them itself only with a compatible type.
IMPLICIT_FIELDS = {"id": FieldType.UUID, "created_at": FieldType.DATETIME,
                   "updated_at": FieldType.DATETIME}


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """A `did you mean 'x'?` hint, or None when nothing is close."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def one_of(choices: list[str] | tuple[str, ...]) -> str:
    return "one of " + ", ".join(f"'{c}'" for c in choices)


def _nonfinite(value: Any) -> bool:
    """True when value is or holds YAML's .inf or .nan: no JSON, Python or SQL literal."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_nonfinite(v) for v in value.values())
    if isinstance(value, list):
        return any(_nonfinite(v) for v in value)
    return False


def bad_char(text: str, one_line: bool = False) -> str | None:
    """A description of the first character `text` may not hold, or None when it is clean."""
    match = (_NOT_ONE_LINE if one_line else _BAD_CHAR).search(text)
    if match is None:
        return None
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return f"U+{code:04X}, half of a UTF-16 surrogate pair (not a character)"
    if code in (0xFFFE, 0xFFFF):
        return f"U+{code:04X}, a non-character"
    if match.group() in "\t\n\r\u2028\u2029":
        return f"a line break or tab (U+{code:04X})"
    return f"the control character U+{code:04X}"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"'{value}'"


class _Reader:
    """Walks the ruamel tree, records locations and collects diagnostics."""

    def __init__(self, path: Path):
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.locations: dict[str, Location] = {}

    # -- locations ----------------------------------------------------------------------
    def loc(self, line0: int, col0: int) -> Location:
        return Location(self.path, line0 + 1, col0 + 1)

    def key_loc(self, node: CommentedMap, key: Any) -> Location | None:
        try:
            line, col = node.lc.key(key)
        except (KeyError, AttributeError, TypeError):
            return None
        return self.loc(line, col)

    def value_loc(self, node: CommentedMap, key: Any) -> Location | None:
        try:
            line, col = node.lc.value(key)
        except (KeyError, AttributeError, TypeError):
            return self.key_loc(node, key)
        return self.loc(line, col)

    def item_loc(self, node: CommentedSeq, index: int) -> Location | None:
        try:
            line, col = node.lc.item(index)
        except (KeyError, AttributeError, TypeError, IndexError):
            return None
        return self.loc(line, col)

    # -- reporting ----------------------------------------------------------------------
    def error(self, loc: Location | None, path: str, message: str, hint: str | None = None):
        self.diagnostics.append(Diagnostic(loc, path, message, hint))

    def mapping(self, value: Any, loc: Location | None, path: str, what: str) -> bool:
        if isinstance(value, dict):
            return True
        self.error(loc, path, f"expected {what} (a mapping), got {_kind(value)}")
        return False

    def keys(self, node: CommentedMap, allowed: tuple[str, ...], path: str) -> None:
        for key in node:
            if key not in allowed:
                self.error(self.key_loc(node, key), f"{path}.{key}" if path else str(key),
                           f"unknown key '{key}', expected {one_of(allowed)}",
                           suggest(str(key), allowed))

    def items(self, node: CommentedMap, key: str, path: str):
        """(value, location, dotted path) for key, recording the location."""
        loc = self.value_loc(node, key)
        full = f"{path}.{key}" if path else key
        if loc:
            self.locations[full] = loc
        return node.get(key), loc, full

    def boolean(self, node: CommentedMap, key: str, path: str, default: bool) -> bool:
        if key not in node:
            return default
        value, loc, full = self.items(node, key, path)
        if isinstance(value, bool):
            return value
        self.error(loc, full, f"expected true or false, got {_kind(value)}")
        return default

    def string(self, node: CommentedMap, key: str, path: str) -> str | None:
        """A non-empty one-line text (a title, a label): shown in pages, never a control."""
        if key not in node:
            return None
        value, loc, full = self.items(node, key, path)
        if isinstance(value, str) and value.strip():
            bad = bad_char(value, one_line=True)
            if bad is None:
                return str(value)
            self.error(loc, full, f"the text holds {bad}", "write it on one line, without "
                       "control characters")
            return None
        self.error(loc, full, f"expected a non-empty string, got {_kind(value)}")
        return None

    def identifier(self, name: Any, loc: Location | None, path: str, what: str) -> bool:
        if isinstance(name, str) and IDENTIFIER.match(name):
            return True
        fixed = re.sub(r"[^a-z0-9_]+", "_", str(name).strip().lower()).strip("_")
        hint = f"try '{fixed}'" if fixed and IDENTIFIER.match(fixed) else None
        self.error(loc, path, f"{what} '{name}' is not a snake_case identifier "
                   "(lower-case letters, digits and _, starting with a letter)", hint)
        return False


def load_spec(path: Path | str) -> Spec:
    """Read and parse a spec file; raise SpecError with every shape error found."""
    spec, diagnostics = parse_spec(Path(path))
    if diagnostics or spec is None:
        raise SpecError(diagnostics)
    return spec


def read_spec_text(path: Path) -> str:
    """The text of a spec file; SpecError (located) when it is missing or not UTF-8."""
    text, diagnostics = _read(_Reader(path))
    if text is None:
        raise SpecError(diagnostics)
    return text


def _read(reader: _Reader) -> tuple[str | None, list[Diagnostic]]:
    path = reader.path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        reader.error(None, "", f"no spec at {path}", "create one with 'dsgen new NAME'")
        return None, reader.diagnostics
    except OSError as exc:
        reader.error(None, "", f"cannot read {path}: {exc.strerror or exc}")
        return None, reader.diagnostics
    try:
        return data.decode("utf-8"), reader.diagnostics
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n")
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace"))
        reader.error(reader.loc(line, col), "", f"the file is not UTF-8 text: byte "
                     f"0x{data[exc.start]:02x} {exc.reason}", "save the spec as UTF-8")
        return None, reader.diagnostics


def parse_spec(path: Path, text: str | None = None) -> tuple[Spec | None, list[Diagnostic]]:
    """Parse as much of the spec as is valid; return it with the diagnostics found.

    Invalid items are dropped rather than stopping the walk, so that later checks can
    still run and every error is reported in one go. Whatever the text, the answer is a
    spec or located diagnostics: never another exception, never unbounded work.
    """
    reader = _Reader(path)
    if text is None:
        text, _ = _read(reader)
        if text is None:
            return None, reader.diagnostics
    yaml = YAML(typ="rt")
    try:
        if not _scan(reader, yaml, text):
            return None, reader.diagnostics
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = reader.loc(mark.line, mark.column) if mark else Location(path, 1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        reader.error(loc, "", f"invalid YAML: {problem}",
                     "check the indentation and quoting around this place")
        return None, reader.diagnostics
    except ReaderError as exc:
        position = exc.position if isinstance(exc.position, int) else 0
        before = text[:position]
        loc = reader.loc(before.count("\n"), position - (before.rfind("\n") + 1))
        char = exc.character
        what = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        reader.error(loc, "", f"invalid YAML: the character {what} is not allowed in a "
                     "YAML file", "remove it: YAML files hold printable text only")
        return None, reader.diagnostics
    except Exception as exc:  # noqa: BLE001 - ruamel's own slips (an AttributeError on
        # some merge-key shapes, found by the fuzz tier), what _scan did not foresee: still
        # a spec error, placed at the top of the file.
        reader.error(Location(path, 1, 1), "", f"cannot read the spec: "
                     f"{type(exc).__name__}: {str(exc)[:200]}")
        return None, reader.diagnostics
    if not isinstance(root, CommentedMap):
        reader.error(Location(path, 1, 1), "", f"expected a mapping with keys "
                     f"{one_of(TOP_KEYS)}, got {_kind(root)}", "start from 'dsgen new --dry-run'")
        return None, reader.diagnostics
    return _walk(reader, root), reader.diagnostics


def _scan(reader: _Reader, yaml: YAML, text: str) -> bool:
    """Walk the YAML events (no tree is built) and refuse, located, what would make loading
    unbounded or crash later: nesting deeper than MAX_DEPTH (counting what aliases bring),
    aliases adding more than ALIAS_BUDGET nodes or pointing into their own anchor, numbers
    longer than MAX_NUMBER_CHARS, and characters no spec value may hold."""
    # Per open collection: [anchor, expanded size, depth of its subtree below it].
    stack: list[list[Any]] = []
    anchors: dict[str, tuple[int, int]] = {}       # anchor -> (expanded size, subtree depth)
    added = 0                                      # nodes the aliases add
    for event in yaml.parse(text):
        if not isinstance(event, NodeEvent):
            if isinstance(event, CollectionEndEvent) and stack:
                anchor, size, below = stack.pop()
                if anchor is not None:
                    anchors[anchor] = (size, below + 1)
                if stack:
                    stack[-1][1] += size
                    stack[-1][2] = max(stack[-1][2], below + 1)
            continue
        mark = event.start_mark
        if isinstance(event, AliasEvent):
            name = event.anchor
            if any(open_[0] == name for open_ in stack):
                reader.error(reader.loc(mark.line, mark.column), "", f"the alias '*{name}' "
                             "points into its own anchor (a recursive structure)",
                             "write the value out instead")
                return False
            size, below = anchors.get(name, (1, 0))
            added += size
            if added > ALIAS_BUDGET:
                reader.error(reader.loc(mark.line, mark.column), "", f"aliases expand the "
                             f"spec by more than {ALIAS_BUDGET:,} values (at '*{name}')",
                             "write the values out, or use fewer nested aliases")
                return False
            if len(stack) + below > MAX_DEPTH:
                reader.error(reader.loc(mark.line, mark.column), "", f"the alias '*{name}' "
                             f"nests the spec more than {MAX_DEPTH} levels deep",
                             "no spec needs that much nesting")
                return False
        elif isinstance(event, ScalarEvent):
            size, below = 1, 0
            value = event.value
            bad = bad_char(value)
            if bad is not None:
                reader.error(reader.loc(mark.line, mark.column), "", f"the value holds {bad}",
                             "remove it; no spec value needs it")
                return False
            if event.style is None and len(value) > MAX_NUMBER_CHARS and \
                    _NUMBER_CHARS.issuperset(value):
                reader.error(reader.loc(mark.line, mark.column), "", f"a number of "
                             f"{len(value):,} characters: more than the "
                             f"{MAX_NUMBER_CHARS:,} dsgen reads", "write a shorter number")
                return False
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
        elif isinstance(event, CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                reader.error(reader.loc(mark.line, mark.column), "", f"the spec nests more "
                             f"than {MAX_DEPTH} levels deep", "no spec needs that much nesting")
                return False
            stack.append([event.anchor, 1, 0])
            continue
        else:
            continue
        if stack:
            stack[-1][1] += size
            stack[-1][2] = max(stack[-1][2], below)
    return True


# What YAML's safe loader builds; anything else (a !!set, a date-time) is left to the
# round-trip loader, whose types (TimeStamp, …) the rest of dsgen has always seen.
_PLAIN_TYPES = frozenset({dict, list, str, int, float, bool, type(None), date})


def _plain_data(root: Any) -> bool:
    """True when root holds only plain types, clean strings and at most MAX_DEPTH levels
    (iterative: a deep tree must not overflow the stack here)."""
    todo = [(root, 0)]
    seen: set[int] = set()          # an alias makes the safe loader share a container
    while todo:
        value, depth = todo.pop()
        kind = type(value)
        if kind is dict or kind is list:
            if depth >= MAX_DEPTH or id(value) in seen:
                return False
            seen.add(id(value))
        if kind is dict:
            for k, v in value.items():
                if type(k) is not str or _BAD_CHAR.search(k):
                    return False
                todo.append((v, depth + 1))
        elif kind is list:
            todo.extend((v, depth + 1) for v in value)
        elif kind is str:
            if _BAD_CHAR.search(value):
                return False
        elif kind not in _PLAIN_TYPES:
            return False
    return True


def quick_spec(path: Path, text: str) -> Spec | None:
    """The spec, fast, when it is valid: YAML's safe loader (in C when ruamel.yaml.clib is
    installed) and no locations. None when anything is off — invalid YAML, a wrong shape,
    merge keys or a %YAML directive (which the loaders treat differently), an alias of a
    list or mapping (whose expansion parse_spec bounds), deep nesting, control characters
    — so that the caller
    parses again with `parse_spec`, which reports every problem at file:line:col.
    """
    if "<<" in text or "%YAML" in text:
        return None
    try:
        root = YAML(typ="safe").load(text)
    except Exception:  # whatever it is, parse_spec reports it with its location
        return None
    if not isinstance(root, dict) or not _plain_data(root):
        return None
    reader = _Reader(path)
    spec = _walk(reader, root)
    if reader.diagnostics or spec is None:
        return None
    return replace(spec, source=text)


def locate(spec: Spec, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics about a quick-parsed spec (no locations), placed at file:line:col by a
    round-trip parse of its text."""
    if spec.source is None or all(d.location for d in diagnostics):
        return diagnostics
    located, _ = parse_spec(spec.path, spec.source)
    if located is None:
        return diagnostics
    return [d if d.location else replace(d, location=located.where(d.path))
            for d in diagnostics]


def _walk(reader: _Reader, root: dict) -> Spec | None:
    """The typed spec from a loaded YAML mapping; problems go to reader.diagnostics."""
    path = reader.path
    reader.keys(root, TOP_KEYS, "")
    version = _version(reader, root)
    app = _app(reader, root)
    stores = _stores(reader, root)
    screens = _screens(reader, root)
    signals = _signals(reader, root)
    if app is None:
        return None
    return Spec(version=version, app=app, stores=stores, screens=screens, signals=signals,
                path=path, locations=reader.locations)


def _version(reader: _Reader, root: CommentedMap) -> int:
    if "dsgen" not in root:
        reader.error(Location(reader.path, 1, 1), "dsgen",
                     "missing the spec format version", "add 'dsgen: 1' as the first line")
        return SPEC_VERSION
    value, loc, full = reader.items(root, "dsgen", "")
    if value != SPEC_VERSION or isinstance(value, bool):
        reader.error(loc, full, f"unsupported spec version {_kind(value)}, expected 1",
                     "this dsgen reads 'dsgen: 1'")
    return SPEC_VERSION


def _app(reader: _Reader, root: CommentedMap) -> App | None:
    if "app" not in root:
        reader.error(Location(reader.path, 1, 1), "app", "missing the 'app' section",
                     "add 'app: {name: myapp}'")
        return None
    node, loc, path = reader.items(root, "app", "")
    if not reader.mapping(node, loc, path, "the app settings"):
        return None
    reader.keys(node, APP_KEYS, path)
    name_value, name_loc, name_path = reader.items(node, "name", path)
    if name_value is None:
        reader.error(loc, f"{path}.name", "missing the app name",
                     "add 'name: myapp' (the Python package name)")
        name = Name("app")
    elif reader.identifier(name_value, name_loc, name_path, "app name"):
        if keyword.iskeyword(name_value) or name_value in {"app", "tests", "migrations"}:
            reader.error(name_loc, name_path, f"app name '{name_value}' is reserved",
                         f"try '{name_value}_app'")
        name = Name(name_value)
    else:
        name = Name("app")
    title = reader.string(node, "title", path) or name.title
    backend = _choice(reader, node, "backend", path, Backend, Backend.POSTGRES)
    auth = _choice(reader, node, "auth", path, Auth, Auth.NONE)
    return App(name=name, title=title, backend=backend, auth=auth)


def _choice(reader: _Reader, node: CommentedMap, key: str, path: str, enum: type, default):
    if key not in node:
        return default
    value, loc, full = reader.items(node, key, path)
    choices = [member.value for member in enum]
    if value in choices:
        return enum(value)
    reader.error(loc, full, f"expected {one_of(choices)}, got {_kind(value)}",
                 suggest(str(value), choices))
    return default


def _stores(reader: _Reader, root: CommentedMap) -> tuple[Store, ...]:
    if "stores" not in root:
        return ()
    node, loc, path = reader.items(root, "stores", "")
    if node is None:
        return ()
    if not reader.mapping(node, loc, path, "stores by name"):
        return ()
    stores = []
    for name in node:
        store_path = f"stores.{name}"
        key_loc = reader.key_loc(node, name)
        if not reader.identifier(name, key_loc, store_path, "store name"):
            continue
        if Name(name).py != name:
            reader.error(key_loc, store_path, f"store name '{name}' is a Python keyword; it "
                         "names the store's module", f"try '{name}_item'")
        store = _store(reader, node, name, store_path)
        if store is not None:
            stores.append(store)
    return tuple(stores)


def _store(reader: _Reader, parent: CommentedMap, name: str, path: str) -> Store | None:
    node = parent[name]
    loc = reader.value_loc(parent, name)
    reader.locations[path] = loc
    if not reader.mapping(node, loc, path, f"store '{name}'"):
        return None
    reader.keys(node, STORE_KEYS, path)
    fields_node, fields_loc, fields_path = reader.items(node, "fields", path)
    fields: list[Field] = []
    if fields_node is None:
        reader.error(loc, fields_path, "a store needs at least one field",
                     "add 'fields: {name: string}'")
    elif reader.mapping(fields_node, fields_loc, fields_path, "fields by name"):
        if not fields_node:
            reader.error(fields_loc, fields_path, "a store needs at least one field",
                         "add 'name: string'")
        for field_name in fields_node:
            field = _field(reader, fields_node, field_name, f"{fields_path}.{field_name}")
            if field is not None:
                fields.append(field)
    realtime = reader.boolean(node, "realtime", path, False)
    indexes = _indexes(reader, node, path, fields)
    return Store(name=Name(name), fields=tuple(fields), realtime=realtime, indexes=indexes,
                 location=loc)


def _field(reader: _Reader, parent: CommentedMap, name: Any, path: str) -> Field | None:
    key_loc = reader.key_loc(parent, name)
    if not reader.identifier(name, key_loc, path, "field name"):
        return None
    node = parent[name]
    loc = reader.value_loc(parent, name)
    reader.locations[path] = loc
    types = [t.value for t in FieldType]
    if isinstance(node, str):  # shorthand: `notes: text`
        node = CommentedMap(type=node)
        type_loc = loc
    elif isinstance(node, dict):
        reader.keys(node, FIELD_KEYS, path)
        if "type" not in node:
            reader.error(loc, f"{path}.type", "missing the field type",
                         f"add 'type: string' ({one_of(types)})")
            return None
        type_loc = reader.value_loc(node, "type")
    else:
        reader.error(loc, path, f"expected a field type or a field mapping, got {_kind(node)}",
                     "write 'name: string' or 'name: {type: string, required: true}'")
        return None
    raw_type = node["type"]
    if raw_type not in types:
        reader.error(type_loc, f"{path}.type", f"unknown field type {_kind(raw_type)}, "
                     f"expected {one_of(types)}", suggest(str(raw_type), types))
        return None
    ftype = FieldType(raw_type)
    implicit = IMPLICIT_FIELDS.get(name)
    if implicit is not None and ftype is not implicit:
        reader.error(type_loc, f"{path}.type", f"'{name}' is a column every store gets, "
                     f"of type {implicit.value}", f"rename the field or make it {implicit.value}")
        return None

    def opt(key: str):
        value, vloc, full = reader.items(node, key, path)
        return value, vloc or loc, full

    required = reader.boolean(node, "required", path, False)
    unique = reader.boolean(node, "unique", path, False)
    label = reader.string(node, "label", path)
    renamed_from = None
    if "renamed_from" in node:
        value, vloc, full = opt("renamed_from")
        if reader.identifier(value, vloc, full, "previous field name"):
            renamed_from = value
    values: tuple[str, ...] = ()
    if "values" in node:
        value, vloc, full = opt("values")
        if ftype is not FieldType.ENUM:
            reader.error(vloc, full, "'values' applies to enum fields only",
                         "set 'type: enum' or remove 'values'")
        elif not isinstance(value, list) or not value or not all(
                isinstance(v, str) and v.strip() for v in value):
            reader.error(vloc, full, f"expected a non-empty list of strings, got {_kind(value)}",
                         "write 'values: [todo, doing, done]'")
        elif len(set(value)) != len(value):
            dupes = sorted({v for v in value if value.count(v) > 1})
            reader.error(vloc, full, f"duplicate enum value '{dupes[0]}'",
                         "each value may appear once")
        elif any(bad_char(v, one_line=True) for v in value):
            i = next(i for i, v in enumerate(value) if bad_char(v, one_line=True))
            reader.error(reader.item_loc(value, i) or vloc, f"{full}[{i}]",
                         f"enum value {i + 1} holds {bad_char(value[i], one_line=True)}",
                         "an enum value is one line of text, without control characters")
        else:
            values = tuple(str(v) for v in value)
    elif ftype is FieldType.ENUM:
        reader.error(loc, f"{path}.values", "an enum field needs its values",
                     "add 'values: [a, b, c]'")
        return None
    store = None
    many = False
    if "store" in node:
        value, vloc, full = opt("store")
        if ftype is not FieldType.REF:
            reader.error(vloc, full, "'store' applies to ref fields only",
                         "set 'type: ref' or remove 'store'")
        elif isinstance(value, str):
            store = value
        else:
            reader.error(vloc, full, f"expected a store name, got {_kind(value)}")
    elif ftype is FieldType.REF:
        reader.error(loc, f"{path}.store", "a ref field needs the store it refers to",
                     "add 'store: <store name>'")
        return None
    if "many" in node:
        many = reader.boolean(node, "many", path, False)
        if ftype is not FieldType.REF:
            reader.error(opt("many")[1], f"{path}.many",
                         "'many' applies to ref fields only", "remove 'many'")
            many = False
    bounds: dict[str, int | float | None] = {"min": None, "max": None}
    for key in ("min", "max"):
        if key not in node:
            continue
        value, vloc, full = opt(key)
        if ftype not in _BOUNDED:
            reader.error(vloc, full, f"'{key}' applies to number and text fields, "
                         f"not {ftype.value}", f"remove '{key}'")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            reader.error(vloc, full, f"expected a number, got {_kind(value)}")
        elif _nonfinite(value):
            reader.error(vloc, full, f"expected a finite number, got {_kind(value)}")
        elif ftype in _LENGTHS and (not isinstance(value, int) or value < 0):
            reader.error(vloc, full, f"a length bound must be a whole number >= 0, "
                         f"got {_kind(value)}")
        elif ftype in _NUMBER_LIMITS and not (
                _NUMBER_LIMITS[ftype][0] <= value <= _NUMBER_LIMITS[ftype][1]):
            low, high, column = _NUMBER_LIMITS[ftype]
            reader.error(vloc, full, f"{value} is beyond what {column} holds "
                         f"({low} to {high})", "use a bound within that range"
                         + (", or a decimal field" if ftype is FieldType.INT else ""))
        else:
            bounds[key] = value
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        reader.error(opt("max")[1], f"{path}.max",
                     f"max {bounds['max']} is below min {bounds['min']}", "swap them")
    default = None
    if "default" in node:
        value, vloc, full = opt("default")
        default = _default(reader, ftype, value, values, bounds, vloc, full)
        if ftype is FieldType.REF:
            reader.error(vloc, full, "a ref field cannot have a default",
                         "remove 'default'")
            default = None
    return Field(name=Name(name), type=ftype, required=required, unique=unique,
                 default=default, min=bounds["min"], max=bounds["max"], values=values,
                 store=store, many=many, label=label, renamed_from=renamed_from, location=loc)


# The largest |min|/|max| each number column holds (int: PostgreSQL `integer`; decimal:
# numeric with 18 digits, 2 after the point; float: a finite double).
_NUMBER_LIMITS = {
    FieldType.INT: (-(2**31), 2**31 - 1, "an int field (a PostgreSQL integer)"),
    FieldType.DECIMAL: (-(10**16) + 1, 10**16 - 1, "a decimal field (18 digits, 2 decimals)"),
    FieldType.FLOAT: (-1e308, 1e308, "a float field (a double)"),
}
_BOUNDED = {FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL, FieldType.STRING, FieldType.TEXT,
            FieldType.EMAIL, FieldType.URL}
_LENGTHS = {FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.URL}


def _default(reader: _Reader, ftype: FieldType, value: Any, values: tuple[str, ...],
             bounds: dict, loc: Location | None, path: str) -> Any:
    """Check a default against its field type; return it normalised, or None."""
    def bad(expected: str, hint: str | None = None):
        article = "an" if ftype.value[0] in "aeiou" else "a"
        reader.error(loc, path, f"default {_kind(value)} does not fit {article} {ftype.value} "
                     f"field: expected {expected}", hint)

    if value is None:
        return None
    if _nonfinite(value):
        return bad("a finite value", "YAML's .inf and .nan have no JSON, Python or SQL form")
    if ftype in (FieldType.DATE, FieldType.DATETIME):
        if value == NOW:
            return NOW
        if ftype is FieldType.DATE and isinstance(value, date) and not isinstance(value, datetime):
            return value
        if ftype is FieldType.DATETIME and isinstance(value, datetime):
            return value
        return bad("'now' or an ISO date" if ftype is FieldType.DATE else
                   "'now' or an ISO date-time", "write 'default: now'")
    if value == NOW:
        return bad("a constant", "'now' applies to date and datetime fields")
    if ftype is FieldType.BOOL:
        return value if isinstance(value, bool) else bad("true or false")
    if ftype is FieldType.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            return bad("a whole number")
    elif ftype in (FieldType.FLOAT, FieldType.DECIMAL):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return bad("a number")
    elif ftype is FieldType.ENUM:
        if not values:      # the values are reported already; no second error for them
            return None
        if value not in values:
            return bad(one_of(values), suggest(str(value), values))
        return str(value)
    elif ftype is FieldType.JSON:
        return _plain(value)
    elif not isinstance(value, str):
        return bad("a string")
    elif bounds["max"] is not None and len(value) > bounds["max"]:
        return bad(f"at most {bounds['max']} characters")
    elif bounds["min"] is not None and len(value) < bounds["min"]:
        return bad(f"at least {bounds['min']} characters")
    if ftype in (FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL):
        if bounds["min"] is not None and value < bounds["min"] or \
                bounds["max"] is not None and value > bounds["max"]:
            return bad(f"a number within [{bounds['min']}, {bounds['max']}]")
    return str(value) if isinstance(value, str) else value


def _plain(value: Any) -> Any:
    """ruamel's commented containers -> plain dict/list (JSON-compatible)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _indexes(reader: _Reader, node: CommentedMap, path: str,
             declared: list[Field]) -> tuple[Index, ...]:
    if "indexes" not in node:
        return ()
    value, loc, full = reader.items(node, "indexes", path)
    if not isinstance(value, list):
        reader.error(loc, full, f"expected a list of indexes, got {_kind(value)}",
                     "write '- fields: [a, b]'")
        return ()
    by_name = {f.name.snake: f for f in declared}
    known = sorted(set(by_name) | set(IMPLICIT_FIELDS))

    def link(fname: Any) -> bool:
        """A many-ref lives in a link table: there is no column to index."""
        field = by_name.get(fname) if isinstance(fname, str) else None
        return field is not None and field.many

    indexes = []
    for i, item in enumerate(value):
        item_path = f"{full}[{i}]"
        item_loc = reader.item_loc(value, i)
        if not reader.mapping(item, item_loc, item_path, "an index"):
            continue
        reader.keys(item, INDEX_KEYS, item_path)
        fields, floc, fpath = reader.items(item, "fields", item_path)
        ok = True
        if not isinstance(fields, list) or not fields:
            reader.error(floc or item_loc, fpath, f"expected a non-empty list of field names, "
                         f"got {_kind(fields)}", "write 'fields: [status, created]'")
            continue
        for j, fname in enumerate(fields):
            if fname not in known:
                reader.error(reader.item_loc(fields, j) or floc, f"{fpath}[{j}]",
                             f"unknown field {_kind(fname)} in index", suggest(str(fname), known))
                ok = False
            elif fname in fields[:j]:
                reader.error(reader.item_loc(fields, j) or floc, f"{fpath}[{j}]",
                             f"field '{fname}' is in the index twice", "list each field once")
                ok = False
            elif link(fname):
                reader.error(reader.item_loc(fields, j) or floc, f"{fpath}[{j}]",
                             f"'{fname}' is a many-ref, kept in a link table: not a column "
                             "an index can hold", "index columns of the store itself")
                ok = False
        unique = reader.boolean(item, "unique", item_path, False)
        partial: list[tuple[str, Any]] = []
        if "partial" in item:
            pnode, ploc, ppath = reader.items(item, "partial", item_path)
            if reader.mapping(pnode, ploc, ppath, "field -> constant"):
                for pname, pvalue in pnode.items():
                    if pname not in known:
                        reader.error(reader.key_loc(pnode, pname), f"{ppath}.{pname}",
                                     f"unknown field '{pname}' in partial condition",
                                     suggest(str(pname), known))
                        ok = False
                    elif isinstance(pvalue, (dict, list)) or _nonfinite(pvalue):
                        reader.error(reader.value_loc(pnode, pname), f"{ppath}.{pname}",
                                     "expected a constant (string, number, boolean or null)")
                        ok = False
                    elif link(pname):
                        reader.error(reader.key_loc(pnode, pname), f"{ppath}.{pname}",
                                     f"'{pname}' is a many-ref, kept in a link table: not a "
                                     "column a condition can test",
                                     "test columns of the store itself")
                        ok = False
                    elif pname in by_name and by_name[pname].values and pvalue is not None \
                            and pvalue not in by_name[pname].values:
                        values = by_name[pname].values
                        reader.error(reader.value_loc(pnode, pname), f"{ppath}.{pname}",
                                     f"{_kind(pvalue)} is not a value of the enum '{pname}', "
                                     f"expected {one_of(values)}",
                                     suggest(str(pvalue), values))
                        ok = False
                    else:
                        partial.append((str(pname), _plain(pvalue)))
        if ok:
            indexes.append(Index(fields=tuple(str(f) for f in fields), unique=unique,
                                 partial=tuple(partial), location=item_loc))
    return tuple(indexes)


def _screens(reader: _Reader, root: CommentedMap) -> tuple[Screen, ...]:
    if "screens" not in root:
        reader.error(Location(reader.path, 1, 1), "screens", "missing the 'screens' section",
                     "add at least one screen, e.g. 'screens: {home: {pattern: master-detail, "
                     "store: <store>}}'")
        return ()
    node, loc, path = reader.items(root, "screens", "")
    if not reader.mapping(node, loc, path, "screens by name"):
        return ()
    if not node:
        reader.error(loc, path, "an app needs at least one screen")
    screens = []
    for name in node:
        screen_path = f"screens.{name}"
        if not reader.identifier(name, reader.key_loc(node, name), screen_path, "screen name"):
            continue
        if Name(name).py != name:       # located at the key, not at the body's first line
            reader.error(reader.key_loc(node, name), screen_path, f"screen name '{name}' is a "
                         "Python keyword; it names the screen's module",
                         f"try '{name}_screen'")
        body = node[name]
        body_loc = reader.value_loc(node, name)
        reader.locations[screen_path] = body_loc
        if not reader.mapping(body, body_loc, screen_path, f"screen '{name}'"):
            continue
        pattern, ploc, ppath = reader.items(body, "pattern", screen_path)
        if pattern is None:
            reader.error(body_loc, ppath, "missing the screen's pattern",
                         "add 'pattern: master-detail' (see 'dsgen blueprints list')")
            continue
        if not isinstance(pattern, str):
            reader.error(ploc, ppath, f"expected a pattern id, got {_kind(pattern)}")
            continue
        store = None
        if "store" in body:
            value, sloc, spath = reader.items(body, "store", screen_path)
            if isinstance(value, str):
                store = value
            else:
                reader.error(sloc, spath, f"expected a store name, got {_kind(value)}")
        title = reader.string(body, "title", screen_path)
        nav = reader.boolean(body, "nav", screen_path, True)
        options: dict[str, Any] = {}
        option_locations: dict[str, Location] = {}
        for key in body:
            if key in SCREEN_CORE_KEYS:
                continue
            value, oloc, opath = reader.items(body, key, screen_path)
            options[str(key)] = _plain(value)
            option_locations[str(key)] = reader.key_loc(body, key) or body_loc
            _record_nested(reader, value, opath)
        screens.append(Screen(name=Name(name), pattern=pattern, store=store, title=title,
                              nav=nav, options=options, option_locations=option_locations,
                              location=body_loc))
    return tuple(screens)


def _record_nested(reader: _Reader, value: Any, path: str) -> None:
    """Record locations inside an option's value so option checks can point into it."""
    if isinstance(value, CommentedMap):
        for key in value:
            loc = reader.value_loc(value, key)
            if loc:
                reader.locations[f"{path}.{key}"] = loc
            _record_nested(reader, value[key], f"{path}.{key}")
    elif isinstance(value, CommentedSeq):
        for i, item in enumerate(value):
            loc = reader.item_loc(value, i)
            if loc:
                reader.locations[f"{path}[{i}]"] = loc
            _record_nested(reader, item, f"{path}[{i}]")


def _signals(reader: _Reader, root: CommentedMap) -> dict[str, dict[str, Any]]:
    if "signals" not in root:
        return {}
    node, loc, path = reader.items(root, "signals", "")
    if node is None:
        return {}
    if not reader.mapping(node, loc, path, "signal namespaces"):
        return {}
    signals: dict[str, dict[str, Any]] = {}
    for namespace in node:
        ns_path = f"signals.{namespace}"
        ns_loc = reader.key_loc(node, namespace)
        if not isinstance(namespace, str) or not SIGNAL_NAME.match(namespace):
            reader.error(ns_loc, ns_path, f"signal namespace '{namespace}' is not a name",
                         "letters, digits and _, e.g. '_ui' or 'filters'")
            continue
        body = node[namespace]
        if not reader.mapping(body, reader.value_loc(node, namespace), ns_path,
                              "signal names -> initial values"):
            continue
        values: dict[str, Any] = {}
        for name in body:
            if not isinstance(name, str) or not SIGNAL_NAME.match(name):
                reader.error(reader.key_loc(body, name), f"{ns_path}.{name}",
                             f"signal name '{name}' is not a name",
                             "letters, digits and _, e.g. 'sidebarOpen'")
                continue
            value = body[name]
            if isinstance(value, (date, datetime)):
                reader.error(reader.value_loc(body, name), f"{ns_path}.{name}",
                             "a signal's initial value must be JSON (string, number, boolean, "
                             "null, list or mapping)", "quote the date: '2024-01-31'")
                continue
            if _nonfinite(value):
                reader.error(reader.value_loc(body, name), f"{ns_path}.{name}",
                             "a signal's initial value must be JSON, which has no "
                             f"{_kind(value)[len('the number '):]}", "use null or a number")
                continue
            values[name] = _plain(value)
        signals[namespace] = values
    return signals
