"""The realtime plumbing of a PostgreSQL app: the events log (its SQL is `realtime.sql`,
beside this module) and the per-table triggers that feed it.

A realtime store's table gets `"realtime_channel": <table>` in its state, and the state gets
`"realtime_log": "realtime_events"` while at least one table is realtime. Both are derived
from the flag when the state is built, and compared as entries of their own, so a head that
says `realtime: true` but predates the plumbing (no channel entry) gets it at the next
revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dsgen.db.errors import MigrationError
from dsgen.db.postgres.ddl import execute
from dsgen.db.postgres.ops import Op
from dsgen.db.postgres.pysrc import Call
from dsgen.db.quote import identifier, quote_ident, quote_literal

REALTIME_LOG = "realtime_events"
REALTIME_SQL = Path(__file__).with_name("realtime.sql")


def realtime_state(state: dict) -> dict:
    """Mark realtime tables and the events log in a freshly built state (in place)."""
    channels = False
    for name, table in state["tables"].items():
        if table.get("realtime"):
            if name == REALTIME_LOG:
                raise MigrationError(f"a store's table may not be called {REALTIME_LOG!r} when "
                                     "realtime is on: rename that store")
            table["realtime_channel"] = name
            channels = True
    if channels:
        state["realtime_log"] = REALTIME_LOG
    return state


def sql_sections(text: str) -> dict[str, tuple[str, ...]]:
    """The statements of a `.sql` resource by section (`-- @name`): statements are separated
    by blank lines, `--` lines are comments, a statement's lines are joined with one space."""
    sections: dict[str, list[str]] = {}
    section: list[str] = sections.setdefault("", [])
    lines: list[str] = []

    def flush() -> None:
        if lines:
            statement = " ".join(lines)
            section.append(statement.removesuffix(";"))
            lines.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("-- @"):
            flush()
            section = sections.setdefault(line[4:].strip(), [])
        elif not line:
            flush()
        elif not line.startswith("--"):
            lines.append(line)
    flush()
    return {name: tuple(statements) for name, statements in sections.items()}


@cache
def realtime_sql() -> dict[str, tuple[str, ...]]:
    """The realtime events log's statements: `up` creates it, `down` drops it."""
    return sql_sections(REALTIME_SQL.read_text(encoding="utf-8"))


def _triggers(table: str, channel: str) -> list[Call]:
    t, ch = quote_ident(table), quote_literal(channel)
    return [
        execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_order'))} "
                f"BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t} "
                "FOR EACH STATEMENT EXECUTE FUNCTION realtime_order()"),
        execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_capture'))} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {t} "
                f"FOR EACH ROW EXECUTE FUNCTION realtime_capture({ch})"),
        execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_truncate'))} "
                f"AFTER TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION "
                f"realtime_capture({ch})"),
    ]


def _untriggers(table: str) -> list[Call]:
    return [execute(f"DROP TRIGGER IF EXISTS "
                    f"{quote_ident(identifier(table + '_realtime_' + suffix))} "
                    f"ON {quote_ident(table)}") for suffix in ("truncate", "capture", "order")]


@dataclass(frozen=True)
class CreateRealtimeLog(Op):
    """The `realtime_events` change log, its ordering/capture/prune functions."""

    def summary(self) -> str:
        return f"create realtime events log {self.table} (+ functions)"

    def up(self) -> list[Any]:
        return [execute(sql) for sql in realtime_sql()["up"]]

    def down(self) -> list[Any]:
        return DropRealtimeLog(self.table).up()


@dataclass(frozen=True)
class DropRealtimeLog(Op):
    def summary(self) -> str:
        return f"drop realtime events log {self.table} (+ functions)"

    def up(self) -> list[Any]:
        return [execute(sql) for sql in realtime_sql()["down"]]

    def down(self) -> list[Any]:
        return CreateRealtimeLog(self.table).up()


@dataclass(frozen=True)
class EnableRealtime(Op):
    channel: str

    def summary(self) -> str:
        return f"realtime on {self.table} (triggers -> {REALTIME_LOG}, channel {self.channel})"

    def up(self) -> list[Any]:
        return _triggers(self.table, self.channel)

    def down(self) -> list[Any]:
        return _untriggers(self.table)

    def phrase(self) -> str | None:
        return f"realtime {self.table}"


@dataclass(frozen=True)
class DisableRealtime(Op):
    channel: str

    def summary(self) -> str:
        return f"realtime off {self.table} (drop its triggers)"

    def up(self) -> list[Any]:
        return _untriggers(self.table)

    def down(self) -> list[Any]:
        return _triggers(self.table, self.channel)

    def phrase(self) -> str | None:
        return f"no realtime {self.table}"


def realtime_ops(old: dict, new: dict) -> tuple[list[Op], list[Op]]:
    """(ops to run before the schema ops, ops to run after them) for the realtime plumbing.

    Triggers go before their table is dropped (or the log is), come after it is created;
    the log is created first and dropped last, so every downgrade replays cleanly in reverse.
    """
    before: list[Op] = []
    after: list[Op] = []
    had, has = old.get("realtime_log"), new.get("realtime_log")
    if has and not had:
        before.append(CreateRealtimeLog(has))
    old_tables, new_tables = old.get("tables", {}), new.get("tables", {})
    for name in sorted(set(old_tables) | set(new_tables)):
        was = (old_tables.get(name) or {}).get("realtime_channel")
        now = (new_tables.get(name) or {}).get("realtime_channel")
        if was and was != now:
            before.append(DisableRealtime(name, was))
        if now and was != now:
            after.append(EnableRealtime(name, now))
    if had and not has:
        after.append(DropRealtimeLog(had))
    return before, after
