"""The realtime plumbing of a PostgreSQL app: the events log (its SQL is `realtime.sql`,
beside this module) and the per-table triggers that feed it.

A realtime store's table gets `"realtime_channel": <table>` in its state, and the state gets
`"realtime_log": "realtime_events"` while at least one table is realtime. Both are derived
from the flag when the state is built, and compared as entries of their own, so a head that
says `realtime: true` but predates the plumbing (no channel entry) gets it at the next
revision.

The state also records `"realtime_version"`: 1 (absent) is the commit-ordered log of earlier
dsgen versions (one advisory lock, `realtime_order()`, serialised every realtime writer);
2 is the snapshot-ordered log (`xid` per event, no lock). A head at version 1 gets an
`UpgradeRealtimeLog` at its next revision.
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
REALTIME_VERSION = 2
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
        state["realtime_version"] = REALTIME_VERSION
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
    """The realtime events log's statements: `up` creates it, `down` drops it, `upgrade`
    turns a version-1 log into this one (its `*_realtime_order` triggers dropped first),
    `downgrade` back."""
    return sql_sections(REALTIME_SQL.read_text(encoding="utf-8"))


def _order_trigger(table: str) -> Call:
    """Version 1 only: the statement trigger that took the global ordering lock."""
    return execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_order'))} "
                   f"BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quote_ident(table)} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION realtime_order()")


def _untrigger(table: str, suffix: str) -> Call:
    return execute(f"DROP TRIGGER IF EXISTS "
                   f"{quote_ident(identifier(table + '_realtime_' + suffix))} "
                   f"ON {quote_ident(table)}")


def _triggers(table: str, channel: str, version: int = REALTIME_VERSION) -> list[Call]:
    t, ch = quote_ident(table), quote_literal(channel)
    return [
        *([_order_trigger(table)] if version < 2 else []),
        execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_capture'))} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {t} "
                f"FOR EACH ROW EXECUTE FUNCTION realtime_capture({ch})"),
        execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_truncate'))} "
                f"AFTER TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION "
                f"realtime_capture({ch})"),
    ]


def _untriggers(table: str) -> list[Call]:
    return [_untrigger(table, suffix) for suffix in ("truncate", "capture", "order")]


def _log_sql(section: str) -> list[Call]:
    return [execute(sql) for sql in realtime_sql()[section]]


@dataclass(frozen=True)
class CreateRealtimeLog(Op):
    """The `realtime_events` change log, its capture/prune functions (at `version`: an
    older one only when a downgrade recreates a log that an earlier dsgen made)."""

    version: int = REALTIME_VERSION

    def summary(self) -> str:
        return f"create realtime events log {self.table} (+ functions)"

    def up(self) -> list[Any]:
        return _log_sql("up") + (_log_sql("downgrade") if self.version < 2 else [])

    def down(self) -> list[Any]:
        return DropRealtimeLog(self.table, self.version).up()


@dataclass(frozen=True)
class DropRealtimeLog(Op):
    version: int = REALTIME_VERSION

    def summary(self) -> str:
        return f"drop realtime events log {self.table} (+ functions)"

    def up(self) -> list[Any]:
        return (_log_sql("upgrade") if self.version < 2 else []) + _log_sql("down")

    def down(self) -> list[Any]:
        return CreateRealtimeLog(self.table, self.version).up()


@dataclass(frozen=True)
class UpgradeRealtimeLog(Op):
    """A version-1 log (commit order under one advisory lock) to the snapshot-ordered one;
    `tables` are the realtime tables whose ordering triggers go (and come back on down)."""

    tables: tuple[str, ...] = ()

    def summary(self) -> str:
        return (f"upgrade realtime events log {self.table}: no global lock, events ordered "
                "by transaction snapshot")

    def up(self) -> list[Any]:
        return [*(_untrigger(t, "order") for t in self.tables), *_log_sql("upgrade")]

    def down(self) -> list[Any]:
        return [*_log_sql("downgrade"), *(_order_trigger(t) for t in self.tables)]


@dataclass(frozen=True)
class EnableRealtime(Op):
    channel: str
    version: int = REALTIME_VERSION

    def summary(self) -> str:
        return f"realtime on {self.table} (triggers -> {REALTIME_LOG}, channel {self.channel})"

    def up(self) -> list[Any]:
        return _triggers(self.table, self.channel, self.version)

    def down(self) -> list[Any]:
        return _untriggers(self.table)

    def phrase(self) -> str | None:
        return f"realtime {self.table}"


@dataclass(frozen=True)
class DisableRealtime(Op):
    channel: str
    version: int = REALTIME_VERSION

    def summary(self) -> str:
        return f"realtime off {self.table} (drop its triggers)"

    def up(self) -> list[Any]:
        return _untriggers(self.table)

    def down(self) -> list[Any]:
        return _triggers(self.table, self.channel, self.version)

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
    old_version = old.get("realtime_version", 1) if had else REALTIME_VERSION
    new_version = new.get("realtime_version", 1)
    if has and not had:
        before.append(CreateRealtimeLog(has))
    old_tables, new_tables = old.get("tables", {}), new.get("tables", {})
    staying: list[str] = []
    for name in sorted(set(old_tables) | set(new_tables)):
        was = (old_tables.get(name) or {}).get("realtime_channel")
        now = (new_tables.get(name) or {}).get("realtime_channel")
        if was and was != now:
            before.append(DisableRealtime(name, was, old_version))
        if now and was != now:
            after.append(EnableRealtime(name, now, new_version))
        if was and was == now:
            staying.append(name)
    if had and has and old_version < new_version:
        before.append(UpgradeRealtimeLog(has, tuple(staying)))
    if had and not has:
        after.append(DropRealtimeLog(had, old_version))
    return before, after
