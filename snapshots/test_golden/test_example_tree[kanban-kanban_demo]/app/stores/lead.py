"""Store `lead`: input validation and parameterised SQL for the "leads" table."""

from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import (
    Blank,
    decimal_value,
    form_bool,
    form_str,
    like_pattern,
    single_line,
    text_value,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]

CLASS_VALUES = ("cold", "warm & \"hot\"", "won")


class LeadIn(BaseModel):
    """A lead as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    from_: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=120, alias="from")
    class_: Annotated[Literal["cold", "warm & \"hot\"", "won"] | None, Blank] = Field(None, alias="class")
    owner: Annotated[UUID, Blank]
    order: Annotated[int | None, Blank] = Field(None, ge=0, le=2147483647)
    amount: Annotated[Decimal | None, Blank] = Field(None, ge=0, max_digits=18, decimal_places=2)
    select: bool = False


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "from": form_str(form, "from"),
        "class": form_str(form, "class"),
        "owner": form_str(form, "owner"),
        "order": form_str(form, "order"),
        "amount": form_str(form, "amount"),
        "select": form_bool(form, "select"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "from": text_value(record["from"]),
        "class": text_value(record["class"]),
        "owner": text_value(record["owner"]),
        "order": text_value(record["order"]),
        "amount": decimal_value(record["amount"]),
        "select": bool(record["select"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "from": "",
        "class": "",
        "owner": "",
        "order": "",
        "amount": "",
        "select": False,
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
        "from": 't."from"',
        "class": 't."class"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."from",
               t."class",
               t."owner",
               "ref_owner"."name" AS "owner_label",
               t."order",
               t."amount",
               t."select",
               t."created_at", t."updated_at"
        FROM "leads" AS t
        LEFT JOIN "people" AS "ref_owner" ON "ref_owner"."id" = t."owner"
        WHERE {where}
        ORDER BY t."from", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."from",
               t."class",
               t."owner",
               "ref_owner"."name" AS "owner_label",
               t."order",
               t."amount",
               t."select",
               t."created_at", t."updated_at"
        FROM "leads" AS t
        LEFT JOIN "people" AS "ref_owner" ON "ref_owner"."id" = t."owner"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at lead: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "from" AS "label"
        FROM "leads"
        ORDER BY "from", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: LeadIn) -> dict[str, Any]:
    return {
        "from": data.from_,
        "class": data.class_,
        "owner": data.owner,
        "order": data.order,
        "amount": data.amount,
        "select": data.select,
    }


async def create(conn: AsyncConnection[DictRow], data: LeadIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "leads" ("from", "class", "owner", "order", "amount", "select")
            VALUES (%(from)s, %(class)s, %(owner)s, %(order)s, %(amount)s, %(select)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: LeadIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "leads"
            SET "from" = %(from)s,
"class" = %(class)s,
"owner" = %(owner)s,
"order" = %(order)s,
"amount" = %(amount)s,
"select" = %(select)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a lead; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "leads" WHERE "id" = %(id)s RETURNING "from" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "fk_leads_owner":
        return {"owner": "That person no longer exists."}
    return {}

