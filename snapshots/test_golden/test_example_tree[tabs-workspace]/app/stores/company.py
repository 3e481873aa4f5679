"""Store `company`: input validation and parameterised SQL for the "companies" table."""

from typing import Annotated, Any
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import Blank, check_http_url, form_str, like_pattern, single_line, text_value
from app.core.rules import RuleViolation

Row = dict[str, Any]


class CompanyIn(BaseModel):
    """A company as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=120)
    website: Annotated[str | None, Blank, AfterValidator(single_line), AfterValidator(check_http_url)] = Field(None, max_length=2048)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "name": form_str(form, "name"),
        "website": form_str(form, "website"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "name": text_value(record["name"]),
        "website": text_value(record["website"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "name": "",
        "website": "",
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
        "name": 't."name"',
        "website": 't."website"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."name",
               t."website",
               t."created_at", t."updated_at"
        FROM "companies" AS t
        WHERE {where}
        ORDER BY t."name", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."name",
               t."website",
               t."created_at", t."updated_at"
        FROM "companies" AS t
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at company: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "name" AS "label"
        FROM "companies"
        ORDER BY "name", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: CompanyIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "website": data.website,
    }


async def create(conn: AsyncConnection[DictRow], data: CompanyIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "companies" ("name", "website")
            VALUES (%(name)s, %(website)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: CompanyIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "companies"
            SET "name" = %(name)s,
"website" = %(website)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a company; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "companies" WHERE "id" = %(id)s RETURNING "name" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    return {}

