"""Store `folder`: input validation and parameterised SQL for the "folders" table."""

from typing import Annotated, Any
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import Blank, form_str, like_pattern, plain_text, single_line, text_value
from app.core.rules import RuleViolation

Row = dict[str, Any]


class FolderIn(BaseModel):
    """A folder as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=80)
    parent: Annotated[UUID | None, Blank] = None
    notes: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "name": form_str(form, "name"),
        "parent": form_str(form, "parent"),
        "notes": form_str(form, "notes"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "name": text_value(record["name"]),
        "parent": text_value(record["parent"]),
        "notes": text_value(record["notes"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "name": "",
        "parent": "",
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
        "notes": 't."notes"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."name",
               t."parent",
               "ref_parent"."name" AS "parent_label",
               t."notes",
               t."created_at", t."updated_at"
        FROM "folders" AS t
        LEFT JOIN "folders" AS "ref_parent" ON "ref_parent"."id" = t."parent"
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
               t."parent",
               "ref_parent"."name" AS "parent_label",
               t."notes",
               t."created_at", t."updated_at"
        FROM "folders" AS t
        LEFT JOIN "folders" AS "ref_parent" ON "ref_parent"."id" = t."parent"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at folder: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "name" AS "label"
        FROM "folders"
        ORDER BY "name", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: FolderIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "parent": data.parent,
        "notes": data.notes,
    }


# Writes that could close a cycle take turns (until their transaction ends), so two
# concurrent writes cannot each pass the check against the other's old value.
RULES_LOCK = "dsgen-acyclic:folders"


async def _check_rules(
    conn: AsyncConnection[DictRow], record_id: UUID, data: FolderIn
) -> None:
    """Refuse a write that would make a folder its own ancestor (a cycle)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(lock)s))", {"lock": RULES_LOCK})
    if data.parent is not None:
        # The new parent and its ancestors (UNION: ends on a cycle already there).
        cur = await conn.execute(
            """
            WITH RECURSIVE up("id") AS (
                SELECT %(start)s::uuid
                UNION
                SELECT t."parent" FROM "folders" AS t JOIN up ON t."id" = up."id"
            )
            SELECT EXISTS (SELECT 1 FROM up WHERE "id" = %(id)s) AS "cycle"
            """,
            {"start": data.parent, "id": record_id},
        )
        row = await cur.fetchone()
        if row is not None and row["cycle"]:
            raise RuleViolation(
                "parent",
                "A folder cannot be placed under itself or one of its own descendants.",
            )


async def create(conn: AsyncConnection[DictRow], data: FolderIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "folders" ("name", "parent", "notes")
            VALUES (%(name)s, %(parent)s, %(notes)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: FolderIn) -> bool:
    async with conn.transaction():
        await _check_rules(conn, record_id, data)
        cur = await conn.execute(
            """
            UPDATE "folders"
            SET "name" = %(name)s,
"parent" = %(parent)s,
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
    """Delete a folder; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "folders" WHERE "id" = %(id)s RETURNING "name" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "fk_folders_parent":
        return {"parent": "That folder no longer exists."}
    return {}

