"""Field type -> everything a template needs (Python type, input widget, display); pure code."""

from __future__ import annotations

from dataclasses import dataclass

from dsgen._model import Field, FieldType

# How each field type is typed in Python and edited in a form.
# (python type, form widget, html input type)
_TYPE_TABLE: dict[FieldType, tuple[str, str, str]] = {
    FieldType.STRING: ("str", "input", "text"),
    FieldType.TEXT: ("str", "textarea", ""),
    FieldType.INT: ("int", "input", "number"),
    FieldType.FLOAT: ("float", "input", "number"),
    FieldType.DECIMAL: ("Decimal", "input", "number"),
    FieldType.BOOL: ("bool", "checkbox", "checkbox"),
    FieldType.DATE: ("date", "input", "date"),
    FieldType.DATETIME: ("datetime", "input", "datetime-local"),
    FieldType.EMAIL: ("str", "input", "email"),
    FieldType.URL: ("str", "input", "url"),
    FieldType.ENUM: ("str", "select", ""),
    FieldType.JSON: ("Any", "textarea", ""),
    FieldType.UUID: ("UUID", "input", "text"),
    FieldType.REF: ("UUID", "select", ""),
}


@dataclass(frozen=True, slots=True)
class TypeInfo:
    python: str          # annotation of the stored value (without `| None`)
    widget: str          # input | textarea | select | checkbox
    input_type: str      # the <input type=…> when widget is input
    step: str | None     # the <input step=…> for numbers
    numeric: bool        # right-aligned in lists, compared as numbers


def type_info(field: Field) -> TypeInfo:
    python, widget, input_type = _TYPE_TABLE[field.type]
    if field.type is FieldType.REF and field.many:
        python = "list[UUID]"
    step = {FieldType.INT: "1", FieldType.FLOAT: "any", FieldType.DECIMAL: "0.01"}.get(field.type)
    numeric = field.type in (FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL)
    return TypeInfo(python, widget, input_type, step, numeric)


def python_imports(fields: list[Field]) -> list[str]:
    """The `from x import y` lines the typed models of these fields need, sorted."""
    needs: dict[str, set[str]] = {}
    for f in fields:
        python = type_info(f).python
        for module, name in (("datetime", "date"), ("datetime", "datetime"),
                             ("decimal", "Decimal"), ("uuid", "UUID"), ("typing", "Any")):
            if name in python.replace("[", " ").replace("]", " ").split():
                needs.setdefault(module, set()).add(name)
    return [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(needs.items())]
