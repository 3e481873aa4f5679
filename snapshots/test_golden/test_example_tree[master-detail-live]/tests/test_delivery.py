"""Delivery: gzip that flushes every streamed chunk, fingerprinted static files cached for
good, everything else revalidated."""

import asyncio
import os
import re
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from app.delivery import Compress, static_url
from app.registry import HOME_URL

GZIP = {"Accept-Encoding": "gzip"}


def test_pages_css_and_js_are_gzipped(client):
    page = client.get(HOME_URL, headers=GZIP)
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in page.headers["vary"].lower()
    assert "datastar-request" in page.headers["vary"].lower()  # the page's own Vary kept
    assert "<!doctype html>" in page.text  # the client decoded it

    for name in ("app.css", "datastar.js"):
        asset = client.get(static_url(name), headers=GZIP)
        assert asset.status_code == 200, name
        assert asset.headers["content-encoding"] == "gzip", name
        identity = client.get(static_url(name), headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in identity.headers
        assert asset.content == identity.content  # the same bytes once decoded


def test_no_gzip_unless_asked(client):
    page = client.get(HOME_URL, headers={"Accept-Encoding": "identity"})
    assert page.status_code == 200
    assert "content-encoding" not in page.headers


def test_fingerprinted_static_files_are_immutable_others_revalidated(client):
    url = static_url("datastar.js")
    assert re.fullmatch(r"/static/datastar\.js\?v=[0-9a-f]{12}", url)
    assert client.get(url).headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = client.get("/static/datastar.js")
    assert plain.headers["cache-control"] == "no-cache"
    assert plain.headers.get("etag")  # so revalidation is a cheap 304
    stale = client.get("/static/datastar.js?v=000000000000")
    assert stale.headers["cache-control"] == "no-cache"


def test_page_links_fingerprinted_assets(client):
    html = client.get(HOME_URL, follow_redirects=True).text
    assert f'href="{static_url("app.css")}"' in html
    assert f'src="{static_url("datastar.js")}"' in html


def run_asgi(app, headers: dict[str, str]) -> list[dict]:
    """Call an ASGI app once and return every message it sent."""
    scope = {
        "type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "http_version": "1.1", "scheme": "http", "server": ("test", 80), "client": ("t", 1),
        "root_path": "",
    }
    sent: list[dict] = []

    async def receive():
        await asyncio.sleep(3600)  # no request body, no disconnect during the test
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    # Its own thread and loop: Playwright's sync API may own this thread's loop already.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result(timeout=30)
    return sent


def test_streams_are_compressed_without_holding_any_event_back():
    events = [f"event: datastar-patch-elements\ndata: elements <p>{i}</p>\n\n" for i in range(3)]

    async def stream(request):
        async def body():
            for event in events:
                yield event

        return StreamingResponse(body(), media_type="text/event-stream")

    sent = run_asgi(Compress(Starlette(routes=[Route("/", stream)])), GZIP)

    start, *chunks = sent
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert b"content-length" not in headers
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    # Every event is complete in the chunk that carried it: nothing waits for the next one.
    received = [inflate.decompress(chunk["body"]).decode() for chunk in chunks]
    assert received[: len(events)] == events
    assert "".join(received) == "".join(events)


def test_small_bodies_and_unknown_types_pass_through():
    async def small(request):
        return PlainTextResponse("ok")

    sent = run_asgi(Compress(Starlette(routes=[Route("/", small)])), GZIP)
    assert b"content-encoding" not in dict(sent[0]["headers"])
    assert sent[1]["body"] == b"ok"


def test_templates_are_read_once_unless_under_make_dev():
    """Served, a template file is read once per process: checking it for changes would cost
    a stat() on every include and import (per list row, per board card). `make dev` sets
    TEMPLATES_AUTO_RELOAD=1 so that edited templates show without a restart."""
    check = "from app.templating import templates; print(templates.env.auto_reload)"

    def auto_reload(**env: str) -> str:
        environ = {k: v for k, v in os.environ.items() if k != "TEMPLATES_AUTO_RELOAD"}
        run = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-c", check],
            env={**environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    assert auto_reload() == "False"
    assert auto_reload(TEMPLATES_AUTO_RELOAD="1") == "True"
