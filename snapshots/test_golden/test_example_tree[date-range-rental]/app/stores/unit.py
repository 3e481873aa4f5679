"""Store `unit`: input validation and parameterised SQL for the "units" table."""

from typing import Annotated, Any
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import Blank, form_str, like_pattern, single_line, text_value
from app.core.rules import RuleViolation

Row = dict[str, Any]


class UnitIn(BaseModel):
    """A unit as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=30)
    depot: Annotated[UUID, Blank]


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "code": form_str(form, "code"),
        "depot": form_str(form, "depot"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "code": text_value(record["code"]),
        "depot": text_value(record["depot"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "code": "",
        "depot": "",
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
        "code": 't."code"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."code",
               t."depot",
               "ref_depot"."title" AS "depot_label",
               t."created_at", t."updated_at"
        FROM "units" AS t
        LEFT JOIN "depots" AS "ref_depot" ON "ref_depot"."id" = t."depot"
        WHERE {where}
        ORDER BY t."code", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."code",
               t."depot",
               "ref_depot"."title" AS "depot_label",
               t."created_at", t."updated_at"
        FROM "units" AS t
        LEFT JOIN "depots" AS "ref_depot" ON "ref_depot"."id" = t."depot"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at unit: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "code" AS "label"
        FROM "units"
        ORDER BY "code", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: UnitIn) -> dict[str, Any]:
    return {
        "code": data.code,
        "depot": data.depot,
    }


async def create(conn: AsyncConnection[DictRow], data: UnitIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "units" ("code", "depot")
            VALUES (%(code)s, %(depot)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: UnitIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "units"
            SET "code" = %(code)s,
"depot" = %(depot)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a unit; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "units" WHERE "id" = %(id)s RETURNING "code" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "uq_units_code":
        return {"code": "Another unit already uses this value."}
    if constraint == "fk_units_depot":
        return {"depot": "That depot no longer exists."}
    return {}

