"""Screen `employee_admin` (master-detail over store `employee`).

Every GET here answers twice: a full document for a normal browser request (first load,
refresh, deep link), or Datastar SSE patches for a request made by Datastar. The patches
are the smallest that bring the page to the requested URL: only the detail pane when the
client already shows this screen with the same search, otherwise the whole screen.
"""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import IntegrityError
from pydantic import ValidationError

from app.core.forms import field_errors, parse_id
from app.core.records import get_or_404
from app.db import Conn
from app.stores import employee as employee_store
from app.stores import team as team_store
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

router = APIRouter(tags=["employee_admin"])

Form = employee_store.EmployeeIn
SCREEN = "employee_admin"
TITLE = "Employees"
LABEL = "name"
NOUN = "employee"
SEARCH = ()
LIST_LIMIT = 200  # rows in the master list; search narrows it
PATH = "/employee-admin"


# Building blocks: the list, and the detail pane in one of its three states.


async def _list(conn: Conn, q: str) -> dict[str, Any]:
    rows = await employee_store.list_rows(conn, q, LIST_LIMIT, SEARCH)
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
        "team_options": await team_store.options(conn),
        "level_choices": employee_store.LEVEL_VALUES,
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
) -> Response:
    if not is_datastar(request):
        return page(
            request, f"{SCREEN}/page.html", screen=SCREEN, title=title, q=q,
            selected_id=selected_id, list=await _list(conn, q), detail=detail,
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
            selected_id=selected_id,
        )
        events = screen_events(html, screen=SCREEN, q=q, selected_id=selected_id)
    events.append(push_url(url, title))
    return sse(events)


# Pages (GET): each URL is a deep link and a Datastar target.


@router.get(PATH)
async def index(request: Request, conn: Conn, q: str = "") -> Response:
    return await _respond(
        request, conn, q=q, detail=_empty(), selected_id="", url=with_query(PATH, q), title=TITLE
    )


@router.get(f"{PATH}/search")
async def search(request: Request, conn: Conn, q: str = "") -> Response:
    """The debounced search box: re-render only the list."""
    if not is_datastar(request):
        return RedirectResponse(with_query(PATH, q))
    html = render(f"{SCREEN}/_list.html", list=await _list(conn, q))
    return sse([patch(html), patch_signals({"view": {"screen": SCREEN, "q": q}}), replace_query(q)])


@router.get(f"{PATH}/new")
async def new(request: Request, conn: Conn, q: str = "") -> Response:
    return await _respond(
        request, conn, q=q, detail=await _form(conn, employee_store.new_values()), selected_id="",
        url=with_query(f"{PATH}/new", q), title=f"New {NOUN} · {TITLE}",
    )


@router.get(f"{PATH}/{{record_id}}")
async def show(
    request: Request, conn: Conn, record_id: str, q: str = ""
) -> Response:
    record = await get_or_404(employee_store.get, conn, record_id)
    return await _respond(
        request, conn, q=q, detail=_show(record), selected_id=str(record["id"]),
        url=with_query(f"{PATH}/{record['id']}", q), title=f"{record[LABEL]} · {TITLE}",
    )


@router.get(f"{PATH}/{{record_id}}/edit")
async def edit(
    request: Request, conn: Conn, record_id: str, q: str = ""
) -> Response:
    record = await get_or_404(employee_store.get, conn, record_id)
    detail = await _form(conn, employee_store.record_values(record), record=record)
    return await _respond(
        request, conn, q=q, detail=detail, selected_id=str(record["id"]),
        url=with_query(f"{PATH}/{record['id']}/edit", q), title=f"Edit {record[LABEL]} · {TITLE}",
    )


# Mutations: Datastar only (see require_datastar), answered with SSE patches.


async def _saved(conn: Conn, record_id: UUID, q: str, message: str) -> Response:
    record = await employee_store.get(conn, record_id)
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
    values = employee_store.form_values(await request.form())
    try:
        new_id = await employee_store.create(conn, Form.model_validate(values))
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = employee_store.constraint_errors(exc)
        if not errors:
            raise
    else:
        return await _saved(conn, new_id, q, f"{NOUN.capitalize()} created.")
    detail = await _form(conn, values, errors)
    return sse([patch(render(f"{SCREEN}/_detail.html", detail=detail, q=q))])


@router.put(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def update(request: Request, conn: Conn, record_id: str, q: str = "") -> Response:
    record_uuid = parse_id(record_id)
    record = await employee_store.get(conn, record_uuid) if record_uuid else None
    if record is None:
        return await _gone(conn, q)
    values = employee_store.form_values(await request.form())
    try:
        await employee_store.update(conn, record["id"], Form.model_validate(values))
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = employee_store.constraint_errors(exc)
        if not errors:
            raise
    else:
        return await _saved(conn, record["id"], q, f"{NOUN.capitalize()} saved.")
    detail = await _form(conn, values, errors, record=record)
    return sse([patch(render(f"{SCREEN}/_detail.html", detail=detail, q=q))])


@router.delete(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def delete(conn: Conn, record_id: str, q: str = "") -> Response:
    record_uuid = parse_id(record_id)
    label = await employee_store.delete(conn, record_uuid) if record_uuid else None
    if label is None:
        return await _gone(conn, q)
    return sse([
        patch(render(f"{SCREEN}/_list.html", list=await _list(conn, q))),
        patch(render(f"{SCREEN}/_detail.html", detail=_empty(), q=q)),
        patch_signals({"_selectedId": ""}),
        push_url(with_query(PATH, q), TITLE),
        toast(f"Deleted {label}."),
    ])
