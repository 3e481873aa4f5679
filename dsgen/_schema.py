"""The JSON Schema of dsgen.yaml, built from the model and the blueprints' options."""

from __future__ import annotations

from typing import Any

from dsgen._blueprints import Option, Registry
from dsgen._load import APP_KEYS
from dsgen._load_stores import FIELD_KEYS, INDEX_KEYS, STORE_KEYS
from dsgen._model import Auth, Backend, FieldType

_IDENT = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_SCALAR = {"type": ["string", "number", "boolean", "null"]}


def _option_schema(opt: Option) -> dict[str, Any]:
    doc = {"description": opt.doc} if opt.doc else {}
    if opt.type == "field":
        return {**_IDENT, **doc}
    if opt.type == "fields":
        least = {"minItems": opt.min} if opt.min else {}
        return {"type": "array", "items": _IDENT, **least, **doc}
    if opt.type == "int":
        schema: dict[str, Any] = {"type": "integer", **doc}
        if opt.min is not None:
            schema["minimum"] = opt.min
        return schema
    if opt.type == "bool":
        return {"type": "boolean", **doc}
    if opt.type == "screen":
        return {**_IDENT, **doc}
    if opt.type == "list":
        item = {
            "type": "object",
            "properties": {sub.name: _option_schema(sub) for sub in opt.items},
            "required": [sub.name for sub in opt.items if sub.required],
            "additionalProperties": False,
        }
        return {"type": "array", "minItems": 1, "items": item, **doc}
    return {"type": "string", **doc}


def json_schema(registry: Registry) -> dict[str, Any]:
    field_map = {
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {"enum": [t.value for t in FieldType]},
            "required": {"type": "boolean"},
            "unique": {"type": "boolean"},
            "default": {},
            "min": {"type": "number"},
            "max": {"type": "number"},
            "values": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                       "uniqueItems": True},
            "store": _IDENT,
            "many": {"type": "boolean"},
            "label": {"type": "string"},
            "renamed_from": _IDENT,
        },
    }
    assert set(field_map["properties"]) == set(FIELD_KEYS)
    screens = []
    segment = r"[^/]*[^/\s][^/]*"  # a group name: not blank (the loader trims it)
    nav_path = rf"^{segment}(/{segment}){{0,2}}$"  # at most 3 groups
    for bp in registry.patterns:
        props: dict[str, Any] = {
            "pattern": {"const": bp.id},
            "store": _IDENT,
            "title": {"type": "string"},
            "nav": {"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": nav_path}],
                    "description": 'listed in the menu; a group path ("Sales/Pipelines", at most '
                                   '3 groups) nests it in menu groups'},
        }
        props.update({o.name: _option_schema(o) for o in bp.options})
        required = ["pattern"] + (["store"] if bp.store == "required" else []) + [
            o.name for o in bp.options if o.required]
        screens.append({"type": "object", "description": bp.summary, "properties": props,
                        "required": required, "additionalProperties": False})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dsgen.yaml",
        "type": "object",
        "required": ["dsgen", "app", "screens"],
        "additionalProperties": False,
        "properties": {
            "dsgen": {"const": 1},
            "app": {
                "type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {
                    "name": _IDENT,
                    "title": {"type": "string"},
                    "backend": {"enum": [b.value for b in Backend]},
                    "auth": {"enum": [a.value for a in Auth]},
                },
            },
            "stores": {
                "type": "object",
                "propertyNames": _IDENT,
                "additionalProperties": {
                    "type": "object", "required": ["fields"], "additionalProperties": False,
                    "properties": {
                        "fields": {
                            "type": "object", "minProperties": 1, "propertyNames": _IDENT,
                            "additionalProperties": {"oneOf": [
                                {"enum": [t.value for t in FieldType]}, field_map]},
                        },
                        "realtime": {"type": "boolean"},
                        "indexes": {"type": "array", "items": {
                            "type": "object", "required": ["fields"],
                            "additionalProperties": False,
                            "properties": {
                                "fields": {"type": "array", "items": _IDENT, "minItems": 1},
                                "unique": {"type": "boolean"},
                                "partial": {"type": "object", "additionalProperties": _SCALAR},
                            },
                        }},
                    },
                },
            },
            "screens": {
                "type": "object", "minProperties": 1, "propertyNames": _IDENT,
                "additionalProperties": {"oneOf": screens} if screens else {"type": "object"},
            },
            "signals": {
                "type": "object",
                "additionalProperties": {"type": "object"},
            },
        },
    }


# Keep the key lists and the schema honest with each other.
assert set(APP_KEYS) == {"name", "title", "backend", "auth"}
assert set(STORE_KEYS) == {"fields", "realtime", "indexes"}
assert set(INDEX_KEYS) == {"fields", "unique", "partial"}
