"""load_spec: YAML text -> typed Spec, with every shape error located at file:line:col.

The walk is split by section: `dsgen._load_yaml` (the file, hostile-YAML bounds, the located
reader), this module (the top level and `app:`), `dsgen._load_stores` and
`dsgen._load_screens`. The names other modules import from here are re-exported below.
"""

from __future__ import annotations

import keyword
from dataclasses import replace
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

from dsgen import _planned as planned
from dsgen._errors import Diagnostic, Location, SpecError
from dsgen._load_screens import SCREEN_CORE_KEYS, _screens, _signals
from dsgen._load_stores import FIELD_KEYS, IMPLICIT_FIELDS, INDEX_KEYS, STORE_KEYS, _stores
from dsgen._load_yaml import (
    ALIAS_BUDGET,
    MAX_DEPTH,
    _kind,
    _plain_data,
    _read,
    _Reader,
    _scan,
    one_of,
    read_spec_text,
    suggest,
)
from dsgen._model import App, Auth, Backend, Spec
from dsgen._names import Name

# Re-exported: the spec's key lists and the hostile-input bounds, read by the schema writer,
# the checks and the tests.
__all__ = [
    "ALIAS_BUDGET", "APP_KEYS", "FIELD_KEYS", "IMPLICIT_FIELDS", "INDEX_KEYS", "MAX_DEPTH",
    "SCREEN_CORE_KEYS", "SPEC_VERSION", "STORE_KEYS", "TOP_KEYS", "load_spec", "locate",
    "parse_spec", "quick_spec", "read_spec_text",
]

SPEC_VERSION = 1
TOP_KEYS = ("dsgen", "app", "stores", "screens", "signals")
APP_KEYS = ("name", "title", "backend", "auth")


def load_spec(path: Path | str) -> Spec:
    """Read and parse a spec file; raise SpecError with every shape error found."""
    spec, diagnostics = parse_spec(Path(path))
    if diagnostics or spec is None:
        raise SpecError(diagnostics)
    return spec


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
    reader.keys(node, APP_KEYS, path, planned.APP_KEYS)
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

