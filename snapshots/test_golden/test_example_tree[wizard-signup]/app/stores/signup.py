"""Store `signup`: input validation and parameterised SQL for the "signups" table."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import (
    Blank,
    check_email,
    date_value,
    decimal_value,
    form_bool,
    form_str,
    in_date_range,
    like_pattern,
    plain_text,
    single_line,
    text_value,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]

CLASS_VALUES = ("startup", "scale-up & co", "enterprise")


class SignupIn(BaseModel):
    """A signup as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=120)
    email: Annotated[str | None, Blank, AfterValidator(single_line), AfterValidator(check_email)] = Field(None, max_length=320)
    from_: Annotated[str | None, Blank, AfterValidator(single_line)] = Field(None, max_length=80, alias="from")
    company: Annotated[UUID, Blank]
    class_: Annotated[Literal["startup", "scale-up & co", "enterprise"] | None, Blank] = Field("startup", alias="class")
    seats: Annotated[int, Blank] = Field(ge=1, le=500)
    budget: Annotated[Decimal | None, Blank] = Field(None, ge=0, max_digits=18, decimal_places=2)
    starts: Annotated[date, Blank, AfterValidator(in_date_range)]
    newsletter: bool = False
    notes: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "name": form_str(form, "name"),
        "email": form_str(form, "email"),
        "from": form_str(form, "from"),
        "company": form_str(form, "company"),
        "class": form_str(form, "class"),
        "seats": form_str(form, "seats"),
        "budget": form_str(form, "budget"),
        "starts": form_str(form, "starts"),
        "newsletter": form_bool(form, "newsletter"),
        "notes": form_str(form, "notes"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "name": text_value(record["name"]),
        "email": text_value(record["email"]),
        "from": text_value(record["from"]),
        "company": text_value(record["company"]),
        "class": text_value(record["class"]),
        "seats": text_value(record["seats"]),
        "budget": decimal_value(record["budget"]),
        "starts": date_value(record["starts"]),
        "newsletter": bool(record["newsletter"]),
        "notes": text_value(record["notes"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "name": "",
        "email": "",
        "from": "",
        "company": "",
        "class": "startup",
        "seats": "",
        "budget": "",
        "starts": "",
        "newsletter": False,
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
        "name": 't."name"',
        "email": 't."email"',
        "from": 't."from"',
        "class": 't."class"',
        "notes": 't."notes"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."name",
               t."email",
               t."from",
               t."company",
               "ref_company"."name" AS "company_label",
               t."class",
               t."seats",
               t."budget",
               t."starts",
               t."newsletter",
               t."notes",
               t."created_at", t."updated_at"
        FROM "signups" AS t
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
               t."from",
               t."company",
               "ref_company"."name" AS "company_label",
               t."class",
               t."seats",
               t."budget",
               t."starts",
               t."newsletter",
               t."notes",
               t."created_at", t."updated_at"
        FROM "signups" AS t
        LEFT JOIN "companies" AS "ref_company" ON "ref_company"."id" = t."company"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at signup: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "name" AS "label"
        FROM "signups"
        ORDER BY "name", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: SignupIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "email": data.email,
        "from": data.from_,
        "company": data.company,
        "class": data.class_,
        "seats": data.seats,
        "budget": data.budget,
        "starts": data.starts,
        "newsletter": data.newsletter,
        "notes": data.notes,
    }


async def create(conn: AsyncConnection[DictRow], data: SignupIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "signups" ("name", "email", "from", "company", "class", "seats", "budget", "starts", "newsletter", "notes")
            VALUES (%(name)s, %(email)s, %(from)s, %(company)s, %(class)s, %(seats)s, %(budget)s, %(starts)s, %(newsletter)s, %(notes)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: SignupIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "signups"
            SET "name" = %(name)s,
"email" = %(email)s,
"from" = %(from)s,
"company" = %(company)s,
"class" = %(class)s,
"seats" = %(seats)s,
"budget" = %(budget)s,
"starts" = %(starts)s,
"newsletter" = %(newsletter)s,
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
    """Delete a signup; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "signups" WHERE "id" = %(id)s RETURNING "name" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "uq_signups_email":
        return {"email": "Another signup already uses this value."}
    if constraint == "fk_signups_company":
        return {"company": "That company no longer exists."}
    return {}

