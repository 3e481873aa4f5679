"""Screen `products` (data-table over store `product`).

The table is rendered on the server, one page at a time. Paging is keyset paging: a page
is "the next N rows after this (sort key, id)", answered by an index range scan, so page
1000 costs what page 1 costs. The cursor in the URL is opaque to the client.

The GET of the screen answers twice: a full document for a normal browser request (first
load, refresh, deep link), or Datastar SSE patches for a request made by Datastar: only the
table when the client already shows this screen with the same filter, otherwise the whole
screen. Signals hold client chrome only (selected ids, open detail rows, the row being
edited); rows, validation and everything derived from data come from here.

`product` is a realtime store: every page of this screen holds a stream (`GET
/products/live`) that brings the page it shows (filter, order, cursor) up to date
when rows change elsewhere (`LiveTable` at the end).
"""

from typing import Any
from urllib.parse import parse_qs, urlencode
from uuid import UUID

from datastar_py.fastapi import ServerSentEventGenerator as SSE
from datastar_py.sse import DatastarEvent
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from psycopg import AsyncConnection, IntegrityError
from pydantic import BaseModel, Field, ValidationError

from app import sse as stream_events
from app.core import keyset
from app.core.csv_export import cell, csv_lines
from app.core.forms import field_errors, like_pattern, parse_id
from app.core.keyset import Cursor, Page, SortKey
from app.core.live import Since, live_stream
from app.db import Conn
from app.realtime import NetChanges, get_realtime
from app.realtime.asgi import StreamRoute
from app.stores import product as product_store
from app.templating import render
from app.web import (
    client_signals,
    is_datastar,
    is_mounted,
    js_string,
    page,
    patch,
    patch_signals,
    push_url,
    require_datastar,
    screen_events,
    sse,
    toast,
)

router = APIRouter(tags=["products"])

Form = product_store.ProductIn
SCREEN = "products"
TITLE = "Products"
PATH = "/products"
LIVE_PATH = f"{PATH}/live"
DOM_ID = "products"  # prefix of this screen's element ids
NOUN = "product"
NOUNS = "products"
LABEL = "name"
PAGE_SIZE = 5
DEFAULT_SORT = "name"
EDITABLE = ("name", "sku", "stock", "status")

Row = dict[str, Any]


# The query: every stored column, the label of every ref, the shown many-refs.

FROM = """
    "products" AS t
"""

COLUMNS = """
    t."id",
    t."name",
    t."sku",
    t."stock",
    t."status",
    t."notes",
    t."created_at",
    t."updated_at"
"""

# The filter box: a case-insensitive substring of any of these columns.
FILTER: tuple[str, ...] = (
    't."name" ILIKE %(pattern)s',
    't."sku" ILIKE %(pattern)s',
)
FILTER_MAX = 200


def clean_filter(q: str) -> str:
    return q.strip()[:FILTER_MAX] if FILTER else ""


# Sorting and keyset paging (app/core/keyset.py): the columns this table sorts by.


SORTS: dict[str, SortKey] = {
    "name": SortKey('t."name"', "str", "Name"),
    "sku": SortKey('t."sku"', "str", "Sku"),
    "stock": SortKey('t."stock"', "int", "Stock"),
    "status": SortKey('t."status"', "str", "Status"),
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


def _replace_url(target: str) -> DatastarEvent:
    """Point the address bar at `target` without a history entry (typing in the filter)."""
    return SSE.execute_script(
        f"{{const u = new URL({js_string(target)}, location.href);"
        " history.replaceState(history.state, '', u);}"
    )


def _table_events(table: Page, live: dict[str, Any] | None = None) -> list[DatastarEvent]:
    """The table for `table`; with `live`, also the stream of its (new) key: replaced, not
    morphed, so the old stream closes and one for this filter, order and page opens."""
    context = _context(table)
    events = [
        patch(render(f"{SCREEN}/_table.html", **context)),
        patch(render(f"{SCREEN}/_export.html", **context)),
        patch_signals(signals(table)),
    ]
    if live is not None:
        events.append(patch(render(f"{SCREEN}/_live.html", live=live), mode="replace"))
    return events


def _live(request: Request, table: Page, since: str) -> dict[str, Any]:
    """Where the page's stream starts, and how it retries (see _live.html)."""
    query = {"since": since, **_key_params(table.q, table.order, table.cursor)}
    return live_stream(request, LIVE_PATH, query)


# Pages (GET): each URL is a deep link and a Datastar target.


@router.get(PATH)
async def index(
    request: Request, conn: Conn, since: Since, q: str = "", sort: str = "", cursor: str = ""
) -> Response:
    q = clean_filter(q)
    order = Order.parse(sort)
    table = await load_page(conn, q, order, cursor)
    live = _live(request, table, since)
    if not is_datastar(request):
        return page(
            request, f"{SCREEN}/page.html", screen=SCREEN, title=TITLE, q=q, live=live,
            **_context(table),
        )
    if is_mounted(await client_signals(request), SCREEN, q):
        events = _table_events(table, live)
    else:
        html = render(f"{SCREEN}/_screen.html", **_context(table), live=live)
        events = screen_events(html, screen=SCREEN, q=q, selected_id="")
        events.append(patch_signals(signals(table)))
    events.append(push_url(url(q, order.param, table.cursor), TITLE))
    return sse(events)


@router.get(f"{PATH}/rows")
async def filter_rows(
    request: Request, conn: Conn, since: Since, q: str = "", sort: str = ""
) -> Response:
    """The debounced filter box: the first page of matching rows; the URL follows."""
    q = clean_filter(q)
    order = Order.parse(sort)
    if not is_datastar(request):
        return RedirectResponse(url(q, order.param))
    table = await load_page(conn, q, order)
    return sse([
        *_table_events(table, _live(request, table, since)),
        patch_signals({"view": {"screen": SCREEN, "q": q}}),
        _replace_url(url(q, order.param)),
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
EXPORT_HEADERS = ("Name", "Sku", "Stock", "Status")


def _export_row(row: Row) -> list[str]:
    return [
        str(row["id"]),
        cell(row["name"]),
        cell(row["sku"]),
        cell(row["stock"]),
        cell(row["status"]),
    ]


# One row: its inline editor and its detail. Fragments for Datastar requests only.


async def _record(request: Request, conn: Conn, raw_id: str) -> Row:
    if not is_datastar(request):
        raise HTTPException(status_code=404)  # a fragment, not a page
    record_id = parse_id(raw_id)
    record = await product_store.get(conn, record_id) if record_id else None
    if record is None:
        raise HTTPException(status_code=404)
    return record


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
        "status_choices": product_store.STATUS_VALUES,
    }
    return patch(render(f"{SCREEN}/_edit_row.html", edit=edit))


@router.get(f"{PATH}/{{record_id}}/edit")
async def edit_row(request: Request, conn: Conn, record_id: str, close: str = "") -> Response:
    """Open one row's inline editor, closing the one open before: one row at a time."""
    record = await _record(request, conn, record_id)
    events = []
    close_id = parse_id(close)
    if close_id is not None and close_id != record["id"]:
        previous = await product_store.get(conn, close_id)
        if previous is not None:
            events.append(_row(previous))
    events.append(await _editor(conn, record, product_store.record_values(record)))
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
            UPDATE "products"
            SET "name" = %(name)s,
"sku" = %(sku)s,
"stock" = %(stock)s,
"status" = %(status)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {
                "name": data.name,
                "sku": data.sku,
                "stock": data.stock,
                "status": data.status,
                "id": record_id,
            },
        )
    return cur.rowcount == 1


@router.put(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def update_row(request: Request, conn: Conn, record_id: str) -> Response:
    record_uuid = parse_id(record_id)
    if record_uuid is None:
        raise HTTPException(status_code=404)
    record = await product_store.get(conn, record_uuid)
    if record is None:
        return _gone(record_uuid)
    form = product_store.form_values(await request.form())
    # The stored record with the editable columns as submitted, validated as a whole.
    values = {**product_store.record_values(record), **{name: form[name] for name in EDITABLE}}
    try:
        saved = await _save(conn, record_uuid, Form.model_validate(values))
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = product_store.constraint_errors(exc)
        if not errors:
            raise
    else:
        fresh = await product_store.get(conn, record_uuid) if saved else None
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
    focus = f"document.getElementById({js_string(f'{DOM_ID}-editor-{first}')})?.focus()"
    return sse([
        await _editor(conn, record, values, errors),
        *([SSE.execute_script(focus)] if first else []),
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
                'DELETE FROM "products" WHERE "id" = ANY(%(ids)s) RETURNING "id"', {"ids": ids}
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


# Realtime: how changes to `products` reach the open pages of this screen.


def _key_params(q: str, order: Order, cursor: str) -> dict[str, str]:
    return {"q": q, "sort": order.param, "cursor": cursor}


def _stream_key(request: Request) -> str:
    """Pages are grouped by what they show: filter, order and page (the cursor they were
    asked with). Canonical: the filter cleaned, the order parsed, a cursor the server
    would not honour dropped (that page shows the first page), so equal pages share
    one group and one render; bounded by FILTER_MAX and the cursor's 2000 characters."""
    params = request.query_params
    q = clean_filter(params.get("q", ""))
    order = Order.parse(params.get("sort", ""))
    cursor = params.get("cursor", "")
    if Cursor.decode(cursor, order) is None:
        cursor = ""
    return urlencode(_key_params(q, order, cursor))


def _parse_key(key: str) -> tuple[str, Order, str]:
    params = {name: values[0] for name, values in parse_qs(key, keep_blank_values=True).items()}
    return params.get("q", ""), Order.parse(params.get("sort", "")), params.get("cursor", "")


@router.get(LIVE_PATH)
async def live(request: Request) -> Response:
    """The page's realtime stream (see `LiveTable`). In production app/realtime/asgi.py
    answers this path in front of FastAPI (`STREAM` below); this route serves the tests."""
    return get_realtime(request).stream(request, SCREEN, _stream_key(request))


class LiveTable:
    """The `ChannelView` of this screen (app/realtime/hub.py).

    One frame per burst and key: the page of that key read again, and its rows region
    (tbody, pager, select-all, `$_table.ids`) set to it by a morph. Per-row patches would
    be fragile here: one insert or delete slides rows across every keyset page boundary
    after it, and a changed sort key moves a row anywhere. A page is at most `PAGE_SIZE`
    rows, and the morph leaves unchanged rows untouched in the DOM.

    Client chrome survives: the row in its inline editor carries data-ignore-morph and so
    do the rows of this frame (_row.html), so the editor (typed text, focus) is skipped;
    checkboxes keep their `checked` property (the morph only syncs the attribute); the
    selection highlight, open details and `aria-expanded` are re-applied by data-class,
    data-show and data-attr. Details are sent filled in: an open one shows the new values.
    """

    name = SCREEN
    channel = "products"

    async def render_changes(
        self, conn: AsyncConnection[Any], changes: NetChanges, key: str
    ) -> list[str]:
        # Which rows changed does not matter: the whole page is set to the current state.
        return await self.render_all(conn, key)

    async def render_all(self, conn: AsyncConnection[Any], key: str) -> list[str]:
        q, order, cursor = _parse_key(key)
        table = await load_page(conn, q, order, cursor)
        context = _context(table)
        # One event per element: a <tbody> parses only where a table may start.
        return [
            stream_events.patch_elements(
                render(f"{SCREEN}/_tbody.html", **context, stream_frame=True)
            ),
            stream_events.patch_elements(render(f"{SCREEN}/_pager.html", **context)),
            stream_events.patch_elements(render(f"{SCREEN}/_select_all.html", **context)),
            stream_events.patch_signals({"_table": {"ids": signals(table)["_table"]["ids"]}}),
        ]


LIVE = LiveTable()
STREAM = StreamRoute(path=LIVE_PATH, view=SCREEN, key=_stream_key)
