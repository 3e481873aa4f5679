"""The command palette's search: screens by title and menu group, records across stores.

Bounded and literal: a minimum length, a few rows per store, the user's text matched as
typed (LIKE's `%`, `_` and `\\` are not wildcards), every label escaped in the answer."""

import json
import re

import pytest

from app.core import search
from app.palette import SEARCH_URL, SOURCES
from tests.conftest import COLUMNS, DATASTAR, make
from tests.sse import parse

OPTION = re.compile(
    r'<a id="palette-[sr]-[\d-]+" role="option"[^>]* href="([^"]*)"[^>]*>(.*?)</a>', re.S
)
GROUP = re.compile(r'<div id="palette-h-(\d+)" role="presentation"[^>]*>(.*?)</div>', re.S)
TAG = re.compile(r"<[^>]+>")


def ask(client, q):
    """The palette's request as Datastar sends it (the text in the payload), parsed: the
    patched HTML, the hits as (href, text), and the group headings."""
    response = client.get(SEARCH_URL, params={"datastar": json.dumps({"q": q})}, headers=DATASTAR)
    assert response.status_code == 200
    events = parse(response.text)
    assert len(events) == 1 and events[0].type == "datastar-patch-elements"
    html = events[0].elements
    assert 'id="palette-body"' in html
    hits = [(href, TAG.sub("", text).strip()) for href, text in OPTION.findall(html)]
    return html, hits, [title for _, title in GROUP.findall(html)]


def fitting(table: str, column: str, text: str) -> str:
    """`text`, if the column takes it (else the test does not apply to this spec)."""
    col = next(c for c in COLUMNS[table] if c.name == column)
    if (col.high is not None and len(text) > col.high) or (col.low or 0) > len(text):
        pytest.skip(f"{table}.{column} does not take {text!r}")
    return text


def test_no_text_lists_every_screen_of_the_menu(client):
    _, hits, _ = ask(client, "")
    assert [href for href, _ in hits] == [
        "/timeline",
        "/tasks",
        "/rota",
    ]


def test_screens_match_their_title_in_any_case(client):
    _, hits, _ = ask(client, "TIMELINE")
    assert "/timeline" in [href for href, _ in hits]


def test_text_matching_nothing_says_so(client):
    html, hits, _ = ask(client, "zzqx-nothing-is-called-this")
    assert hits == []
    assert "Nothing matches" in html


def test_the_sources_search_text_columns_only():
    assert all(source.columns and source.url.startswith("/") for source in SOURCES)
    assert search.clean_query("  two   words ") == "two words"
    assert search.clean_query(5) == ""
    assert len(search.clean_query("x" * 1000)) == search.MAX_LENGTH


def test_odd_requests_are_answered_not_refused(client):
    for params in ({"datastar": "{not json"}, {"datastar": '{"q": 5}'}, {"q": "x" * 150}, {}):
        response = client.get(SEARCH_URL, params=params, headers=DATASTAR)
        assert response.status_code == 200
        assert 'id="palette-body"' in response.text
    # The app's request limits refuse a longer ?q= with a message (app/core/limits.py).
    response = client.get(SEARCH_URL, params={"q": "x" * 5000}, headers=DATASTAR)
    assert response.status_code < 500 and "at most" in response.text
    # A plain ?q= (no Datastar payload) searches too.
    response = client.get(SEARCH_URL, params={"q": "zzqx-nothing"})
    assert response.status_code == 200 and "Nothing matches" in response.text

# Records: store `task`, shown by `title`, opened at /tasks/{id}.
TABLE = "tasks"
LABEL = "title"
TITLE = "Tasks"
URL = "/tasks"


def add(db, text: str) -> str:
    return make(db, TABLE, **{LABEL: fitting(TABLE, LABEL, text)})


def test_a_record_is_found_by_its_label_and_links_to_its_page(client, db):
    record = add(db, "Qv Wobbleton")
    _, hits, groups = ask(client, "qV wOBBLE")
    assert (f"{URL}/{record}", "Qv Wobbleton") in hits
    assert TITLE in groups


def test_labels_come_back_escaped(client, db):
    record = add(db, "Qz <b>&</b> {{ 7*7 }}")
    html, hits, _ = ask(client, "qz <b>&")
    assert (f"{URL}/{record}", "Qz &lt;b&gt;&amp;&lt;/b&gt; {{ 7*7 }}") in hits
    assert "<b>" not in html


def test_like_wildcards_in_the_text_are_literal(client, db):
    exact = {
        "Qp 100% sure": add(db, "Qp 100% sure"),
        "Qp a_b": add(db, "Qp a_b"),
        "Qp back\\slash": add(db, "Qp back\\slash"),
    }
    add(db, "Qp 100x sure")  # `%` as a wildcard would find these three too
    add(db, "Qp axb")
    add(db, "Qp backslash")
    for text, record in exact.items():
        _, hits, _ = ask(client, text)
        assert [href for href, _ in hits if href.startswith(f"{URL}/")] == [f"{URL}/{record}"], text


def test_records_need_the_minimum_length(client, db):
    add(db, "Q" * max(search.MIN_LENGTH, 1) + " short")
    html, hits, _ = ask(client, "Q" * (search.MIN_LENGTH - 1))
    assert not [href for href, _ in hits if href.startswith(f"{URL}/")]
    assert f"Type {search.MIN_LENGTH} or more characters" in html


def test_a_few_records_per_store(client, db):
    made = [add(db, f"Qk limit {n:02d}") for n in range(search.PER_STORE + 2)]
    _, hits, _ = ask(client, "qk limit")
    found = [href for href, _ in hits if href.startswith(f"{URL}/")]
    assert found == [f"{URL}/{record}" for record in made[: search.PER_STORE]]  # by label
