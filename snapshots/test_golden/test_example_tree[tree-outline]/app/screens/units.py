"""Screen `units` (tree over store `unit`, parent field `from`).

The server owns the tree: it renders every level as HTML, on demand. The browser keeps only
chrome: which nodes are open (`_treeOpen`, a list of ids), the selected id, and whether a
level was fetched already (a `data-loaded` mark on its group). Expanding a node fetches its
children once; collapsing hides them; "Show more" pages through a large level with keyset
pagination. Every GET answers a normal request with the whole document (first load,
refresh, deep link: the path to the selected node is rendered open) and a Datastar request
with SSE patches.

Deleting a node deletes its whole subtree (the confirmation says how many nodes that is);
moving a node under one of its own descendants is refused (recursive CTE check).
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import IntegrityError
from pydantic import ValidationError

from app.core.forms import field_errors, parse_id
from app.core.records import get_or_404
from app.core.tree import (
    MoveError,
    Tree,
    TreeTable,
    label_text,
    requested_open,
)
from app.db import Conn
from app.stores import unit as unit_store
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

router = APIRouter(tags=["units"])

Form = unit_store.UnitIn
SCREEN = "units"
TITLE = "Org units"
NOUN = "unit"
PATH = "/units"
SCREEN_ID = "units"  # the prefix of this screen's element ids
PARENT = "from"  # form/record key of the parent ref
LABEL = "class"  # form/record key of the label
LABEL_ATTR = "class_"  # the label's attribute on Form
PAGE_SIZE = 50  # children per level page

Row = dict[str, Any]


# The queries of this tree (app/core/tree.py): siblings sort by label, then id.
TREE = TreeTable(
    table="units",
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
        "kind_choices": unit_store.KIND_VALUES,
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
            )
        html = render(
            f"{SCREEN}/_screen.html", tree=tree, detail=detail, selected_id=selected_id,
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


@router.get(PATH)
async def index(request: Request, conn: Conn) -> Response:
    return await _respond(request, conn, detail=_empty(), record=None, url=PATH, title=TITLE)


@router.get(f"{PATH}/new")
async def new(request: Request, conn: Conn, parent: str = "") -> Response:
    """The create form: a top-level node, or (with ?parent=<id>) a child of that node."""
    parent_record = await get_or_404(unit_store.get, conn, parent) if parent else None
    values = unit_store.new_values()
    values[PARENT] = str(parent_record["id"]) if parent_record else ""
    detail = await _form(conn, values, parent=parent_record)
    url = f"{PATH}/new?parent={parent_record['id']}" if parent_record else f"{PATH}/new"
    return await _respond(
        request, conn, detail=detail, record=parent_record, url=url,
        title=f"New {NOUN} · {TITLE}", open_ids=(parent_record["id"],) if parent_record else (),
    )


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
        if await unit_store.get(conn, parent) is None:
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
async def show(request: Request, conn: Conn, node_id: str) -> Response:
    record = await get_or_404(unit_store.get, conn, node_id)
    return await _respond(
        request, conn, detail=await _show(conn, record), record=record,
        url=_node_url(record["id"]), title=_title(record),
    )


@router.get(f"{PATH}/{{node_id}}/move")
async def move_form(
    request: Request, conn: Conn, node_id: str
) -> Response:
    """The detail pane with the move form open (the choices are fetched only now)."""
    record = await get_or_404(unit_store.get, conn, node_id)
    detail = await _show(conn, record, move=await TREE.move_choices(conn, record["id"]))
    return await _respond(
        request, conn, detail=detail, record=record, url=_node_url(record["id"]),
        title=_title(record),
    )


@router.get(f"{PATH}/{{node_id}}/rename")
async def rename_form(request: Request, conn: Conn, node_id: str) -> Response:
    """Swap the node's row in the tree for an inline rename field."""
    record = await get_or_404(unit_store.get, conn, node_id)
    if not is_datastar(request):
        return RedirectResponse(_node_url(record["id"]))
    return sse([patch(render(
        f"{SCREEN}/_name.html", n=_node(record), editing=True, draft=record[LABEL], error=""
    ))])


@router.get(f"{PATH}/{{node_id}}/row")
async def row(request: Request, conn: Conn, node_id: str) -> Response:
    """The node's row as it normally shows (cancels an inline rename)."""
    record = await get_or_404(unit_store.get, conn, node_id)
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
    values = unit_store.form_values(await request.form())
    parent_id = parse_id(values[PARENT]) if values[PARENT] else None
    parent_record = await unit_store.get(conn, parent_id) if parent_id else None
    errors: dict[str, str] = {}
    if values[PARENT] and parent_record is None:
        errors = {"__all__": f"The parent {NOUN} no longer exists."}
    else:
        try:
            new_id = await unit_store.create(conn, Form.model_validate(values))
        except ValidationError as exc:
            errors = field_errors(exc)
        except IntegrityError as exc:
            errors = unit_store.constraint_errors(exc)
            if not errors:
                raise
        else:
            await conn.commit()  # durable before the browser hears of it (see _move)
            record = await unit_store.get(conn, new_id)
            assert record is not None
            keep = requested_open(opened) + ([parent_id] if parent_id else [])
            return await _changed(conn, record, keep, f"{NOUN.capitalize()} created.")
    detail = await _form(conn, values, errors, parent=parent_record)
    return sse([patch(render(f"{SCREEN}/_detail.html", detail=detail))])


@router.put(f"{PATH}/{{node_id}}/label", dependencies=[Depends(require_datastar)])
async def rename(request: Request, conn: Conn, node_id: str) -> Response:
    """Inline rename: validated with the store's own rules for the label field."""
    record_id = parse_id(node_id)
    record = await unit_store.get(conn, record_id) if record_id else None
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
        error = unit_store.constraint_errors(exc).get(LABEL, "")
        if not error:
            raise
    if error:
        return sse([patch(render(
            f"{SCREEN}/_name.html", n=_node(record), editing=True, draft=draft, error=error
        ))])
    record = await unit_store.get(conn, record["id"])
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
    record = await unit_store.get(conn, record_id) if record_id else None
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
    record = await unit_store.get(conn, record["id"])
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

