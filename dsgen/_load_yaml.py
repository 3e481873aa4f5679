"""The located YAML reader under `load_spec`: reading the file, bounding what hostile YAML may
make the loader build, and a walker that records file:line:col for every value it reads.

What it knows is YAML and text, not the spec's shape: `dsgen._load` (top level and app),
`dsgen._load_stores` (stores, fields, indexes) and `dsgen._load_screens` (screens, pattern
options, signals) walk the tree with it.
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
    ScalarEvent,
)

from dsgen._errors import Diagnostic, Location, SpecError
from dsgen._names import IDENTIFIER
from dsgen._planned import refusal

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

    def keys(self, node: CommentedMap, allowed: tuple[str, ...], path: str,
             planned: dict[str, str] | None = None) -> None:
        """Report every key not in `allowed`; a key of the contract this version does not
        build yet (`planned`, from dsgen._planned) is refused as such, not as a typo."""
        for key in node:
            if key in allowed:
                continue
            full = f"{path}.{key}" if path else str(key)
            if planned and isinstance(key, str) and key in planned:
                self.error(self.key_loc(node, key), full, refusal(f"the key '{key}'"),
                           planned[key])
                continue
            self.error(self.key_loc(node, key), full,
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


def _plain(value: Any) -> Any:
    """ruamel's commented containers -> plain dict/list (JSON-compatible)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value

