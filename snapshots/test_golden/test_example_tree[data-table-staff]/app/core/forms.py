"""Form parsing shared by the store models: HTML forms send strings, the models want types."""

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import BeforeValidator, ValidationError

from app.core.limits import json_depth

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# C0 controls and DEL, but tab; text also keeps line breaks. NUL never gets this far
# (app/core/limits.py refuses it for the whole request: PostgreSQL text cannot hold it).
_CONTROL_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_MESSAGE = "Remove the control characters (invisible characters such as ESC)."
# Dates a form may hold: what PostgreSQL, Python's `date` and the app's date maths (a
# gantt window pads a task by weeks and rounds to whole months) all handle.
EARLIEST_DATE = date(1000, 1, 1)
LATEST_DATE = date(9899, 12, 31)
MAX_JSON_CHARS = 100_000
MAX_JSON_DEPTH = 32


def blank_to_none(value: Any) -> Any:
    """An empty or whitespace-only input means "no value"."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


# Annotate every optional field with this, so "" from an empty input becomes None.
Blank = BeforeValidator(blank_to_none)


def single_line(value: str | None) -> str | None:
    if value is not None and _CONTROL_LINE.search(value):
        raise ValueError(_CONTROL_MESSAGE)
    return value


def plain_text(value: str | None) -> str | None:
    if value is not None and _CONTROL_TEXT.search(value):
        raise ValueError(_CONTROL_MESSAGE)
    return value


def in_date_range(value: date | None) -> date | None:
    """A date (or datetime) within EARLIEST_DATE..LATEST_DATE."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(
            f"Enter a date between the years {EARLIEST_DATE.year} and {LATEST_DATE.year}."
        )
    return value


def check_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not _EMAIL.fullmatch(value):
        raise ValueError("Enter an email address like name@example.com.")
    return value


def check_http_url(value: str | None) -> str | None:
    # Only http(s): anything else (javascript:, data:) would be unsafe in an href.
    if value is None:
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError("Enter a full web address starting with https://.")
    return value


def parse_json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if len(value) > MAX_JSON_CHARS:
        raise ValueError(f"Use at most {MAX_JSON_CHARS:,} characters.")
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"Enter valid JSON nested at most {MAX_JSON_DEPTH} levels deep.")
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise ValueError(f"Enter valid JSON ({exc})."[:200]) from None
    if "\\u0000" in json.dumps(parsed):  # jsonb cannot hold NUL
        raise ValueError("Enter JSON without NUL characters (\\u0000).")
    return parsed


def json_present(value: Any) -> Any:
    """A required JSON field: blank or `null` is no value (its column is NOT NULL)."""
    if value is None:
        raise ValueError("This field is required.")
    return value


def as_utc(value: datetime | None) -> datetime | None:
    """`datetime-local` inputs carry no zone: this app stores and shows them as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def field_errors(exc: ValidationError) -> dict[str, str]:
    """The first error message per form field, keyed by the field's form name."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "__all__"
        errors.setdefault(name, _message(error))
    return errors


def _message(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "This field is required."
    if error.get("input") is None and kind.endswith("_type"):
        # A blank input (Blank turned it into None) for a field that needs a value.
        return "This field is required."
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return "Choose one of the listed options."
    if kind == "uuid_parsing":
        return "Enter a valid UUID, like 0190c8f2-7a1b-7c3d-8e4f-5a6b7c8d9e0f."
    if kind == "greater_than_equal":
        return f"Must be at least {number_text(ctx['ge'])}."
    if kind == "less_than_equal":
        return f"Must be at most {number_text(ctx['le'])}."
    if kind == "string_too_long":
        return f"Use at most {ctx['max_length']} characters."
    if kind in ("int_parsing", "int_from_float"):
        return "Enter a whole number."
    if kind in ("decimal_parsing", "float_parsing", "finite_number"):
        return "Enter a number."
    return str(error["msg"])


def number_text(value: Any) -> str:
    """A bound as a person writes it: 1000000 (not 1000000.0 or 1e+06), 2.5."""
    return format(Decimal(str(value)).normalize(), "f")


# Converters from stored values back to what an <input> shows.


def text_value(value: Any) -> str:
    return "" if value is None else str(value)


def decimal_value(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def date_value(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def datetime_value(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def json_value(value: Any) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)


def uuid_list(values: list[Any]) -> list[str]:
    return [str(v) for v in values]


def like_pattern(q: str) -> str:
    """A user's search text as an ILIKE pattern that matches it literally anywhere."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def parse_id(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


# Reading a submitted form (starlette FormData); a stray file upload counts as empty.


def form_str(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_list(form: Any, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def form_bool(form: Any, name: str) -> bool:
    # An unchecked checkbox is simply absent from the submission.
    return form.get(name) is not None


def today() -> date:
    """The date a `default: now` date field starts with (UTC, like every timestamp here)."""
    return datetime.now(UTC).date()


def now() -> datetime:
    """The moment a `default: now` datetime field starts with (UTC)."""
    return datetime.now(UTC)
