"""Realtime: the `realtime_events` change log, its triggers, retention; `tasks` joins it.

Every INSERT/UPDATE/DELETE/TRUNCATE on a realtime table appends to `realtime_events` in
the same transaction and sends an empty NOTIFY on `realtime_<channel>` (a wake-up, never
the data; NOTIFY is delivered at commit, and folded when identical within a transaction).
The app's listener reads the table, not the notification, so a missed wake-up delays a
change but never loses it, and a browser resumes from the last event id it saw.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The realtime tables: (table, channel). The channel is the table's name.
REALTIME_TABLES: list[tuple[str, str]] = [("tasks", "tasks")]


def enable_realtime(table: str, channel: str) -> None:
    # BEFORE STATEMENT: take the ordering lock before the statement locks any row (or
    # draws a uuidv7 default), so writers queue up instead of deadlocking on the lock.
    op.execute(f"""
        CREATE TRIGGER {table}_realtime_order
        BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION realtime_order()
    """)
    op.execute(f"""
        CREATE TRIGGER {table}_realtime_capture
        AFTER INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION realtime_capture('{channel}')
    """)
    op.execute(f"""
        CREATE TRIGGER {table}_realtime_truncate
        AFTER TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION realtime_capture('{channel}')
    """)


def disable_realtime(table: str) -> None:
    for suffix in ("truncate", "capture", "order"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_realtime_{suffix} ON {table}")


def upgrade() -> None:
    op.execute("""
        CREATE TABLE realtime_events (
            id        bigint GENERATED ALWAYS AS IDENTITY,
            channel   text        NOT NULL,
            op        text        NOT NULL,
            record_id uuid,
            at        timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT realtime_events_pkey PRIMARY KEY (id),
            CONSTRAINT realtime_events_op_check
                CHECK (op IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'))
        )
    """)
    op.execute("""
        COMMENT ON TABLE realtime_events IS
        'Change log of realtime tables (written by triggers, read by the app listener, pruned by realtime_prune)'
    """)
    # Replay for one channel after an id (a reconnecting browser): index-only scan.
    op.execute("""
        CREATE INDEX realtime_events_channel_id_idx
        ON realtime_events (channel, id) INCLUDE (op, record_id)
    """)
    # Retention finds the newest event older than the window.
    op.execute("CREATE INDEX realtime_events_at_idx ON realtime_events (at)")

    op.execute("""
        CREATE FUNCTION realtime_order() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- One transaction at a time appends events, from its first realtime statement
            -- to its commit, so event ids are handed out in commit order: when id N is
            -- visible, no smaller id can still appear. (Transactions that NOTIFY already
            -- serialise their commits on a global lock; this extends it to the insert.)
            PERFORM pg_advisory_xact_lock(hashtextextended('realtime_events', 0));
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE FUNCTION realtime_capture() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            channel text := TG_ARGV[0];
            rid uuid;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                rid := OLD.id;
            ELSIF TG_OP <> 'TRUNCATE' THEN
                rid := NEW.id;
            END IF;
            INSERT INTO realtime_events (channel, op, record_id) VALUES (channel, TG_OP, rid);
            PERFORM pg_notify('realtime_' || channel, '');
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE FUNCTION realtime_prune(keep interval) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            cutoff bigint;
            newest bigint;
            deleted bigint;
        BEGIN
            -- Every app process calls this on a timer; one pruning at a time is enough.
            IF NOT pg_try_advisory_xact_lock(hashtextextended('realtime_prune', 0)) THEN
                RETURN 0;
            END IF;
            SELECT id INTO cutoff FROM realtime_events
            WHERE at < now() - keep ORDER BY at DESC LIMIT 1;
            SELECT max(id) INTO newest FROM realtime_events;
            IF cutoff IS NULL THEN
                RETURN 0;
            END IF;
            -- Delete a prefix of ids (so "since < oldest id" tells a client it missed
            -- pruned events) and keep the newest event (so that test keeps working).
            cutoff := least(cutoff, newest - 1);
            DELETE FROM realtime_events WHERE id <= cutoff;
            GET DIAGNOSTICS deleted = ROW_COUNT;
            RETURN deleted;
        END
        $$
    """)
    for table, channel in REALTIME_TABLES:
        enable_realtime(table, channel)


def downgrade() -> None:
    for table, _ in REALTIME_TABLES:
        disable_realtime(table)
    op.execute("DROP FUNCTION realtime_prune(interval)")
    op.execute("DROP FUNCTION realtime_capture()")
    op.execute("DROP FUNCTION realtime_order()")
    op.execute("DROP TABLE realtime_events")
