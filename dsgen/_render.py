"""build_plan and render_plan: which blueprint renders which files, rendered in memory."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import jinja2.sandbox
from jinja2.bccache import Bucket
from markupsafe import escape

from dsgen import __version__
from dsgen._assets import DATASTAR_PATH, DATASTAR_SHA256, DATASTAR_VERSION
from dsgen._blueprints import Blueprint, Option, Registry
from dsgen._errors import Diagnostic, DsgenError, SpecError, UnsafePathError
from dsgen._fields import import_block, store_imports
from dsgen._model import Spec
from dsgen._pyformat import fit_lines
from dsgen._search import search_sources
from dsgen._views import ScreenView, StoreView, store_views
from dsgen.db.quote import quote_ident, sql_literal

TEMPLATE_SUFFIX = ".jinja"
SHARED_DIR = Path(__file__).resolve().parent.parent / "blueprints" / "_shared"
OVERRIDE_DIR = PurePosixPath(".dsgen/blueprints")


@dataclass(frozen=True, slots=True)
class Job:
    """Render one template of one blueprint to one path, in one context."""

    blueprint: Blueprint
    template: str                 # path below the blueprint's templates/ (posix)
    path: str                     # output path in the project (posix)
    context: dict[str, Any] = field(hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class Plan:
    spec: Spec
    jobs: tuple[Job, ...]
    assets: tuple[str, ...]       # vendored files copied, not rendered (e.g. datastar.js)
    project_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class RenderedFile:
    path: str
    content: bytes
    source: str                   # "<blueprint id>/<template>" or "asset"


# -- filters: one per language a spec string can land in --------------------------------
def py_literal(value: Any) -> str:
    """A Python literal for a JSON-like value; strings get double quotes (ruff style)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}"
                               for k, v in value.items()) + "}"
    return py_literal(str(value))


def py_block(value: Any, indent: int = 0, width: int = 88) -> str:
    """A Python literal, one item per line when it does not fit on one (ruff-clean)."""
    flat = py_literal(value)
    if len(flat) + indent <= width or not isinstance(value, (dict, list, tuple)) or not value:
        return flat
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{pad}{py_literal(str(k))}: {py_block(v, indent + 4, width)}," for k, v in
                 value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{py_block(v, indent + 4, width)}," for v in value]
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def py_tuple(values: Any) -> str:
    items = [py_literal(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


_JINJA_RESERVED = frozenset({
    "none", "true", "false", "loop", "self", "items", "values", "keys", "get", "pop",
    "update", "copy", "clear", "setdefault", "popitem", "fromkeys",
})


def jinja_key(name: str, var: str) -> str:
    """`r.name`, or `r["class"]` when the name is a keyword, for generated Jinja templates."""
    import keyword

    # Subscript for keywords, Jinja's own names, and dict methods (`r.items` would be the
    # method, not the field).
    if keyword.iskeyword(name) or name in _JINJA_RESERVED:
        return f"{var}[{json.dumps(name)}]"
    return f"{var}.{name}"


def html_text(value: Any) -> str:
    """Escape for HTML placed inside a generated *Jinja* template.

    Braces become entities too, so a spec string such as `{{ x }}` is shown as text by the
    generated app instead of being run as a Jinja expression.
    """
    return str(escape(str(value))).replace("{", "&#123;").replace("}", "&#125;")


def js_string(value: Any) -> str:
    """A JavaScript string literal, safe inside an HTML attribute of a generated template.

    The entities (`&#34;` for the quotes) are decoded by the browser before Datastar reads
    the expression.
    """
    return html_text(json.dumps(str(value), ensure_ascii=False))


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, each file read in one go: Jinja's own loader calls marshal.load()
    on the open file, which reads it in small pieces (~5x slower than marshal.loads() on
    its bytes: ~40 ms of a render of every pattern)."""

    def load_bytecode(self, bucket: Bucket) -> None:
        import marshal
        import os
        import pickle
        from io import BytesIO

        from jinja2.bccache import bc_magic

        try:
            with open(os.path.join(self.directory, self.pattern % (bucket.key,)), "rb") as f:
                data = f.read()
        except OSError:
            return
        # The checks of jinja2.bccache.Bucket.load_bytecode: magic, then source checksum.
        stream = BytesIO(data)
        if stream.read(len(bc_magic)) != bc_magic:
            return
        try:
            if pickle.load(stream) != bucket.checksum:
                return
            bucket.code = marshal.loads(data[stream.tell():])
        except (EOFError, ValueError, TypeError, pickle.UnpicklingError):
            bucket.reset()


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates cached across runs (compiling is most of a render's time)."""
    from dsgen._assets import cache_dir

    folder = cache_dir() / "jinja" / __version__
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _BytecodeCache(str(folder))


@jinja2.pass_context
def fail(context, message: str, option: str | None = None, hint: str | None = None):
    """`[[ fail("…", option="end", hint="…") ]]`: stop the render at a rule blueprint.yml
    cannot express, as a spec error of the screen being rendered (its path, where the spec
    says it when known, the message and a hint) instead of a template failure."""
    screen = context.get("screen")
    spec = context.get("spec")
    path = f"screens.{screen.name.snake}" if screen is not None else ""
    if option:
        path = f"{path}.{option}" if path else option
    where = spec.where(path) if spec is not None and path else None
    raise SpecError([Diagnostic(where, path, message, hint)])


def make_environment(search_path: list[Path], *, sandboxed: bool = False) -> jinja2.Environment:
    """dsgen's own delimiters ([[ ]], [% %], [# #]) keep generated `{{ }}` intact.

    sandboxed: the search path holds a project's own templates (`.dsgen/blueprints/`), which
    a cloned repository brings: they render in Jinja's sandbox (no `__globals__` and the
    like: a template cannot run code), compiled afresh (no shared bytecode cache)."""
    cls = jinja2.sandbox.SandboxedEnvironment if sandboxed else jinja2.Environment
    env = cls(
        bytecode_cache=None if sandboxed else _bytecode_cache(),
        loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
        block_start_string="[%", block_end_string="%]",
        variable_start_string="[[", variable_end_string="]]",
        comment_start_string="[#", comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(jkey=jinja_key, py=py_literal, pyblock=py_block, pytuple=py_tuple,
                       jstr=json_text, sql=sql_literal, ident=quote_ident, html=html_text,
                       js=js_string, json=json_text)
    env.globals["fail"] = fail
    return env


# -- planning ---------------------------------------------------------------------------
def _resolve_options(screen, blueprint: Blueprint, store: StoreView | None) -> dict[str, Any]:
    """Pattern options with defaults applied; field names resolved to FieldViews."""
    resolved: dict[str, Any] = {}
    for opt in blueprint.options:
        value = screen.options.get(opt.name, opt.default)
        resolved[opt.name] = _resolve(opt, value, store)
    return resolved


def _resolve(opt: Option, value: Any, store: StoreView | None) -> Any:
    if opt.type == "field":
        if value is None or store is None:
            return None
        return store.find(value)
    if opt.type == "fields":
        if store is None:
            return []
        names = opt.pick(value, [(f.name.snake, f.field.type.value) for f in store.fields])
        return [f for f in map(store.find, names) if f is not None]
    if opt.type == "list" and isinstance(value, list):
        return [{sub.name: item.get(sub.name, sub.default) for sub in opt.items}
                for item in value]
    return value


def _pattern_tables(spec: Spec, registry: Registry) -> list[str]:
    """Tables the patterns need beyond the stores (their `schema` hooks), by name."""
    from dsgen.db import find_backend

    backend = find_backend(spec.app.backend.value)
    if backend is None:
        return []
    tables = backend.schema_state(spec, registry)["tables"]
    return sorted(n for n, t in tables.items() if not t.get("store") and not t.get("link"))


# Client-only chrome every generated shell uses; a spec's own values win.
SHELL_SIGNALS = {"_ui": {"sidebarOpen": True}}


def app_signals(spec_signals: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged = {ns: dict(values) for ns, values in SHELL_SIGNALS.items()}
    for namespace, values in spec_signals.items():
        merged.setdefault(namespace, {}).update(values)
    return merged


def build_plan(spec: Spec, registry: Registry, project_dir: Path | None = None) -> Plan:
    """Decide every file of the project: blueprint, template, output path and context."""
    stores = store_views(spec)
    screens = []
    for screen in spec.screens:
        blueprint = registry.get(screen.pattern)
        store = stores.get(screen.store) if screen.store else None
        options = _resolve_options(screen, blueprint, store)
        screens.append(ScreenView(screen, store, options, icon=blueprint.icon,
                                  live=blueprint.live and store is not None and store.realtime))
        for opt in blueprint.options:  # a same-store ref a pattern walks: no cycles
            if opt.type == "field" and opt.same_store and options.get(opt.name) is not None:
                options[opt.name].acyclic = True
            if opt.type == "field" and opt.places and options.get(opt.name) is not None:
                options[opt.name].placed = True
            if opt.type == "field" and opt.not_before:   # an end and its start
                end, start = options.get(opt.name), options.get(opt.not_before)
                if (end is not None and start is not None and end is not start
                        and end.type == start.type and start not in end.not_before):
                    end.not_before.append(start)
    # The first screen that shows single records of a store is where refs to it link.
    detail_routes: dict[str, str] = {}
    for s in reversed(screens):
        record_route = registry.blueprints[s.pattern].hook("record_route")
        route = record_route(s) if record_route is not None else None
        if route is not None and s.store is not None:
            detail_routes[s.store.name.snake] = route
    # Where new rows of a store are made: the first screen (spec order) whose pattern makes
    # them on a form of its own (its `create_route` hook).
    makers: dict[str, tuple[ScreenView, str]] = {}
    for s in screens:
        create_route = registry.blueprints[s.pattern].hook("create_route")
        route = create_route(s) if create_route is not None and s.store is not None else None
        if route is not None and s.store is not None:
            makers.setdefault(s.store.name.snake, (s, route))
    for s in screens:
        if s.store is not None and s.store.name.snake in makers:
            s.create_screen, s.create_route = makers[s.store.name.snake]

    def hooked(name: str) -> Callable[[ScreenView], str | None]:
        def call(s: ScreenView) -> str | None:
            hook = registry.blueprints[s.pattern].hook(name)
            return hook(s) if hook is not None else None
        return call

    sources = search_sources(screens, hooked("record_route"), hooked("record_page"))
    views = {}  # what each screen's pattern hook computes for its templates
    for s in screens:
        view_hook = registry.blueprints[s.pattern].hook("view")
        views[id(s)] = dict(view_hook(s)) if view_hook is not None else {}
    for view in stores.values():
        for f in view.fields:
            if f.is_ref and not f.is_link:
                f.ref_route = detail_routes.get(f.ref.name.snake)
    base = {
        "pattern_tables": _pattern_tables(spec, registry),
        "spec": spec,
        "app": spec.app,
        "stores": list(stores.values()),
        "screens": screens,
        "nav_screens": [s for s in screens if s.nav],
        "search_sources": sources,
        "signals": app_signals(spec.signals),
        "dsgen_version": __version__,
        "datastar": {"version": DATASTAR_VERSION, "sha256": DATASTAR_SHA256},
        "import_block": import_block,
        "store_imports": store_imports,
    }
    jobs: list[Job] = []
    used = [b for b in registry.project] + [
        registry.blueprints[p] for p in sorted({s.pattern for s in spec.screens})]
    for blueprint in used:
        env = _environment(blueprint, project_dir, spec.app.backend.value)
        for template in _templates(blueprint, project_dir, spec.app.backend.value):
            path_template = template[: -len(TEMPLATE_SUFFIX)] if template.endswith(
                TEMPLATE_SUFFIX) else template
            names = _path_variables(env, path_template)
            if "screen" in names:
                targets = [{**views[id(s)], "screen": s, "store": s.store, "options": s.options}
                           for s in screens if s.pattern == blueprint.id]
            elif "store" in names:
                targets = [{"store": s} for s in stores.values()]
            else:
                targets = [{}]
            for extra in targets:
                context = {**base, **extra}
                path = _render_path(env, path_template, context) if names else path_template
                jobs.append(Job(blueprint, template, path, context))
    seen: dict[str, Job] = {}
    for job in jobs:
        if job.path in seen:
            other = seen[job.path]
            raise DsgenError(f"two templates render to {job.path}: "
                             f"{other.blueprint.id}/{other.template} and "
                             f"{job.blueprint.id}/{job.template}")
        seen[job.path] = job
    jobs.sort(key=lambda j: j.path)
    return Plan(spec=spec, jobs=tuple(jobs), assets=(DATASTAR_PATH,), project_dir=project_dir)


_PATHS: dict[tuple[int, str], jinja2.Template] = {}


_PATH_NAME = re.compile(r"\[\[\s*([A-Za-z_]\w*)")
# A placeholder that is a plain dotted name (`[[ screen.name.snake ]]`), as every built-in
# path has: looked up directly, without compiling the path as a template.
_PATH_PLAIN = re.compile(r"\[\[\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\]\]")


def _path_variables(env: jinja2.Environment, path_template: str) -> set[str]:
    """The context names a templated path uses (`screen`, `store`): the first name of each
    `[[ … ]]` (paths hold plain expressions; parsing them with Jinja costs far more)."""
    return set(_PATH_NAME.findall(path_template))


_MISSING = object()


def _render_path(env: jinja2.Environment, path_template: str, context: dict[str, Any]) -> str:
    """A templated output path. Plain dotted names are looked up the way Jinja would
    (`env.getattr`: attribute, then item); anything else is rendered by Jinja."""
    pieces = _PATH_PLAIN.split(path_template)   # text, name, text, name, …, text
    texts = pieces[::2]
    if not any("[[" in t or "[%" in t or "[#" in t for t in texts):
        out = [texts[0]]
        for dotted, text in zip(pieces[1::2], texts[1:], strict=True):
            head, *attrs = dotted.split(".")
            value = context.get(head, _MISSING)
            for attr in attrs:
                if value is _MISSING:
                    break
                value = env.getattr(value, attr)
                if isinstance(value, jinja2.Undefined):
                    value = _MISSING
            if value is _MISSING:
                break  # let Jinja raise its own error
            out += [str(value), text]
        else:
            return "".join(out)
    return _path_template(env, path_template).render(context)


def _path_template(env: jinja2.Environment, path_template: str) -> jinja2.Template:
    key = (id(env), path_template)
    if key not in _PATHS:
        _PATHS[key] = env.from_string(path_template)
    return _PATHS[key]


def _search_path(blueprint: Blueprint, project_dir: Path | None, backend: str) -> list[Path]:
    """Where templates are looked up, first match wins: the project's overrides
    (`.dsgen/blueprints/<id>/`), then the blueprint; in each, the backend's own files
    (`backends/<backend>/`: repositories, migrations, database fixtures) before the shared
    `templates/` (screens and pages, the same for every backend)."""
    bases = [project_dir / OVERRIDE_DIR / blueprint.id] if project_dir is not None else []
    bases.append(blueprint.root)
    folders = [folder for base in bases
               for folder in (base / "backends" / backend, base / "templates") if folder.is_dir()]
    # Partials shared by every blueprint (`_include/…`), looked up last.
    return [*folders, SHARED_DIR]


_ENVS: dict[tuple, jinja2.Environment] = {}


def _environment(blueprint: Blueprint, project_dir: Path | None,
                 backend: str) -> jinja2.Environment:
    key = tuple(_search_path(blueprint, project_dir, backend))
    if key not in _ENVS:
        overrides = project_dir / OVERRIDE_DIR / blueprint.id if project_dir else None
        sandboxed = overrides is not None and overrides.is_dir()
        if sandboxed:
            _inside_project(project_dir, overrides)
        _ENVS[key] = make_environment(list(key), sandboxed=sandboxed)
    return _ENVS[key]


def _inside_project(project_dir: Path, overrides: Path) -> None:
    """A project's own templates are read only from inside it: no symbolic link (the folder
    or a file in it) may lead out, e.g. to copy a private key into the generated project."""
    real = os.path.realpath(project_dir)
    found = [overrides, *overrides.rglob("*")]
    outside = sorted(p.relative_to(project_dir).as_posix() for p in found
                     if not os.path.realpath(p).startswith(real.rstrip(os.sep) + os.sep))
    if outside:
        raise UnsafePathError(f"refusing to read templates from outside the project "
                              f"{project_dir}:", outside)


def _templates(blueprint: Blueprint, project_dir: Path | None, backend: str) -> list[str]:
    found: set[str] = set()
    for root in _search_path(blueprint, project_dir, backend):
        for p in root.rglob("*"):
            rel = p.relative_to(root)
            # `_include/` holds dsgen-side partials that other templates include.
            if p.is_file() and "__pycache__" not in rel.parts and rel.parts[0] != "_include":
                found.add(rel.as_posix())
    return sorted(found)


_BLANK_RUNS = re.compile(r"\n{4,}")


def render_plan(plan: Plan) -> list[RenderedFile]:
    """Render every job in memory (pure: reads templates, writes nothing)."""
    files = []
    envs: dict[str, jinja2.Environment] = {}
    for job in plan.jobs:
        env = envs.get(job.blueprint.id)
        if env is None:
            env = envs[job.blueprint.id] = _environment(job.blueprint, plan.project_dir,
                                                        plan.spec.app.backend.value)
        if job.template.endswith(TEMPLATE_SUFFIX):
            try:
                text = env.get_template(job.template).render(job.context)
            except jinja2.TemplateError as exc:
                raise DsgenError(f"blueprint {job.blueprint.id}: template {job.template} "
                                 f"failed: {exc}") from exc
            if not text.strip():
                continue  # a template that renders nothing is a file this spec does not need
            if "\n\n\n\n" in text:    # a substring test is far cheaper than the regex
                text = _BLANK_RUNS.sub("\n\n\n", text)
            if job.path.endswith(".py"):   # long names: fit the lines (dsgen._pyformat)
                text = fit_lines(text, job.path)
            data = text.encode("utf-8")
        else:
            data = (Path(env.loader.get_source(env, job.template)[1])).read_bytes()
        files.append(RenderedFile(job.path, data, f"{job.blueprint.id}/{job.template}"))
    return files
