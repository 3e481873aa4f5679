"""Store `booking`: input validation and parameterised SQL for the "bookings" table."""

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import (
    Blank,
    check_email,
    date_value,
    form_str,
    in_date_range,
    like_pattern,
    plain_text,
    single_line,
    text_value,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]

CLASS_VALUES = ("standard", "suite & spa")


class BookingIn(BaseModel):
    """A booking as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    room: Annotated[UUID, Blank]
    guest: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=120)
    email: Annotated[str | None, Blank, AfterValidator(single_line), AfterValidator(check_email)] = Field(None, max_length=320)
    starts: Annotated[date, Blank, AfterValidator(in_date_range)]
    ends: Annotated[date, Blank, AfterValidator(in_date_range)]
    class_: Annotated[Literal["standard", "suite & spa"] | None, Blank] = Field("standard", alias="class")
    from_: Annotated[str | None, Blank, AfterValidator(single_line)] = Field(None, max_length=1000, alias="from")
    notes: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "room": form_str(form, "room"),
        "guest": form_str(form, "guest"),
        "email": form_str(form, "email"),
        "starts": form_str(form, "starts"),
        "ends": form_str(form, "ends"),
        "class": form_str(form, "class"),
        "from": form_str(form, "from"),
        "notes": form_str(form, "notes"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "room": text_value(record["room"]),
        "guest": text_value(record["guest"]),
        "email": text_value(record["email"]),
        "starts": date_value(record["starts"]),
        "ends": date_value(record["ends"]),
        "class": text_value(record["class"]),
        "from": text_value(record["from"]),
        "notes": text_value(record["notes"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "room": "",
        "guest": "",
        "email": "",
        "starts": "",
        "ends": "",
        "class": "standard",
        "from": "",
        "notes": "",
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
        "email": 't."email"',
        "class": 't."class"',
        "from": 't."from"',
        "notes": 't."notes"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."room",
               "ref_room"."name" AS "room_label",
               t."guest",
               t."email",
               t."starts",
               t."ends",
               t."class",
               t."from",
               t."notes",
               t."created_at", t."updated_at"
        FROM "bookings" AS t
        LEFT JOIN "rooms" AS "ref_room" ON "ref_room"."id" = t."room"
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
               t."room",
               "ref_room"."name" AS "room_label",
               t."guest",
               t."email",
               t."starts",
               t."ends",
               t."class",
               t."from",
               t."notes",
               t."created_at", t."updated_at"
        FROM "bookings" AS t
        LEFT JOIN "rooms" AS "ref_room" ON "ref_room"."id" = t."room"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at booking: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "guest" AS "label"
        FROM "bookings"
        ORDER BY "guest", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: BookingIn) -> dict[str, Any]:
    return {
        "room": data.room,
        "guest": data.guest,
        "email": data.email,
        "starts": data.starts,
        "ends": data.ends,
        "class": data.class_,
        "from": data.from_,
        "notes": data.notes,
    }


def _check_order(data: BookingIn) -> None:
    """Refuse an end before its start, whichever form sent it (the database could not even
    hold some of them: a date range may not end before it begins)."""
    if (
        data.ends is not None
        and data.starts is not None
        and data.ends < data.starts
    ):
        raise RuleViolation("ends", "Must be on or after Check-in.")


async def create(conn: AsyncConnection[DictRow], data: BookingIn) -> UUID:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "bookings" ("room", "guest", "email", "starts", "ends", "class", "from", "notes")
            VALUES (%(room)s, %(guest)s, %(email)s, %(starts)s, %(ends)s, %(class)s, %(from)s, %(notes)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: BookingIn) -> bool:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "bookings"
            SET "room" = %(room)s,
"guest" = %(guest)s,
"email" = %(email)s,
"starts" = %(starts)s,
"ends" = %(ends)s,
"class" = %(class)s,
"from" = %(from)s,
"notes" = %(notes)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a booking; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "bookings" WHERE "id" = %(id)s RETURNING "guest" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "fk_bookings_room":
        return {"room": "That room no longer exists."}
    return {}

