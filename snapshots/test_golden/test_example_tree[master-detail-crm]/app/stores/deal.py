"""Store `deal`: input validation and parameterised SQL for the "deals" table."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from app.core.forms import (
    Blank,
    as_utc,
    date_value,
    datetime_value,
    decimal_value,
    form_bool,
    form_list,
    form_str,
    in_date_range,
    json_value,
    like_pattern,
    parse_json,
    single_line,
    text_value,
    today,
    uuid_list,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]

CLASS_VALUES = ("small", "big & bold")


class DealIn(BaseModel):
    """A deal as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=1000)
    amount: Annotated[Decimal | None, Blank] = Field(None, ge=0, max_digits=18, decimal_places=2)
    chance: Annotated[float | None, Blank] = Field(None, ge=0, le=1, allow_inf_nan=False)
    won: bool = False
    closes: Annotated[date | None, Blank, AfterValidator(in_date_range)] = None
    next_call: Annotated[datetime | None, Blank, AfterValidator(as_utc), AfterValidator(in_date_range)] = None
    meta: Annotated[Any, BeforeValidator(parse_json), Blank] = None
    external: Annotated[UUID | None, Blank] = None
    class_: Annotated[Literal["small", "big & bold"] | None, Blank] = Field("small", alias="class")
    from_: Annotated[str | None, Blank, AfterValidator(single_line)] = Field(None, max_length=1000, alias="from")
    contacts: list[UUID] = []


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "title": form_str(form, "title"),
        "amount": form_str(form, "amount"),
        "chance": form_str(form, "chance"),
        "won": form_bool(form, "won"),
        "closes": form_str(form, "closes"),
        "next_call": form_str(form, "next_call"),
        "meta": form_str(form, "meta"),
        "external": form_str(form, "external"),
        "class": form_str(form, "class"),
        "from": form_str(form, "from"),
        "contacts": form_list(form, "contacts"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "title": text_value(record["title"]),
        "amount": decimal_value(record["amount"]),
        "chance": text_value(record["chance"]),
        "won": bool(record["won"]),
        "closes": date_value(record["closes"]),
        "next_call": datetime_value(record["next_call"]),
        "meta": json_value(record["meta"]),
        "external": text_value(record["external"]),
        "class": text_value(record["class"]),
        "from": text_value(record["from"]),
        "contacts": uuid_list([item["id"] for item in record["contacts"]]),
    }


def new_values() -> dict[str, Any]:
    return {
        "title": "",
        "amount": "",
        "chance": "",
        "won": False,
        "closes": date_value(today()),
        "next_call": "",
        "meta": "",
        "external": "",
        "class": "small",
        "from": "",
        "contacts": [],
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
        "title": 't."title"',
        "class": 't."class"',
        "from": 't."from"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."title",
               t."amount",
               t."chance",
               t."won",
               t."closes",
               t."next_call",
               t."meta",
               t."external",
               t."class",
               t."from",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."name")
                                   ORDER BY c."name", c."id")
                   FROM "deal_contacts" AS link
                   JOIN "contacts" AS c ON c."id" = link."contacts_id"
                   WHERE link."deal_id" = t."id"
               ), '[]'::json) AS "contacts",
               t."created_at", t."updated_at"
        FROM "deals" AS t
        WHERE {where}
        ORDER BY t."title", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."title",
               t."amount",
               t."chance",
               t."won",
               t."closes",
               t."next_call",
               t."meta",
               t."external",
               t."class",
               t."from",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."name")
                                   ORDER BY c."name", c."id")
                   FROM "deal_contacts" AS link
                   JOIN "contacts" AS c ON c."id" = link."contacts_id"
                   WHERE link."deal_id" = t."id"
               ), '[]'::json) AS "contacts",
               t."created_at", t."updated_at"
        FROM "deals" AS t
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at deal: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "title" AS "label"
        FROM "deals"
        ORDER BY "title", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: DealIn) -> dict[str, Any]:
    return {
        "title": data.title,
        "amount": data.amount,
        "chance": data.chance,
        "won": data.won,
        "closes": data.closes,
        "next_call": data.next_call,
        "meta": None if data.meta is None else Jsonb(data.meta),
        "external": data.external,
        "class": data.class_,
        "from": data.from_,
    }


async def _set_contacts(
    conn: AsyncConnection[DictRow], record_id: UUID, ids: list[UUID]
) -> None:
    await conn.execute(
        'DELETE FROM "deal_contacts" WHERE "deal_id" = %(id)s',
        {"id": record_id},
    )
    if ids:
        await conn.execute(
            """
            INSERT INTO "deal_contacts" ("deal_id", "contacts_id", "position")
            SELECT %(id)s, item.ref, item.n::integer - 1
            FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS item(ref, n)
            ON CONFLICT DO NOTHING
            """,
            {"id": record_id, "ids": ids},
        )


async def create(conn: AsyncConnection[DictRow], data: DealIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "deals" ("title", "amount", "chance", "won", "closes", "next_call", "meta", "external", "class", "from")
            VALUES (%(title)s, %(amount)s, %(chance)s, %(won)s, %(closes)s, %(next_call)s, %(meta)s, %(external)s, %(class)s, %(from)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
        await _set_contacts(conn, row["id"], data.contacts)
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: DealIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "deals"
            SET "title" = %(title)s,
"amount" = %(amount)s,
"chance" = %(chance)s,
"won" = %(won)s,
"closes" = %(closes)s,
"next_call" = %(next_call)s,
"meta" = %(meta)s,
"external" = %(external)s,
"class" = %(class)s,
"from" = %(from)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
        await _set_contacts(conn, record_id, data.contacts)
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a deal; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "deals" WHERE "id" = %(id)s RETURNING "title" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "fk_deal_contacts_contacts_id":
        return {"contacts": "That contact no longer exists."}
    return {}

