"""Store `rental`: input validation and parameterised SQL for the "rentals" table."""

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
    check_email,
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
    plain_text,
    single_line,
    text_value,
    uuid_list,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]

CLASS_VALUES = ("a'b", "c\"d", "<e>")


class RentalIn(BaseModel):
    """A rental as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    price: Annotated[Decimal | None, Blank] = Field(None, ge=0, max_digits=18, decimal_places=2)
    unit: Annotated[UUID | None, Blank] = None
    first_day: Annotated[date | None, Blank, AfterValidator(in_date_range)] = None
    return_: Annotated[date, Blank, AfterValidator(in_date_range)] = Field(alias="return")
    class_: Annotated[Literal["a'b", "c\"d", "<e>"], Blank] = Field(alias="class")
    reference: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=40)
    contact: Annotated[str | None, Blank, AfterValidator(single_line), AfterValidator(check_email)] = Field(None, max_length=320)
    handled_by: Annotated[UUID, Blank]
    extras: list[UUID] = []
    meta: Annotated[Any, BeforeValidator(parse_json), Blank] = None
    insured: bool = False
    due: Annotated[datetime | None, Blank, AfterValidator(as_utc), AfterValidator(in_date_range)] = None
    items: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "price": form_str(form, "price"),
        "unit": form_str(form, "unit"),
        "first_day": form_str(form, "first_day"),
        "return": form_str(form, "return"),
        "class": form_str(form, "class"),
        "reference": form_str(form, "reference"),
        "contact": form_str(form, "contact"),
        "handled_by": form_str(form, "handled_by"),
        "extras": form_list(form, "extras"),
        "meta": form_str(form, "meta"),
        "insured": form_bool(form, "insured"),
        "due": form_str(form, "due"),
        "items": form_str(form, "items"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "price": decimal_value(record["price"]),
        "unit": text_value(record["unit"]),
        "first_day": date_value(record["first_day"]),
        "return": date_value(record["return"]),
        "class": text_value(record["class"]),
        "reference": text_value(record["reference"]),
        "contact": text_value(record["contact"]),
        "handled_by": text_value(record["handled_by"]),
        "extras": uuid_list([item["id"] for item in record["extras"]]),
        "meta": json_value(record["meta"]),
        "insured": bool(record["insured"]),
        "due": datetime_value(record["due"]),
        "items": text_value(record["items"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "price": "",
        "unit": "",
        "first_day": "",
        "return": "",
        "class": "",
        "reference": "",
        "contact": "",
        "handled_by": "",
        "extras": [],
        "meta": "",
        "insured": False,
        "due": "",
        "items": "",
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
        "class": 't."class"',
        "reference": 't."reference"',
        "contact": 't."contact"',
        "items": 't."items"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."price",
               t."unit",
               "ref_unit"."code" AS "unit_label",
               t."first_day",
               t."return",
               t."class",
               t."reference",
               t."contact",
               t."handled_by",
               "ref_handled_by"."title" AS "handled_by_label",
               t."meta",
               t."insured",
               t."due",
               t."items",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."title")
                                   ORDER BY c."title", c."id")
                   FROM "rental_extras" AS link
                   JOIN "depots" AS c ON c."id" = link."extras_id"
                   WHERE link."rental_id" = t."id"
               ), '[]'::json) AS "extras",
               t."created_at", t."updated_at"
        FROM "rentals" AS t
        LEFT JOIN "units" AS "ref_unit" ON "ref_unit"."id" = t."unit"
        LEFT JOIN "depots" AS "ref_handled_by" ON "ref_handled_by"."id" = t."handled_by"
        WHERE {where}
        ORDER BY t."reference", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."price",
               t."unit",
               "ref_unit"."code" AS "unit_label",
               t."first_day",
               t."return",
               t."class",
               t."reference",
               t."contact",
               t."handled_by",
               "ref_handled_by"."title" AS "handled_by_label",
               t."meta",
               t."insured",
               t."due",
               t."items",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."title")
                                   ORDER BY c."title", c."id")
                   FROM "rental_extras" AS link
                   JOIN "depots" AS c ON c."id" = link."extras_id"
                   WHERE link."rental_id" = t."id"
               ), '[]'::json) AS "extras",
               t."created_at", t."updated_at"
        FROM "rentals" AS t
        LEFT JOIN "units" AS "ref_unit" ON "ref_unit"."id" = t."unit"
        LEFT JOIN "depots" AS "ref_handled_by" ON "ref_handled_by"."id" = t."handled_by"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at rental: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "reference" AS "label"
        FROM "rentals"
        ORDER BY "reference", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: RentalIn) -> dict[str, Any]:
    return {
        "price": data.price,
        "unit": data.unit,
        "first_day": data.first_day,
        "return": data.return_,
        "class": data.class_,
        "reference": data.reference,
        "contact": data.contact,
        "handled_by": data.handled_by,
        "meta": None if data.meta is None else Jsonb(data.meta),
        "insured": data.insured,
        "due": data.due,
        "items": data.items,
    }


async def _set_extras(
    conn: AsyncConnection[DictRow], record_id: UUID, ids: list[UUID]
) -> None:
    await conn.execute(
        'DELETE FROM "rental_extras" WHERE "rental_id" = %(id)s',
        {"id": record_id},
    )
    if ids:
        await conn.execute(
            """
            INSERT INTO "rental_extras" ("rental_id", "extras_id", "position")
            SELECT %(id)s, item.ref, item.n::integer - 1
            FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS item(ref, n)
            ON CONFLICT DO NOTHING
            """,
            {"id": record_id, "ids": ids},
        )


def _check_order(data: RentalIn) -> None:
    """Refuse an end before its start, whichever form sent it (the database could not even
    hold some of them: a date range may not end before it begins)."""
    if (
        data.return_ is not None
        and data.first_day is not None
        and data.return_ < data.first_day
    ):
        raise RuleViolation("return", "Must be on or after First 'day'.")


async def create(conn: AsyncConnection[DictRow], data: RentalIn) -> UUID:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "rentals" ("price", "unit", "first_day", "return", "class", "reference", "contact", "handled_by", "meta", "insured", "due", "items")
            VALUES (%(price)s, %(unit)s, %(first_day)s, %(return)s, %(class)s, %(reference)s, %(contact)s, %(handled_by)s, %(meta)s, %(insured)s, %(due)s, %(items)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
        await _set_extras(conn, row["id"], data.extras)
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: RentalIn) -> bool:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "rentals"
            SET "price" = %(price)s,
"unit" = %(unit)s,
"first_day" = %(first_day)s,
"return" = %(return)s,
"class" = %(class)s,
"reference" = %(reference)s,
"contact" = %(contact)s,
"handled_by" = %(handled_by)s,
"meta" = %(meta)s,
"insured" = %(insured)s,
"due" = %(due)s,
"items" = %(items)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
        await _set_extras(conn, record_id, data.extras)
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a rental; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "rentals" WHERE "id" = %(id)s RETURNING "reference" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "uq_rentals_reference":
        return {"reference": "Another rental already uses this value."}
    if constraint == "uq_rentals_contact":
        return {"contact": "Another rental already uses this value."}
    if constraint == "fk_rentals_unit":
        return {"unit": "That unit no longer exists."}
    if constraint == "fk_rentals_handled_by":
        return {"handled_by": "That depot no longer exists."}
    if constraint == "fk_rental_extras_extras_id":
        return {"extras": "That depot no longer exists."}
    return {}

