"""Store `type`: input validation and parameterised SQL for the "types" table."""

from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import Blank, form_str, like_pattern, plain_text, single_line, text_value
from app.core.rules import RuleViolation

Row = dict[str, Any]

FROM_VALUES = ("it's", "a\"b", "<b>bold</b>", "{{ 7*7 }}", "back\\slash")


class TypeIn(BaseModel):
    """A type as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    class_: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=1000, alias="class")
    from_: Annotated[Literal["it's", "a\"b", "<b>bold</b>", "{{ 7*7 }}", "back\\slash"] | None, Blank] = Field("it's", alias="from")
    select: Annotated[int | None, Blank] = Field(None, ge=0, le=10)
    import_: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000, alias="import")
    def_: Annotated[UUID | None, Blank] = Field(None, alias="def")


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "class": form_str(form, "class"),
        "from": form_str(form, "from"),
        "select": form_str(form, "select"),
        "import": form_str(form, "import"),
        "def": form_str(form, "def"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "class": text_value(record["class"]),
        "from": text_value(record["from"]),
        "select": text_value(record["select"]),
        "import": text_value(record["import"]),
        "def": text_value(record["def"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "class": "",
        "from": "it's",
        "select": "",
        "import": "",
        "def": "",
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
        "from": 't."from"',
        "import": 't."import"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."class",
               t."from",
               t."select",
               t."import",
               t."def",
               "ref_def"."where" AS "def_label",
               t."created_at", t."updated_at"
        FROM "types" AS t
        LEFT JOIN "orders" AS "ref_def" ON "ref_def"."id" = t."def"
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
               t."select",
               t."import",
               t."def",
               "ref_def"."where" AS "def_label",
               t."created_at", t."updated_at"
        FROM "types" AS t
        LEFT JOIN "orders" AS "ref_def" ON "ref_def"."id" = t."def"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at type: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "class" AS "label"
        FROM "types"
        ORDER BY "class", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: TypeIn) -> dict[str, Any]:
    return {
        "class": data.class_,
        "from": data.from_,
        "select": data.select,
        "import": data.import_,
        "def": data.def_,
    }


async def create(conn: AsyncConnection[DictRow], data: TypeIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "types" ("class", "from", "select", "import", "def")
            VALUES (%(class)s, %(from)s, %(select)s, %(import)s, %(def)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: TypeIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "types"
            SET "class" = %(class)s,
"from" = %(from)s,
"select" = %(select)s,
"import" = %(import)s,
"def" = %(def)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a type; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "types" WHERE "id" = %(id)s RETURNING "class" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "fk_types_def":
        return {"def": "That order no longer exists."}
    return {}

