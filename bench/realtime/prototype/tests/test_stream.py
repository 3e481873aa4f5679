"""The stream over real HTTP: resume by id, retention, heartbeats, listener reconnects,
shutdown, several processes on one database."""

import contextlib
import re
import signal
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from tests.support import AppServer, StreamReader, event_ids, sql

MakeServer = Callable[..., AppServer]
ROW = re.compile(r'<li id="task-([0-9a-f-]{36})"')


def rows_in(text: str) -> list[str]:
    return ROW.findall(text)


def insert(url: str, *titles: str) -> list[str]:
    rows = sql(
        url, "INSERT INTO tasks (title) SELECT unnest(%s::text[]) RETURNING id", (list(titles),)
    )
    return [str(r[0]) for r in rows]


def last_id(text: str) -> int:
    return event_ids(text)[-1]


def page_watermark(server: AppServer) -> int:
    html = httpx.get(server.url + "/tasks").text
    return int(re.search(r"/tasks/stream\?since=(\d+)", html).group(1))  # type: ignore[union-attr]


def test_resume_replays_exactly_what_was_missed(make_server: MakeServer, database_url: str) -> None:
    server = make_server()
    with httpx.stream("GET", server.url + "/tasks/stream?since=0", timeout=10) as response:
        reader = StreamReader(response)
        reader.until(lambda t: "id: 0\n\n" in t)
        first = insert(database_url, "a", "b", "c")
        text = reader.until(lambda t: len(rows_in(t)) == 3)
        text = reader.until(lambda t: last_id(t) == 3)
    seen = last_id(text)

    # While disconnected: two creates, an update, a delete.
    later = insert(database_url, "d", "e")
    sql(database_url, "UPDATE tasks SET done = true WHERE id = %s", (first[0],))
    sql(database_url, "DELETE FROM tasks WHERE id = %s", (first[1],))

    headers = {"Last-Event-ID": str(seen)}
    with httpx.stream(
        "GET", server.url + "/tasks/stream?since=0", headers=headers, timeout=10
    ) as response:
        text = StreamReader(response).until(lambda t: "_realtime" in t)
    appended = text.split("mode append")[1].split("\n\n")[0]
    assert rows_in(appended) == later, "only the missed rows are appended, in order"
    assert f"#task-{first[1]}" in text and "mode remove" in text
    morphed = [block for block in text.split("\n\n") if "selector" not in block]
    assert any(first[0] in block and 'data-done="true"' in block for block in morphed)
    assert first[2] not in text, "untouched rows are not resent"
    assert last_id(text) == 7


def test_page_watermark_covers_changes_before_the_stream_opens(
    make_server: MakeServer, database_url: str
) -> None:
    server = make_server()
    insert(database_url, "before page")
    since = page_watermark(server)
    assert since == 1
    (created,) = insert(database_url, "between page and stream")
    with httpx.stream("GET", f"{server.url}/tasks/stream?since={since}", timeout=10) as response:
        text = StreamReader(response).until(lambda t: "_realtime" in t)
    assert rows_in(text) == [created]


@pytest.mark.parametrize(
    ("resume_from", "settings"),
    [("1", {}), ("999999", {}), ("2", {"realtime_max_replay": 2})],
    ids=["pruned", "from-the-future", "too-much-missed"],
)
def test_unknown_or_long_history_gets_a_full_render(
    make_server: MakeServer, database_url: str, resume_from: str, settings: dict[str, int]
) -> None:
    ids = insert(database_url, *[f"t{i}" for i in range(5)])
    if resume_from == "1":
        sql(database_url, "UPDATE realtime_events SET at = now() - interval '2 days'")
        sql(database_url, "SELECT realtime_prune(interval '1 day')")  # keeps only event 5
    server = make_server(**settings)
    headers = {"Last-Event-ID": resume_from}
    with httpx.stream("GET", server.url + "/tasks/stream", headers=headers, timeout=10) as response:
        text = StreamReader(response).until(lambda t: "_realtime" in t)
    assert '<ul id="task-list"' in text and "selector" not in text.split("\n\n")[0]
    assert rows_in(text) == ids
    assert event_ids(text) == [5, 5]  # the snapshot's id, then attached at the same id


def test_no_resume_point_gets_a_full_render(make_server: MakeServer, database_url: str) -> None:
    ids = insert(database_url, "x", "y")
    server = make_server()
    with httpx.stream("GET", server.url + "/tasks/stream", timeout=10) as response:
        text = StreamReader(response).until(lambda t: "_realtime" in t)
    assert rows_in(text) == ids and '"taskTotal":2' in text


def test_idle_stream_sends_heartbeats(make_server: MakeServer) -> None:
    server = make_server(realtime_heartbeat_s=0.2)
    with httpx.stream("GET", server.url + "/tasks/stream?since=0", timeout=10) as response:
        text = StreamReader(response).until(lambda t: t.count(":\n\n") >= 2, timeout=5)
    assert text.startswith("event: datastar-patch-signals")


def test_listener_reconnects_and_loses_nothing(make_server: MakeServer, database_url: str) -> None:
    server = make_server(realtime_catchup_s=1)
    with httpx.stream("GET", server.url + "/tasks/stream?since=0", timeout=20) as response:
        reader = StreamReader(response)
        reader.until(lambda t: "id: 0\n\n" in t)
        killed = sql(
            database_url,
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'realtime-listener'
        """,
        )
        assert killed == [(True,)]
        ids = insert(database_url, "while the listener was down")  # its NOTIFY is lost
        text = reader.until(lambda t: len(rows_in(t)) == 1, timeout=15)
    assert rows_in(text) == ids
    assert "reconnecting" in server.log()


def test_sigterm_ends_streams_cleanly(make_server: MakeServer) -> None:
    server = make_server()
    with httpx.stream("GET", server.url + "/tasks/stream?since=0", timeout=20) as response:
        reader = StreamReader(response)
        reader.until(lambda t: "id: 0\n\n" in t)
        t0 = time.monotonic()
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        # The response ends with the chunked terminator (httpx would raise on a cut).
        remaining = reader.rest()
        assert remaining in ("", ":\n\n")
    # uvicorn re-raises the signal once it has shut down gracefully.
    assert server.process.wait(10) in (0, -signal.SIGTERM)
    assert time.monotonic() - t0 < 5
    log = server.log()
    assert "Application shutdown complete" in log
    assert "Cancel" not in log  # not "timeout graceful shutdown exceeded"


def test_processes_share_changes_through_postgres(make_server: MakeServer) -> None:
    """Two workers, each with its own listener: a write through one reaches a stream on
    the other (no sticky sessions, no broker)."""
    a, b = make_server(), make_server()
    with httpx.stream("GET", b.url + "/tasks/stream?since=0", timeout=10) as response:
        reader = StreamReader(response)
        reader.until(lambda t: "id: 0\n\n" in t)
        created = httpx.post(
            a.url + "/tasks", json={"title": "via A"}, headers={"Datastar-Request": "true"}
        )
        assert created.json() == {"title": ""}
        text = reader.until(lambda t: "via A" in t)
    assert len(rows_in(text)) == 1


def test_mutations_require_the_datastar_header(make_server: MakeServer) -> None:
    server = make_server()
    assert httpx.post(server.url + "/tasks", json={"title": "csrf"}).status_code == 403


def test_naive_baseline_sends_a_frame_per_event(make_server: MakeServer, database_url: str) -> None:
    server = make_server(realtime_mode="naive")
    with httpx.stream("GET", server.url + "/tasks/stream?since=0", timeout=10) as response:
        reader = StreamReader(response)
        reader.until(lambda t: "id: 0\n\n" in t)
        insert(database_url, "a", "b", "c", "d")
        text = reader.until(lambda t: len(event_ids(t)) == 5)
    assert event_ids(text) == [0, 1, 2, 3, 4]


def test_retention_runs_in_the_app(make_server: MakeServer, database_url: str) -> None:
    make_server(realtime_prune_every_s=0.2, realtime_retention_s=0)
    insert(database_url, "a", "b", "c")
    deadline = time.monotonic() + 10
    while sql(database_url, "SELECT count(*) FROM realtime_events") != [(1,)]:
        assert time.monotonic() < deadline, "events were not pruned"
        time.sleep(0.1)
    assert sql(database_url, "SELECT id FROM realtime_events") == [(3,)]  # newest kept


def test_a_slow_client_is_dropped_and_resumes_by_id(
    make_server: MakeServer, database_url: str
) -> None:
    server = make_server(realtime_queue_frames=4, realtime_queue_bytes=200_000)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny receive window
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(b"GET /tasks/stream?since=0 HTTP/1.1\r\nHost: x\r\n\r\n")
    received = b""
    while b"id: 0\n\n" not in received:
        received += sock.recv(65536)

    # The client stops reading; the server keeps producing frames.
    pad = "x" * 150
    deadline = time.monotonic() + 60
    burst = 0
    while "without completing response" not in server.log():
        assert time.monotonic() < deadline, "the slow client was never dropped"
        insert(database_url, *[f"slow {burst}-{j} {pad}" for j in range(50)])
        burst += 1
        time.sleep(0.05)

    # Read what had been sent before the cut, up to the connection's end.
    sock.settimeout(10)
    with contextlib.suppress(ConnectionError):
        while chunk := sock.recv(65536):
            received += chunk
    sock.close()
    text = received.decode(errors="replace")
    assert not text.endswith("0\r\n\r\n"), "cut, not ended gracefully"
    resume_from = event_ids(text)[-1]  # what Datastar would send as Last-Event-ID
    seen_before = set(rows_in(text[: text.rindex(f"id: {resume_from}\n\n")]))

    headers = {"Last-Event-ID": str(resume_from)}
    with httpx.stream("GET", server.url + "/tasks/stream", headers=headers, timeout=30) as r:
        caught_up = StreamReader(r).until(lambda t: "_realtime" in t, timeout=30)
    everything = {str(i) for (i,) in sql(database_url, "SELECT id FROM tasks")}
    if '<ul id="task-list"' in caught_up:  # missed more than realtime_max_replay
        assert set(rows_in(caught_up)) == everything
    else:
        assert seen_before | set(rows_in(caught_up)) == everything
        assert not seen_before & set(rows_in(caught_up)), "nothing sent twice"
