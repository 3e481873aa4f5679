"""Hostile input: what a careless or malicious client sends, on every screen of this app.

Generated from the spec: every page, every create form and every field. Whatever comes
in, the answer is never a 500, and every response carries the security headers
(app/core/security.py). The limits are those of app/core/limits.py, set small here.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tests.conftest import DATASTAR

# Every page of the app (its first address).
PAGES = ["/employees", "/assets", "/teams", "/employee-admin", "/asset-admin"]
# The CSV exports (a NUL in their filter once cut a download off mid-stream).
EXPORTS: list[str] = ["/employees/export.csv", "/assets/export.csv"]
# Screens whose full store form creates a record with a POST to the screen's address, with the
# store's fields as a browser sends them (valid sample values).
FORMS = {
    "/teams": {
        "name": "Ada <b>&</b> {{ 7*7 }}",
    },
    "/employee-admin": {
        "name": "Ada <b>&</b> {{ 7*7 }}",
        "email": "ada@example.com",
        "level": "junior",
        "salary": "50.00",
        "started": "2024-05-17",
        "remote": "on",
        "notes": "Ada <b>&</b> {{ 7*7 }}",
    },
    "/asset-admin": {
        "tag": "Ada <b>&</b> {{ 7*7 }}",
        "class": "laptop",
        "from": "Ada <b>&</b> {{ 7*7 }}",
        "weight": "50.00",
        "bought": "2024-05-17T09:30",
        "serial": "0190c8f2-7a1b-7c3d-8e4f-5a6b7c8d9e0f",
        "spec": "{\"source\": \"test\"}",
    },
}
# (screen address, field, max length or None) of every string and text field on a form.
TEXT_FIELDS = [
    ("/teams", "name", 80),
    ("/employee-admin", "name", 120),
    ("/employee-admin", "notes", None),
    ("/asset-admin", "tag", 40),
    ("/asset-admin", "from", None),
]
# (screen address, field, type) of every number and date field on a form.
BOUNDED_FIELDS = [
    ("/employee-admin", "email", "email"),
    ("/employee-admin", "salary", "decimal"),
    ("/employee-admin", "started", "date"),
    ("/asset-admin", "weight", "float"),
    ("/asset-admin", "bought", "datetime"),
]
# (screen address, field, type) of every required field on a form (a check box is never blank).
REQUIRED_FIELDS = [
    ("/teams", "name", "string"),
    ("/employee-admin", "name", "string"),
    ("/asset-admin", "tag", "string"),
]
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "\"'><svg onload=alert(1)>",
    "{{ 7*7 }} {% raw %}",
    "${alert(1)} `x` \\u2028",
    "');alert(1);('",
    "line\u2028break\u2029",
]
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


@pytest.fixture(scope="module")
def hostile_app(database_url: str) -> FastAPI:
    """The app with small limits, and one route that fails (the 500 response class)."""
    settings = Settings(
        database_url=database_url, max_body_bytes=64 * 1024, max_search_chars=50
    )
    app = create_app(settings)

    @app.get("/__boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/__json")
    async def json_answer() -> dict[str, bool]:
        # The app's own routes answer HTML, SSE and CSV; this stands for any JSON route.
        return {"ok": True}

    return app


@pytest.fixture
def raw(hostile_app: FastAPI, db: Any) -> Iterator[TestClient]:
    """A client that sees 500s as responses instead of exceptions."""
    with TestClient(hostile_app, raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


def assert_secure(response: Any) -> None:
    for name in SECURITY_HEADERS:
        assert name in response.headers, f"{name} missing on {response.request.url}"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-eval'" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


def assert_refused(response: Any, status: int) -> None:
    """A refusal: the status for a plain client, a toast (and the status in a header) for
    Datastar, which ignores the body of any non-200 response."""
    assert response.status_code != 500
    if response.request.headers.get("datastar-request") == "true":
        assert response.status_code == 200
        assert response.headers["x-refused-status"] == str(status)
        assert "datastar-patch-elements" in response.text
    else:
        assert response.status_code == status


# Security headers on every class of response.


def test_every_response_class_carries_the_security_headers(raw: TestClient) -> None:
    static = raw.get("/static/datastar.js")
    etag = {"if-none-match": static.headers["etag"]}
    responses = {
        "html": raw.get(PAGES[0]),
        "sse": raw.get(PAGES[0], headers=DATASTAR),
        "redirect": raw.get("/"),
        "static": static,
        "static-304": raw.get("/static/datastar.js", headers=etag),
        "json": raw.get("/__json"),
        "csv": raw.get("/employees/export.csv"),
        "404": raw.get("/no/such/page"),
        "404-datastar": raw.get("/no/such/page", headers=DATASTAR),
        "405": raw.patch(PAGES[0]),
        "413": raw.post(PAGES[0], content=b"x" * 70_000),
        "413-datastar": raw.post(PAGES[0], content=b"x" * 70_000, headers=DATASTAR),
        "422": raw.get(PAGES[0], params={"q": "x" * 51}),
        "500": raw.get("/__boom"),
    }
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses == {
        "html": 200, "sse": 200, "redirect": 307, "static": 200, "static-304": 304, "json": 200,
        "csv": 200,
        "404": 404, "404-datastar": 200, "405": 405, "413": 413, "413-datastar": 200, "422": 422,
        "500": 500,
    }
    for response in responses.values():
        assert_secure(response)


def test_the_nonce_is_fresh_per_request_and_placed_on_the_page(raw: TestClient) -> None:
    first, second = raw.get(PAGES[0]), raw.get(PAGES[0])
    nonces = [
        r.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
        for r in (first, second)
    ]
    assert nonces[0] != nonces[1]
    assert f'data-nonce="{nonces[0]}"' in first.text


# Request limits.


@pytest.mark.parametrize("datastar", [False, True], ids=["plain", "datastar"])
def test_an_oversize_body_is_refused(raw: TestClient, datastar: bool) -> None:
    headers = DATASTAR if datastar else {}
    path = next(iter(FORMS), PAGES[0])  # a route that would read the body
    response = raw.post(path, content=b"a=" + b"x" * 70_000, headers={
        **headers, "content-type": "application/x-www-form-urlencoded"})
    assert_refused(response, 413)


def test_an_oversize_body_without_a_length_is_cut_off(raw: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 1024

    path = next(iter(FORMS), PAGES[0])
    response = raw.post(path, content=chunks(), headers={
        **DATASTAR, "content-type": "application/x-www-form-urlencoded"})
    assert_refused(response, 413)


@pytest.mark.parametrize("path", PAGES + EXPORTS)
@pytest.mark.parametrize("query", [
    "q=a%00b", "q=%01", "datastar=%7B%22a%22%3A%22%00%22%7D", "x%00=1",
], ids=["nul-q", "control-q", "nul-signals", "nul-name"])
def test_nul_and_control_characters_in_the_address_are_refused(
    raw: TestClient, path: str, query: str
) -> None:
    response = raw.get(f"{path}?{query}")
    assert_refused(response, 400)
    assert_secure(response)


@pytest.mark.parametrize("path", PAGES)
def test_deeply_nested_signals_are_refused(raw: TestClient, path: str) -> None:
    deep = "[" * 8000 + "]" * 8000
    assert_refused(raw.get(path, params={"datastar": deep}), 400)
    assert_refused(raw.get(path, params={"datastar": deep}, headers=DATASTAR), 400)


@pytest.mark.parametrize("path", PAGES)
def test_a_long_search_is_refused(raw: TestClient, path: str) -> None:
    assert_refused(raw.get(path, params={"q": "x" * 40_000}), 422)
    assert_refused(raw.get(path, params={"q": "x" * 40_000}, headers=DATASTAR), 422)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("since", ["²", "9" * 5000, "-1", "1e9", "٣"])
def test_a_garbled_stream_position_is_not_a_server_error(
    raw: TestClient, path: str, since: str
) -> None:
    response = raw.get(path, params={"since": since})
    assert response.status_code < 500


@pytest.mark.parametrize("path", PAGES)
def test_json_signals_nested_deeply_are_not_a_server_error(raw: TestClient, path: str) -> None:
    deep = "[" * 8000 + "]" * 8000
    for method in ("post", "put"):
        response = raw.request(method, path, content=deep, headers={
            **DATASTAR, "content-type": "application/json"})
        assert response.status_code < 500


# Forms: every field of every create form.


@pytest.mark.parametrize(("path", "name", "max_length"), TEXT_FIELDS)
def test_nul_in_a_form_field_is_refused_with_a_message(
    raw: TestClient, path: str, name: str, max_length: int | None
) -> None:
    form = {**FORMS[path], name: "a\x00b"}
    response = raw.post(path, data=form, headers=DATASTAR)
    assert_refused(response, 400)
    assert "NUL" in response.text


@pytest.mark.parametrize(("path", "name", "max_length"), TEXT_FIELDS)
def test_other_control_characters_in_a_form_field_get_a_field_error(
    raw: TestClient, path: str, name: str, max_length: int | None
) -> None:
    form = {**FORMS[path], name: "a\x01b\x1bc"}
    response = raw.post(path, data=form, headers=DATASTAR)
    assert response.status_code == 200
    assert "control characters" in response.text


@pytest.mark.parametrize(("path", "name", "max_length"), TEXT_FIELDS)
def test_an_overlong_text_field_gets_a_field_error(
    raw: TestClient, path: str, name: str, max_length: int | None
) -> None:
    form = {**FORMS[path], name: "x" * ((max_length or 10_000) + 1)}
    response = raw.post(path, data=form, headers=DATASTAR)
    assert response.status_code == 200
    assert "Use at most" in response.text


@pytest.mark.parametrize(("path", "name", "kind"), REQUIRED_FIELDS)
def test_a_required_field_left_blank_gets_a_field_error(
    raw: TestClient, path: str, name: str, kind: str
) -> None:
    # JSON `null` is no value either: the column is NOT NULL.
    for blank in ["", "  ", *(["null"] if kind == "json" else [])]:
        response = raw.post(path, data={**FORMS[path], name: blank}, headers=DATASTAR)
        assert response.status_code == 200, blank
        assert "created." not in response.text, blank


@pytest.mark.parametrize(("path", "name", "kind"), BOUNDED_FIELDS)
def test_out_of_range_values_get_a_field_error(
    raw: TestClient, path: str, name: str, kind: str
) -> None:
    values = {
        "int": ["2147483648", "-2147483649", "9" * 40],
        "decimal": ["1" + "0" * 30, "1e400"],
        "float": ["1e400", "nan"],
        "date": ["0001-01-01", "9999-12-31", "0999-12-31"],
        "datetime": ["0001-01-01T00:00", "9999-12-31T23:59"],
        "email": ["a" * 320 + "@example.com"],
    }[kind]
    for value in values:
        response = raw.post(path, data={**FORMS[path], name: value}, headers=DATASTAR)
        assert response.status_code == 200, value
        assert "created." not in response.text, value


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize(("path", "name", "max_length"), TEXT_FIELDS)
def test_hostile_strings_are_stored_and_shown_escaped(
    raw: TestClient, path: str, name: str, max_length: int | None, payload: str
) -> None:
    value = payload[:max_length] if max_length else payload
    response = raw.post(path, data={**FORMS[path], name: value}, headers=DATASTAR)
    assert response.status_code == 200
    for page in PAGES:
        html = raw.get(page).text
        assert "<img src=x" not in html and "<svg onload" not in html
        for answer in (raw.get(page, headers=DATASTAR),):
            assert answer.status_code == 200
            assert "<img src=x" not in answer.text and "<svg onload" not in answer.text


def _employees_rows(db: Any, labels: list[str]) -> None:
    from tests.conftest import make

    for label in labels:  # other required and unique columns: the sample factory's
        make(db, "employees", **{"name": label[: 120]})


def test_employees_export_starts_no_formula_in_any_locale(raw: TestClient, db: Any) -> None:
    import csv
    import io
    import re

    hostile = ["=1+1", "  =2+2", "+3", "-4", "@SUM(1)", "\t=5", "a;=HYPERLINK(\"x\")",
               "b, =6", "c;  +7"]
    _employees_rows(db, hostile)
    response = raw.get("/employees/export.csv")
    assert response.status_code == 200
    assert_secure(response)
    cells = [cell for row in csv.reader(io.StringIO(response.text.lstrip("\ufeff"))) for cell in row]
    for cell in cells:
        # Read as a spreadsheet may: split at ; or , (the locale's list separator).
        for part in cell.replace(",", ";").split(";"):
            if re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", part):
                continue  # a number (a negative one in a number column) is a value
            assert not part.strip().startswith(("=", "+", "-", "@")), cell
    assert sum("'" in cell for cell in cells) >= len(hostile)


def _assets_rows(db: Any, labels: list[str]) -> None:
    from tests.conftest import make

    for label in labels:  # other required and unique columns: the sample factory's
        make(db, "assets", **{"tag": label[: 40]})


def test_assets_export_starts_no_formula_in_any_locale(raw: TestClient, db: Any) -> None:
    import csv
    import io
    import re

    hostile = ["=1+1", "  =2+2", "+3", "-4", "@SUM(1)", "\t=5", "a;=HYPERLINK(\"x\")",
               "b, =6", "c;  +7"]
    _assets_rows(db, hostile)
    response = raw.get("/assets/export.csv")
    assert response.status_code == 200
    assert_secure(response)
    cells = [cell for row in csv.reader(io.StringIO(response.text.lstrip("\ufeff"))) for cell in row]
    for cell in cells:
        # Read as a spreadsheet may: split at ; or , (the locale's list separator).
        for part in cell.replace(",", ";").split(";"):
            if re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", part):
                continue  # a number (a negative one in a number column) is a value
            assert not part.strip().startswith(("=", "+", "-", "@")), cell
    assert sum("'" in cell for cell in cells) >= len(hostile)


# Resource exhaustion: a real server (uvicorn) with small limits, and raw sockets for the
# clients that misbehave.

SMALL = {
    "pool_max_size": 3,
    "statement_timeout_ms": 2_000,
}


@pytest.fixture(scope="module")
def small_server(database_url: str) -> Iterator[tuple[str, int]]:
    import socket
    import threading
    import time

    import uvicorn

    settings = Settings(database_url=database_url, **SMALL)  # type: ignore[arg-type]
    served = create_app(settings)
    # Connections inherit the listening socket's small send buffer: a client that does not
    # read blocks the server's writes after a few kilobytes, not after megabytes.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16_384)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(served, log_level="critical"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=10)


def open_request(server: tuple[str, int], request: bytes) -> Any:
    """A socket that sent `request` and reads nothing (yet)."""
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
    sock.settimeout(5)
    sock.connect(server)
    sock.sendall(request)
    return sock


def get(path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: test", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(sock: Any) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "the server closed the connection"
        head += chunk
    return int(head.split()[1])


def timed_page(server: tuple[str, int], path: str) -> float:
    """Seconds until a normal client has the whole page (inf: not within 10 s)."""
    import time

    import httpx2

    started = time.monotonic()
    try:
        response = httpx2.get(f"http://{server[0]}:{server[1]}{path}", timeout=10)
    except httpx2.TimeoutException:
        return float("inf")
    assert response.status_code == 200
    return time.monotonic() - started


def test_slow_and_silent_clients_do_not_delay_another_page(
    small_server: tuple[str, int], db: Any
) -> None:
    """Slow-loris: clients that never finish their headers, or dribble a form's body to a
    route that needs a database connection, hold neither the server nor the pool."""
    baseline = min(timed_page(small_server, PAGES[0]) for _ in range(3))
    target = next(iter(FORMS), PAGES[0])
    loris = [open_request(small_server, b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ") for _ in range(50)]
    bodies = [
        open_request(small_server, (
            f"POST {target} HTTP/1.1\r\nHost: test\r\nDatastar-Request: true\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\nq="
        ).encode())
        for _ in range(10)
    ]
    try:
        # The best of a few tries: the machine may be busy, a starved pool never answers.
        assert min(timed_page(small_server, PAGES[0]) for _ in range(4)) < baseline + 1.0
    finally:
        for sock in loris + bodies:
            sock.close()


def test_the_statement_timeout_cancels_a_slow_query(database_url: str) -> None:
    import asyncio

    import psycopg

    from app.db import create_pool

    async def run() -> None:
        pool = create_pool(Settings(database_url=database_url, statement_timeout_ms=200))
        await pool.open(wait=True)
        try:
            async with pool.connection() as conn:
                with pytest.raises(psycopg.errors.QueryCanceled):
                    await conn.execute("SELECT pg_sleep(5)")
            async with pool.connection() as conn:  # the connection is fine afterwards
                cur = await conn.execute("SELECT 1 AS one")
                assert (await cur.fetchone())["one"] == 1  # type: ignore[index]
        finally:
            await pool.close()

    # Its own thread: the browser tests leave an event loop running in this one.
    failures: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    import threading

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(timeout=30)
    if failures:
        raise failures[0]


def test_exports_that_are_never_read_do_not_starve_the_pool(
    small_server: tuple[str, int], db: Any
) -> None:
    from tests.conftest import COLUMNS, LABELS, capacity, make_many

    # About 1 MB of CSV (far more than the server's and client's socket buffers hold): rows
    # of the sample factory, more of them where the label is not a long text.
    table = "employees"
    label = next((c for c in COLUMNS[table] if c.name == LABELS[table]), None)
    wide = label is not None and label.type in ("string", "text") and (label.high or 80) >= 80
    rows = 6000 if wide else 20000
    room = capacity(table)
    if room is not None and room < rows:
        pytest.skip(f"a unique column of {table} holds {room} values: too few rows for an "
                    "export that outlasts the socket buffers")
    make_many(db, table, rows)
    baseline = min(timed_page(small_server, "/employees") for _ in range(3))
    # More silent exports than the pool has connections.
    silent = [open_request(small_server, get("/employees/export.csv")) for _ in range(5)]
    try:
        import time

        # Once their socket buffers are full the exports wait for the clients: from then on
        # the page is back within a second of its time without them. (With a connection
        # held per silent export, it waits for the pool's 30 s timeout instead.)
        deadline = time.monotonic() + 30
        while (took := timed_page(small_server, "/employees")) >= baseline + 1.0:
            assert time.monotonic() < deadline, f"pages stay slow ({took:.1f} s)"
    finally:
        for sock in silent:
            sock.close()
