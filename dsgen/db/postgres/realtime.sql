-- The realtime plumbing of a PostgreSQL app: the `realtime_events` change log and its
-- functions. dsgen writes each statement into the migration that turns realtime on (`-- @up`)
-- or off (`-- @down`), or that brings a log made by an older dsgen to this version
-- (`-- @upgrade`, undone by `-- @downgrade`); per-table triggers are built in Python (they
-- name the table).
-- Format: statements are separated by blank lines, `--` lines are comments, and the lines of
-- a statement are joined with single spaces (a trailing `;` is dropped).
--
-- Writers never wait for each other: each event row records its transaction id (`xid`,
-- xid8: 64 bits, never wraps). A reader's position is a snapshot (`pg_current_snapshot()`);
-- the events it has not seen are those of transactions not visible in that snapshot
-- (`NOT pg_visible_in_snapshot(xid, position)`), whatever their ids. A transaction that
-- commits late with a low id is therefore still read exactly once.

-- @up

CREATE TABLE realtime_events (id bigint GENERATED ALWAYS AS IDENTITY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  channel text NOT NULL, op text NOT NULL, record_id uuid,
  at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_realtime_events PRIMARY KEY (id),
  CONSTRAINT ck_realtime_events_op CHECK (op IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')));

-- What a reader has not seen starts at its snapshot's xmin: the listener (all channels)
-- and a reconnecting browser (one channel) read index ranges.
CREATE INDEX ix_realtime_events_xid ON realtime_events (xid);

CREATE INDEX ix_realtime_events_channel_xid ON realtime_events (channel, xid)
  INCLUDE (id, op, record_id);

-- Retention finds the events older than the window.
CREATE INDEX ix_realtime_events_at ON realtime_events (at);

-- The newest transaction id whose events retention deleted (one row): a position whose
-- xmin is above it lost nothing.
CREATE TABLE realtime_horizon (one boolean NOT NULL DEFAULT true,
  pruned_through xid8 NOT NULL DEFAULT '0',
  CONSTRAINT pk_realtime_horizon PRIMARY KEY (one), CONSTRAINT ck_realtime_horizon_one CHECK (one));

INSERT INTO realtime_horizon DEFAULT VALUES;

-- The event row is written in the writer's transaction; the wake-up is only a hint.
-- PostgreSQL serialises the commits of every transaction that sent NOTIFY (one lock held
-- through the commit's WAL flush), so sessions that say `realtime.wake_after_commit=on`
-- (the app's pool) get a NOTICE naming the channel instead, once per channel and
-- transaction, and send the NOTIFY themselves after the commit; other sessions (psql, a
-- script) NOTIFY here.
CREATE FUNCTION realtime_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE channel text := TG_ARGV[0]; rid uuid; BEGIN
  IF TG_OP = 'DELETE' THEN rid := OLD.id; ELSIF TG_OP <> 'TRUNCATE' THEN rid := NEW.id;
  END IF; INSERT INTO realtime_events (channel, op, record_id) VALUES (channel, TG_OP, rid);
  IF current_setting('realtime.wake_after_commit', true) IS DISTINCT FROM 'on' THEN
  PERFORM pg_notify('realtime_' || channel, '');
  ELSIF current_setting('realtime.woken', true) IS DISTINCT FROM channel THEN
  PERFORM set_config('realtime.woken', channel, true);
  RAISE NOTICE USING MESSAGE = 'realtime_' || channel, ERRCODE = 'R0001'; END IF;
  RETURN NULL; END $$;

-- Retention: deletes the events older than `keep` of transactions every snapshot sees
-- (below the current xmin), records the newest such transaction id, one caller at a time.
CREATE FUNCTION realtime_prune(keep interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE newest xid8; deleted bigint; BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('realtime_prune', 0)) THEN RETURN 0;
  END IF; WITH gone AS (DELETE FROM realtime_events WHERE at < now() - keep
  AND xid < pg_snapshot_xmin(pg_current_snapshot()) RETURNING xid)
  SELECT max(xid), count(*) INTO newest, deleted FROM gone; IF deleted > 0 THEN
  UPDATE realtime_horizon SET pruned_through = greatest(pruned_through, newest); END IF;
  RETURN deleted; END $$;

-- @down

DROP FUNCTION realtime_prune(interval);

DROP FUNCTION realtime_capture();

DROP TABLE realtime_horizon;

DROP TABLE realtime_events;

-- @upgrade
-- From the log of earlier dsgen versions (ids handed out in commit order under one advisory lock,
-- `realtime_order()`); the per-table `*_realtime_order` triggers are dropped before this.
-- Old events get xid 0: every snapshot sees them (readers start from a snapshot anyway;
-- a page that still holds an old numeric id gets a full render).

DROP FUNCTION realtime_order();

ALTER TABLE realtime_events ADD COLUMN xid xid8 NOT NULL DEFAULT '0';

ALTER TABLE realtime_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();

DROP INDEX ix_realtime_events_channel_id;

CREATE INDEX ix_realtime_events_xid ON realtime_events (xid);

CREATE INDEX ix_realtime_events_channel_xid ON realtime_events (channel, xid)
  INCLUDE (id, op, record_id);

CREATE TABLE realtime_horizon (one boolean NOT NULL DEFAULT true,
  pruned_through xid8 NOT NULL DEFAULT '0',
  CONSTRAINT pk_realtime_horizon PRIMARY KEY (one), CONSTRAINT ck_realtime_horizon_one CHECK (one));

INSERT INTO realtime_horizon DEFAULT VALUES;

DROP FUNCTION realtime_prune(interval);

CREATE FUNCTION realtime_prune(keep interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE newest xid8; deleted bigint; BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('realtime_prune', 0)) THEN RETURN 0;
  END IF; WITH gone AS (DELETE FROM realtime_events WHERE at < now() - keep
  AND xid < pg_snapshot_xmin(pg_current_snapshot()) RETURNING xid)
  SELECT max(xid), count(*) INTO newest, deleted FROM gone; IF deleted > 0 THEN
  UPDATE realtime_horizon SET pruned_through = greatest(pruned_through, newest); END IF;
  RETURN deleted; END $$;

CREATE OR REPLACE FUNCTION realtime_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE channel text := TG_ARGV[0]; rid uuid; BEGIN
  IF TG_OP = 'DELETE' THEN rid := OLD.id; ELSIF TG_OP <> 'TRUNCATE' THEN rid := NEW.id;
  END IF; INSERT INTO realtime_events (channel, op, record_id) VALUES (channel, TG_OP, rid);
  IF current_setting('realtime.wake_after_commit', true) IS DISTINCT FROM 'on' THEN
  PERFORM pg_notify('realtime_' || channel, '');
  ELSIF current_setting('realtime.woken', true) IS DISTINCT FROM channel THEN
  PERFORM set_config('realtime.woken', channel, true);
  RAISE NOTICE USING MESSAGE = 'realtime_' || channel, ERRCODE = 'R0001'; END IF;
  RETURN NULL; END $$;

-- @downgrade
-- Back to the commit-ordered log; the per-table `*_realtime_order` triggers are created
-- after this.

DROP FUNCTION realtime_prune(interval);

CREATE FUNCTION realtime_prune(keep interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE cutoff bigint; newest bigint; deleted bigint; BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('realtime_prune', 0)) THEN RETURN 0;
  END IF; SELECT id INTO cutoff FROM realtime_events WHERE at < now() - keep
  ORDER BY at DESC LIMIT 1; SELECT max(id) INTO newest FROM realtime_events;
  IF cutoff IS NULL THEN RETURN 0; END IF; cutoff := least(cutoff, newest - 1);
  DELETE FROM realtime_events WHERE id <= cutoff; GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted; END $$;

DROP TABLE realtime_horizon;

DROP INDEX ix_realtime_events_channel_xid;

DROP INDEX ix_realtime_events_xid;

CREATE INDEX ix_realtime_events_channel_id ON realtime_events (channel, id)
  INCLUDE (op, record_id);

ALTER TABLE realtime_events DROP COLUMN xid;

CREATE FUNCTION realtime_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('realtime_events', 0)); RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION realtime_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE channel text := TG_ARGV[0]; rid uuid; BEGIN
  IF TG_OP = 'DELETE' THEN rid := OLD.id; ELSIF TG_OP <> 'TRUNCATE' THEN rid := NEW.id;
  END IF; INSERT INTO realtime_events (channel, op, record_id) VALUES (channel, TG_OP, rid);
  PERFORM pg_notify('realtime_' || channel, ''); RETURN NULL; END $$;
