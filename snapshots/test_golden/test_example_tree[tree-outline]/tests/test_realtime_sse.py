
"""Realtime plumbing: the SSE encoder against the official Datastar SDK cases (`/test`, only
in test mode), the change log written by the triggers, and folding changes per record."""

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core import sse
from app.core.config import Settings, get_settings
from app.main import create_app
from app.realtime import Change, Kind, Op, net_changes

CASES = json.loads((Path(__file__).parent / "datastar_sdk_cases.json").read_text())["cases"]


class _Tokens(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[object, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, tuple(sorted((k, v or "") for k, v in attrs))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag))

    def handle_data(self, data: str) -> None:
        text = re.sub(r"\s+", " ", data).strip()
        if text:
            self.tokens.append(("text", text))


def normalise_html(html: str) -> list[tuple[object, ...]]:
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    return parser.tokens


def parse_events(text: str) -> list[dict[str, object]]:
    """The official comparison: `event`/`id`/`retry` exact, no other field, `data` lines
    grouped by their first word (order kept within a group), elements as normalised HTML."""
    events = []
    for block in re.split(r"\n\n", text.replace("\r\n", "\n")):
        if not block.strip():
            continue
        fields: dict[str, list[str]] = defaultdict(list)
        data: dict[str, list[str]] = defaultdict(list)
        for line in block.split("\n"):
            prefix, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if prefix == "data":
                word, _, rest = value.partition(" ")
                data[word].append(rest)
            else:
                fields[prefix].append(value)
        groups: dict[str, object] = {
            word: normalise_html("\n".join(lines)) if word == "elements" else lines
            for word, lines in data.items()
        }
        events.append({"fields": dict(fields), "data": groups})
    return events


def assert_same_events(expected: str, actual: str) -> None:
    want, got = parse_events(expected), parse_events(actual)
    assert len(got) == len(want), f"event count: want {len(want)}, got {len(got)}\n{actual}"
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        assert g["fields"] == w["fields"], f"event {i}: fields\n{actual}"
        assert g["data"] == w["data"], f"event {i}: data lines\n{actual}"


@pytest.fixture(scope="module")
def test_mode_client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url, test_mode=True))) as client:
        yield client


@pytest.mark.parametrize("name", sorted(CASES))
def test_official_sdk_case(name: str, test_mode_client: TestClient) -> None:
    case = CASES[name]
    headers = {"Accept": "text/event-stream", "Datastar-Request": "true"}
    if name.startswith("get/"):
        response = test_mode_client.get("/test", params={"datastar": case["input"]},
                                        headers=headers)
    else:
        response = test_mode_client.post(
            "/test", content=case["input"],
            headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert_same_events(case["output"], response.text)


def test_every_official_case_is_there() -> None:
    assert len(CASES) == 20  # 19 GET + 1 POST


def test_the_comparison_catches_differences() -> None:
    good = "event: datastar-patch-elements\ndata: selector #a\ndata: elements <p class='x'>hi</p>\n\n"
    reordered = (
        'event: datastar-patch-elements\ndata: elements <p  class="x">hi</p>\ndata: selector #a\n\n'
    )
    assert_same_events(good, reordered)
    for bad in (good.replace("#a", "#b"), good + ": heartbeat\n\n", good.replace("hi", "ho"),
                good.replace("event: datastar-patch-elements\n",
                             "event: datastar-patch-elements\nid: 1\n")):
        with pytest.raises(AssertionError):
            assert_same_events(good, bad)


def _serves_test(app: FastAPI) -> bool:
    """Ask /test to echo a script (the endpoint needs no database: no lifespan here)."""
    payload = json.dumps({"events": [{"type": "executeScript", "script": "x()"}]})
    response = TestClient(app).get("/test", params={"datastar": payload},
                                   headers={"Datastar-Request": "true"})
    # Without /test a Datastar request gets the app's "not found" toast, not the script.
    return response.status_code == 200 and "x()" in response.text


@pytest.mark.parametrize(("value", "mounted"), [("true", True), ("1", True), ("false", False),
                                                ("0", False), (None, False)])
def test_test_mode_from_the_environment(value: str | None, mounted: bool, database_url: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`TEST_MODE=true make dev` serves /test (the app is built without a Settings object:
    its settings come from the environment, as `make dev` sets it)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    if value is None:
        monkeypatch.delenv("TEST_MODE", raising=False)
    else:
        monkeypatch.setenv("TEST_MODE", value)
    get_settings.cache_clear()
    try:
        assert _serves_test(create_app()) is mounted
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(("value", "want"), [(False, False), ("false", False), ("False", False),
                                             (True, True), ("true", True)])
def test_conformance_flags_are_booleans_not_truthiness(value: object, want: bool) -> None:
    from app.realtime.conformance import render_event

    event = {"type": "executeScript", "script": "x()", "autoRemove": value}
    assert render_event(event) == sse.execute_script("x()", auto_remove=want)


def test_conformance_refuses_a_flag_that_is_not_a_boolean() -> None:
    from fastapi import HTTPException

    from app.realtime.conformance import render_event

    with pytest.raises(HTTPException) as caught:
        render_event({"type": "executeScript", "script": "x()", "autoRemove": "maybe"})
    assert caught.value.status_code == 400


def test_no_test_endpoint_outside_test_mode(client: TestClient) -> None:
    payload = json.dumps({"events": [{"type": "patchElements", "elements": "<div>x</div>"}]})
    assert client.get("/test", params={"datastar": payload}).status_code == 404


def test_encoder_edge_cases() -> None:
    assert sse.checkpoint(42) == "id: 42\n\n"
    assert sse.comment() == ":\n\n"
    with pytest.raises(ValueError):
        sse.patch_elements("<p></p>", event_id="1\n2")
    assert sse.patch_signals({"a": "x\ny"}) == (
        'event: datastar-patch-signals\ndata: signals {"a":"x\\ny"}\n\n')
    # Payloads split on CR and LF only: other line breakers reach the browser as themselves.
    event = sse.patch_elements('<p id="p" title="a\u2028b">c\fd\u2029</p>')
    assert event.count("\ndata: ") == 1
    assert '<p id="p" title="a&#8232;b">c&#12;d&#8233;</p>' in event
    raw = sse.patch_signals(raw='{"a": "x\u2028y\u0085"}')
    assert raw.count("\ndata: ") == 1
    assert json.loads(raw.split("data: signals ", 1)[1]) == {"a": "x\u2028y\u0085"}
    with pytest.raises(ValueError):
        sse.patch_elements("<p></p>", mode="sideways")


def test_changes_fold_to_one_kind_per_record() -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    changes = [Change(1, "t", Op.INSERT, a), Change(2, "t", Op.UPDATE, a),
               Change(3, "t", Op.UPDATE, b), Change(4, "t", Op.DELETE, b),
               Change(5, "t", Op.INSERT, c), Change(6, "t", Op.DELETE, c),
               Change(7, "t", Op.UPDATE, d)]
    net = net_changes(changes)
    # Created and deleted in one run is a delete: a page may already show the record.
    assert net.kinds == {a: Kind.CREATED, b: Kind.DELETED, c: Kind.DELETED, d: Kind.UPDATED}
    assert net.created_order == (a,) and not net.reset
    assert net_changes([Change(8, "t", Op.TRUNCATE, None)]).reset


def test_writes_to_folder_are_logged_in_commit_order(
    db: psycopg.Connection[Any],
) -> None:
    from tests.conftest import make

    db.execute("DELETE FROM realtime_events")
    # The first row is deleted before the second is written: the samples may be unique.
    first = make(db, "folders", **{"name": "Ada <b>&</b> {{ 7*7 }}", "notes": "Ada <b>&</b> {{ 7*7 }}", })
    db.execute('DELETE FROM "folders" WHERE id = %s', (first,))
    second = make(db, "folders", **{"name": "Ada <b>&</b> {{ 7*7 }}", "notes": "Ada <b>&</b> {{ 7*7 }}", })
    rows = db.execute(
        "SELECT channel, op, record_id::text AS record FROM realtime_events ORDER BY id"
    ).fetchall()
    assert [(r["channel"], r["op"], r["record"]) for r in rows] == [
        ("folders", "INSERT", first),
        ("folders", "DELETE", first),
        ("folders", "INSERT", second),
    ]
