"""Store `order`: input validation and parameterised SQL for the "orders" table."""

from typing import Annotated, Any
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from app.core.forms import (
    Blank,
    form_list,
    form_str,
    json_present,
    json_value,
    like_pattern,
    parse_json,
    single_line,
    text_value,
    uuid_list,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]


class OrderIn(BaseModel):
    """A order as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    where: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=1000)
    group: list[UUID] = []
    return_: Annotated[Any, AfterValidator(json_present), BeforeValidator(parse_json), Blank] = Field(alias="return")


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "where": form_str(form, "where"),
        "group": form_list(form, "group"),
        "return": form_str(form, "return"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "where": text_value(record["where"]),
        "group": uuid_list([item["id"] for item in record["group"]]),
        "return": json_value(record["return"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "where": "",
        "group": [],
        "return": "",
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
        "where": 't."where"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."where",
               t."return",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."class")
                                   ORDER BY c."class", c."id")
                   FROM "order_group" AS link
                   JOIN "types" AS c ON c."id" = link."group_id"
                   WHERE link."order_id" = t."id"
               ), '[]'::json) AS "group",
               t."created_at", t."updated_at"
        FROM "orders" AS t
        WHERE {where}
        ORDER BY t."where", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."where",
               t."return",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."class")
                                   ORDER BY c."class", c."id")
                   FROM "order_group" AS link
                   JOIN "types" AS c ON c."id" = link."group_id"
                   WHERE link."order_id" = t."id"
               ), '[]'::json) AS "group",
               t."created_at", t."updated_at"
        FROM "orders" AS t
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at order: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "where" AS "label"
        FROM "orders"
        ORDER BY "where", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: OrderIn) -> dict[str, Any]:
    return {
        "where": data.where,
        "return": None if data.return_ is None else Jsonb(data.return_),
    }


async def _set_group(
    conn: AsyncConnection[DictRow], record_id: UUID, ids: list[UUID]
) -> None:
    await conn.execute(
        'DELETE FROM "order_group" WHERE "order_id" = %(id)s',
        {"id": record_id},
    )
    if ids:
        await conn.execute(
            """
            INSERT INTO "order_group" ("order_id", "group_id", "position")
            SELECT %(id)s, item.ref, item.n::integer - 1
            FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS item(ref, n)
            ON CONFLICT DO NOTHING
            """,
            {"id": record_id, "ids": ids},
        )


async def create(conn: AsyncConnection[DictRow], data: OrderIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "orders" ("where", "return")
            VALUES (%(where)s, %(return)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
        await _set_group(conn, row["id"], data.group)
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: OrderIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "orders"
            SET "where" = %(where)s,
"return" = %(return)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
        await _set_group(conn, record_id, data.group)
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a order; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "orders" WHERE "id" = %(id)s RETURNING "where" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "fk_order_group_group_id":
        return {"group": "That type no longer exists."}
    return {}

