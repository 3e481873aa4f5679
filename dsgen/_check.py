"""check_spec: cross-references, pattern options and names, checked against the registry."""

from __future__ import annotations

from typing import Any

from dsgen import _planned as planned
from dsgen._blueprints import Blueprint, Option, Registry
from dsgen._errors import Diagnostic, Location
from dsgen._load_screens import SCREEN_CORE_KEYS
from dsgen._load_stores import IMPLICIT_FIELDS
from dsgen._load_yaml import _kind, bad_char, one_of, suggest
from dsgen._model import Auth, FieldType, Screen, Spec, Store
from dsgen._names import IDENTIFIER
from dsgen.db import not_built

# Paths the generated app serves itself; a screen may not take them.
RESERVED_ROUTES = {"static", "api", "test", "health", "docs", "redoc", "openapi", "login",
                   "logout", "auth", "events"}


def check_spec(spec: Spec, registry: Registry) -> list[Diagnostic]:
    """Every cross-reference problem in a parsed spec (shape errors are the loader's)."""
    out: list[Diagnostic] = []

    def error(path: str, message: str, hint: str | None = None, loc: Location | None = None):
        out.append(Diagnostic(loc or spec.where(path), path, message, hint))

    store_names = [s.name.snake for s in spec.stores]
    _unique_names(spec, error)
    if spec.app.auth is not Auth.NONE:
        error("app.auth", planned.refusal(f"auth '{spec.app.auth.value}'"),
              "use 'auth: none' for now: sign-in, owned rows and role-gated screens are "
              "planned")
    backend = spec.app.backend.value
    if not_built(backend) is not None:      # one error, not one per blueprint as well
        error("app.backend", planned.refusal(f"the backend '{backend}'"),
              f"use 'backend: postgres' for now: {not_built(backend)}")
    for blueprint in registry.project:
        if spec.app.backend.value not in blueprint.backends and not_built(backend) is None:
            error("app.backend", f"the project blueprint '{blueprint.id}' does not support the "
                  f"'{spec.app.backend.value}' backend yet",
                  f"supported: {', '.join(blueprint.backends)}")
    for store in spec.stores:
        for f in store.fields:
            path = f"stores.{store.name}.fields.{f.name}"
            if f.type is FieldType.REF and f.store is not None and f.store not in store_names \
                    and not _declared(spec, f"stores.{f.store}"):
                error(f"{path}.store", f"unknown store '{f.store}', expected {one_of(store_names)}",
                      suggest(f.store, store_names))
            if f.renamed_from and store.field(f.renamed_from):
                error(f"{path}.renamed_from", f"'{f.renamed_from}' is still a field of "
                      f"'{store.name}'", "a renamed field's old name must be gone")
            if f.many and f.unique:
                error(f"{path}.unique", "a many-ref cannot be unique", "remove 'unique'")
            cycle = _required_cycle(spec, store.name.snake, f)
            if cycle and len(cycle) == 2:
                error(f"{path}.required", f"a required ref to its own store: the first "
                      f"'{store.name}' could never be saved (there is nothing to refer to yet)",
                      "remove 'required' (a first, top-level record leaves it empty)")
            elif cycle:
                error(f"{path}.required", f"required refs go round in a circle "
                      f"({' -> '.join(cycle)}): none of these rows could be saved first",
                      "remove 'required' from one of these refs")
    screen_names = [s.name.snake for s in spec.screens]
    for screen in spec.screens:
        _screen(spec, screen, registry, store_names, screen_names, error)
    return out


def _required_cycle(spec: Spec, store: str, f) -> list[str]:
    """The stores a required ref `f` of `store` leads back to `store` through (store, ...,
    store), or [] when it does not: such rows need one another to exist first."""
    if f.type is not FieldType.REF or not f.required or f.store is None:
        return []
    edges: dict[str, list[str]] = {}
    for st in spec.stores:
        edges[st.name.snake] = [g.store for g in st.fields
                                if g.type is FieldType.REF and g.required and g.store]
    path, seen = [store, f.store], {f.store}
    stack = [(f.store, iter(edges.get(f.store, [])))]
    if f.store == store:
        return path
    while stack:
        _node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            path.pop()
            continue
        if child == store:
            return [*path, store]
        if child not in seen:
            seen.add(child)
            path.append(child)
            stack.append((child, iter(edges.get(child, []))))
    return []


def _unique_names(spec: Spec, error) -> None:
    routes: dict[str, str] = {}
    for screen in spec.screens:
        route = screen.name.kebab
        if route in RESERVED_ROUTES:
            error(f"screens.{screen.name}", f"'/{route}' is a path the app serves itself",
                  f"rename the screen, e.g. '{screen.name}_screen'")
        routes[route] = screen.name.snake
    tables: dict[str, str] = {}
    for store in spec.stores:
        table = store.name.table
        if table in tables:
            error(f"stores.{store.name}", f"store '{store.name}' and '{tables[table]}' would "
                  f"share the table '{table}'", "rename one of them")
        tables[table] = store.name.snake
        for f in store.fields:
            if f.type is FieldType.REF and f.many:
                link = f"{store.name.snake}_{f.name.snake}"
                if link in tables:
                    error(f"stores.{store.name}.fields.{f.name}", f"the link table '{link}' of "
                          f"this many-ref clashes with store '{tables[link]}'",
                          "rename the field or the store")
                tables[link] = f"{store.name}.{f.name}"


def _screen(spec: Spec, screen: Screen, registry: Registry, store_names: list[str],
            screen_names: list[str], error) -> None:
    path = f"screens.{screen.name}"
    blueprint = registry.get(screen.pattern)
    if blueprint is None:
        ids = sorted(b.id for b in registry.patterns)
        if screen.pattern in planned.PATTERNS:
            error(f"{path}.pattern", planned.refusal(f"the pattern '{screen.pattern}'"),
                  f"this version builds {', '.join(ids)} (see 'dsgen blueprints list')")
        else:
            error(f"{path}.pattern", f"unknown pattern '{screen.pattern}'",
                  suggest(screen.pattern, ids) or "see 'dsgen blueprints list'")
        return
    if spec.app.backend.value not in blueprint.backends and \
            not_built(spec.app.backend.value) is None:
        error(f"{path}.pattern", f"pattern '{blueprint.id}' does not support the "
              f"'{spec.app.backend.value}' backend yet",
              f"supported: {', '.join(blueprint.backends)}")
    store: Store | None = None
    if screen.store is not None:
        if blueprint.store == "none":
            error(f"{path}.store", f"pattern '{blueprint.id}' shows no store", "remove 'store'")
        elif screen.store not in store_names:
            if _declared(spec, f"stores.{screen.store}"):
                return      # declared but invalid: the loader reported it
            error(f"{path}.store", f"unknown store '{screen.store}', expected "
                  f"{one_of(store_names) if store_names else 'a store under stores:'}",
                  suggest(screen.store, store_names))
        else:
            store = spec.store(screen.store)
    elif blueprint.store == "required":
        error(path, f"pattern '{blueprint.id}' needs a store", "add 'store: <store name>'")
    allowed = [o.name for o in blueprint.options]
    for key, value in screen.options.items():
        opt = blueprint.option(key)
        if opt is None:
            error(f"{path}.{key}", f"unknown option '{key}' for pattern '{blueprint.id}', "
                  f"expected {one_of(list(SCREEN_CORE_KEYS) + allowed)}",
                  suggest(key, allowed), loc=screen.option_locations.get(key))
            continue
        _option(spec, screen, store, opt, value, f"{path}.{key}", screen_names, error)
    for opt in blueprint.options:
        if opt.required and opt.name not in screen.options:
            error(path, f"pattern '{blueprint.id}' needs the option '{opt.name}'",
                  opt.doc or None)
    if store is not None:
        _between_options(screen, store, blueprint, path, error)
    pattern_check = blueprint.hook("check")  # the pattern's own rules (its pattern.py)
    if pattern_check is not None:
        for message in pattern_check(screen, store) or ():
            key, _, rest = message.partition(": ")   # "option: problem" points at the option
            if rest and key in screen.option_locations:
                error(f"{path}.{key}", rest, loc=screen.option_locations[key])
            else:
                error(path, message)


def _between_options(screen: Screen, store: Store, blueprint: Blueprint, path: str,
                     error) -> None:
    """The manifest's rules between two options (`differs_from`, `within`)."""
    for opt in blueprint.options:
        if opt.name not in screen.options:
            continue
        value = screen.options[opt.name]
        if opt.differs_from and opt.type == "field":
            other = blueprint.option(opt.differs_from)
            other_value = screen.options.get(other.name, other.default) if other else None
            if isinstance(value, str) and value == other_value and store.field(value):
                others = [f.name.snake for f in store.fields if f.name.snake != value and
                          (not opt.field_types or f.type.value in opt.field_types)]
                error(f"{path}.{opt.name}", f"'{opt.name}' must be another field than "
                      f"'{other.name}' (both are '{value}')",
                      f"fields of '{store.name}' that fit: {', '.join(others)}" if others else
                      f"add another {' or '.join(opt.field_types) or 'field'} field to "
                      f"'{store.name}'")
        if opt.within and opt.type == "fields" and isinstance(value, list):
            other = blueprint.option(opt.within)
            if other is None:
                continue
            allowed = _field_names(store, other, screen.options.get(other.name, other.default))
            for i, name in enumerate(value):
                if not isinstance(name, str) or name in allowed or not (
                        store.field(name) or name in IMPLICIT_FIELDS):
                    continue    # unknown fields are reported already
                error(f"{path}.{opt.name}[{i}]", f"field '{name}' of '{opt.name}' is not one "
                      f"of the screen's {other.name}",
                      f"add it to '{other.name}' ({', '.join(allowed)}) or leave it out")


def _field_names(store: Store, opt: Option, value: Any) -> list[str]:
    """The known fields a `fields` option names once its default is applied."""
    names = opt.pick(value, [(f.name.snake, f.type.value) for f in store.fields])
    return [n for n in names if store.field(n) or n in IMPLICIT_FIELDS]


def _option(spec: Spec, screen: Screen, store: Store | None, opt: Option, value: Any,
            path: str, screen_names: list[str], error) -> None:
    if opt.type in ("field", "fields"):
        if store is None:
            return  # the missing store is reported already
        names = value if opt.type == "fields" else [value]
        if opt.type == "fields" and not isinstance(value, list):
            error(path, f"expected a list of field names, got {_kind(value)}",
                  f"write '{opt.name}: [a, b]'")
            return
        known = [f.name.snake for f in store.fields]
        if opt.type == "fields" and opt.min is not None and len(names) < opt.min:
            error(path, f"expected at least {opt.min} field{'s' if opt.min != 1 else ''}, "
                  f"got {len(names)}", f"fields of '{store.name}': {', '.join(known)}")
        for i, name in enumerate(names):
            item_path = f"{path}[{i}]" if opt.type == "fields" else path
            if isinstance(name, str) and name in names[:i]:
                error(item_path, f"field '{name}' is listed twice", "list each field once")
                continue
            field = store.field(name) if isinstance(name, str) else None
            if field is None:
                implicit = IMPLICIT_FIELDS.get(name) if isinstance(name, str) else None
                if implicit is not None and opt.stored:
                    error(item_path, f"field '{name}' is set by the database, not typed "
                          "into a form", f"fields of '{store.name}': {', '.join(known)}")
                    continue
                if implicit is not None and (not opt.field_types or
                                             implicit.value in opt.field_types):
                    continue
                if _declared(spec, f"stores.{store.name}.fields.{name}"):
                    continue    # declared but invalid: the loader reported it
                if implicit is not None:
                    error(item_path, f"field '{name}' is {implicit.value}, but '{opt.name}' "
                          f"needs {' or '.join(opt.field_types)}",
                          _fitting(store, opt.field_types))
                    continue
                error(item_path, f"unknown field {_kind(name)} of store '{store.name}'",
                      suggest(str(name), known) or f"expected {one_of(known)}")
                continue
            if opt.field_types and field.type.value not in opt.field_types:
                error(item_path, f"field '{name}' is {field.type.value}, but '{opt.name}' "
                      f"needs {' or '.join(opt.field_types)}",
                      _fitting(store, opt.field_types))
                continue
            if opt.same_store and field.store != store.name.snake:
                error(item_path, f"field '{name}' must refer to store '{store.name}' itself",
                      f"declare it as {{type: ref, store: {store.name}}}")
            if opt.many is not None and field.type is FieldType.REF and field.many != opt.many:
                error(item_path, f"field '{name}' must {'' if opt.many else 'not '}be a "
                      "many-ref", "set 'many: true'" if opt.many else "remove 'many'")
    elif opt.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            error(path, f"expected a whole number, got {_kind(value)}")
        elif opt.min is not None and value < opt.min:
            error(path, f"expected at least {opt.min}, got {value}")
    elif opt.type == "bool":
        if not isinstance(value, bool):
            error(path, f"expected true or false, got {_kind(value)}")
    elif opt.type == "string":
        if not isinstance(value, str) or not value.strip():
            error(path, f"expected a non-empty string, got {_kind(value)}")
        elif bad_char(value, one_line=True):
            error(path, f"the text holds {bad_char(value, one_line=True)}",
                  "write it on one line, without control characters")
    elif opt.type == "screen":
        if value == screen.name.snake:
            error(path, "a screen cannot contain itself")
        elif value not in screen_names:
            if isinstance(value, str) and _declared(spec, f"screens.{value}"):
                return      # declared but invalid: the loader reported it
            # never suggest the screen itself: that is an error too
            others = [n for n in screen_names if n != screen.name.snake]
            error(path, f"unknown screen {_kind(value)}", suggest(str(value), others))
        else:
            other = spec.screen(value)
            if other is not None and other.pattern == screen.pattern:
                error(path, f"screen '{value}' is a {other.pattern} too; nesting is not "
                      "supported", "point at a screen of another pattern")
    elif opt.type == "list":
        _list_option(spec, screen, store, opt, value, path, screen_names, error)


def _list_option(spec, screen, store, opt: Option, value: Any, path: str, screen_names,
                 error) -> None:
    if not isinstance(value, list) or not value:
        error(path, f"expected a non-empty list, got {_kind(value)}")
        return
    keys = [item.name for item in opt.items]
    seen: set[str] = set()
    for i, item in enumerate(value):
        item_path = f"{path}[{i}]"
        if not isinstance(item, dict):
            error(item_path, f"expected a mapping with {one_of(keys)}, got {_kind(item)}")
            continue
        for key in item:
            if key not in keys:
                error(f"{item_path}.{key}", f"unknown key '{key}', expected {one_of(keys)}",
                      suggest(key, keys))
        for sub in opt.items:
            if sub.name not in item:
                if sub.required:
                    error(item_path, f"missing '{sub.name}'", sub.doc or None)
                continue
            _option(spec, screen, store, sub, item[sub.name], f"{item_path}.{sub.name}",
                    screen_names, error)
        name = item.get("name")
        if isinstance(name, str):
            if not IDENTIFIER.match(name):
                error(f"{item_path}.name", f"'{name}' is not a snake_case identifier")
            elif name in seen:
                error(f"{item_path}.name", f"duplicate name '{name}'", "names must be unique")
            seen.add(name)
    if store is None:
        return
    for sub in opt.items:
        if sub.type != "fields" or not (sub.distinct or opt.covers_required == sub.name):
            continue
        first: dict[str, int] = {}
        for i, item in enumerate(value):
            names = item.get(sub.name) if isinstance(item, dict) else None
            for j, fname in enumerate(names if isinstance(names, list) else []):
                if not isinstance(fname, str):
                    continue
                if sub.distinct and first.get(fname, i) != i:
                    error(f"{path}[{i}].{sub.name}[{j}]", f"field '{fname}' is in "
                          f"{opt.name}[{first[fname]}] already",
                          f"a field may be in one of the {opt.name} only")
                first.setdefault(fname, i)
        if opt.covers_required == sub.name:
            # What a form must ask for: required, no default; a checkbox is never missing.
            for f in store.fields:
                if f.required and f.default is None and f.type is not FieldType.BOOL \
                        and f.name.snake not in first:
                    error(path, f"required field '{f.name}' is in none of the {opt.name}",
                          "add it to one, or give it a default")


def _declared(spec: Spec, path: str) -> bool:
    """The spec declares this store, field or screen, but the loader dropped it as invalid
    (and reported why): naming it is no second error."""
    return path in spec.locations


def _fitting(store: Store, types: tuple[str, ...]) -> str:
    fitting = [f.name.snake for f in store.fields if f.type.value in types]
    if fitting:
        return f"fields of '{store.name}' that fit: {', '.join(fitting)}"
    article = "an" if types and types[0][0] in "aeiou" else "a"
    return f"add {article} {' or '.join(types)} field to '{store.name}'"
