"""Field type -> everything a template needs (Python type, input widget, display); pure code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from dsgen._model import Field, FieldType
from dsgen._names import store_alias

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


# -- the generated store module: one decision per function, each unit-tested -----------
def _literal(value) -> str:
    import json
    from datetime import date, datetime

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    # repr() would say `datetime.date(2026, 1, 15)`: the generated module imports the
    # classes (`from datetime import date`), so spell the call with them.
    if isinstance(value, datetime):
        return f"datetime.fromisoformat({value.isoformat()!r})".replace("'", '"')
    if isinstance(value, date):
        return f"date.fromisoformat({value.isoformat()!r})".replace("'", '"')
    return repr(value)


def model_annotation(field: Field) -> tuple[str, list[str]]:
    """The pydantic annotation of a form field and the Field(...) constraints it needs."""
    t = field.type
    optional = not field.required
    constraints: list[str] = []
    validators: list[str] = []
    if t is FieldType.REF and field.many:
        return "list[UUID]", []
    if t is FieldType.ENUM:
        base = "Literal[" + ", ".join(_literal(v) for v in field.values) + "]"
    elif t is FieldType.JSON:
        # Before-validators run last-listed first: blank check, then JSON parsing. A required
        # value must be there: blank and `null` are no value (the column is NOT NULL).
        if field.required:
            return ("Annotated[Any, AfterValidator(json_present), BeforeValidator(parse_json), "
                    "Blank]"), []
        return "Annotated[Any, BeforeValidator(parse_json), Blank]", []
    else:
        base = type_info(field).python
    if t in (FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.URL):
        low = field.min if field.min is not None else (1 if field.required else None)
        if low:
            constraints.append(f"min_length={int(low)}")
        constraints.append(f"max_length={max_length(field)}")
        # Text keeps tabs and line breaks; a one-line value keeps tabs only.
        validators.append("AfterValidator(plain_text)" if t is FieldType.TEXT
                          else "AfterValidator(single_line)")
        if t is FieldType.EMAIL:
            validators.append("AfterValidator(check_email)")
        if t is FieldType.URL:
            validators.append("AfterValidator(check_http_url)")
    elif t in (FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL):
        low, high = number_range(field)
        if low is not None:
            constraints.append(f"ge={low!r}")
        if high is not None:
            constraints.append(f"le={high!r}")
        if t is FieldType.FLOAT:
            constraints.append("allow_inf_nan=False")
        if t is FieldType.DECIMAL:
            constraints.extend(["max_digits=18", "decimal_places=2"])
    elif t is FieldType.DATE:
        validators.append("AfterValidator(in_date_range)")
    elif t is FieldType.DATETIME:
        validators.extend(["AfterValidator(as_utc)", "AfterValidator(in_date_range)"])
    if t is FieldType.BOOL:
        return "bool", constraints
    inner = f"{base} | None" if optional else base
    return f"Annotated[{', '.join([inner, 'Blank', *validators])}]", constraints


# Bounds of a field's value, derived from its column: every value a form accepts fits the
# database and the app's own maths (dates: app/core/forms.py, in_date_range).
DEFAULT_MAX_LENGTH = {FieldType.STRING: 1_000, FieldType.TEXT: 10_000, FieldType.EMAIL: 320,
                      FieldType.URL: 2_048}
INT32 = (-(2**31), 2**31 - 1)  # the `integer` column


def max_length(field: Field) -> int:
    """The most characters a string-like field accepts: the spec's max, else the default
    for its type (an email column is varchar(320) unless the spec says otherwise)."""
    if field.max is not None:
        return int(field.max)
    return DEFAULT_MAX_LENGTH[field.type]


def number_text(value: float | int) -> str:
    """A bound as the generated app words it (app/core/forms.py number_text): 1000000, 2.5."""
    return format(Decimal(str(value)).normalize(), "f")


def number_range(field: Field) -> tuple[float | int | None, float | int | None]:
    """(lowest, highest) a number field accepts: the spec's min/max, within the column's
    range for ints (decimals are bounded by max_digits, floats by being finite)."""
    low, high = field.min, field.max
    if field.type is FieldType.INT:
        low = INT32[0] if low is None else max(int(low), INT32[0])
        high = INT32[1] if high is None else min(int(high), INT32[1])
    return low, high


def model_default(field: Field) -> str | None:
    """The Python default of a form field (None: the field is required)."""
    if field.type is FieldType.REF and field.many:
        return "[]"
    if field.type is FieldType.BOOL:
        return _literal(bool(field.default)) if field.default is not None else "False"
    if field.required:
        return None
    if field.default is not None and field.default != "now" and field.type is not FieldType.JSON:
        return _literal(field.default)
    return "None"


def model_line(field: Field) -> str:
    """`name: Annotation = default` for the store's input model (keywords and names the
    annotations use are aliased: see Name.attr)."""
    from dsgen._names import Name

    name: Name = field.name
    annotation, constraints = model_annotation(field)
    default = model_default(field)
    args = list(constraints)
    if name.attr != name.snake:
        args.append(f"alias={_literal(name.snake)}")
    if args:
        head = [default] if default is not None else []
        return f"{name.attr}: {annotation} = Field({', '.join(head + args)})"
    if default is not None:
        return f"{name.attr}: {annotation} = {default}"
    return f"{name.attr}: {annotation}"


def form_reader(field: Field) -> str:
    """How a submitted form value is read (strings; checkboxes and multi-selects differ)."""
    if field.type is FieldType.BOOL:
        return "form_bool"
    if field.type is FieldType.REF and field.many:
        return "form_list"
    return "form_str"


def record_reader(field: Field) -> str:
    """Converter from a stored value to what the <input> shows."""
    return {
        FieldType.DECIMAL: "decimal_value",
        FieldType.DATE: "date_value",
        FieldType.DATETIME: "datetime_value",
        FieldType.JSON: "json_value",
        FieldType.BOOL: "bool",
    }.get(field.type, "uuid_list" if field.type is FieldType.REF and field.many
          else "text_value")


def new_value(field: Field) -> str:
    """What the "new" form shows before the user types (Python expression)."""
    if field.type is FieldType.BOOL:
        return _literal(bool(field.default))
    if field.type is FieldType.REF and field.many:
        return "[]"
    if field.default == "now":
        return "date_value(today())" if field.type is FieldType.DATE else "datetime_value(now())"
    if field.default is None:
        return '""'
    if field.type is FieldType.JSON:
        import json

        return _literal(json.dumps(field.default, indent=2, ensure_ascii=False))
    return _literal(str(field.default))


def show_filter(field: Field) -> str | None:
    """The generated app's Jinja display filter for a value of this field, if any."""
    return {
        FieldType.DECIMAL: "show_decimal",
        FieldType.FLOAT: "show_float",
        FieldType.DATE: "show_date",
        FieldType.DATETIME: "show_datetime",
        FieldType.JSON: "show_json",
    }.get(field.type)


# Where each name a generated store module may use comes from, and its isort section.
_IMPORTS = {
    "date": "datetime", "datetime": "datetime", "Decimal": "decimal",
    "Annotated": "typing", "Any": "typing", "Literal": "typing", "UUID": "uuid",
    "AsyncConnection": "psycopg", "IntegrityError": "psycopg", "DictRow": "psycopg.rows",
    "Jsonb": "psycopg.types.json",
    "AfterValidator": "pydantic", "BaseModel": "pydantic", "BeforeValidator": "pydantic",
    "ConfigDict": "pydantic", "Field": "pydantic",
}
_FORMS = ("Blank", "as_utc", "check_email", "check_http_url", "date_value", "datetime_value",
          "decimal_value", "form_bool", "form_list", "form_str", "in_date_range", "json_present",
          "json_value",
          "like_pattern", "now", "parse_json", "plain_text", "single_line", "text_value",
          "today", "uuid_list")
_STDLIB = {"datetime", "decimal", "typing", "uuid"}


def _order(name: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


def _from_import(module: str, names: set[str], width: int = 100) -> str:
    """One statement for the plain names, and one per aliased name ("x as y": isort keeps
    `as` imports apart), each wrapped the way isort wraps it when too long."""
    plain = sorted((n for n in names if " as " not in n), key=_order)
    aliased = sorted((n for n in names if " as " in n), key=lambda n: _order(n.split(" as ")[0]))
    groups = sorted(([plain] if plain else []) + [[n] for n in aliased],
                    key=lambda group: _order(group[0].split(" as ")[0]))
    out = []
    for group in groups:
        line = f"from {module} import {', '.join(group)}"
        if len(line) > width:
            line = f"from {module} import (\n" + "".join(f"    {n},\n" for n in group) + ")"
        out.append(line)
    return "\n".join(out)


# One scan over Python source: string literals (any prefix, triple-quoted too) and comments
# are matched whole so that the words inside them are skipped; group 1 is a name. The same
# names as the tokenize module's NAME tokens, at a fraction of its cost.
_CODE_WORDS = re.compile(r"""
    [A-Za-z]{0,2}(?:'{3}(?:\\.|[^\\])*?'{3}|"{3}(?:\\.|[^\\])*?"{3}
                  |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")
    | \#[^\n]*
    | ([^\W\d]\w*)
""", re.VERBOSE | re.DOTALL)


def _names_in_code(code: str) -> set[str]:
    """The names a piece of Python code uses: words inside strings (SQL's now(), say) and
    comments do not count."""
    return {m.group(1) for m in _CODE_WORDS.finditer(code) if m.group(1)}


def import_block(code: str, extra: dict[str, list[str]] | None = None) -> str:
    """The import lines for generated code, from the names it uses (ruff/isort clean).

    `extra` adds first-party imports by module (e.g. {"app.screens": ["contacts"]}).
    """
    used = _names_in_code(code)
    modules: dict[str, set[str]] = {}
    for name, module in _IMPORTS.items():
        if name in used:
            modules.setdefault(module, set()).add(name)
    forms = {n for n in _FORMS if n in used}
    sections = [
        [_from_import(m, n) for m, n in sorted(modules.items()) if m in _STDLIB],
        [_from_import(m, n) for m, n in sorted(modules.items()) if m not in _STDLIB],
        [_from_import("app.core.forms", forms)] if forms else [],
    ]
    for module, names in sorted((extra or {}).items()):
        sections[2].append(_from_import(module, set(names)))
    return "\n\n".join("\n".join(s) for s in sections if s)


def store_imports(modules: list[str], width: int = 100) -> str:
    """`from app.stores import x as x_store`, one statement per store module, sorted as ruff's
    isort wants them. Screens refer to stores only through their alias (`Name.store_alias`):
    a store named like a local of the screen module (`card`, `where`, `page`) cannot shadow or
    be shadowed. A statement too long for the line is wrapped the way isort wraps it."""
    out = []
    for module in sorted(set(modules)):
        alias = store_alias(module)
        line = f"from app.stores import {module} as {alias}"
        if len(line) > width:
            line = f"from app.stores import (\n    {module} as {alias},\n)"
        out.append(line)
    return "\n".join(out)


def sample_value(field: Field) -> str | None:
    """A valid value as a form would submit it (None: leave the field empty).

    Strings carry markup and braces on purpose: the generated tests check they come back
    escaped, never interpreted.
    """
    t = field.type
    if t is FieldType.REF:
        return None
    if t in (FieldType.STRING, FieldType.TEXT):
        text = "Ada <b>&</b> {{ 7*7 }}"
        if field.max is not None:
            text = text[: int(field.max)]
        if field.min is not None and len(text) < field.min:
            text = text + "x" * (int(field.min) - len(text))
        return text
    if t is FieldType.EMAIL:
        return "ada@example.com"
    if t is FieldType.URL:
        return "https://example.com/ada"
    if t in (FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL):
        low = field.min if field.min is not None else 0
        high = field.max if field.max is not None else low + 100
        if t is FieldType.INT:  # whole numbers: no float in between
            return str(int(low) + (int(high) - int(low)) // 2)
        return f"{low + (high - low) / 2:.2f}"
    return {
        FieldType.BOOL: "on",
        FieldType.DATE: "2024-05-17",
        FieldType.DATETIME: "2024-05-17T09:30",
        FieldType.ENUM: field.values[0] if field.values else "",
        FieldType.JSON: '{"source": "test"}',
        FieldType.UUID: "0190c8f2-7a1b-7c3d-8e4f-5a6b7c8d9e0f",
    }[t]


def invalid_value(field: Field) -> tuple[str, str] | None:
    """A value the server must reject for this field, and the exact message the generated
    app shows for it (app/core/forms.py words them)."""
    t = field.type
    if t in (FieldType.STRING, FieldType.TEXT) and field.required:
        return "", "This field is required."
    if t in (FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL):
        high = number_range(field)[1]
        if high is not None:   # a number: a person can type it into a number input
            return str(high + 1000), f"Must be at most {number_text(high)}."
        return "not a number", "Enter a number."
    if t is FieldType.EMAIL:
        return "not-an-email", "Enter an email address like name@example.com."
    if t is FieldType.URL:
        return "javascript:alert(1)", "Enter a full web address starting with https://."
    if t is FieldType.JSON:
        return "{broken", "Enter valid JSON"
    return None
