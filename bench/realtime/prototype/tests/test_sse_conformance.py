"""The official Datastar SDK cases against `/test`, compared the official way.

Comparison (as in the Datastar SDK test suite): events are split on blank lines; `event`,
`id` and `retry` must match exactly and no other field may appear; `data` lines are
grouped by their first word, the groups compared as a set, order kept within a group;
`elements` are compared as normalised HTML.
"""

import json
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from app import sse
from tests.support import AppServer

CASES = Path("/work/shared/datastar-sdk-cases")
ALL_CASES = sorted(p for p in CASES.glob("*/*") if (p / "input.json").exists())


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
def test_server(pg_server: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.support import create_database

    url = create_database(pg_server, "t_conformance")
    server = AppServer(url, log_path=tmp_path_factory.mktemp("conf") / "server.log", test_mode=1)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sdk_case(case: Path, test_server: AppServer) -> None:
    body = (case / "input.json").read_text()
    headers = {"Accept": "text/event-stream", "Datastar-Request": "true"}
    if case.parent.name == "get":
        response = httpx.get(f"{test_server.url}/test", params={"datastar": body}, headers=headers)
    else:
        response = httpx.post(
            f"{test_server.url}/test",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert_same_events((case / "output.txt").read_text(), response.text)


def test_all_official_cases_are_collected() -> None:
    assert len(ALL_CASES) == 20  # 19 GET + 1 POST


def test_comparison_catches_differences() -> None:
    good = (
        "event: datastar-patch-elements\ndata: selector #a\ndata: elements <p class='x'>hi</p>\n\n"
    )
    reordered = (
        'event: datastar-patch-elements\ndata: elements <p  class="x">hi</p>\ndata: selector #a\n\n'
    )
    assert_same_events(good, reordered)
    for bad in (
        good.replace("#a", "#b"),
        good.replace("event: datastar-patch-elements\n", "event: datastar-patch-elements\nid: 1\n"),
        good + ": heartbeat\n\n",
        good.replace("hi", "ho"),
    ):
        with pytest.raises(AssertionError):
            assert_same_events(good, bad)


def test_test_endpoint_only_in_test_mode(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server()  # test_mode off
    payload = json.dumps({"events": [{"type": "patchElements", "elements": "<div>x</div>"}]})
    assert httpx.get(f"{server.url}/test", params={"datastar": payload}).status_code == 404


# --- the encoder's own edge cases ----------------------------------------------------


def test_lines_split_only_on_cr_and_lf() -> None:
    event = sse.patch_elements('<p id="p">a\u2028b\u0085c\x0cd\re\r\nf\ng</p>')
    lines = [line for line in event.split("\n") if line.startswith("data: elements")]
    assert lines == [
        'data: elements <p id="p">a\u2028b\u0085c\x0cd',
        "data: elements e",
        "data: elements f",
        "data: elements g</p>",
    ]


def test_signals_are_compact_json_on_one_line() -> None:
    event = sse.patch_signals({"a": "x\ny", "b": None, "c": "\u2028"})
    assert (
        event
        == 'event: datastar-patch-signals\ndata: signals {"a":"x\\ny","b":null,"c":"\u2028"}\n\n'
    )


def test_single_line_fields_reject_newlines() -> None:
    with pytest.raises(ValueError):
        sse.patch_elements("<p></p>", event_id="1\n2")
    with pytest.raises(ValueError):
        sse.remove_elements("#a\n#b")
    with pytest.raises(ValueError):
        sse.patch_elements("<p></p>", mode="morph")


def test_checkpoint_and_comment() -> None:
    assert sse.checkpoint(42) == "id: 42\n\n"
    assert sse.comment() == ":\n\n"
    assert sse.encode([sse.comment("a\nb")]) == b": a\n: b\n\n"
