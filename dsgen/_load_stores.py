"""The `stores:` section of a spec: stores, their fields (types, bounds, defaults) and indexes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ruamel.yaml.comments import CommentedMap

from dsgen import _planned as planned
from dsgen._errors import Location
from dsgen._load_yaml import _kind, _nonfinite, _plain, _Reader, bad_char, one_of, suggest
from dsgen._model import NOW, Field, FieldType, Index, Store
from dsgen._names import Name

STORE_KEYS = ("fields", "realtime", "indexes")
INDEX_KEYS = ("fields", "unique", "partial")
FIELD_KEYS = (
    "type", "required", "unique", "default", "min", "max", "values", "store", "many", "label",
    "renamed_from",
)
# Columns every store gets; a store may declare them itself only with a compatible type.
IMPLICIT_FIELDS = {"id": FieldType.UUID, "created_at": FieldType.DATETIME,
                   "updated_at": FieldType.DATETIME}


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
    reader.keys(node, STORE_KEYS, path, planned.STORE_KEYS)
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
        reader.keys(node, FIELD_KEYS, path, planned.FIELD_KEYS)
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
    if isinstance(raw_type, str) and raw_type in planned.FIELD_TYPES:
        reader.error(type_loc, f"{path}.type", planned.refusal(f"the field type '{raw_type}'"),
                     planned.FIELD_TYPES[raw_type])
        return None
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

