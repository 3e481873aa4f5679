"""Store `employee`: input validation and parameterised SQL for the "employees" table."""

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

LEVEL_VALUES = ("junior", "senior", "lead & staff")


class EmployeeIn(BaseModel):
    """A employee as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=120)
    email: Annotated[str | None, Blank, AfterValidator(single_line), AfterValidator(check_email)] = Field(None, max_length=320)
    team: Annotated[UUID | None, Blank] = None
    level: Annotated[Literal["junior", "senior", "lead & staff"] | None, Blank] = "junior"
    salary: Annotated[Decimal | None, Blank] = Field(None, ge=0, max_digits=18, decimal_places=2)
    started: Annotated[date | None, Blank, AfterValidator(in_date_range)] = None
    remote: bool = False
    notes: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "name": form_str(form, "name"),
        "email": form_str(form, "email"),
        "team": form_str(form, "team"),
        "level": form_str(form, "level"),
        "salary": form_str(form, "salary"),
        "started": form_str(form, "started"),
        "remote": form_bool(form, "remote"),
        "notes": form_str(form, "notes"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "name": text_value(record["name"]),
        "email": text_value(record["email"]),
        "team": text_value(record["team"]),
        "level": text_value(record["level"]),
        "salary": decimal_value(record["salary"]),
        "started": date_value(record["started"]),
        "remote": bool(record["remote"]),
        "notes": text_value(record["notes"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "name": "",
        "email": "",
        "team": "",
        "level": "junior",
        "salary": "",
        "started": "",
        "remote": False,
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
        "level": 't."level"',
        "notes": 't."notes"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."name",
               t."email",
               t."team",
               "ref_team"."name" AS "team_label",
               t."level",
               t."salary",
               t."started",
               t."remote",
               t."notes",
               t."created_at", t."updated_at"
        FROM "employees" AS t
        LEFT JOIN "teams" AS "ref_team" ON "ref_team"."id" = t."team"
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
               t."team",
               "ref_team"."name" AS "team_label",
               t."level",
               t."salary",
               t."started",
               t."remote",
               t."notes",
               t."created_at", t."updated_at"
        FROM "employees" AS t
        LEFT JOIN "teams" AS "ref_team" ON "ref_team"."id" = t."team"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at employee: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "name" AS "label"
        FROM "employees"
        ORDER BY "name", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: EmployeeIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "email": data.email,
        "team": data.team,
        "level": data.level,
        "salary": data.salary,
        "started": data.started,
        "remote": data.remote,
        "notes": data.notes,
    }


async def create(conn: AsyncConnection[DictRow], data: EmployeeIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "employees" ("name", "email", "team", "level", "salary", "started", "remote", "notes")
            VALUES (%(name)s, %(email)s, %(team)s, %(level)s, %(salary)s, %(started)s, %(remote)s, %(notes)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: EmployeeIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "employees"
            SET "name" = %(name)s,
"email" = %(email)s,
"team" = %(team)s,
"level" = %(level)s,
"salary" = %(salary)s,
"started" = %(started)s,
"remote" = %(remote)s,
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
    """Delete a employee; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "employees" WHERE "id" = %(id)s RETURNING "name" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "uq_employees_email":
        return {"email": "Another employee already uses this value."}
    if constraint == "fk_employees_team":
        return {"team": "That team no longer exists."}
    return {}

