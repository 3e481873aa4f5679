"""Store `contact`: input validation and parameterised SQL for the "contacts" table."""

from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import Blank, check_email, form_str, like_pattern, single_line, text_value
from app.core.rules import RuleViolation

Row = dict[str, Any]

STATUS_VALUES = ("lead", "active", "churned")


class ContactIn(BaseModel):
    """A contact as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=120)
    email: Annotated[str | None, Blank, AfterValidator(single_line), AfterValidator(check_email)] = Field(None, max_length=320)
    company: Annotated[UUID | None, Blank] = None
    status: Annotated[Literal["lead", "active", "churned"] | None, Blank] = "lead"


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "name": form_str(form, "name"),
        "email": form_str(form, "email"),
        "company": form_str(form, "company"),
        "status": form_str(form, "status"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "name": text_value(record["name"]),
        "email": text_value(record["email"]),
        "company": text_value(record["company"]),
        "status": text_value(record["status"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "name": "",
        "email": "",
        "company": "",
        "status": "lead",
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
        "email": 't."email"',
        "status": 't."status"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."name",
               t."email",
               t."company",
               "ref_company"."name" AS "company_label",
               t."status",
               t."created_at", t."updated_at"
        FROM "contacts" AS t
        LEFT JOIN "companies" AS "ref_company" ON "ref_company"."id" = t."company"
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
               t."email",
               t."company",
               "ref_company"."name" AS "company_label",
               t."status",
               t."created_at", t."updated_at"
        FROM "contacts" AS t
        LEFT JOIN "companies" AS "ref_company" ON "ref_company"."id" = t."company"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at contact: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "name" AS "label"
        FROM "contacts"
        ORDER BY "name", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: ContactIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "email": data.email,
        "company": data.company,
        "status": data.status,
    }


async def create(conn: AsyncConnection[DictRow], data: ContactIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "contacts" ("name", "email", "company", "status")
            VALUES (%(name)s, %(email)s, %(company)s, %(status)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: ContactIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "contacts"
            SET "name" = %(name)s,
"email" = %(email)s,
"company" = %(company)s,
"status" = %(status)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a contact; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "contacts" WHERE "id" = %(id)s RETURNING "name" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "uq_contacts_email":
        return {"email": "Another contact already uses this value."}
    if constraint == "fk_contacts_company":
        return {"company": "That company no longer exists."}
    return {}

