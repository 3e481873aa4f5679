"""Test helpers: an embedded PostgreSQL, migrated databases, the app in a subprocess."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
from alembic import command
from alembic.config import Config

from app.db import sqlalchemy_url, with_database

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_database(server_url: str, name: str) -> str:
    """A fresh database, migrated to head; returns its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    migrate(url, "head")
    return url


def migrate(url: str, target: str, *, down: bool = False) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    config.attributes["configure_logging"] = False
    if down:
        command.downgrade(config, target)
    else:
        command.upgrade(config, target)


def sql(url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


class AppServer:
    """`uvicorn app.main:app_factory` in a subprocess, on a fixed port across restarts."""

    def __init__(self, database_url: str, *, log_path: Path, **settings: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
        for key, value in settings.items():
            self.env[key.upper()] = str(value)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> "AppServer":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "app.main:app_factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--timeout-graceful-shutdown",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/tasks", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text()


@contextlib.contextmanager
def running(server: AppServer) -> Iterator[AppServer]:
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()


# --- reading SSE ---------------------------------------------------------------------


def split_events(text: str) -> list[str]:
    return [block for block in re.split(r"\n\n", text) if block.strip()]


def event_ids(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"^id: (\d+)$", text, flags=re.M)]


class StreamReader:
    """Reads an SSE response incrementally (httpx stream) until a condition holds."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.text = ""
        self._chunks = response.iter_text()

    def until(self, predicate: Any, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; stream so far:\n{self.text[-2000:]}")
            try:
                self.text += next(self._chunks)
            except StopIteration:
                if predicate(self.text):
                    break
                raise AssertionError(f"stream ended; so far:\n{self.text[-2000:]}") from None
        return self.text

    def rest(self) -> str:
        """Read to the end of the response (raises if the connection is cut)."""
        tail = "".join(self._chunks)
        self.text += tail
        return tail
