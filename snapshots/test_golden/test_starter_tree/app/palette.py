"""The command palette's route (Ctrl-K, templates/_palette.html): `GET /-/search` answers the
search box with the matching screens and records, as one Datastar patch of the results.

Which stores are searched, in which columns, and where a hit links was decided by dsgen
from dsgen.yaml: a store is searched when a screen has a page for one of its records.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.core import search
from app.db import Conn
from app.registry import NAV_ITEMS
from app.templating import render
from app.web import client_signals, patch, sse

router = APIRouter(tags=["palette"])

# A path no screen can have (a screen's route is its name, kebab-case).
SEARCH_URL = "/-/search"

SOURCES: tuple[search.Source, ...] = (
    search.Source(
        title="Contacts",
        table="contacts",
        label="name",
        columns=("name", "email"),
        url="/contacts",
    ),
    search.Source(
        title="Companies",
        table="companies",
        label="name",
        columns=("name",),
        url="/companies",
    ),
)


@router.get(SEARCH_URL)
async def palette_search(request: Request, conn: Conn) -> Response:
    """The results for the palette's text: Datastar sends it as the `q` of its payload
    (`?datastar={"q": …}`); a plain `?q=` works too."""
    signals = await client_signals(request)
    q = search.clean_query(signals.get("q", request.query_params.get("q", "")))
    screens = search.match_screens(NAV_ITEMS, q)
    groups = await search.search_records(conn, SOURCES, q)
    html = render(
        "_palette_results.html",
        q=q,
        screens=screens,
        groups=groups,
        searched=bool(SOURCES) and len(q) >= search.MIN_LENGTH,
        min_length=search.MIN_LENGTH if SOURCES else 0,
    )
    return sse([patch(html)])
