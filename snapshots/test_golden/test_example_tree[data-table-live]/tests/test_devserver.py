"""`make dev` plumbing: database URL handling and idempotent database creation."""

import socket

import psycopg
import pytest

from app import devserver
from app.db import sqlalchemy_url, with_database


def test_with_database_keeps_the_socket_host():
    url = "postgresql://postgres:@/postgres?host=/tmp/pg"
    assert with_database(url, "app") == "postgresql://postgres:@/app?host=/tmp/pg"
    assert sqlalchemy_url(url).startswith("postgresql+psycopg://")


def test_ensure_database_is_idempotent(database_url):
    server_url = with_database(database_url, "postgres")
    first = devserver.ensure_database(server_url, "devserver_check")
    second = devserver.ensure_database(server_url, "devserver_check")
    assert first == second
    with psycopg.connect(first) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "devserver_check"


def test_an_explicit_database_url_wins(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/app")

    def fail():
        raise AssertionError("must not start an embedded server")

    monkeypatch.setattr(devserver, "start_embedded_postgres", fail)
    assert devserver.database_url() == "postgresql://elsewhere/app"


def test_the_embedded_url_is_exported_for_the_reloader(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(devserver, "start_embedded_postgres", lambda: "postgresql://x/app")
    assert devserver.database_url() == "postgresql://x/app"
    import os

    assert os.environ["DATABASE_URL"] == "postgresql://x/app"


def test_main_migrates_then_serves(monkeypatch):
    calls = []
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/app")
    monkeypatch.setenv("TEMPLATES_AUTO_RELOAD", "0")  # undone after the test
    monkeypatch.setattr(devserver, "migrate", lambda url: calls.append(("migrate", url)))
    monkeypatch.setattr(devserver, "watch_css", lambda: None)
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(("run", app, kw["reload"])))
    devserver.main(["--port", "9999"])
    assert calls == [("migrate", "postgresql://x/app"), ("run", "app.main:app", True)]
    # The reloader's worker re-reads edited templates (app/templating.py).
    import os

    assert os.environ["TEMPLATES_AUTO_RELOAD"] == "1"


def test_migrate_only_does_not_serve(monkeypatch):
    calls = []
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/app")
    monkeypatch.setattr(devserver, "migrate", lambda url: calls.append(("migrate", url)))
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(("run", app)))
    devserver.main(["--migrate-only"])
    assert calls == [("migrate", "postgresql://x/app")]


def test_a_taken_port_gets_a_friendly_message(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/app")
    monkeypatch.setattr(devserver, "migrate", lambda url: pytest.fail("must not migrate"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert devserver.port_in_use("127.0.0.1", port)
        with pytest.raises(SystemExit) as exit_:
            devserver.main(["--port", str(port)])
    assert "already in use" in str(exit_.value)
    assert f"PORT={port + 1} make dev" in str(exit_.value)
    assert not devserver.port_in_use("127.0.0.1", port)  # free again once closed


def test_the_banner_says_where_and_hides_the_password():
    text = devserver.banner("127.0.0.1", 8000, "postgresql://me:s3cret@db:5432/app")
    assert "http://127.0.0.1:8000" in text
    assert "postgresql://me:***@db:5432/app" in text
    assert "s3cret" not in text
    assert "PORT=8001 make dev" in text
