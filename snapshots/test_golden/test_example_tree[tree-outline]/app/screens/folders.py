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

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import AsyncConnection, IntegrityError
from pydantic import ValidationError

from app.core.forms import field_errors, parse_id
from app.core.live import Since, live_stream
from app.core.records import get_or_404
from app.core.sse import execute_script
from app.core.tree import (
    MoveError,
    Tree,
    TreeTable,
    label_text,
    place_script,
    requested_open,
)
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
LIVE_PATH = f"{PATH}/live"
LIVE_MAX_CHANGES = 200  # a larger burst re-renders the tree panel instead of node by node

Row = dict[str, Any]


# The queries of this tree (app/core/tree.py): siblings sort by label, then id.
TREE = TreeTable(
    table="folders",
    parent=PARENT,
    label=LABEL,
    noun=NOUN,
    page_size=PAGE_SIZE,
)


# The detail pane: empty, one node, or the create form.


def _empty() -> dict[str, Any]:
    return {"pane": "empty"}


async def _show(
    conn: Conn, record: Row, *, move: list[Row] | None = None, move_error: str = ""
) -> dict[str, Any]:
    return {
        "pane": "show",
        "record": record,
        "ancestors": await TREE.ancestors(conn, record["id"]),
        "descendants": await TREE.descendant_count(conn, record["id"]),
        "move": None if move is None else move[:TREE.move_limit],  # once asked for
        "move_more": move is not None and len(move) > TREE.move_limit,
        "move_error": move_error,
    }


async def _form(
    conn: Conn,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    parent: Row | None = None,
) -> dict[str, Any]:
    ancestors = [*await TREE.ancestors(conn, parent["id"]), _node(parent)] if parent else []
    return {
        "pane": "form",
        "parent": parent,
        "ancestors": ancestors,  # the path to the new node (none at the top level)
        "input": values,  # not "values": Jinja would find dict.values first
        "errors": errors or {},
    }


# Responses.


def _node(record: Row) -> Row:
    """A store record in the shape the tree's templates use."""
    return {"id": record["id"], "label": record[LABEL]}


def _node_url(node_id: Any) -> str:
    return f"{PATH}/{node_id}"


def _title(record: Row | None) -> str:
    return f"{label_text(record[LABEL])} · {TITLE}" if record else TITLE


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
        path = [a["id"] for a in await TREE.ancestors(conn, target)] if target else []
        tree = await TREE.tree(conn, list(open_ids), target, path)
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
        depth = len(await TREE.ancestors(conn, parent)) + 2
    level = await TREE.level(conn, parent, depth, after=after_id)
    if after_id is None:  # first open: the whole group, marked loaded
        html = render(f"{SCREEN}/_group.html", level=level, open=True, selected_id="")
        return sse([patch(html)])
    key = level.key
    # A live frame may have placed some of these nodes already (made or moved here while
    # this page was read): they are taken out first, so the append never shows one twice.
    # The events arrive together and apply in one go.
    present = ", ".join(f"#{SCREEN_ID}-node-{node['id']}" for node in level.nodes)
    return sse([
        patch("", selector=f"#{SCREEN_ID}-more-{key}", mode="remove"),
        *([patch("", selector=present, mode="remove")] if present else []),
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
    detail = await _show(conn, record, move=await TREE.move_choices(conn, record["id"]))
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
    tree = await TREE.tree(conn, open_ids, record["id"], path)
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
        await TREE.rename(conn, record["id"], getattr(data, LABEL_ATTR))
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
        toast(f"Renamed to {label_text(record[LABEL])}."),
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
        await TREE.move(conn, record["id"], target)
        await conn.commit()
    except MoveError as exc:
        detail = await _show(conn, record, move=await TREE.move_choices(conn, record["id"]),
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
    return await _changed(conn, record, keep, f"Moved {label_text(record[LABEL])} to {where}.")


@router.delete(f"{PATH}/{{node_id}}", dependencies=[Depends(require_datastar)])
async def delete(conn: Conn, node_id: str, opened: OpenIds = "") -> Response:
    """Delete a node with its whole subtree (the confirmation dialog said how many)."""
    record_id = parse_id(node_id)
    try:
        deleted = await TREE.delete_subtree(conn, record_id) if record_id else None
        await conn.commit()
    except IntegrityError:
        return sse([toast(
            f"This {NOUN} or one below it is still referred to elsewhere; nothing was deleted.",
            "error",
        )])
    if deleted is None:
        return _gone(record_id)
    label, n = deleted
    tree = await TREE.tree(conn, requested_open(opened))
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
        placed = await TREE.placements(
            conn, [i for i, kind in changes.kinds.items() if kind is not Kind.DELETED]
        )
        parent_ids = {r["parent"] for r in placed if r["parent"] is not None}
        parents = await TREE.placements(conn, sorted(parent_ids - {r["id"] for r in placed}))
        depth: dict[UUID, int] = {}
        for node in [*parents, *placed]:
            depth[node["id"]] = len(await TREE.ancestors(conn, node["id"])) + 1
        events = []
        if deleted:
            selector = ", ".join(f"#{SCREEN_ID}-node-{i}" for i in sorted(deleted))
            events.append(patch("", selector=selector, mode="remove"))
        if placed or parents:
            html = render(
                f"{SCREEN}/_place.html", placed=placed, parents=parents, depth=depth,
                selected_id="",
            )
            events.append(patch(
                html, selector=f"#{SCREEN_ID}-live-box", mode="append"
            ))
            events.append(execute_script(place_script(SCREEN_ID)))
        for node in [*parents, *placed]:
            # The row (label, toggle), unless the page is renaming that node inline.
            html = render(
                f"{SCREEN}/_row.html", n=node, depth=depth[node["id"]], selected_id=""
            )
            events.append(patch(
                html, selector=f"#{SCREEN_ID}-row-{node['id']}:not(:has(form))"
            ))
        events += await _detail_patches(conn, changes, [r["id"] for r in parents])
        return events

    async def render_all(self, conn: AsyncConnection[Any], key: str) -> list[str]:
        """The tree panel with its top level; open nodes load their levels again (each
        group whose node is open on the page but not loaded fetches itself)."""
        tree = await TREE.tree(conn, [])
        html = render(f"{SCREEN}/_tree.html", tree=tree, selected_id="")
        return [patch(html, mode="replace")]


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
        events.append(patch(html, selector=selector))
    return events


LIVE = LiveTree()
STREAM = StreamRoute(path=LIVE_PATH, view=SCREEN, key=_stream_key)
