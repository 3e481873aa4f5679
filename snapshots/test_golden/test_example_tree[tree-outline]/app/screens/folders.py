"""Screen `folders` (tree over store `folder`, parent field `parent`).

The server owns the tree: it renders every level as HTML, on demand. The browser keeps only
chrome: which nodes are open (`_treeOpen`, a list of ids), the selected id, and whether a
level was fetched already (a `data-loaded` mark on its group). Expanding a node fetches its
children once; collapsing hides them; "Show more" pages through a large level with keyset
pagination. Every GET answers a normal request with the whole document (first load,
refresh, deep link: the path to the selected node is rendered open) and a Datastar request
with SSE patches.

Deleting a node deletes its whole subtree (the confirmation says how many nodes that is);
moving a node under one of its own descendants is refused (recursive CTE check).

`folder` is a realtime store: every page of this screen holds a stream (`GET
/folders/live`) that patches in changes made elsewhere (`LiveTree` at the end).
"""

from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import AsyncConnection, IntegrityError
from pydantic import ValidationError

from app import sse as stream_events
from app.core.forms import field_errors, parse_id
from app.core.live import Since, live_stream
from app.core.records import get_or_404
from app.core.tree import Level, Tree, build_tree, place_script, requested_open
from app.db import Conn
from app.realtime import Kind, NetChanges, get_realtime
from app.realtime.asgi import StreamRoute
from app.stores import folder as folder_store
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

router = APIRouter(tags=["folders"])

Form = folder_store.FolderIn
SCREEN = "folders"
TITLE = "Folders"
NOUN = "folder"
PATH = "/folders"
SCREEN_ID = "folders"  # the prefix of this screen's element ids
PARENT = "parent"  # form/record key of the parent ref
LABEL = "name"  # form/record key of the label
LABEL_ATTR = "name"  # the label's attribute on Form
PAGE_SIZE = 5  # children per level page
MAX_DEPTH = 1000  # guards the recursive queries against a cycle already in the data
MOVE_CHOICES = 500  # parents offered by the move form
# Moves of this table run one at a time, so two concurrent moves cannot build a cycle.
MOVE_LOCK = "dsgen-tree:folders"
LIVE_PATH = f"{PATH}/live"
LIVE_MAX_CHANGES = 200  # a larger burst re-renders the tree panel instead of node by node

Row = dict[str, Any]


# SQL: parameterised; every identifier quoted. Siblings sort by label, then id; the same
# key drives keyset pagination ("the rows after this id"). A line holds at most one
# table or column name, so no line outgrows the lint's 100 columns whatever the names.

_NODE_COLUMNS = """
    t."id",
    t."parent" AS "parent",
    t."name" AS "label",
    EXISTS (
        SELECT 1
        FROM "folders" AS c
        WHERE c."parent" = t."id"
    ) AS "has_children"
"""
_SORT_KEY = """(
    COALESCE(t."name"::text, ''), t."id")"""
_KEYSET = """
    AND (COALESCE(t."name"::text, ''), t."id") > (
        SELECT COALESCE(a."name"::text, ''), a."id"
        FROM "folders" AS a
        WHERE a."id" = %(after)s)
"""


def _siblings(parent: UUID | None) -> str:
    return """t."parent" IS NULL""" if parent is None else """t."parent" = %(parent)s"""


async def _level_rows(
    conn: Conn, parent: UUID | None, *, after: UUID | None = None, limit: int = PAGE_SIZE
) -> list[Row]:
    """Up to `limit` + 1 children of `parent` (None: the top level), after the node `after`."""
    keyset = _KEYSET if after is not None else ""
    cur = await conn.execute(
        f"""
        SELECT {_NODE_COLUMNS}
        FROM "folders" AS t
        WHERE {_siblings(parent)} {keyset}
        ORDER BY {_SORT_KEY}
        LIMIT %(limit)s
        """,
        {"parent": parent, "after": after, "limit": limit + 1},
    )
    return await cur.fetchall()


async def _position(conn: Conn, parent: UUID | None, node_id: UUID) -> int:
    """How many siblings sort before `node_id` (to render a deep-linked node's level far enough)."""
    cur = await conn.execute(
        f"""
        SELECT count(*) AS "n"
        FROM "folders" AS t,
             "folders" AS x
        WHERE x."id" = %(id)s AND {_siblings(parent)}
          AND {_SORT_KEY} < (
              COALESCE(x."name"::text, ''), x."id")
        """,
        {"parent": parent, "id": node_id},
    )
    row = await cur.fetchone()
    return int(row["n"]) if row else 0


async def _ancestors(conn: Conn, node_id: UUID) -> list[Row]:
    """The path from the top level down to `node_id`'s parent: id and label of each."""
    cur = await conn.execute(
        """
        WITH RECURSIVE up AS (
            SELECT t."id",
                   t."parent" AS "parent",
                   t."name" AS "label",
                   0 AS "depth"
            FROM "folders" AS t
            WHERE t."id" = %(id)s
            UNION ALL
            SELECT p."id",
                   p."parent",
                   p."name",
                   up."depth" + 1
            FROM "folders" AS p
            JOIN up ON p."id" = up."parent"
            WHERE up."depth" < %(max_depth)s
        ) CYCLE "id" SET "is_cycle" USING "seen"
        SELECT "id", "label" FROM up
        WHERE "depth" > 0 AND NOT "is_cycle"
        ORDER BY "depth" DESC
        """,
        {"id": node_id, "max_depth": MAX_DEPTH},
    )
    return await cur.fetchall()


# A node and everything below it (CYCLE: terminates even on a cycle already in the data).
_SUBTREE = """
    WITH RECURSIVE sub AS (
        SELECT t."id"
        FROM "folders" AS t
        WHERE t."id" = %(id)s
        UNION ALL
        SELECT c."id"
        FROM "folders" AS c
        JOIN sub ON c."parent" = sub."id"
    ) CYCLE "id" SET "is_cycle" USING "seen"
"""


async def _descendant_count(conn: Conn, node_id: UUID) -> int:
    cur = await conn.execute(
        f"""{_SUBTREE}
        SELECT count(DISTINCT "id") - 1 AS "n" FROM sub
        """,
        {"id": node_id},
    )
    row = await cur.fetchone()
    return max(int(row["n"]), 0) if row else 0


async def _move_choices(conn: Conn, node_id: UUID) -> list[Row]:
    """Nodes `node_id` may move under (never itself or its own subtree), by path."""
    cur = await conn.execute(
        """
        WITH RECURSIVE paths AS (
            SELECT t."id",
                   COALESCE(t."name"::text, '') AS "path",
                   0 AS "depth"
            FROM "folders" AS t
            WHERE t."parent" IS NULL
              AND t."id" <> %(id)s
            UNION ALL
            SELECT c."id",
                   paths."path" || ' / ' ||
                   COALESCE(c."name"::text, ''),
                   paths."depth" + 1
            FROM "folders" AS c
            JOIN paths ON c."parent" = paths."id"
            WHERE c."id" <> %(id)s AND paths."depth" < %(max_depth)s
        )
        SELECT "id", "path" FROM paths ORDER BY "path", "id" LIMIT %(limit)s
        """,
        {"id": node_id, "max_depth": MAX_DEPTH, "limit": MOVE_CHOICES + 1},
    )
    return await cur.fetchall()


async def _rename(conn: Conn, node_id: UUID, label: Any) -> None:
    """Write the label column only (the rest of the record stays exactly as stored)."""
    async with conn.transaction():  # a failed write rolls back only itself
        await conn.execute(
            """
            UPDATE "folders"
            SET "name" = %(label)s, "updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {"id": node_id, "label": label},
        )


class MoveError(Exception):
    """A move the tree cannot take; the message is shown to the user."""


async def _move(conn: Conn, node_id: UUID, target: UUID | None) -> None:
    """Give `node_id` a new parent (None: the top level), refusing cycles.

    After an earlier query of the request, `conn.transaction()` is a savepoint in the
    request's transaction; the routes commit explicitly, so a change is durable before the
    SSE answer (which may reach the browser before the connection returns to the pool).
    """
    if target == node_id:
        raise MoveError(f"A {NOUN} cannot be its own parent.")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(lock)s))", {"lock": MOVE_LOCK})
        if target is not None:
            cur = await conn.execute(
                f"""{_SUBTREE}
                SELECT EXISTS (SELECT 1 FROM sub WHERE "id" = %(target)s) AS "inside",
                       EXISTS (
                           SELECT 1
                           FROM "folders"
                           WHERE "id" = %(target)s
                       ) AS "exists"
                """,
                {"id": node_id, "target": target},
            )
            row = await cur.fetchone()
            assert row is not None
            if not row["exists"]:
                raise MoveError(f"That {NOUN} no longer exists.")
            if row["inside"]:
                raise MoveError(f"A {NOUN} cannot move inside its own subtree.")
        cur = await conn.execute(
            """
            UPDATE "folders"
            SET "parent" = %(target)s, "updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {"id": node_id, "target": target},
        )
        if cur.rowcount != 1:
            raise MoveError(f"That {NOUN} no longer exists.")


async def _delete_subtree(conn: Conn, node_id: UUID) -> tuple[str, int] | None:
    """Delete a node and everything below it; its label and how many rows went, or None."""
    async with conn.transaction():
        cur = await conn.execute(
            f"""{_SUBTREE}
            DELETE FROM "folders" AS t
            USING (SELECT DISTINCT "id" FROM sub) AS doomed
            WHERE t."id" = doomed."id"
            RETURNING t."id", t."name" AS "label"
            """,
            {"id": node_id},
        )
        rows = await cur.fetchall()
    label = next((r["label"] for r in rows if r["id"] == node_id), None)
    return None if not rows else (_label(label), len(rows))


async def _level(
    conn: Conn, parent: UUID | None, depth: int, *, after: UUID | None = None,
    through: UUID | None = None,
) -> Level:
    limit = PAGE_SIZE
    if through is not None:  # a deep link: show the level at least down to that node
        limit = max(limit, await _position(conn, parent, through) + 1)
    rows = await _level_rows(conn, parent, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return Level(
        key=str(parent) if parent else "root",
        depth=depth,
        nodes=rows,
        more_after=str(rows[-1]["id"]) if more else None,
    )


async def _tree(
    conn: Conn, open_ids: list[UUID], target: UUID | None = None, path: list[UUID] | None = None
) -> Tree:
    """The tree with these nodes open, showing `target` (see app/core/tree.py)."""
    return await build_tree(partial(_level, conn), open_ids, target, path)


# The detail pane: empty, one node, or the create form.


def _empty() -> dict[str, Any]:
    return {"pane": "empty"}


async def _show(
    conn: Conn, record: Row, *, move: list[Row] | None = None, move_error: str = ""
) -> dict[str, Any]:
    return {
        "pane": "show",
        "record": record,
        "ancestors": await _ancestors(conn, record["id"]),
        "descendants": await _descendant_count(conn, record["id"]),
        "move": None if move is None else move[:MOVE_CHOICES],  # once asked for
        "move_more": move is not None and len(move) > MOVE_CHOICES,
        "move_error": move_error,
    }


async def _form(
    conn: Conn,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    parent: Row | None = None,
) -> dict[str, Any]:
    return {
        "pane": "form",
        "parent": parent,
        "input": values,  # not "values": Jinja would find dict.values first
        "errors": errors or {},
    }


# Responses.


def _node(record: Row) -> Row:
    """A store record in the shape the tree's templates use."""
    return {"id": record["id"], "label": record[LABEL]}


def _node_url(node_id: Any) -> str:
    return f"{PATH}/{node_id}"


def _label(value: Any) -> str:
    """How a node's label reads in titles and messages (it may be empty)."""
    return "Untitled" if value is None or value == "" else str(value)


def _title(record: Row | None) -> str:
    return f"{_label(record[LABEL])} · {TITLE}" if record else TITLE


def _tree_events(tree: Tree, selected_id: str) -> list[Any]:
    """Re-render the whole tree panel (after a change of structure) and its open set."""
    return [
        patch(render(f"{SCREEN}/_tree.html", tree=tree, selected_id=selected_id)),
        patch_signals({"_treeOpen": tree.open_ids, "_selectedId": selected_id}),
    ]


async def _respond(
    request: Request,
    conn: Conn,
    *,
    detail: dict[str, Any],
    record: Row | None,
    url: str,
    title: str,
    open_ids: tuple[UUID, ...] = (),
    since: str,
) -> Response:
    """A page of this screen: the whole document, or the patches that bring the client there."""
    selected_id = str(record["id"]) if record else ""
    mounted = False
    if is_datastar(request):
        mounted = is_mounted(await client_signals(request), SCREEN, "")
    if mounted:
        events = [
            patch(render(f"{SCREEN}/_detail.html", detail=detail)),
            patch_signals({"_selectedId": selected_id}),
        ]
    else:
        target = record["id"] if record else None
        path = [a["id"] for a in await _ancestors(conn, target)] if target else []
        tree = await _tree(conn, list(open_ids), target, path)
        if not is_datastar(request):
            return page(
                request, f"{SCREEN}/page.html", screen=SCREEN, title=title,
                selected_id=selected_id, tree=tree, detail=detail,
                live=_live(request, since),
            )
        html = render(
            f"{SCREEN}/_screen.html", tree=tree, detail=detail, selected_id=selected_id,
            live=_live(request, since),
        )
        events = [
            *screen_events(html, screen=SCREEN, q="", selected_id=selected_id),
            patch_signals({"_treeOpen": tree.open_ids}),
        ]
    events.append(push_url(url, title))
    return sse(events)


def _gone(node_id: UUID | None = None) -> Response:
    """The node vanished (deleted elsewhere): say so, and drop it from the tree."""
    events = [toast(f"That {NOUN} no longer exists.", "error")]
    if node_id is not None:
        events.insert(0, patch("", selector=f"#{SCREEN_ID}-node-{node_id}", mode="remove"))
    return sse(events)


# Pages (GET): each URL is a deep link and a Datastar target.


def _live(request: Request, since: str) -> dict[str, Any]:
    """Where the page's stream starts, and how it retries (see _live.html)."""
    return live_stream(request, LIVE_PATH, {"since": since})


@router.get(PATH)
async def index(request: Request, conn: Conn, since: Since) -> Response:
    return await _respond(
        request, conn, detail=_empty(), record=None, url=PATH, title=TITLE, since=since
    )


@router.get(f"{PATH}/new")
async def new(request: Request, conn: Conn, since: Since, parent: str = "") -> Response:
    """The create form: a top-level node, or (with ?parent=<id>) a child of that node."""
    parent_record = await get_or_404(folder_store.get, conn, parent) if parent else None
    values = folder_store.new_values()
    values[PARENT] = str(parent_record["id"]) if parent_record else ""
    detail = await _form(conn, values, parent=parent_record)
    if parent_record:
        detail["ancestors"] = [*await _ancestors(conn, parent_record["id"]), _node(parent_record)]
    url = f"{PATH}/new?parent={parent_record['id']}" if parent_record else f"{PATH}/new"
    return await _respond(
        request, conn, detail=detail, record=parent_record, url=url,
        title=f"New {NOUN} · {TITLE}", open_ids=(parent_record["id"],) if parent_record else (),
        since=since,
    )


@router.get(LIVE_PATH)
async def live(request: Request) -> Response:
    """The page's realtime stream (see `LiveTree`). In production app/realtime/asgi.py
    answers this path in front of FastAPI (`STREAM` below); this route serves the tests."""
    return get_realtime(request).stream(request, SCREEN, _stream_key(request))


@router.get(f"{PATH}/{{node_id}}/children")
async def children(
    request: Request, conn: Conn, node_id: str, after: str = ""
) -> Response:
    """One page of a level (`root` is the top level): lazy expand and "Show more"."""
    parent = None if node_id == "root" else parse_id(node_id)
    if node_id != "root" and parent is None:
        raise HTTPException(status_code=404)
    if not is_datastar(request):
        return RedirectResponse(_node_url(parent) if parent else PATH)
    after_id = parse_id(after) if after else None
    depth = 1
    if parent is not None:
        if await folder_store.get(conn, parent) is None:
            return _gone(parent)
        depth = len(await _ancestors(conn, parent)) + 2
    level = await _level(conn, parent, depth, after=after_id)
    if after_id is None:  # first open: the whole group, marked loaded
        html = render(f"{SCREEN}/_group.html", level=level, open=True, selected_id="")
        return sse([patch(html)])
    key = level.key
    return sse([
        patch("", selector=f"#{SCREEN_ID}-more-{key}", mode="remove"),
        patch(
            render(f"{SCREEN}/_items.html", level=level, selected_id=""),
            selector=f"#{SCREEN_ID}-group-{key}", mode="append",
        ),
    ])


@router.get(f"{PATH}/{{node_id}}")
async def show(request: Request, conn: Conn, since: Since, node_id: str) -> Response:
    record = await get_or_404(folder_store.get, conn, node_id)
    return await _respond(
        request, conn, detail=await _show(conn, record), record=record,
        url=_node_url(record["id"]), title=_title(record), since=since,
    )


@router.get(f"{PATH}/{{node_id}}/move")
async def move_form(
    request: Request, conn: Conn, since: Since, node_id: str
) -> Response:
    """The detail pane with the move form open (the choices are fetched only now)."""
    record = await get_or_404(folder_store.get, conn, node_id)
    detail = await _show(conn, record, move=await _move_choices(conn, record["id"]))
    return await _respond(
        request, conn, detail=detail, record=record, url=_node_url(record["id"]),
        title=_title(record), since=since,
    )


@router.get(f"{PATH}/{{node_id}}/rename")
async def rename_form(request: Request, conn: Conn, node_id: str) -> Response:
    """Swap the node's row in the tree for an inline rename field."""
    record = await get_or_404(folder_store.get, conn, node_id)
    if not is_datastar(request):
        return RedirectResponse(_node_url(record["id"]))
    return sse([patch(render(
        f"{SCREEN}/_name.html", n=_node(record), editing=True, draft=record[LABEL], error=""
    ))])


@router.get(f"{PATH}/{{node_id}}/row")
async def row(request: Request, conn: Conn, node_id: str) -> Response:
    """The node's row as it normally shows (cancels an inline rename)."""
    record = await get_or_404(folder_store.get, conn, node_id)
    if not is_datastar(request):
        return RedirectResponse(_node_url(record["id"]))
    html = render(f"{SCREEN}/_name.html", n=_node(record), editing=False, refocus=True)
    return sse([patch(html)])


# Mutations: Datastar only (see require_datastar), answered with SSE patches. The client
# names its open nodes (?open=id,id,…) so a re-rendered tree keeps them open.

OpenIds = Annotated[str, Query(alias="open")]


async def _changed(conn: Conn, record: Row, open_ids: list[UUID], message: str) -> Response:
    """After a change of structure: the tree with the path to `record` open, its detail."""
    detail = await _show(conn, record)
    path = [a["id"] for a in detail["ancestors"]]
    selected_id = str(record["id"])
    tree = await _tree(conn, open_ids, record["id"], path)
    return sse([
        *_tree_events(tree, selected_id),
        patch(render(f"{SCREEN}/_detail.html", detail=detail)),
        push_url(_node_url(record["id"]), _title(record)),
        toast(message),
    ])


@router.post(PATH, dependencies=[Depends(require_datastar)])
async def create(request: Request, conn: Conn, opened: OpenIds = "") -> Response:
    values = folder_store.form_values(await request.form())
    parent_id = parse_id(values[PARENT]) if values[PARENT] else None
    parent_record = await folder_store.get(conn, parent_id) if parent_id else None
    errors: dict[str, str] = {}
    if values[PARENT] and parent_record is None:
        errors = {"__all__": f"The parent {NOUN} no longer exists."}
    else:
        try:
            new_id = await folder_store.create(conn, Form.model_validate(values))
        except ValidationError as exc:
            errors = field_errors(exc)
        except IntegrityError as exc:
            errors = folder_store.constraint_errors(exc)
            if not errors:
                raise
        else:
            await conn.commit()  # durable before the browser hears of it (see _move)
            record = await folder_store.get(conn, new_id)
            assert record is not None
            keep = requested_open(opened) + ([parent_id] if parent_id else [])
            return await _changed(conn, record, keep, f"{NOUN.capitalize()} created.")
    detail = await _form(conn, values, errors, parent=parent_record)
    if parent_record:
        detail["ancestors"] = [*await _ancestors(conn, parent_record["id"]), _node(parent_record)]
    return sse([patch(render(f"{SCREEN}/_detail.html", detail=detail))])


@router.put(f"{PATH}/{{node_id}}/label", dependencies=[Depends(require_datastar)])
async def rename(request: Request, conn: Conn, node_id: str) -> Response:
    """Inline rename: validated with the store's own rules for the label field."""
    record_id = parse_id(node_id)
    record = await folder_store.get(conn, record_id) if record_id else None
    if record is None:
        return _gone(record_id)
    form = await request.form()
    raw = form.get("label")
    draft = raw if isinstance(raw, str) else ""
    data = Form.model_construct()
    error = ""
    try:
        # Only the label changes: validate that one field as the store's model would.
        Form.__pydantic_validator__.validate_assignment(data, LABEL_ATTR, draft)
        await _rename(conn, record["id"], getattr(data, LABEL_ATTR))
        await conn.commit()
    except ValidationError as exc:
        # A blank label fails as "missing" (blank means no value): say it as the form does.
        blank = not draft.strip()
        error = "This field is required." if blank else next(iter(field_errors(exc).values()))
    except IntegrityError as exc:
        error = folder_store.constraint_errors(exc).get(LABEL, "")
        if not error:
            raise
    if error:
        return sse([patch(render(
            f"{SCREEN}/_name.html", n=_node(record), editing=True, draft=draft, error=error
        ))])
    record = await folder_store.get(conn, record["id"])
    if record is None:
        return _gone(record_id)
    return sse([
        patch(render(f"{SCREEN}/_name.html", n=_node(record), editing=False, refocus=True)),
        patch(render(f"{SCREEN}/_detail.html", detail=await _show(conn, record))),
        patch_signals({"_selectedId": str(record["id"])}),
        push_url(_node_url(record["id"]), _title(record)),
        toast(f"Renamed to {_label(record[LABEL])}."),
    ])


@router.post(f"{PATH}/{{node_id}}/move", dependencies=[Depends(require_datastar)])
async def move(conn: Conn, node_id: str, parent: str = "", opened: OpenIds = "") -> Response:
    """Move a node under `parent` (empty: to the top level); cycles are refused."""
    record_id = parse_id(node_id)
    record = await folder_store.get(conn, record_id) if record_id else None
    if record is None:
        return _gone(record_id)
    target = parse_id(parent) if parent else None
    try:
        if parent and target is None:
            raise MoveError(f"That {NOUN} no longer exists.")
        await _move(conn, record["id"], target)
        await conn.commit()
    except MoveError as exc:
        detail = await _show(conn, record, move=await _move_choices(conn, record["id"]),
                             move_error=str(exc))
        return sse([
            patch(render(f"{SCREEN}/_detail.html", detail=detail)),
            toast(str(exc), "error"),
        ])
    except IntegrityError:  # the new parent was deleted meanwhile
        return sse([toast(f"That {NOUN} no longer exists.", "error")])
    record = await folder_store.get(conn, record["id"])
    assert record is not None
    keep = requested_open(opened) + ([target] if target else [])
    where = "the top level" if target is None else "its new parent"
    return await _changed(conn, record, keep, f"Moved {_label(record[LABEL])} to {where}.")


@router.delete(f"{PATH}/{{node_id}}", dependencies=[Depends(require_datastar)])
async def delete(conn: Conn, node_id: str, opened: OpenIds = "") -> Response:
    """Delete a node with its whole subtree (the confirmation dialog said how many)."""
    record_id = parse_id(node_id)
    try:
        deleted = await _delete_subtree(conn, record_id) if record_id else None
        await conn.commit()
    except IntegrityError:
        return sse([toast(
            f"This {NOUN} or one below it is still referred to elsewhere; nothing was deleted.",
            "error",
        )])
    if deleted is None:
        return _gone(record_id)
    label, n = deleted
    tree = await _tree(conn, requested_open(opened))
    also = f" and {n - 1} below it" if n > 1 else ""
    return sse([
        *_tree_events(tree, ""),
        patch(render(f"{SCREEN}/_detail.html", detail=_empty())),
        push_url(PATH, TITLE),
        toast(f"Deleted {label}{also}."),
    ])


# Realtime: how changes to `folders` reach the open pages of this screen.


def _stream_key(request: Request) -> str:
    """One group for every page: nothing in the URL changes which nodes a page may show
    (which levels are open is the page's own chrome, and changes without a request)."""
    return ""


async def _placements(conn: AsyncConnection[Any], ids: list[UUID]) -> list[Row]:
    """Each node of `ids` as the tree shows it, with the sibling it now follows (`after`,
    None: first of its level), in tree order within each level."""
    cur = await conn.execute(
        f"""
        SELECT {_NODE_COLUMNS},
            (SELECT p."id"
             FROM "folders" AS p
             WHERE (p."parent"
                    = t."parent"
                    OR (p."parent" IS NULL
                        AND t."parent" IS NULL))
               AND (COALESCE(p."name"::text, ''), p."id") < {_SORT_KEY}
             ORDER BY COALESCE(p."name"::text, '') DESC, p."id" DESC
             LIMIT 1) AS "after"
        FROM "folders" AS t
        WHERE t."id" = ANY(%(ids)s)
        ORDER BY {_SORT_KEY}
        """,
        {"ids": ids},
    )
    return await cur.fetchall()


class LiveTree:
    """The `ChannelView` of this screen (app/realtime/hub.py).

    Pages differ in which levels they have loaded (and how far down each), so a frame is
    per node, by id, and each page applies what fits: a deleted node is removed; a changed
    node is put after the sibling it now follows (or first in its level) when that level is
    loaded on the page and that sibling shows there, and removed from the page otherwise.
    A node that stays in its level is *moved*, not re-rendered, so its loaded children,
    open state and keyboard focus stay; its row is morphed, unless it is being renamed
    inline there. The new parent's row gets its toggle (and an empty group to open); the
    detail pane of a changed node follows it. See the README ("Live") for the choices.
    """

    name = SCREEN
    channel = "folders"

    async def render_changes(
        self, conn: AsyncConnection[Any], changes: NetChanges, key: str
    ) -> list[str]:
        if changes.reset or len(changes.kinds) > LIVE_MAX_CHANGES:
            return await self.render_all(conn, key)
        deleted = [i for i, kind in changes.kinds.items() if kind is Kind.DELETED]
        placed = await _placements(
            conn, [i for i, kind in changes.kinds.items() if kind is not Kind.DELETED]
        )
        parent_ids = {r["parent"] for r in placed if r["parent"] is not None}
        parents = await _placements(conn, sorted(parent_ids - {r["id"] for r in placed}))
        depth: dict[UUID, int] = {}
        for node in [*parents, *placed]:
            depth[node["id"]] = len(await _ancestors(conn, node["id"])) + 1
        events = []
        if deleted:
            events.append(stream_events.remove_elements(
                ", ".join(f"#{SCREEN_ID}-node-{i}" for i in sorted(deleted))
            ))
        if placed or parents:
            html = render(
                f"{SCREEN}/_place.html", placed=placed, parents=parents, depth=depth,
                selected_id="",
            )
            events.append(stream_events.patch_elements(
                html, selector=f"#{SCREEN_ID}-live-box", mode="append"
            ))
            events.append(stream_events.execute_script(place_script(SCREEN_ID)))
        for node in [*parents, *placed]:
            # The row (label, toggle), unless the page is renaming that node inline.
            html = render(
                f"{SCREEN}/_row.html", n=node, depth=depth[node["id"]], selected_id=""
            )
            events.append(stream_events.patch_elements(
                html, selector=f"#{SCREEN_ID}-row-{node['id']}:not(:has(form))"
            ))
        events += await _detail_patches(conn, changes, [r["id"] for r in parents])
        return events

    async def render_all(self, conn: AsyncConnection[Any], key: str) -> list[str]:
        """The tree panel with its top level; open nodes load their levels again (each
        group whose node is open on the page but not loaded fetches itself)."""
        tree = await _tree(conn, [])
        html = render(f"{SCREEN}/_tree.html", tree=tree, selected_id="")
        return [stream_events.patch_elements(html, mode="replace")]


async def _detail_patches(
    conn: AsyncConnection[Any], changes: NetChanges, parents: list[UUID]
) -> list[str]:
    """The detail of each changed node (and of a parent whose count changed), for the
    pages showing it, unless the move form is open there; a deleted node says so."""
    events = []
    for record_id in sorted({*changes.kinds, *parents}):
        kind = changes.kinds.get(record_id, Kind.UPDATED)
        if kind is Kind.CREATED:
            continue  # no page can show a node it has not seen yet
        record = await folder_store.get(conn, record_id) if kind is Kind.UPDATED else None
        if record is not None:
            html = render(f"{SCREEN}/_show.html", detail=await _show(conn, record))
        else:
            html = render(f"{SCREEN}/_gone.html", record_id=record_id)
        selector = f"#{SCREEN_ID}-show[data-record='{record_id}']:not(:has(#{SCREEN_ID}-move))"
        events.append(stream_events.patch_elements(html, selector=selector))
    return events


LIVE = LiveTree()
STREAM = StreamRoute(path=LIVE_PATH, view=SCREEN, key=_stream_key)
