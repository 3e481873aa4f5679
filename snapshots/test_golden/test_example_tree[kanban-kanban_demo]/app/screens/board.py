"""Screen `board`: a kanban board.

Store `task`, one column per value of
`lane`, cards ordered within a column by
`position`.

Every GET answers twice: a full document for a normal browser request (first load, refresh,
deep link), or Datastar SSE patches for a request made by Datastar. A move is one POST; the
server checks it, writes it and answers with the whole board as it now is, so an impossible
move simply snaps back.

Writers of positions (moves, adds, column changes in the drawer) take one advisory lock per
table for their transaction: concurrent moves renumber a column one after the other, so the
positions in a column stay unique (and dense after every move).
"""

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from datastar_py.sse import DatastarEvent
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from psycopg import IntegrityError
from pydantic import ValidationError

from app.core.forms import field_errors, form_str, parse_id
from app.core.kanban import CardTable, Gone, Move, Rejected
from app.core.records import get_or_404
from app.db import Conn
from app.stores import person as person_store
from app.stores import task as task_store
from app.templating import render
from app.web import (
    client_signals,
    is_datastar,
    is_mounted,
    page,
    patch,
    patch_signals,
    push_url,
    require_datastar,
    screen_events,
    sse,
    toast,
)

router = APIRouter(tags=["board"])

SCREEN = "board"
TITLE = "Sprint board"
PATH = "/board"
NOUN = "task"
LABEL = "title"
GROUP = "lane"  # the enum field: one column per value
COLUMNS: tuple[str, ...] = task_store.LANE_VALUES
ORDER = "position"  # a card's position within its column
FIRST = 1  # the position of a column's first card
# The field's `max` bounds the positions, and so how many cards a column holds.
CAPACITY: int | None = 30
CARD_LIMIT = 200  # cards rendered per column
# A column's header counts its cards up to here, then reads "1,000+": an exact count of a
# huge column would read all of it on every render.
COUNT_CAP = 1000
EMPTY_DRAFT = {"_kanban": {"draft": ""}}  # the inline add form's text (a client-only signal)
# What the add and edit forms are validated with.
Form = task_store.TaskIn


def column_title(key: str) -> str:
    text = key.replace("_", " ")
    return text[:1].upper() + text[1:]


# Where the cards are, and how they move (app/core/kanban.py).
TABLE = CardTable(
    table="tasks",
    group=GROUP,
    label="title",
    noun=NOUN,
    columns=COLUMNS,
    title=column_title,
    position="position",
    first=FIRST,
    capacity=CAPACITY,
)


# Reading the board.


# One column's first cards, in board order through the index; app/core/kanban.py reads
# every column with it (the column's condition goes at {where}).
CARDS = """
    SELECT t."id",
           t."title",
           t."lane",
           t."position",
           t."priority",
           t."ends",
           t."assignee",
           "ref_assignee"."name"
               AS "assignee_label",
           COALESCE((
               SELECT json_agg(
                   json_build_object('id', c."id", 'label', c."name")
                   ORDER BY c."name", c."id"
               )
               FROM "task_watchers" AS link
               JOIN "people" AS c
                   ON c."id" = link."watchers_id"
               WHERE link."task_id" = t."id"
           ), '[]'::json) AS "watchers",
           t."created_at",
           t."updated_at"
    FROM "tasks" AS t
    LEFT JOIN "people" AS "ref_assignee"
        ON "ref_assignee"."id"
           = t."assignee"
    WHERE {where}
    ORDER BY t."position" NULLS LAST, t."title", t."id"
    LIMIT %(limit)s
"""


async def _board(conn: Conn) -> dict[str, Any]:
    """Every column with its first CARD_LIMIT cards and its card count ("1,000+" beyond
    COUNT_CAP). An empty column of cards without a value shows only if new cards start in it."""
    return await TABLE.read_board(
        conn, CARDS, limit=CARD_LIMIT, cap=COUNT_CAP, empty_column=False
    )


async def _insert(conn: Conn, data: Form) -> UUID:
    """Create a card, last in its column. Raises Rejected, IntegrityError."""
    key = data.lane or ""
    async with conn.transaction():
        await TABLE.lock(conn)
        ids = await TABLE.column_ids(conn, key)
        TABLE.check_room(key, len(ids) + 1)
        data = data.model_copy(update={"position": FIRST + len(ids)})
        card_id = await task_store.create(conn, data)
        await TABLE.renumber(conn, key, [*ids, card_id])
    return card_id


# Building blocks of the page: the board, and the drawer in one of its states.


def _closed() -> dict[str, Any]:
    return {"pane": "closed"}


def _show(record: dict[str, Any]) -> dict[str, Any]:
    return {"pane": "show", "record": record, "column": column_title(record[GROUP] or "")}


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
        "assignee_options": await person_store.options(conn),
        "watchers_options": await person_store.options(conn),
        "lane_choices": task_store.LANE_VALUES,
        "priority_choices": task_store.PRIORITY_VALUES,
    }


def _board_patch(board: dict[str, Any], status: str = "", **context: Any) -> DatastarEvent:
    return patch(render(f"{SCREEN}/_board.html", board=board, status=status, **context))


async def _respond(
    request: Request,
    conn: Conn,
    *,
    drawer: dict[str, Any],
    selected_id: str,
    url: str,
    title: str,
) -> Response:
    if not is_datastar(request):
        return page(
            request, f"{SCREEN}/page.html", screen=SCREEN, title=title,
            selected_id=selected_id, board=await _board(conn), drawer=drawer,
        )
    signals = await client_signals(request)
    if is_mounted(signals, SCREEN, ""):
        events = [
            patch(render(f"{SCREEN}/_drawer.html", drawer=drawer)),
            patch_signals({"_selectedId": selected_id}),
        ]
    else:
        html = render(
            f"{SCREEN}/_screen.html", board=await _board(conn), drawer=drawer,
            selected_id=selected_id,
        )
        events = screen_events(html, screen=SCREEN, q="", selected_id=selected_id)
    events.append(push_url(url, title))
    return sse(events)


def _new_url(column: str) -> str:
    """The address of the new-card form, starting in `column` (kept on refresh)."""
    return f"{PATH}/new?{urlencode({'column': column})}" if column else f"{PATH}/new"


# Pages (GET): each URL is a deep link and a Datastar target.


@router.get(PATH)
async def index(request: Request, conn: Conn) -> Response:
    return await _respond(
        request, conn, drawer=_closed(), selected_id="", url=PATH, title=TITLE
    )


@router.get(f"{PATH}/new")
async def new(request: Request, conn: Conn, column: str = "") -> Response:
    """The full form for a new card (in the drawer), starting in `column`."""
    values = task_store.new_values()
    if column in COLUMNS:
        values[GROUP] = column
    return await _respond(
        request, conn, drawer=await _form(conn, values), selected_id="",
        url=_new_url(column if column in COLUMNS else ""), title=f"New {NOUN} · {TITLE}",
    )


@router.get(f"{PATH}/{{record_id}}")
async def show(request: Request, conn: Conn, record_id: str) -> Response:
    record = await get_or_404(task_store.get, conn, record_id)
    return await _respond(
        request, conn, drawer=_show(record), selected_id=str(record["id"]),
        url=f"{PATH}/{record['id']}", title=f"{record[LABEL]} · {TITLE}",
    )


@router.get(f"{PATH}/{{record_id}}/edit")
async def edit(request: Request, conn: Conn, record_id: str) -> Response:
    record = await get_or_404(task_store.get, conn, record_id)
    drawer = await _form(conn, task_store.record_values(record), record=record)
    return await _respond(
        request, conn, drawer=drawer, selected_id=str(record["id"]),
        url=f"{PATH}/{record['id']}/edit", title=f"Edit {record[LABEL]} · {TITLE}",
    )


# Mutations: Datastar only (see require_datastar), answered with SSE patches.


@router.post(f"{PATH}/move", dependencies=[Depends(require_datastar)])
async def move(request: Request, conn: Conn) -> Response:
    """One drop or move button: the server decides, the board shows the outcome."""
    try:
        intent = Move.model_validate_json(await request.body())
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail="Expected {card, column, before}.") from exc
    try:
        status = await TABLE.move(conn, intent)
    except Rejected as exc:
        return sse([_board_patch(await _board(conn)), toast(str(exc), "error")])
    return sse([_board_patch(await _board(conn), status)])


@router.post(f"{PATH}/cards", dependencies=[Depends(require_datastar)])
async def quick_add(request: Request, conn: Conn) -> Response:
    """A column's inline form: just the label. Other required fields open the full form."""
    form = await request.form()
    key = form_str(form, GROUP)
    text = form_str(form, LABEL)
    # The position is the server's to choose (_insert places the card last): a placeholder
    # within its bounds, so a required position field does not send the card to the full form.
    values = {**task_store.new_values(), ORDER: FIRST, LABEL: text, GROUP: key}
    if key not in COLUMNS:
        error = toast("That column does not exist.", "error")
        return sse([_board_patch(await _board(conn)), error])
    try:
        card_id = await _insert(conn, Form.model_validate(values))
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = task_store.constraint_errors(exc)
        if not errors:
            raise
    except Rejected as exc:
        return sse([_board_patch(await _board(conn)), toast(str(exc), "error")])
    else:
        card = await task_store.get(conn, card_id)
        assert card is not None
        status = f"Added “{card[LABEL]}” to {column_title(key)}."
        # The inline form stays open, emptied for the next card.
        return sse([_board_patch(await _board(conn), status), patch_signals(EMPTY_DRAFT)])
    if LABEL in errors:
        quick = {"column": key, "value": text, "error": errors.get(LABEL, "")}
        return sse([_board_patch(await _board(conn), quick=quick)])
    # Required fields the inline form does not have: continue in the full form, text kept.
    drawer = await _form(conn, values, errors)
    return sse([
        patch(render(f"{SCREEN}/_drawer.html", drawer=drawer)),
        patch_signals({"_selectedId": "", "_kanban": {"adding": False, "draft": ""}}),
        push_url(_new_url(key), f"New {NOUN} · {TITLE}"),
    ])


async def _saved(conn: Conn, card_id: UUID, message: str) -> Response:
    record = await task_store.get(conn, card_id)
    assert record is not None
    return sse([
        _board_patch(await _board(conn)),
        patch(render(f"{SCREEN}/_drawer.html", drawer=_show(record))),
        patch_signals({"_selectedId": str(card_id)}),
        push_url(f"{PATH}/{card_id}", f"{record[LABEL]} · {TITLE}"),
        toast(message),
    ])


async def _gone(conn: Conn) -> Response:
    """The card vanished (deleted elsewhere): refresh the board, close the drawer."""
    return sse([
        _board_patch(await _board(conn)),
        patch(render(f"{SCREEN}/_drawer.html", drawer=_closed())),
        patch_signals({"_selectedId": ""}),
        push_url(PATH, TITLE),
        toast(f"That {NOUN} no longer exists.", "error"),
    ])


@router.post(PATH, dependencies=[Depends(require_datastar)])
async def create(request: Request, conn: Conn) -> Response:
    """The drawer's full form for a new card; it goes last in its column."""
    values = task_store.form_values(await request.form())
    values[ORDER] = str(FIRST)  # a placeholder: the server decides the position
    try:
        card_id = await _insert(conn, Form.model_validate(values))
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = task_store.constraint_errors(exc)
        if not errors:
            raise
    except Rejected as exc:
        errors = {GROUP: str(exc)}
    else:
        return await _saved(conn, card_id, f"{NOUN.capitalize()} created.")
    drawer = await _form(conn, values, errors)
    return sse([patch(render(f"{SCREEN}/_drawer.html", drawer=drawer))])


@router.put(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def update(request: Request, conn: Conn, record_id: str) -> Response:
    """The drawer's edit form. A new column puts the card last in that column."""
    card_id = parse_id(record_id)
    values = task_store.form_values(await request.form())
    record: dict[str, Any] | None = None
    try:
        async with conn.transaction():
            await TABLE.lock(conn)
            record = await task_store.get(conn, card_id) if card_id else None
            if record is None:
                raise Gone
            # The form has no position field: keep the card's position.
            position = record[ORDER]
            values[ORDER] = "" if position is None else str(position)
            data = Form.model_validate(values)
            await task_store.update(conn, record["id"], data)
            source, key = record[GROUP] or "", data.lane or ""
            if source != key:
                await TABLE.place(conn, record["id"], source, key, None)
    except Gone:
        return await _gone(conn)
    except ValidationError as exc:
        errors = field_errors(exc)
    except IntegrityError as exc:
        errors = task_store.constraint_errors(exc)
        if not errors:
            raise
    except Rejected as exc:
        errors = {GROUP: str(exc)}
    else:
        return await _saved(conn, record["id"], f"{NOUN.capitalize()} saved.")
    drawer = await _form(conn, values, errors, record=record)
    return sse([patch(render(f"{SCREEN}/_drawer.html", drawer=drawer))])


@router.delete(f"{PATH}/{{record_id}}", dependencies=[Depends(require_datastar)])
async def delete(conn: Conn, record_id: str) -> Response:
    record_uuid = parse_id(record_id)
    label = await task_store.delete(conn, record_uuid) if record_uuid else None
    if label is None:
        return await _gone(conn)
    return sse([
        _board_patch(await _board(conn)),
        patch(render(f"{SCREEN}/_drawer.html", drawer=_closed())),
        patch_signals({"_selectedId": ""}),
        push_url(PATH, TITLE),
        toast(f"Deleted {label}."),
    ])
