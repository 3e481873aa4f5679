"""The change log in PostgreSQL: triggers, commit-ordered ids, retention, migrations."""

import asyncio
import threading
import time

import psycopg

from app.realtime.events import Op, can_replay, current_watermark, read_changes, snapshot
from tests.support import migrate, sql


def test_every_write_is_logged_in_the_same_transaction(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO tasks (title) VALUES ('a'), ('b')")
        conn.rollback()  # rolled back: no rows, no events
        conn.execute("INSERT INTO tasks (title) VALUES ('c')")
        conn.execute("UPDATE tasks SET done = true")
        conn.execute("DELETE FROM tasks")
        conn.execute("TRUNCATE tasks")
        conn.commit()
    rows = sql(
        database_url, "SELECT channel, op, record_id IS NOT NULL FROM realtime_events ORDER BY id"
    )
    assert rows == [
        ("tasks", "INSERT", True),
        ("tasks", "UPDATE", True),
        ("tasks", "DELETE", True),
        ("tasks", "TRUNCATE", False),
    ]


def test_notify_is_an_empty_wake_up_folded_per_transaction(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN realtime_tasks")
        with psycopg.connect(database_url) as writer:
            writer.execute(
                "INSERT INTO tasks (title) SELECT 'x' || g FROM generate_series(1, 50) g"
            )
            writer.commit()
            writer.execute("INSERT INTO tasks (title) VALUES ('y')")
            writer.commit()
        notes = list(listener.notifies(timeout=0.5))
    assert [(n.channel, n.payload) for n in notes] == [("realtime_tasks", "")] * 2


def test_ids_follow_commit_order(database_url: str) -> None:
    """A writer that inserts first but commits last must not get the smaller id, or a
    reader that saw the larger id would skip it forever."""
    first = psycopg.connect(database_url)
    first.execute("INSERT INTO tasks (title) VALUES ('first')")  # holds the ordering lock
    done = threading.Event()

    def second_writer() -> None:
        with psycopg.connect(database_url) as conn:
            conn.execute("INSERT INTO tasks (title) VALUES ('second')")
            conn.commit()
        done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.3)
    assert not done.is_set(), "the second writer waits for the first to commit"
    first.commit()
    thread.join(5)
    first.close()
    assert done.is_set()
    rows = sql(
        database_url,
        """
        SELECT t.title FROM realtime_events e JOIN tasks t ON t.id = e.record_id ORDER BY e.id
    """,
    )
    assert rows == [("first",), ("second",)]
    # uuidv7 defaults are drawn after the lock too: list order == event order.
    assert sql(database_url, "SELECT title FROM tasks ORDER BY id") == [("first",), ("second",)]


def test_retention_prunes_a_prefix_and_keeps_the_newest(database_url: str) -> None:
    sql(database_url, "INSERT INTO tasks (title) SELECT 't' || g FROM generate_series(1, 5) g")
    sql(database_url, "UPDATE realtime_events SET at = now() - interval '2 days'")
    sql(database_url, "INSERT INTO tasks (title) VALUES ('recent')")  # id 6, now
    assert sql(database_url, "SELECT realtime_prune(interval '1 day')") == [(5,)]
    assert sql(database_url, "SELECT id FROM realtime_events") == [(6,)]
    # Everything old: still keeps the newest event (it anchors the watermark).
    sql(database_url, "UPDATE realtime_events SET at = now() - interval '2 days'")
    assert sql(database_url, "SELECT realtime_prune(interval '1 day')") == [(0,)]
    assert sql(database_url, "SELECT id FROM realtime_events") == [(6,)]

    async def check() -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            assert await can_replay(conn, 6)
            assert await can_replay(conn, 5)  # nothing after 5 was pruned
            assert not await can_replay(conn, 4)  # event 5 is gone
            assert await current_watermark(conn) == 6
            changes = await read_changes(conn, after=0)
            assert [(c.id, c.op) for c in changes] == [(6, Op.INSERT)]

    asyncio.run(check())


def test_snapshot_watermark_matches_the_rows(database_url: str) -> None:
    async def check() -> None:
        conn = await psycopg.AsyncConnection.connect(database_url)
        async with conn, snapshot(conn) as watermark:
            sql(database_url, "INSERT INTO tasks (title) VALUES ('later')")  # commits now
            cur = await conn.execute("SELECT count(*) FROM tasks")
            count = (await cur.fetchone())[0]  # type: ignore[index]
            assert (watermark, count) == (0, 0), "rows and id from the same moment"

    asyncio.run(check())


def test_migration_downgrade_is_clean_and_repeatable(database_url: str) -> None:
    sql(database_url, "INSERT INTO tasks (title) VALUES ('kept')")
    migrate(database_url, "0001", down=True)
    assert sql(database_url, "SELECT to_regclass('realtime_events')") == [(None,)]
    assert sql(database_url, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'realtime%'") == [
        (0,)
    ]
    assert sql(
        database_url, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tasks_realtime%'"
    ) == [(0,)]
    sql(database_url, "INSERT INTO tasks (title) VALUES ('not logged')")  # plain table again
    migrate(database_url, "head")
    sql(database_url, "UPDATE tasks SET done = true")
    assert sql(database_url, "SELECT count(*) FROM realtime_events") == [(2,)]
