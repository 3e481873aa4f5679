"""Screen `workspace` (tabs over store `note`).

The tab strip is rendered on the server, in the order saved in table `tab_orders`.
A panel is fetched the first time its tab is opened and then stays in the page, only hidden
while another tab is active, so its scroll position and unsaved input survive a switch.

A tab with `screen:` shows that screen's own page: its GET handler renders it exactly as for a
browser (see `_embedded`), and the requests made from inside the panel speak for that screen
(`_screen.html`), so its links, forms and search keep working inside the tab.
"""

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from app.db import Conn
from app.screens import companies as companies_screen
from app.screens import contacts as contacts_screen
from app.stores import note as note_store
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

router = APIRouter(tags=["workspace"])

SCREEN = "workspace"
TITLE = "Workspace"
PATH = "/workspace"
ID = "workspace"  # the prefix of this screen's element ids
SEARCH = ("title",)
ROWS_LIMIT = 100  # records listed in a panel; the filter narrows them


@dataclass(frozen=True)
class Tab:
    name: str
    title: str
    screen: str = ""  # the screen shown inside the tab; "" for this screen's own panel
    route: str = ""  # that screen's URL


TABS: tuple[Tab, ...] = (
    Tab("overview", "Overview"),
    Tab("people", "People", screen="contacts", route="/contacts"),
    Tab("companies", "Companies", screen="companies", route="/companies"),
    Tab("ideas", "Ideas & <drafts>"),
    Tab("reports", "Quarterly reports"),
    Tab("archive", "Archive"),
)
BY_NAME = {tab.name: tab for tab in TABS}
NAMES = frozenset(BY_NAME)


def url_of(tab: Tab) -> str:
    """The address of a tab (?tab= in the URL)."""
    return f"{PATH}?tab={tab.name}"


# The tab order: saved per screen in `tab_orders` (the migrations create it).


async def ordered_tabs(conn: Conn) -> list[Tab]:
    """The saved order; tabs added to the spec since then follow, in spec order."""
    cur = await conn.execute(
        'SELECT "tab" FROM "tab_orders" WHERE "screen" = %s ORDER BY "position", "tab"',
        (SCREEN,),
    )
    saved = [row["tab"] for row in await cur.fetchall() if row["tab"] in NAMES]
    return [BY_NAME[name] for name in saved] + [tab for tab in TABS if tab.name not in saved]


async def save_order(conn: Conn, names: list[str]) -> None:
    """Upsert every position, so two concurrent saves cannot collide on the primary key.

    Committed before the response: the browser may reload as soon as it sees the new order.
    """
    async with conn.transaction(), conn.cursor() as cur:
        await cur.executemany(
            'INSERT INTO "tab_orders" ("screen", "position", "tab") VALUES (%s, %s, %s) '
            'ON CONFLICT ("screen", "tab") DO UPDATE SET "position" = EXCLUDED."position"',
            [(SCREEN, position, name) for position, name in enumerate(names)],
        )
        # Rows of tabs no longer in the spec.
        await cur.execute(
            'DELETE FROM "tab_orders" WHERE "screen" = %s AND NOT ("tab" = ANY(%s))',
            (SCREEN, names),
        )


# Panel content. A tab that shows another screen gets that screen's page content.


def _page_handler(router: APIRouter, path: str) -> Callable[..., Awaitable[Response]]:
    """The GET handler that renders a screen's page."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path and "GET" in route.methods:
            return route.endpoint
    raise LookupError(f"no GET {path} route to show inside a tab")


PAGE_HANDLERS: dict[str, Callable[..., Awaitable[Response]]] = {
    "contacts": _page_handler(contacts_screen.router, "/contacts"),
    "companies": _page_handler(companies_screen.router, "/companies"),
}

# A screen's page content is one <main id="screen">; attribute values may hold ">" (`=>`).
_SCREEN_ELEMENT = re.compile(
    r"""\A\s*<main id="screen"(?P<attrs>(?:[^>"']|"[^"]*"|'[^']*')*)>(?P<body>.*)</main>\s*\Z""",
    re.DOTALL,
)


async def _embedded(request: Request, conn: Conn, tab: Tab) -> str:
    """The page content of `tab.screen`, rendered by that screen's own GET handler.

    The handler is called as for a plain browser request (no Datastar header), so it answers
    with its full page; only the page's `screen` block is kept. Its <main id="screen"> becomes
    a <div>: inside a tab it is not the page's screen, which navigation swaps by that id.
    """
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"datastar-request"]
    scope = {**request.scope, "path": tab.route, "raw_path": tab.route.encode(),
             "query_string": b"", "headers": headers}
    handler = PAGE_HANDLERS[tab.screen]
    params = inspect.signature(handler).parameters
    given = {"request": Request(scope), "conn": conn}
    response: Any = await handler(**{k: v for k, v in given.items() if k in params})
    template, context = getattr(response, "template", None), getattr(response, "context", None)
    if template is None or context is None:
        raise TypeError(f"GET {tab.route} did not answer with a page template")
    html = "".join(template.blocks["screen"](template.new_context(context)))
    match = _SCREEN_ELEMENT.match(html)
    if match is None:
        raise ValueError(f'the page of {tab.route} is not one <main id="screen"> element')
    return f"<div{match['attrs']}>{match['body']}</div>"


async def _rows(conn: Conn, q: str) -> dict[str, Any]:
    rows = await note_store.list_rows(conn, q, ROWS_LIMIT, SEARCH)
    return {"rows": rows, "q": q, "limit": ROWS_LIMIT}


async def _panel(request: Request, conn: Conn, tab: Tab) -> str:
    if tab.screen:
        return await _embedded(request, conn, tab)
    return render(f"{SCREEN}/_panel.html", tab=tab, list=await _rows(conn, ""))


# Pages (GET): the screen is a deep link (?tab=) and a Datastar target.


def _signals(tabs: list[Tab], current: Tab) -> dict[str, Any]:
    """The client-only state of the tab strip (never sent back: names start with "_")."""
    return {
        "_tabs": {
            "active": current.name,
            "order": [tab.name for tab in tabs],
            # "" not loaded yet, "loading", "loaded" or "error"; the active panel comes loaded.
            "state": {tab.name: "loaded" if tab is current else "" for tab in TABS},
            "more": [],  # the tabs that do not fit the strip (measured in the browser)
            "menu": False,
            "drag": "",
            "over": "",
            # The search of each embedded screen, for the requests made inside its panel.
            "q": {name: "" for name in PAGE_HANDLERS},
        }
    }


@router.get(PATH)
async def index(request: Request, conn: Conn, tab: str = "") -> Response:
    tabs = await ordered_tabs(conn)
    named = BY_NAME.get(tab)
    current = named or tabs[0]
    url = url_of(current) if named else PATH
    if not is_datastar(request):
        return page(
            request, f"{SCREEN}/page.html", screen=SCREEN, title=TITLE, tabs=tabs,
            current=current, panel=await _panel(request, conn, current),
            tab_signals=_signals(tabs, current),
        )
    if is_mounted(await client_signals(request), SCREEN, ""):
        # Back/forward between tabs, or this screen's own nav link: switch tabs in place; a
        # panel never opened loads as on a click.
        return sse([patch_signals({"_tabs": {"active": current.name}}), push_url(url, TITLE)])
    html = render(
        f"{SCREEN}/_screen.html", tabs=tabs, current=current,
        panel=await _panel(request, conn, current), tab_signals=_signals(tabs, current),
    )
    events = screen_events(html, screen=SCREEN, q="", selected_id="")
    events.append(push_url(url, TITLE))
    return sse(events)


@router.get(f"{PATH}/tabs/{{name}}")
async def panel(request: Request, conn: Conn, name: str) -> Response:
    """A tab's panel, fetched the first time the tab is opened."""
    tab = BY_NAME.get(name)
    if not is_datastar(request):
        return RedirectResponse(url_of(tab) if tab else PATH)
    if tab is None:
        return sse([toast("That tab no longer exists.", "error")])
    html = await _panel(request, conn, tab)
    return sse([
        patch(html, selector=f"#{ID}-panel-{tab.name}", mode="inner"),
        patch_signals({"_tabs": {"state": {tab.name: "loaded"}}}),
    ])


@router.get(f"{PATH}/tabs/{{name}}/rows")
async def rows(request: Request, conn: Conn, name: str, q: str = "") -> Response:
    """The filter box of a tab's own panel: re-render only its list."""
    tab = BY_NAME.get(name)
    if tab is None or tab.screen or not is_datastar(request):
        return RedirectResponse(url_of(tab) if tab else PATH)
    listed = await _rows(conn, q.strip())
    return sse([patch(render(f"{SCREEN}/_rows.html", tab=tab, list=listed))])


# Mutations: Datastar only (see require_datastar), answered with SSE patches.


class OrderIn(BaseModel):
    order: list[str]


@router.put(f"{PATH}/order", dependencies=[Depends(require_datastar)])
async def reorder(request: Request, conn: Conn) -> Response:
    """Save a new tab order (a drop, or Alt+Shift+arrow) and re-render the strip from it."""
    try:
        names = OrderIn.model_validate_json(await request.body()).order
    except ValidationError:
        names = []
    if sorted(names) != sorted(NAMES):
        # Not a permutation of this screen's tabs: keep the saved order, show it again.
        tabs = await ordered_tabs(conn)
        message = "That tab order could not be saved."
        return sse([patch(render(f"{SCREEN}/_tabbar.html", tabs=tabs, current=None)),
                    patch_signals({"_tabs": {"order": [t.name for t in tabs]}}),
                    toast(message, "error")])
    await save_order(conn, names)
    tabs = [BY_NAME[name] for name in names]
    return sse([
        patch(render(f"{SCREEN}/_tabbar.html", tabs=tabs, current=None)),
        patch_signals({"_tabs": {"order": names, "drag": "", "over": ""}}),
    ])
