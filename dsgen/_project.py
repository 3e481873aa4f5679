"""The library behind the commands: spec -> plan -> render -> write, usable without the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsgen._admin import with_admin_screens
from dsgen._assets import DATASTAR_PATH, datastar_bundle
from dsgen._blueprints import Registry, builtin_registry
from dsgen._check import check_spec
from dsgen._errors import ConflictError, SpecError, UsageError
from dsgen._load import locate, parse_spec, quick_spec, read_spec_text
from dsgen._model import Spec
from dsgen._names import IDENTIFIER
from dsgen._render import RenderedFile, build_plan, render_plan
from dsgen._starter import starter_spec
from dsgen._write import Action, Conflicts, FileResult, apply, check_inside, plan_writes

SPEC_FILE = "dsgen.yaml"


def find_pattern(registry: Registry, pattern: str):
    """The pattern's blueprint — a usage error naming the patterns when there is none."""
    from dsgen._load_yaml import suggest

    blueprint = registry.get(pattern)
    if blueprint is None:
        ids = [b.id for b in registry.patterns]
        hint = suggest(pattern, ids)
        raise UsageError(f"unknown pattern '{pattern}'" + (f" ({hint})" if hint else "") +
                         f"; patterns: {', '.join(ids)}")
    return blueprint


def find_project(dest: Path) -> tuple[Path, Path]:
    """(the project folder, resolved; its dsgen.yaml) — a usage error when it has none."""
    dest = dest.resolve()
    spec_file = dest / SPEC_FILE
    if not spec_file.is_file():
        raise UsageError(f"no {SPEC_FILE} in {dest}; run this inside a dsgen project "
                         "(or pass --dir)")
    return dest, spec_file


def prepare_spec(path: Path, registry: Registry, text: str | None = None, *,
                 admin: bool = True) -> Spec:
    """Load and check a spec; raise SpecError with every problem (shape and cross-refs).
    With `admin`, the admin screens of stores no screen shows are added (dsgen/_admin.py).

    A valid spec takes the quick path (a C-accelerated safe load, no locations); any problem
    sends it through the round-trip parse, whose diagnostics carry file:line:col.
    """
    source = text
    if source is None:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            source = None     # parse_spec says why, with the path
    quick = quick_spec(path, source) if source is not None else None
    if quick is not None and not check_spec(quick, registry):
        return with_admin_screens(quick, registry) if admin else quick
    spec, diagnostics = parse_spec(path, text)
    if spec is not None:
        diagnostics = diagnostics + check_spec(spec, registry)
    if diagnostics or spec is None:
        raise SpecError(sorted(diagnostics, key=lambda d: (
            d.location.line if d.location else 0, d.location.col if d.location else 0)))
    return with_admin_screens(spec, registry) if admin else spec


def render_project(spec: Spec, registry: Registry, project_dir: Path | None = None,
                   *, with_assets: bool = True) -> list[RenderedFile]:
    """Every file of the project, in memory, sorted by path."""
    plan = build_plan(spec, registry, project_dir)
    try:
        files = render_plan(plan)
    except SpecError as exc:    # a blueprint's fail(): say where, like any spec error
        raise SpecError(locate(spec, exc.diagnostics)) from None
    if with_assets:
        files.append(RenderedFile(DATASTAR_PATH, datastar_bundle(), "asset"))
    return sorted(files, key=lambda f: f.path)


@dataclass
class Outcome:
    project: Path
    results: list[FileResult] = field(default_factory=list)
    spec_written: bool = False
    written: bool = False

    @property
    def changed(self) -> list[FileResult]:
        return [r for r in self.results if r.action.changes_disk]

    def count(self, action: Action) -> int:
        return sum(1 for r in self.results if r.action is action)

    @property
    def conflicts(self) -> list[FileResult]:
        return [r for r in self.results if r.action in (Action.CONFLICT, Action.UNMANAGED)]


def app_name_for(folder: str) -> str:
    """The package name a new project folder suggests (`my-app` -> `my_app`)."""
    name = re.sub(r"[^a-z0-9_]+", "_", folder.strip().lower()).strip("_")
    if not name or not IDENTIFIER.match(name):
        raise UsageError(f"'{folder}' does not make a Python package name; use lower-case "
                         "letters, digits, _ or -, starting with a letter (e.g. 'myapp')")
    return name


def new_project(name: str, *, dest: Path | None = None, spec_path: Path | None = None,
                dry_run: bool = False, conflicts: Conflicts | str = Conflicts.ABORT,
                registry: Registry | None = None) -> Outcome:
    """`dsgen new`: create (or re-render) a project from a spec or the starter spec."""
    conflicts = Conflicts.of(conflicts)
    registry = registry or builtin_registry()
    dest = (dest or Path(name)).resolve()
    target_spec = dest / SPEC_FILE
    if spec_path is not None:
        if not spec_path.is_file():
            raise UsageError(f"no spec at {spec_path}")
        spec_text = read_spec_text(spec_path)
        shown_path = spec_path
    elif target_spec.is_file():
        spec_text = read_spec_text(target_spec)
        shown_path = target_spec
    else:
        spec_text = starter_spec(app_name_for(dest.name if dest else name))
        shown_path = target_spec
    if target_spec.is_file() and read_spec_text(target_spec) != spec_text:
        raise ConflictError(f"{target_spec} exists and differs from {spec_path}; edit the "
                            "project's dsgen.yaml and run 'dsgen update' instead", [SPEC_FILE])
    spec = prepare_spec(shown_path, registry, spec_text)
    extra = {}
    from dsgen.db import find_backend

    backend = find_backend(spec.app.backend.value)
    if backend is not None and not backend.has_history(dest):
        # The first revision, written once; later ones come from `dsgen db`.
        migration = backend.plan(spec, dest, message="initial", registry=registry)
        if migration is not None:
            extra[migration.path] = migration.text
    return _render_into(spec, registry, dest, dry_run=dry_run, conflicts=conflicts,
                        spec_text=None if target_spec.is_file() else spec_text, extra=extra)


def update_project(dest: Path, *, dry_run: bool = False,
                   conflicts: Conflicts | str = Conflicts.ABORT,
                   registry: Registry | None = None) -> Outcome:
    """`dsgen update`: re-render a project from its own dsgen.yaml."""
    conflicts = Conflicts.of(conflicts)
    registry = registry or builtin_registry()
    dest, spec_file = find_project(dest)
    spec = prepare_spec(spec_file, registry)
    return _render_into(spec, registry, dest, dry_run=dry_run, conflicts=conflicts)


def _render_into(spec: Spec, registry: Registry, dest: Path, *, dry_run: bool,
                 conflicts: Conflicts | str, spec_text: str | None = None,
                 extra: dict[str, str] | None = None) -> Outcome:
    """Render the project and apply it (unless dry_run) in one all-or-nothing step.

    spec_text, if given, is the project's new dsgen.yaml; `extra` are the user's files dsgen
    writes once and never tracks (migrations).
    """
    files = render_project(spec, registry, dest)
    results = plan_writes(files, dest)
    if spec_text is not None:
        results.append(_user_file(dest, SPEC_FILE, spec_text))
    for path, text in (extra or {}).items():
        results.append(_user_file(dest, path, text))
    outcome = Outcome(dest, results, spec_written=spec_text is not None)
    if dry_run:
        return outcome
    Conflicts.of(conflicts).check(results)
    apply(results, dest, untracked={SPEC_FILE, *(extra or {})})
    outcome.written = any(r.action.changes_disk for r in results)
    return outcome


def _user_file(dest: Path, path: str, text: str) -> FileResult:
    """A file that belongs to the user once written (the spec, a migration)."""
    target = dest / path
    data = text.encode("utf-8")
    before = target.read_bytes() if target.is_file() else None
    if before is None:
        return FileResult(path, Action.CREATE, None, data, None)
    if before == data:
        return FileResult(path, Action.IDENTICAL, before, data, None)
    return FileResult(path, Action.UPDATE, before, data, None)


def emit_migration(dest: Path, *, message: str | None = None, allow_destructive: bool = False,
                   dry_run: bool = False, registry: Registry | None = None,
                   backend: str | None = None):
    """`dsgen db`: write the next revision for the spec's stores (None: up to date).

    `backend` names the database backend (default: the spec's `app.backend`).
    """
    from dsgen.db import get_backend

    registry = registry or builtin_registry()
    dest, spec_file = find_project(dest)
    spec = prepare_spec(spec_file, registry)
    migration = get_backend(backend or spec.app.backend.value).plan(
        spec, dest, message=message, allow_destructive=allow_destructive, registry=registry)
    if migration is not None and not dry_run:
        apply([_user_file(dest, migration.path, migration.text)], dest,
              untracked={migration.path})
    return migration


def _parse_settings(settings: list[str]) -> dict[str, Any]:
    """`--set key=value` pairs; values are YAML (`--set card=[title,due]`, `--set url=true`)."""
    from ruamel.yaml import YAML

    parsed: dict[str, Any] = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set takes KEY=VALUE, got '{item}'")
        value = YAML(typ="safe").load(raw) if raw.strip() else ""
        parsed[key.strip()] = value
    return parsed


def _fill_options(blueprint, store_fields: dict[str, Any], options: dict[str, Any]) -> None:
    """Give required field options a fitting field of the store when the user named none
    (a field another option must differ from is not reused for it)."""
    for opt in blueprint.options:
        if opt.name in options or not opt.required or opt.type != "field":
            continue
        taken = options.get(opt.differs_from) if opt.differs_from else None
        for name, body in store_fields.items():
            ftype = body if isinstance(body, str) else body.get("type")
            if name != taken and (not opt.field_types or ftype in opt.field_types):
                options[opt.name] = name
                break


def _scaffold_options(blueprint, store_fields: dict[str, Any]) -> dict[str, Any]:
    """The scaffold's options that fit an existing store: every option that names no field,
    and field options whose fields the store has."""
    declared = {opt.name: opt for opt in blueprint.options}
    fitting: dict[str, Any] = {}
    for key, value in (blueprint.scaffold.get("options") or {}).items():
        opt = declared.get(key)
        if opt is not None and opt.type in ("field", "fields"):
            names = [value] if isinstance(value, str) else list(value or [])
            if not all(name in store_fields for name in names):
                continue
        fitting[key] = value
    return fitting


def add_pattern(dest: Path, pattern: str, *, screen: str | None = None,
                store: str | None = None, settings: list[str] | None = None,
                dry_run: bool = False, conflicts: Conflicts | str = Conflicts.ABORT,
                registry: Registry | None = None) -> Outcome:
    """`dsgen add pattern`: add a screen (and its store, if new) to dsgen.yaml, re-render."""
    from ruamel.yaml.comments import CommentedMap

    from dsgen._edit import add_entry

    conflicts = Conflicts.of(conflicts)

    registry = registry or builtin_registry()
    dest, spec_file = find_project(dest)
    blueprint = find_pattern(registry, pattern)
    current = prepare_spec(spec_file, registry, admin=False)  # as written
    text = spec_file.read_text(encoding="utf-8")
    options = _parse_settings(settings or [])
    scaffold = blueprint.scaffold
    store_fields: dict[str, Any] = {}
    if blueprint.store != "none":
        store = store or scaffold.get("store")
        if store is None:
            raise UsageError(f"pattern '{pattern}' shows a store: pass --store NAME")
        existing = current.store(store)
        if existing is None:
            store_fields = dict(scaffold.get("fields") or {"name": {"type": "string",
                                                                    "required": True}})
            fields = CommentedMap()
            for name, body in store_fields.items():
                leaf = CommentedMap(body) if isinstance(body, dict) else body
                if isinstance(leaf, CommentedMap):
                    leaf.fa.set_flow_style()
                fields[name] = leaf
            text = add_entry(text, "stores", store, {"fields": fields})
            for key, value in (scaffold.get("options") or {}).items():
                options.setdefault(key, value)
        else:
            store_fields = {f.name.snake: {"type": f.type.value} for f in existing.fields}
            for key, value in _scaffold_options(blueprint, store_fields).items():
                options.setdefault(key, value)
        _fill_options(blueprint, store_fields, options)
    name = screen or _free_screen_name(current, store, pattern)
    if current.screen(name) is not None:
        raise UsageError(f"screen '{name}' exists already; pick another with --screen")
    body = CommentedMap(pattern=pattern)
    body.fa.set_block_style()
    if blueprint.store != "none":
        body["store"] = store
    for key, value in options.items():
        body[key] = value
    text = add_entry(text, "screens", name, body)
    try:
        spec = prepare_spec(spec_file, registry, text)
    except SpecError as exc:
        raise SpecError(exc.diagnostics, source=text, note=(
            f"the locations are in {SPEC_FILE} as `add pattern` would write it; name what "
            f"the store cannot supply with --set OPTION=VALUE (`dsgen blueprints show "
            f"{pattern}` lists the options)")) from None
    return _render_into(spec, registry, dest, dry_run=dry_run, conflicts=conflicts,
                        spec_text=text)


def _free_screen_name(spec: Spec, store: str | None, pattern: str) -> str:
    from dsgen._names import Name

    base = Name(store).plural if store else pattern.replace("-", "_")
    if spec.screen(base) is None:
        return base
    candidate = f"{base}_{pattern.replace('-', '_')}"
    n = 2
    while spec.screen(candidate) is not None:
        candidate = f"{base}_{pattern.replace('-', '_')}_{n}"
        n += 1
    return candidate


def eject_blueprint(dest: Path, pattern: str, *, registry: Registry | None = None) -> list[str]:
    """Copy a built-in blueprint's templates into the project's `.dsgen/blueprints/<id>/`,
    where each file overrides the built-in one of the same path. Returns the copied paths;
    files already there are left alone (they are the user's)."""
    from dsgen._load_yaml import suggest
    from dsgen._render import OVERRIDE_DIR

    registry = registry or builtin_registry()
    dest, _ = find_project(dest)
    blueprint = registry.blueprints.get(pattern)
    if blueprint is None:
        ids = sorted(registry.blueprints)
        hint = suggest(pattern, ids)
        raise UsageError(f"unknown blueprint '{pattern}'" + (f" ({hint})" if hint else "") +
                         f"; blueprints: {', '.join(ids)}")
    target = dest / OVERRIDE_DIR / blueprint.id
    copied = []
    sources = [p for folder in ("templates", "backends") if (blueprint.root / folder).is_dir()
               for p in sorted((blueprint.root / folder).rglob("*"))]
    sources = [s for s in sources if s.is_file() and "__pycache__" not in s.parts]
    check_inside(dest, [target / s.relative_to(blueprint.root) for s in sources])
    for source in sources:
        rel = source.relative_to(blueprint.root)
        out = target / rel
        if out.exists():
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(source.read_bytes())
        copied.append((OVERRIDE_DIR / blueprint.id / rel).as_posix())
    return copied
