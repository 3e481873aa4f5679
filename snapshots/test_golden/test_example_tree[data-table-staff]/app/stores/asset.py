"""Store `asset`: input validation and parameterised SQL for the "assets" table."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from app.core.forms import (
    Blank,
    as_utc,
    datetime_value,
    form_list,
    form_str,
    in_date_range,
    json_value,
    like_pattern,
    now,
    parse_json,
    single_line,
    text_value,
    uuid_list,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]

CLASS_VALUES = ("laptop", "desk & chair", "phone")


class AssetIn(BaseModel):
    """A asset as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    tag: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=40)
    class_: Annotated[Literal["laptop", "desk & chair", "phone"] | None, Blank] = Field("laptop", alias="class")
    from_: Annotated[str | None, Blank, AfterValidator(single_line)] = Field(None, max_length=1000, alias="from")
    weight: Annotated[float | None, Blank] = Field(None, ge=0, allow_inf_nan=False)
    bought: Annotated[datetime | None, Blank, AfterValidator(as_utc), AfterValidator(in_date_range)] = None
    serial: Annotated[UUID | None, Blank] = None
    spec: Annotated[Any, BeforeValidator(parse_json), Blank] = None
    holder: Annotated[UUID | None, Blank] = None
    teams: list[UUID] = []


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "tag": form_str(form, "tag"),
        "class": form_str(form, "class"),
        "from": form_str(form, "from"),
        "weight": form_str(form, "weight"),
        "bought": form_str(form, "bought"),
        "serial": form_str(form, "serial"),
        "spec": form_str(form, "spec"),
        "holder": form_str(form, "holder"),
        "teams": form_list(form, "teams"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "tag": text_value(record["tag"]),
        "class": text_value(record["class"]),
        "from": text_value(record["from"]),
        "weight": text_value(record["weight"]),
        "bought": datetime_value(record["bought"]),
        "serial": text_value(record["serial"]),
        "spec": json_value(record["spec"]),
        "holder": text_value(record["holder"]),
        "teams": uuid_list([item["id"] for item in record["teams"]]),
    }


def new_values() -> dict[str, Any]:
    return {
        "tag": "",
        "class": "laptop",
        "from": "",
        "weight": "",
        "bought": datetime_value(now()),
        "serial": "",
        "spec": "",
        "holder": "",
        "teams": [],
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
        "tag": 't."tag"',
        "class": 't."class"',
        "from": 't."from"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."tag",
               t."class",
               t."from",
               t."weight",
               t."bought",
               t."serial",
               t."spec",
               t."holder",
               "ref_holder"."name" AS "holder_label",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."name")
                                   ORDER BY c."name", c."id")
                   FROM "asset_teams" AS link
                   JOIN "teams" AS c ON c."id" = link."teams_id"
                   WHERE link."asset_id" = t."id"
               ), '[]'::json) AS "teams",
               t."created_at", t."updated_at"
        FROM "assets" AS t
        LEFT JOIN "employees" AS "ref_holder" ON "ref_holder"."id" = t."holder"
        WHERE {where}
        ORDER BY t."tag", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."tag",
               t."class",
               t."from",
               t."weight",
               t."bought",
               t."serial",
               t."spec",
               t."holder",
               "ref_holder"."name" AS "holder_label",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."name")
                                   ORDER BY c."name", c."id")
                   FROM "asset_teams" AS link
                   JOIN "teams" AS c ON c."id" = link."teams_id"
                   WHERE link."asset_id" = t."id"
               ), '[]'::json) AS "teams",
               t."created_at", t."updated_at"
        FROM "assets" AS t
        LEFT JOIN "employees" AS "ref_holder" ON "ref_holder"."id" = t."holder"
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at asset: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "tag" AS "label"
        FROM "assets"
        ORDER BY "tag", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: AssetIn) -> dict[str, Any]:
    return {
        "tag": data.tag,
        "class": data.class_,
        "from": data.from_,
        "weight": data.weight,
        "bought": data.bought,
        "serial": data.serial,
        "spec": None if data.spec is None else Jsonb(data.spec),
        "holder": data.holder,
    }


async def _set_teams(
    conn: AsyncConnection[DictRow], record_id: UUID, ids: list[UUID]
) -> None:
    await conn.execute(
        'DELETE FROM "asset_teams" WHERE "asset_id" = %(id)s',
        {"id": record_id},
    )
    if ids:
        await conn.execute(
            """
            INSERT INTO "asset_teams" ("asset_id", "teams_id", "position")
            SELECT %(id)s, item.ref, item.n::integer - 1
            FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS item(ref, n)
            ON CONFLICT DO NOTHING
            """,
            {"id": record_id, "ids": ids},
        )


async def create(conn: AsyncConnection[DictRow], data: AssetIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "assets" ("tag", "class", "from", "weight", "bought", "serial", "spec", "holder")
            VALUES (%(tag)s, %(class)s, %(from)s, %(weight)s, %(bought)s, %(serial)s, %(spec)s, %(holder)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
        await _set_teams(conn, row["id"], data.teams)
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: AssetIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "assets"
            SET "tag" = %(tag)s,
"class" = %(class)s,
"from" = %(from)s,
"weight" = %(weight)s,
"bought" = %(bought)s,
"serial" = %(serial)s,
"spec" = %(spec)s,
"holder" = %(holder)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
        await _set_teams(conn, record_id, data.teams)
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a asset; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "assets" WHERE "id" = %(id)s RETURNING "tag" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    constraint = exc.diag.constraint_name
    if constraint == "uq_assets_tag":
        return {"tag": "Another asset already uses this value."}
    if constraint == "fk_assets_holder":
        return {"holder": "That employee no longer exists."}
    if constraint == "fk_asset_teams_teams_id":
        return {"teams": "That team no longer exists."}
    return {}

