"""The one place SQL identifiers and literals are quoted (migrations, state, templates)."""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime
from typing import Any

MAX_IDENTIFIER = 63  # bytes; PostgreSQL silently truncates longer names


def identifier(name: str) -> str:
    """A constraint or index name that fits PostgreSQL's 63 bytes, deterministically.

    Longer names are cut and suffixed with a hash of the full name, so two long names that
    share a prefix do not collide the way PostgreSQL's own truncation would make them.
    """
    raw = name.encode()
    if len(raw) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(raw).hexdigest()[:8]
    return raw[: MAX_IDENTIFIER - 9].decode(errors="ignore").rstrip("_") + "_" + digest


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_literal(value: Any) -> str:
    """A constant as an SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "'NaN'"
        if math.isinf(value):
            return "'Infinity'" if value > 0 else "'-Infinity'"
        return repr(value)
    if isinstance(value, (date, datetime)):
        return quote_literal(value.isoformat())
    return quote_literal(str(value))
