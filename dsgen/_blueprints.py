"""The blueprint registry: one folder per pattern, each described by its blueprint.yml.

A pattern may also carry its own Python, `pattern.py` beside the manifest (the counterpart
of a Rails generator class). Every function in it is optional:

- `view(screen) -> dict`: values the pattern's templates read, computed from the screen
  (a `ScreenView`); they join the template context of each of its screens.
- `schema(db, screens)`: the tables, constraints and extensions the pattern needs, declared
  on the database backend's builder (`db.backend` names the backend; see
  `dsgen.db.postgres.state.PatternSchema`), given the spec's screens of this pattern.
- `record_route(screen) -> str | None`: the URL prefix under which the screen shows one
  record of its store (ref fields elsewhere link to it), when it does.
- `record_page(screen) -> str | None`: the URL prefix under which a full page of the screen
  opens one record (a drawer, a node), when it has no `record_route` detail: the command
  palette's search hits link there (`dsgen/_search.py`).
- `check(screen, store) -> list[str]`: problems of a screen that the manifest's option rules
  cannot express (shown by `dsgen check`; a message "option: problem" is located at the
  screen's option).

The registry is built from folders (dsgen's own `blueprints/` first, then any extra ones),
so a pattern, its table included, can live outside dsgen.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from ruamel.yaml import YAML

from dsgen._errors import DsgenError

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "blueprints"
OPTION_TYPES = ("field", "fields", "int", "bool", "string", "screen", "list")
STORE_RULES = ("required", "optional", "none")


@dataclass(frozen=True, slots=True)
class Option:
    """One pattern option as its manifest declares it."""

    name: str
    type: str
    doc: str = ""
    required: bool = False
    default: Any = None
    field_types: tuple[str, ...] = ()   # for field/fields: allowed field types
    same_store: bool = False            # for field: a ref back to the screen's own store
    places: bool = False                # for field: the server places its values (a card's
                                        # position); no form shows it as an input
    many: bool | None = None            # for field: ref must (not) be many
    min: int | None = None              # for int; for fields: the fewest names
    items: tuple[Option, ...] = ()      # for list: the keys of each item
    # Rules between options, checked by `dsgen check` (see blueprints/README.md):
    differs_from: str | None = None     # for field: not the same field as this option
    # for field: its value may not come before that option's field's (an end and its start);
    # every store write enforces it, whichever screen's form made it
    not_before: str | None = None
    within: str | None = None           # for fields: each one among this option's fields
    stored: bool = False                # for fields: declared fields only (no id, created_at…)
    distinct: bool = False              # for fields in a list's items: in one item only
    covers_required: str | None = None  # for list: this key's fields, over all the items,
                                        # include every field a form must ask for

    def pick(self, value: Any, fields: list[tuple[str, str]]) -> list[str]:
        """The field names a `fields` option's value stands for, given the store's fields
        as (name, type) in order: `all` and `{first: N}` take the fields of the option's
        field types; a list names them itself. The one reading of the value, for the
        checks and the render alike."""
        if value == "all" or isinstance(value, dict) and "first" in value:
            names = [n for n, t in fields if not self.field_types or t in self.field_types]
            return names if value == "all" else names[: int(value["first"])]
        if isinstance(value, list):
            return [n for n in value if isinstance(n, str)]
        return []


@dataclass(frozen=True, slots=True)
class Blueprint:
    id: str
    kind: str                       # "project" (rendered once) or "pattern" (per screen)
    summary: str
    version: int
    backends: tuple[str, ...]
    store: str                      # required | optional | none
    icon: str                       # the nav icon (a name in the app's _macros.html)
    options: tuple[Option, ...]
    root: Path
    # What `dsgen add pattern` creates when asked for a store that does not exist yet:
    # {"store": default store name, "fields": {...}, "options": {...}}.
    scaffold: dict[str, Any] = field(default_factory=dict)
    # The screens stream changes of a `realtime: true` store (a `ChannelView` per screen).
    live: bool = False
    # `admin: true`: the pattern serves the admin screen of a store no screen shows (one
    # blueprint of a registry at most; see dsgen/_admin.py).
    admin: bool = False
    # `lists_only: true`: its screens list rows but have no form to add one, so a store shown
    # only by them still gets an admin screen (and their "New" leads there).
    lists_only: bool = False

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def readme(self) -> Path:
        return self.root / "README.md"

    @property
    def examples(self) -> list[Path]:
        return sorted((self.root / "examples").glob("*.yml"))

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    @property
    def hooks(self) -> ModuleType | None:
        """The pattern's `pattern.py`, imported once (None when it has none)."""
        return _hooks(self.root)

    def hook(self, name: str) -> Any:
        """One function of the pattern's `pattern.py`, or None."""
        hooks = self.hooks
        return getattr(hooks, name, None) if hooks is not None else None


@dataclass(frozen=True, slots=True)
class Registry:
    blueprints: dict[str, Blueprint] = field(default_factory=dict)

    @property
    def patterns(self) -> list[Blueprint]:
        return [b for b in self.blueprints.values() if b.kind == "pattern"]

    @property
    def project(self) -> list[Blueprint]:
        return [b for b in self.blueprints.values() if b.kind == "project"]

    def get(self, pattern: str) -> Blueprint | None:
        bp = self.blueprints.get(pattern)
        return bp if bp is not None and bp.kind == "pattern" else None

    @property
    def admin(self) -> Blueprint | None:
        """The pattern that serves stores no screen shows (`admin: true`), if any."""
        return next((b for b in self.patterns if b.admin), None)


def _option(name: str, raw: dict, where: Path) -> Option:
    kind = raw.get("type")
    if kind not in OPTION_TYPES:
        raise DsgenError(f"{where}: option '{name}' has unknown type {kind!r}")
    items = tuple(_option(k, v, where) for k, v in (raw.get("items") or {}).items())
    return Option(
        name=name, type=kind, doc=str(raw.get("doc", "")), required=bool(raw.get("required")),
        default=raw.get("default"), field_types=tuple(raw.get("field_types") or ()),
        same_store=bool(raw.get("same_store")), many=raw.get("many"), min=raw.get("min"),
        items=items, differs_from=raw.get("differs_from"), within=raw.get("within"),
        not_before=raw.get("not_before"),
        stored=bool(raw.get("stored")), distinct=bool(raw.get("distinct")),
        covers_required=raw.get("covers_required"), places=bool(raw.get("places")),
    )


def _read_manifest(manifest: Path) -> Any:
    """The parsed blueprint.yml, from a JSON cache keyed by the file's size and mtime
    (ruamel's pure-Python parser is most of a small render's start-up otherwise)."""
    import hashlib
    import json

    from dsgen._assets import cache_dir

    stat = manifest.stat()
    key = hashlib.sha256(f"{manifest}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    cached = cache_dir() / "manifests" / f"{key[:32]}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    raw = YAML(typ="safe").load(manifest.read_text(encoding="utf-8"))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(json.dumps(raw), encoding="utf-8")
        tmp.replace(cached)
    except (OSError, TypeError, ValueError):
        pass  # an unwritable cache or a non-JSON value only costs speed
    return raw


def load_blueprint(root: Path) -> Blueprint:
    manifest = root / "blueprint.yml"
    raw = _read_manifest(manifest)
    if not isinstance(raw, dict) or raw.get("id") != root.name:
        raise DsgenError(f"{manifest}: 'id' must equal the folder name '{root.name}'")
    store = raw.get("store", "none")
    if store not in STORE_RULES:
        raise DsgenError(f"{manifest}: 'store' must be one of {STORE_RULES}")
    options = tuple(_option(k, v, manifest) for k, v in (raw.get("options") or {}).items())
    return Blueprint(
        id=raw["id"], kind=raw.get("kind", "pattern"), summary=str(raw.get("summary", "")),
        version=int(raw.get("version", 1)), backends=tuple(raw.get("backends", ["postgres"])),
        store=store, icon=str(raw.get("icon", "rows")), options=options, root=root,
        scaffold=dict(raw.get("scaffold") or {}), live=bool(raw.get("live", False)),
        admin=bool(raw.get("admin", False)), lists_only=bool(raw.get("lists_only", False)),
    )


@cache
def _hooks(root: Path) -> ModuleType | None:
    path = root / "pattern.py"
    if not path.is_file():
        return None
    # A module name per folder, so two packs may both have a pattern called the same.
    name = f"dsgen_pattern_{abs(hash(str(root))):x}_{root.name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always loads
        raise DsgenError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise DsgenError(f"{path}: the pattern's hooks fail to load: "
                         f"{type(exc).__name__}: {exc}") from exc
    return module


def load_registry(*folders: Path) -> Registry:
    """The blueprints of each folder (one sub-folder per blueprint), by id; a later folder
    may not redefine an id an earlier one has."""
    blueprints: dict[str, Blueprint] = {}
    for folder in folders:
        for manifest in sorted(Path(folder).glob("*/blueprint.yml")):
            bp = load_blueprint(manifest.parent)
            if bp.id in blueprints:
                raise DsgenError(f"{manifest}: blueprint '{bp.id}' is already defined by "
                                 f"{blueprints[bp.id].root}")
            if bp.admin and any(b.admin for b in blueprints.values()):
                other = next(b for b in blueprints.values() if b.admin)
                raise DsgenError(f"{manifest}: 'admin: true' is already claimed by "
                                 f"'{other.id}' ({other.root}); one blueprint serves "
                                 "the admin screens")
            blueprints[bp.id] = bp
    return Registry(dict(sorted(blueprints.items())))


@cache
def builtin_registry() -> Registry:
    """Every blueprint folder shipped with dsgen, by id (sorted, so output is stable)."""
    return load_registry(BUILTIN_DIR)
