"""Store `stay`: input validation and parameterised SQL for the "stays" table."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import (
    Blank,
    date_value,
    form_bool,
    form_str,
    in_date_range,
    like_pattern,
    single_line,
    text_value,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]


class StayIn(BaseModel):
    """A stay as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    guest: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=80)
    from_: Annotated[date, Blank, AfterValidator(in_date_range)] = Field(alias="from")
    end: Annotated[date, Blank, AfterValidator(in_date_range)]
    party: Annotated[int | None, Blank] = Field(2, ge=1, le=8)
    paid: bool = False


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "guest": form_str(form, "guest"),
        "from": form_str(form, "from"),
        "end": form_str(form, "end"),
        "party": form_str(form, "party"),
        "paid": form_bool(form, "paid"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "guest": text_value(record["guest"]),
        "from": date_value(record["from"]),
        "end": date_value(record["end"]),
        "party": text_value(record["party"]),
        "paid": bool(record["paid"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "guest": "",
        "from": "",
        "end": "",
        "party": "2",
        "paid": False,
    }


# Repository: parameterised SQL only; every identifier is quoted.


async def list_rows(
    conn: AsyncConnection[DictRow],
    q: str = "",
    limit: int = 200,
    search: tuple[str, ...] = (),
) -> list[Row]:
    """Rows for a list, ordered by label; `search` names the columns `q` is matched in."""
    columns = {
        "guest": 't."guest"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."guest",
               t."from",
               t."end",
               t."party",
               t."paid",
               t."created_at", t."updated_at"
        FROM "stays" AS t
        WHERE {where}
        ORDER BY t."guest", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."guest",
               t."from",
               t."end",
               t."party",
               t."paid",
               t."created_at", t."updated_at"
        FROM "stays" AS t
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at stay: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "guest" AS "label"
        FROM "stays"
        ORDER BY "guest", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: StayIn) -> dict[str, Any]:
    return {
        "guest": data.guest,
        "from": data.from_,
        "end": data.end,
        "party": data.party,
        "paid": data.paid,
    }


def _check_order(data: StayIn) -> None:
    """Refuse an end before its start, whichever form sent it (the database could not even
    hold some of them: a date range may not end before it begins)."""
    if (
        data.end is not None
        and data.from_ is not None
        and data.end < data.from_
    ):
        raise RuleViolation("end", "Must be on or after Arrival.")


async def create(conn: AsyncConnection[DictRow], data: StayIn) -> UUID:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "stays" ("guest", "from", "end", "party", "paid")
            VALUES (%(guest)s, %(from)s, %(end)s, %(party)s, %(paid)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: StayIn) -> bool:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "stays"
            SET "guest" = %(guest)s,
"from" = %(from)s,
"end" = %(end)s,
"party" = %(party)s,
"paid" = %(paid)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a stay; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "stays" WHERE "id" = %(id)s RETURNING "guest" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    return {}

