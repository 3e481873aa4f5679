"""The library behind the commands: spec -> plan -> render -> write, usable without the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dsgen._assets import DATASTAR_PATH, datastar_bundle
from dsgen._blueprints import Registry, builtin_registry
from dsgen._check import check_spec
from dsgen._errors import ConflictError, SpecError, UsageError
from dsgen._load import parse_spec
from dsgen._model import Spec
from dsgen._names import IDENTIFIER
from dsgen._render import RenderedFile, build_plan, render_plan
from dsgen._starter import starter_spec
from dsgen._write import Action, FileResult, plan_writes, write_files

SPEC_FILE = "dsgen.yaml"


def prepare_spec(path: Path, registry: Registry, text: str | None = None) -> Spec:
    """Load and check a spec; raise SpecError with every problem (shape and cross-refs)."""
    spec, diagnostics = parse_spec(path, text)
    if spec is not None:
        diagnostics = diagnostics + check_spec(spec, registry)
    if diagnostics or spec is None:
        raise SpecError(sorted(diagnostics, key=lambda d: (
            d.location.line if d.location else 0, d.location.col if d.location else 0)))
    return spec


def render_project(spec: Spec, registry: Registry, project_dir: Path | None = None,
                   *, with_assets: bool = True) -> list[RenderedFile]:
    """Every file of the project, in memory, sorted by path."""
    plan = build_plan(spec, registry, project_dir)
    files = render_plan(plan)
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
                dry_run: bool = False, conflicts: str = "abort",
                registry: Registry | None = None) -> Outcome:
    """`dsgen new`: create (or re-render) a project from a spec or the starter spec."""
    registry = registry or builtin_registry()
    dest = (dest or Path(name)).resolve()
    target_spec = dest / SPEC_FILE
    if spec_path is not None:
        if not spec_path.is_file():
            raise UsageError(f"no spec at {spec_path}")
        spec_text = spec_path.read_text(encoding="utf-8")
        shown_path = spec_path
    elif target_spec.is_file():
        spec_text = target_spec.read_text(encoding="utf-8")
        shown_path = target_spec
    else:
        spec_text = starter_spec(app_name_for(dest.name if dest else name))
        shown_path = target_spec
    if target_spec.is_file() and target_spec.read_text(encoding="utf-8") != spec_text:
        raise ConflictError(f"{target_spec} exists and differs from {spec_path}; edit the "
                            "project's dsgen.yaml and run 'dsgen update' instead", [SPEC_FILE])
    spec = prepare_spec(shown_path, registry, spec_text)
    outcome = _render_into(spec, registry, dest, dry_run=dry_run, conflicts=conflicts,
                           spec_text=None if target_spec.is_file() else spec_text)
    return outcome


def update_project(dest: Path, *, dry_run: bool = False, conflicts: str = "abort",
                   registry: Registry | None = None) -> Outcome:
    """`dsgen update`: re-render a project from its own dsgen.yaml."""
    registry = registry or builtin_registry()
    dest = dest.resolve()
    spec_file = dest / SPEC_FILE
    if not spec_file.is_file():
        raise UsageError(f"no {SPEC_FILE} in {dest}; run this inside a dsgen project "
                         "(or pass --dir)")
    spec = prepare_spec(spec_file, registry)
    return _render_into(spec, registry, dest, dry_run=dry_run, conflicts=conflicts)


def _render_into(spec: Spec, registry: Registry, dest: Path, *, dry_run: bool,
                 conflicts: str, spec_text: str | None = None) -> Outcome:
    files = render_project(spec, registry, dest)
    if spec_text is not None:
        files.append(RenderedFile(SPEC_FILE, spec_text.encode("utf-8"), "spec"))
    if dry_run:
        return Outcome(dest, plan_writes(files, dest), spec_written=spec_text is not None)
    results = write_files(files, dest, conflicts=conflicts, untracked={SPEC_FILE})
    return Outcome(dest, results, spec_written=spec_text is not None,
                   written=any(r.action.changes_disk for r in results))
