-- The realtime plumbing of a PostgreSQL app: the `realtime_events` change log and its
-- functions. dsgen writes each statement into the migration that turns realtime on (`-- @up`)
-- or off (`-- @down`); per-table triggers are built in Python (they name the table).
-- Format: statements are separated by blank lines, `--` lines are comments, and the lines of
-- a statement are joined with single spaces (a trailing `;` is dropped).

-- @up

CREATE TABLE realtime_events (id bigint GENERATED ALWAYS AS IDENTITY,
  channel text NOT NULL, op text NOT NULL, record_id uuid,
  at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_realtime_events PRIMARY KEY (id),
  CONSTRAINT ck_realtime_events_op CHECK (op IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')));

-- Replay for one channel after an id (a reconnecting browser): index-only scan.
CREATE INDEX ix_realtime_events_channel_id ON realtime_events (channel, id)
  INCLUDE (op, record_id);

-- Retention finds the newest event older than the window.
CREATE INDEX ix_realtime_events_at ON realtime_events (at);

-- One transaction at a time appends events, from its first realtime statement to its
-- commit, so event ids are handed out in commit order (a reader never skips an id).
CREATE FUNCTION realtime_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('realtime_events', 0)); RETURN NULL;
END $$;

-- The event row is written in the writer's transaction; the NOTIFY is only a wake-up.
CREATE FUNCTION realtime_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE channel text := TG_ARGV[0]; rid uuid; BEGIN
  IF TG_OP = 'DELETE' THEN rid := OLD.id; ELSIF TG_OP <> 'TRUNCATE' THEN rid := NEW.id;
  END IF; INSERT INTO realtime_events (channel, op, record_id) VALUES (channel, TG_OP, rid);
  PERFORM pg_notify('realtime_' || channel, ''); RETURN NULL; END $$;

-- Retention: deletes a prefix of ids older than `keep`, always keeps the newest event,
-- one caller at a time.
CREATE FUNCTION realtime_prune(keep interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE cutoff bigint; newest bigint; deleted bigint; BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('realtime_prune', 0)) THEN RETURN 0;
  END IF; SELECT id INTO cutoff FROM realtime_events WHERE at < now() - keep
  ORDER BY at DESC LIMIT 1; SELECT max(id) INTO newest FROM realtime_events;
  IF cutoff IS NULL THEN RETURN 0; END IF; cutoff := least(cutoff, newest - 1);
  DELETE FROM realtime_events WHERE id <= cutoff; GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted; END $$;

-- @down

DROP FUNCTION realtime_prune(interval);

DROP FUNCTION realtime_capture();

DROP FUNCTION realtime_order();

DROP TABLE realtime_events;
