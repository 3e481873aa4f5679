"""Screen `employees` (data-table over store `employee`).

The table is rendered on the server, one page at a time. Paging is keyset paging: a page
is "the next N rows after this (sort key, id)", answered by an index range scan, so page
1000 costs what page 1 costs. The cursor in the URL is opaque to the client.

The GET of the screen answers twice: a full document for a normal browser request (first
load, refresh, deep link), or Datastar SSE patches for a request made by Datastar: only the
table when the client already shows this screen with the same filter, otherwise the whole
screen. Signals hold client chrome only (selected ids, open detail rows, the row being
edited); rows, validation and everything derived from data come from here.
"""

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from datastar_py.sse import DatastarEvent
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from psycopg import AsyncConnection, IntegrityError
from pydantic import BaseModel, Field, ValidationError

from app.core import keyset
from app.core.csv_export import cell, csv_lines
from app.core.forms import field_errors, like_pattern, parse_id
from app.core.keyset import Cursor, Page, SortKey
from app.core.records import get_or_404
from app.db import Conn
from app.stores import employee as employee_store
from app.stores import team as team_store
from app.templating import render
from app.web import (
    client_signals,
    focus,
    is_datastar,
    is_mounted,
    page,
    patch,
    patch_signals,
    push_url,
    replace_url,
    require_datastar,
    screen_events,
    sse,
    toast,
)

router = APIRouter(tags=["employees"])

Form = employee_store.EmployeeIn
SCREEN = "employees"
TITLE = "Employees"
PATH = "/employees"
DOM_ID = "employees"  # prefix of this screen's element ids
NOUN = "employee"
NOUNS = "employees"
LABEL = "name"
PAGE_SIZE = 10
DEFAULT_SORT = "name"
EDITABLE = ("name", "email", "team", "level", "salary", "started", "remote")

Row = dict[str, Any]


# The query: every stored column, the label of every ref, the shown many-refs.

FROM = """
    "employees" AS t
    LEFT JOIN "teams" AS "ref_team" ON "ref_team"."id" = t."team"
"""

COLUMNS = """
    t."id",
    t."name",
    t."email",
    t."team",
    "ref_team"."name" AS "team_label",
    t."level",
    t."salary",
    t."started",
    t."remote",
    t."notes",
    t."created_at",
    t."updated_at"
"""

# The filter box: a case-insensitive substring of any of these columns.
FILTER: tuple[str, ...] = (
    't."name" ILIKE %(pattern)s',
    't."email" ILIKE %(pattern)s',
)
FILTER_MAX = 200


def clean_filter(q: str) -> str:
    return q.strip()[:FILTER_MAX] if FILTER else ""


# Sorting and keyset paging (app/core/keyset.py): the columns this table sorts by.


SORTS: dict[str, SortKey] = {
    "name": SortKey('t."name"', "str", "Name"),
    "email": SortKey('t."email"', "str", "Email"),
    "team": SortKey('"ref_team"."name"', "str", "Team"),
    "level": SortKey('t."level"', "str", "Level"),
    "salary": SortKey('t."salary"', "decimal", "Salary"),
    "started": SortKey('t."started"', "date", "Started"),
    "remote": SortKey('t."remote"', "bool", "Remote"),
    "created_at": SortKey('t."created_at"', "datetime", "Created"),
    "updated_at": SortKey('t."updated_at"', "datetime", "Updated"),
}


class Order(keyset.Order):
    """An order of this table: one of SORTS, ascending or descending."""

    sorts = SORTS
    default = DEFAULT_SORT


def page_query(
    q: str, order: Order, cursor: Cursor | None = None, *, backwards: bool = False,
    limit: bool = True,
) -> str:
    """The SQL of one page: rows after `cursor` (or before it, read backwards)."""
    where = f"({' OR '.join(FILTER)})" if q and FILTER else "TRUE"
    return keyset.page_sql(COLUMNS, FROM, where, order, cursor, backwards=backwards, limit=limit)


async def load_page(conn: Conn, q: str, order: Order, raw_cursor: str = "") -> Page:
    """One page, fetching PAGE_SIZE + 1 rows: the extra row says there is more."""

    async def fetch(cursor: Cursor | None, backwards: bool) -> list[Row]:
        params: dict[str, Any] = {"pattern": like_pattern(q), "limit": PAGE_SIZE + 1}
        if cursor is not None:
            params.update(cursor_key=cursor.key, cursor_id=cursor.id)
        cur = await conn.execute(page_query(q, order, cursor, backwards=backwards), params)
        return await cur.fetchall()

    return await keyset.load_page(fetch, PAGE_SIZE, q, order, raw_cursor)


# URLs (the address bar keeps sort, filter and page) and the client's signals: ids and
# flags only, never rows.


def url(q: str = "", sort: str = DEFAULT_SORT, cursor: str | None = None, path: str = PATH) -> str:
    params = {"sort": "" if sort == DEFAULT_SORT else sort, "q": q, "cursor": cursor or ""}
    query = urlencode({name: value for name, value in params.items() if value})
    return f"{path}?{query}" if query else path


def signals(table: Page) -> dict[str, Any]:
    return {
        "_table": {
            "sort": table.order.param,
            "cursor": table.cursor,
            "ids": [str(row["id"]) for row in table.rows],  # rows on this page
            "sel": [],       # selected ids (checkboxes)
            "open": [],      # expanded rows
            "editing": "",   # the row in its inline editor
        }
    }


def _context(table: Page) -> dict[str, Any]:
    order = table.order
    return {
        "table": table,
        "table_signals": signals(table),
        "sort_urls": {key: url(table.q, order.clicked(key).param) for key in SORTS},
        "prev_url": url(table.q, order.param, table.prev) if table.prev else None,
        "next_url": url(table.q, order.param, table.next) if table.next else None,
        "export_url": url(table.q, order.param, path=f"{PATH}/export.csv"),
        "clear_url": url("", order.param),
        "sort_label": SORTS[order.key].label,
    }


def _table_events(table: Page) -> list[DatastarEvent]:
    context = _context(table)
    return [
        patch(render(f"{SCREEN}/_table.html", **context)),
        patch(render(f"{SCREEN}/_export.html", **context)),
        patch_signals(signals(table)),
    ]


# Pages (GET): each URL is a deep link and a Datastar target.


@router.get(PATH)
async def index(
    request: Request, conn: Conn, q: str = "", sort: str = "", cursor: str = ""
) -> Response:
    q = clean_filter(q)
    order = Order.parse(sort)
    table = await load_page(conn, q, order, cursor)
    if not is_datastar(request):
        return page(
            request, f"{SCREEN}/page.html", screen=SCREEN, title=TITLE, q=q, **_context(table)
        )
    if is_mounted(await client_signals(request), SCREEN, q):
        events = _table_events(table)
    else:
        html = render(f"{SCREEN}/_screen.html", **_context(table))
        events = screen_events(html, screen=SCREEN, q=q, selected_id="")
        events.append(patch_signals(signals(table)))
    events.append(push_url(url(q, order.param, table.cursor), TITLE))
    return sse(events)


@router.get(f"{PATH}/rows")
async def filter_rows(request: Request, conn: Conn, q: str = "", sort: str = "") -> Response:
    """The debounced filter box: the first page of matching rows; the URL follows."""
    q = clean_filter(q)
    order = Order.parse(sort)
    if not is_datastar(request):
        return RedirectResponse(url(q, order.param))
    table = await load_page(conn, q, order)
    return sse([
        *_table_events(table),
        patch_signals({"view": {"screen": SCREEN, "q": q}}),
        replace_url(url(q, order.param)),
    ])


@router.get(f"{PATH}/export.csv")
async def export_csv(request: Request, q: str = "", sort: str = "") -> StreamingResponse:
    """Every matching row in the table's order, in keyset chunks (app/core/csv_export.py)."""
    q = clean_filter(q)
    order = Order.parse(sort)

    async def fetch(conn: AsyncConnection[Any], last: Row | None, limit: int) -> list[Row]:
        cursor = None if last is None else Cursor(False, last["_key"], last["id"])
        params: dict[str, Any] = {"pattern": like_pattern(q), "limit": limit}
        if cursor is not None:
            params.update(cursor_key=cursor.key, cursor_id=cursor.id)
        cur = await conn.execute(page_query(q, order, cursor), params)
        return await cur.fetchall()

    # Not the request's connection: the body is streamed after the handler returns.
    lines = csv_lines(
        request.app.state.pool, fetch, header=["id", *EXPORT_HEADERS], to_cells=_export_row
    )
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{DOM_ID}.csv"'},
    )


# CSV cells (app/core/csv_export.py): text that a spreadsheet would run as a formula is
# quoted; numbers, dates and booleans never start one.
EXPORT_HEADERS = ("Name", "Email", "Team", "Level", "Salary", "Started", "Remote")


def _export_row(row: Row) -> list[str]:
    return [
        str(row["id"]),
        cell(row["name"]),
        cell(row["email"]),
        cell(row["team_label"]),
        cell(row["level"]),
        cell(row["salary"]),
        cell(row["started"]),
        cell(row["remote"]),
    ]


# One row: its inline editor and its detail. Fragments for Datastar requests only.


async def _record(request: Request, conn: Conn, raw_id: str) -> Row:
    if not is_datastar(request):
        raise HTTPException(status_code=404)  # a fragment, not a page
    return await get_or_404(employee_store.get, conn, raw_id)


def _row(record: Row) -> DatastarEvent:
    return patch(render(f"{SCREEN}/_row.html", row=record))


def _detail(record: Row, is_open: bool) -> DatastarEvent:
    html = render(f"{SCREEN}/_detail.html", row=record, is_open=is_open, placeholder=False)
    return patch(html)


@router.get(f"{PATH}/{{record_id}}/detail")
async def detail_row(request: Request, conn: Conn, record_id: str) -> Response:
    """Expand a row: its detail, fresh from the database."""
    record = await _record(request, conn, record_id)
    return sse([_detail(record, True)])


async def _editor(
    conn: Conn, record: Row, values: dict[str, Any], errors: dict[str, str] | None = None
) -> DatastarEvent:
    errors = errors or {}
    edit = {
        "record": record,
        "input": values,  # not "values": Jinja would find dict.values first
        "errors": errors,
        # A stored value a rule rejects, in a column not editable here.
        "row_error": next((m for name, m in errors.items() if name not in EDITABLE), ""),
        # The first field with an error takes the focus (the first field on opening).
        "focus": next((name for name in EDITABLE if name in errors), EDITABLE[0]),
        "team_options": await team_store.options(conn),
        "level_choices": employee_store.LEVEL_VALUES,
    }
    return patch(render(f"{SCREEN}/_edit_row.html", edit=edit))


@router.get(f"{PATH}/{{record_id}}/edit")
async def edit_row(request: Request, conn: Conn, record_id: str, close: str = "") -> Response:
    """Open one row's inline editor, closing the one open before: one row at a time."""
    record = await _record(request, conn, record_id)
    events = []
    close_id = parse_id(close)
    if close_id is not None and close_id != record["id"]:
        previous = await employee_store.get(conn, close_id)
        if previous is not None:
            events.append(_row(previous))
    events.append(await _editor(conn, record, employee_store.record_values(record)))
    events.append(patch_signals({"_table": {"editing": str(record["id"])}}))
    return sse(events)


@router.get(f"{PATH}/{{record_id}}/row")
async def view_row(request: Request, conn: Conn, record_id: str) -> Response:
    """Cancel editing: the row as stored."""
    record = await _record(request, conn, record_id)
    return sse([_row(record), patch_signals({"_table": {"editing": ""}})])


def _gone(record_id: UUID) -> Response:
    """The row vanished (deleted elsewhere): take it out of the table."""
    return sse([
        patch("", selector=f"#{DOM_ID}-row-{record_id}", mode="remove"),
        patch("", selector=f"#{DOM_ID}-detail-{record_id}", mode="remove"),
        patch_signals({"_table": {"editing": "", "sel": []}}),
        toast(f"That {NOUN} no longer exists.", "error"),
    ])


async def _save(conn: Conn, record_id: UUID, data: Form) -> bool:
    """Write the inline-editable columns only; every other column keeps what is stored."""
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
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {
                "name": data.name,
                "email": data.email,
                "team": data.team,
                "level": data.level,
                "salary": data.salary,
                "started": data.started,
                "remote": data.remote,
                "id": record_id,
            },
        )
    return cur.rowcount == 1


@router.put(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def update_row(request: Request, conn: Conn, record_id: str) -> Response:
    record_uuid = parse_id(record_id)
    if record_uuid is None:
        raise HTTPException(status_code=404)
    record = await employee_store.get(conn, record_uuid)
    if record is None:
        return _gone(record_uuid)
    form = employee_store.form_values(await request.form())
    # The stored record with the editable columns as submitted, validated as a whole.
    values = {**employee_store.record_values(record), **{name: form[name] for name in EDITABLE}}
    try:
        saved = await _save(conn, record_uuid, Form.model_validate(values))
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = employee_store.constraint_errors(exc)
        if not errors:
            raise
    else:
        fresh = await employee_store.get(conn, record_uuid) if saved else None
        if fresh is None:
            return _gone(record_uuid)
        return sse([
            _row(fresh),
            _detail(fresh, False),  # an open detail stays open (data-show), now fresh
            patch_signals({"_table": {"editing": ""}}),
            toast(f"Saved {fresh[LABEL]}."),
        ])
    # The row is morphed in place, so data-init does not run again: move the focus here.
    first = next((name for name in EDITABLE if name in errors), None)
    return sse([
        await _editor(conn, record, values, errors),
        *([focus(f"{DOM_ID}-editor-{first}")] if first else []),
    ])


class BulkDelete(BaseModel):
    ids: list[UUID] = Field(min_length=1, max_length=PAGE_SIZE)  # a selection on one page


@router.post(f"{PATH}/delete", dependencies=[Depends(require_datastar)])
async def bulk_delete(
    request: Request, conn: Conn, q: str = "", sort: str = "", cursor: str = ""
) -> Response:
    """Delete the selected rows in one transaction; the same page comes back without them."""
    try:
        ids = BulkDelete.model_validate_json(await request.body()).ids
    except ValidationError:
        return sse([toast("Select the rows to delete first.", "error")])
    try:
        async with conn.transaction():
            cur = await conn.execute(
                'DELETE FROM "employees" WHERE "id" = ANY(%(ids)s) RETURNING "id"', {"ids": ids}
            )
            deleted = len(await cur.fetchall())
    except IntegrityError:
        message = f"Nothing was deleted: other records still refer to some of these {NOUNS}."
        return sse([toast(message, "error")])
    table = await load_page(conn, clean_filter(q), Order.parse(sort), cursor)
    return sse([
        *_table_events(table),
        toast(f"Deleted {deleted} {NOUN if deleted == 1 else NOUNS}."),
    ])
