"""Screen `product_admin` (master-detail over store `product`).

Every GET here answers twice: a full document for a normal browser request (first load,
refresh, deep link), or Datastar SSE patches for a request made by Datastar. The patches
are the smallest that bring the page to the requested URL: only the detail pane when the
client already shows this screen with the same search, otherwise the whole screen.

`product` is a realtime store: every page of this screen holds a stream (`GET
/product-admin/live`) that patches in changes made elsewhere (`LiveList` at the end).
"""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import AsyncConnection, IntegrityError
from pydantic import ValidationError

from app import sse as stream_events
from app.core.forms import field_errors, parse_id
from app.core.live import Since, live_stream
from app.core.records import get_or_404
from app.db import Conn
from app.realtime import Kind, NetChanges, get_realtime
from app.realtime.asgi import StreamRoute
from app.stores import product as product_store
from app.templating import render, with_query
from app.web import (
    client_signals,
    is_datastar,
    is_mounted,
    page,
    patch,
    patch_signals,
    push_url,
    replace_query,
    require_datastar,
    screen_events,
    sse,
    toast,
)

router = APIRouter(tags=["product_admin"])

Form = product_store.ProductIn
SCREEN = "product_admin"
TITLE = "Products"
LABEL = "name"
NOUN = "product"
SEARCH = ()
LIST_LIMIT = 200  # rows in the master list; search narrows it
PATH = "/product-admin"
LIVE_PATH = f"{PATH}/live"
# What the stream patches (_list.html, _row.html, _show.html).
ROWS = "#product-admin-rows"
ITEM = "#product-admin-item-"
SHOW = "#product-admin-show"


# Building blocks: the list, and the detail pane in one of its three states.


async def _list(conn: Conn, q: str) -> dict[str, Any]:
    rows = await product_store.list_rows(conn, q, LIST_LIMIT, SEARCH)
    return {"rows": rows, "q": q, "limit": LIST_LIMIT}


def _empty() -> dict[str, Any]:
    return {"pane": "empty"}


def _show(record: dict[str, Any]) -> dict[str, Any]:
    return {"pane": "show", "record": record}


async def _form(
    conn: Conn,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "pane": "form",
        "record": record,
        "input": values,  # not "values": Jinja would find dict.values first
        "errors": errors or {},
        "status_choices": product_store.STATUS_VALUES,
    }


async def _respond(
    request: Request,
    conn: Conn,
    *,
    q: str,
    detail: dict[str, Any],
    selected_id: str,
    url: str,
    title: str,
    since: str,
) -> Response:
    if not is_datastar(request):
        return page(
            request, f"{SCREEN}/page.html", screen=SCREEN, title=title, q=q,
            selected_id=selected_id, list=await _list(conn, q), detail=detail,
            live=_live(request, q, since),
        )
    signals = await client_signals(request)
    if is_mounted(signals, SCREEN, q):
        events = [
            patch(render(f"{SCREEN}/_detail.html", detail=detail, q=q)),
            patch_signals({"_selectedId": selected_id}),
        ]
    else:
        html = render(
            f"{SCREEN}/_screen.html", list=await _list(conn, q), detail=detail, q=q,
            selected_id=selected_id, live=_live(request, q, since),
        )
        events = screen_events(html, screen=SCREEN, q=q, selected_id=selected_id)
    events.append(push_url(url, title))
    return sse(events)


def _live(request: Request, q: str, since: str) -> dict[str, Any]:
    """Where the page's stream starts (for this search), and how it retries."""
    return live_stream(request, LIVE_PATH, {"q": q, "since": since} if q else {"since": since})


# Pages (GET): each URL is a deep link and a Datastar target.


@router.get(PATH)
async def index(request: Request, conn: Conn, since: Since, q: str = "") -> Response:
    return await _respond(
        request, conn, q=q, detail=_empty(), selected_id="", url=with_query(PATH, q),
        title=TITLE, since=since,
    )


@router.get(f"{PATH}/search")
async def search(request: Request, conn: Conn, since: Since, q: str = "") -> Response:
    """The debounced search box: re-render the list, and restart the stream for it."""
    if not is_datastar(request):
        return RedirectResponse(with_query(PATH, q))
    html = render(f"{SCREEN}/_list.html", list=await _list(conn, q))
    return sse([
        patch(html),
        patch(render(f"{SCREEN}/_live.html", live=_live(request, q, since)), mode="replace"),
        patch_signals({"view": {"screen": SCREEN, "q": q}}),
        replace_query(q),
    ])


@router.get(f"{PATH}/new")
async def new(request: Request, conn: Conn, since: Since, q: str = "") -> Response:
    return await _respond(
        request, conn, q=q, detail=await _form(conn, product_store.new_values()), selected_id="",
        url=with_query(f"{PATH}/new", q), title=f"New {NOUN} · {TITLE}", since=since,
    )


@router.get(LIVE_PATH)
async def live(request: Request) -> Response:
    """The page's realtime stream (see `LiveList`). In production app/realtime/asgi.py
    answers this path in front of FastAPI (`STREAM` below); this route serves the tests
    and the benchmark's naive baseline."""
    return get_realtime(request).stream(request, SCREEN, _stream_key(request))


@router.get(f"{PATH}/{{record_id}}")
async def show(
    request: Request, conn: Conn, since: Since, record_id: str, q: str = ""
) -> Response:
    record = await get_or_404(product_store.get, conn, record_id)
    return await _respond(
        request, conn, q=q, detail=_show(record), selected_id=str(record["id"]),
        url=with_query(f"{PATH}/{record['id']}", q), title=f"{record[LABEL]} · {TITLE}",
        since=since,
    )


@router.get(f"{PATH}/{{record_id}}/edit")
async def edit(
    request: Request, conn: Conn, since: Since, record_id: str, q: str = ""
) -> Response:
    record = await get_or_404(product_store.get, conn, record_id)
    detail = await _form(conn, product_store.record_values(record), record=record)
    return await _respond(
        request, conn, q=q, detail=detail, selected_id=str(record["id"]),
        url=with_query(f"{PATH}/{record['id']}/edit", q), title=f"Edit {record[LABEL]} · {TITLE}",
        since=since,
    )


# Mutations: Datastar only (see require_datastar), answered with SSE patches.


async def _saved(conn: Conn, record_id: UUID, q: str, message: str) -> Response:
    record = await product_store.get(conn, record_id)
    assert record is not None
    return sse([
        patch(render(
            f"{SCREEN}/_list.html", list=await _list(conn, q), selected_id=str(record_id)
        )),
        patch(render(f"{SCREEN}/_detail.html", detail=_show(record), q=q)),
        patch_signals({"_selectedId": str(record_id)}),
        push_url(with_query(f"{PATH}/{record_id}", q), f"{record[LABEL]} · {TITLE}"),
        toast(message),
    ])


async def _gone(conn: Conn, q: str) -> Response:
    """The record vanished (deleted elsewhere): refresh the list, clear the pane."""
    return sse([
        patch(render(f"{SCREEN}/_list.html", list=await _list(conn, q))),
        patch(render(f"{SCREEN}/_detail.html", detail=_empty(), q=q)),
        patch_signals({"_selectedId": ""}),
        push_url(with_query(PATH, q), TITLE),
        toast(f"That {NOUN} no longer exists.", "error"),
    ])


@router.post(PATH, dependencies=[Depends(require_datastar)])
async def create(request: Request, conn: Conn, q: str = "") -> Response:
    values = product_store.form_values(await request.form())
    try:
        new_id = await product_store.create(conn, Form.model_validate(values))
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = product_store.constraint_errors(exc)
        if not errors:
            raise
    else:
        return await _saved(conn, new_id, q, f"{NOUN.capitalize()} created.")
    detail = await _form(conn, values, errors)
    return sse([patch(render(f"{SCREEN}/_detail.html", detail=detail, q=q))])


@router.put(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def update(request: Request, conn: Conn, record_id: str, q: str = "") -> Response:
    record_uuid = parse_id(record_id)
    record = await product_store.get(conn, record_uuid) if record_uuid else None
    if record is None:
        return await _gone(conn, q)
    values = product_store.form_values(await request.form())
    try:
        await product_store.update(conn, record["id"], Form.model_validate(values))
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = product_store.constraint_errors(exc)
        if not errors:
            raise
    else:
        return await _saved(conn, record["id"], q, f"{NOUN.capitalize()} saved.")
    detail = await _form(conn, values, errors, record=record)
    return sse([patch(render(f"{SCREEN}/_detail.html", detail=detail, q=q))])


@router.delete(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def delete(conn: Conn, record_id: str, q: str = "") -> Response:
    record_uuid = parse_id(record_id)
    label = await product_store.delete(conn, record_uuid) if record_uuid else None
    if label is None:
        return await _gone(conn, q)
    return sse([
        patch(render(f"{SCREEN}/_list.html", list=await _list(conn, q))),
        patch(render(f"{SCREEN}/_detail.html", detail=_empty(), q=q)),
        patch_signals({"_selectedId": ""}),
        push_url(with_query(PATH, q), TITLE),
        toast(f"Deleted {label}."),
    ])


# Realtime: how changes to `products` reach the open pages of this screen.


def _stream_key(request: Request) -> str:
    """Pages are grouped by their search: each group's patches are rendered once."""
    return request.query_params.get("q", "")


class LiveList:
    """The `ChannelView` of this screen (app/realtime/hub.py).

    For each burst of changes and each search, one frame: changed rows are removed and
    re-inserted after their current predecessor in the list (so order, search and the
    "no rows" state stay right whatever the page showed before), deleted rows removed,
    and the detail pane of a changed or deleted record replaced on the pages showing it.
    When the list is near its limit (rows may slide into the window) or every row
    changed, the whole list instead. A form being edited is never touched.
    """

    name = SCREEN
    channel = "products"

    async def render_changes(
        self, conn: AsyncConnection[Any], changes: NetChanges, key: str
    ) -> list[str]:
        if changes.reset:
            return await self.render_all(conn, key)
        listing = await _list(conn, key)
        return [
            *_list_patches(listing, {str(record_id) for record_id in changes.kinds}),
            *await _detail_patches(conn, changes, key),
        ]

    async def render_all(self, conn: AsyncConnection[Any], key: str) -> list[str]:
        listing = await _list(conn, key)
        return [stream_events.patch_elements(render(f"{SCREEN}/_list.html", list=listing))]


def _list_patches(listing: dict[str, Any], changed: set[str]) -> list[str]:
    rows = listing["rows"]
    truncated = len(rows) >= LIST_LIMIT or len(rows) + len(changed) > LIST_LIMIT
    if truncated or all(str(row["id"]) in changed for row in rows):
        # A page may have shown a truncated list (rows slide into the window), or no row
        # is surely on the page to insert after: the whole list (a morph: unchanged rows
        # stay as they are).
        return [stream_events.patch_elements(render(f"{SCREEN}/_list.html", list=listing))]
    # Changed rows, grouped by the unchanged row they follow now (None: the top).
    runs: dict[str | None, list[dict[str, Any]]] = {}
    after: str | None = None
    for row in rows:
        if str(row["id"]) in changed:
            runs.setdefault(after, []).append(row)
        else:
            after = str(row["id"])
    events = [stream_events.remove_elements(", ".join(ITEM + i for i in sorted(changed)))]
    for after, run in runs.items():
        html = "\n".join(render(f"{SCREEN}/_row.html", row=row, list=listing) for row in run)
        if after is None:
            events.append(stream_events.patch_elements(html, selector=ROWS, mode="prepend"))
        else:
            events.append(stream_events.patch_elements(html, selector=ITEM + after, mode="after"))
    return events


async def _detail_patches(conn: AsyncConnection[Any], changes: NetChanges, q: str) -> list[str]:
    """The detail of each updated or deleted record, for the pages showing it. (Elsewhere
    the selector matches nothing: Datastar logs a warning and moves on.)"""
    events = []
    for record_id, kind in changes.kinds.items():
        if kind is Kind.CREATED:
            continue  # no page can show a record it has not seen yet
        record = await product_store.get(conn, record_id) if kind is Kind.UPDATED else None
        if record is not None:
            html = render(f"{SCREEN}/_show.html", detail=_show(record), q=q)
        else:
            html = render(f"{SCREEN}/_gone.html", record_id=record_id)
        selector = f"{SHOW}[data-record='{record_id}']"
        events.append(stream_events.patch_elements(html, selector=selector))
    return events


LIVE = LiveList()
STREAM = StreamRoute(path=LIVE_PATH, view=SCREEN, key=_stream_key)
