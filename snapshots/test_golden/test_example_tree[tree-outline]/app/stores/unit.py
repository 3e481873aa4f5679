"""Store `unit`: input validation and parameterised SQL for the "units" table."""

from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import Blank, form_str, like_pattern, single_line, text_value
from app.core.rules import RuleViolation

Row = dict[str, Any]

KIND_VALUES = ("team", "group & co")


class UnitIn(BaseModel):
    """A unit as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    class_: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=60, alias="class")
    from_: Annotated[UUID | None, Blank] = Field(None, alias="from")
    order: Annotated[int, Blank] = Field(ge=0, le=2147483647)
    kind: Annotated[Literal["team", "group & co"] | None, Blank] = "team"


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "class": form_str(form, "class"),
        "from": form_str(form, "from"),
        "order": form_str(form, "order"),
        "kind": form_str(form, "kind"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "class": text_value(record["class"]),
        "from": text_value(record["from"]),
        "order": text_value(record["order"]),
        "kind": text_value(record["kind"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "class": "",
        "from": "",
        "order": "",
        "kind": "team",
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
        "kind": 't."kind"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."class",
               t."from",
               "ref_from"."class" AS "from_label",
               t."order",
               t."kind",
               t."created_at", t."updated_at"
        FROM "units" AS t
        LEFT JOIN "units" AS "ref_from" ON "ref_from"."id" = t."from"
        WHERE {where}
        ORDER BY t."class", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."class",
               t."from",
               "ref_from"."class" AS "from_label",
               t."order",
               t."kind",
               t."created_at", t."updated_at"
        FROM "units" AS t
        LEFT JOIN "units" AS "ref_from" ON "ref_from"."id" = t."from"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at unit: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "class" AS "label"
        FROM "units"
        ORDER BY "class", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: UnitIn) -> dict[str, Any]:
    return {
        "class": data.class_,
        "from": data.from_,
        "order": data.order,
        "kind": data.kind,
    }


# Writes that could close a cycle take turns (until their transaction ends), so two
# concurrent writes cannot each pass the check against the other's old value.
RULES_LOCK = "dsgen-acyclic:units"


async def _check_rules(
    conn: AsyncConnection[DictRow], record_id: UUID, data: UnitIn
) -> None:
    """Refuse a write that would make a unit its own ancestor (a cycle)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(lock)s))", {"lock": RULES_LOCK})
    if data.from_ is not None:
        # The new from and its ancestors (UNION: ends on a cycle already there).
        cur = await conn.execute(
            """
            WITH RECURSIVE up("id") AS (
                SELECT %(start)s::uuid
                UNION
                SELECT t."from" FROM "units" AS t JOIN up ON t."id" = up."id"
            )
            SELECT EXISTS (SELECT 1 FROM up WHERE "id" = %(id)s) AS "cycle"
            """,
            {"start": data.from_, "id": record_id},
        )
        row = await cur.fetchone()
        if row is not None and row["cycle"]:
            raise RuleViolation(
                "from",
                "A unit cannot be placed under itself or one of its own descendants.",
            )


async def create(conn: AsyncConnection[DictRow], data: UnitIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "units" ("class", "from", "order", "kind")
            VALUES (%(class)s, %(from)s, %(order)s, %(kind)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: UnitIn) -> bool:
    async with conn.transaction():
        await _check_rules(conn, record_id, data)
        cur = await conn.execute(
            """
            UPDATE "units"
            SET "class" = %(class)s,
"from" = %(from)s,
"order" = %(order)s,
"kind" = %(kind)s,
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
            'DELETE FROM "units" WHERE "id" = %(id)s RETURNING "class" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "fk_units_from":
        return {"from": "That unit no longer exists."}
    return {}

