"""Screen `employees`: pages, keyset paging, filter, inline edit, bulk delete, CSV.

Rows are made by `seed`: row i gets values that grow with i, and every fourth row leaves its
optional columns empty, so NULLs and ties are in every order the tests walk through.
"""

import csv
import html
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest

from app.screens.employees import DEFAULT_SORT, PAGE_SIZE, SORTS, Order, page_query
from tests.conftest import DATASTAR, count, make
from tests.sse import parse, patched_ids, signals_of

PATH = "/employees"
TABLE = "employees"
DOM = "employees"
MOUNTED = {"screen": "employees", "q": ""}
PROBE = "name"  # a sortable column whose test values grow with the row number


# Test data.


def values(i: int, refs: dict[str, list[str]]) -> dict[str, Any]:
    """Row i of "employees": required and unique columns always set, the others empty
    on every fourth row."""
    empty = i % 4 == 3
    return {
        "name": f"Row {i:04d}",
        "email": f"user{i:04d}@example.com",
        "team": None if empty else refs["team"][i % 3],
        "level": None if empty else ("junior", "senior", "lead & staff")[i % 3],
        "salary": None if empty else Decimal("0") + i,
        "started": None if empty else date(2024, 1, 1) + timedelta(days=i),
        "remote": i % 2 == 0,
        "notes": None if empty else f"Row {i:04d}",
    }


def ref_pools(db, start: int = 0) -> dict[str, list[str]]:
    """Three rows in each table a ref column points at (from row `start` on: unique
    columns stay unique when a test asks twice)."""
    pools: dict[str, list[str]] = {}
    pools["team"] = [
        make(db, "teams", **{
            "name": f"Row {i:04d}",
        })
        for i in range(start, start + 3)
    ]
    return pools


def seed(db, n: int, start: int = 0) -> list[dict[str, Any]]:
    """Insert rows start .. start + n - 1; returns each row's values and id, in that order."""
    refs = ref_pools(db, start)
    rows = []
    for i in range(start, start + n):
        row = values(i, refs)
        rows.append({**row, "id": make(db, TABLE, **row), "i": i})
    return rows


def ordered_ids(db, sort: str, q: str = "") -> list[str]:
    """Every row's id in `sort` order, by one plain ORDER BY: what paging must add up to."""
    query = page_query(q, Order.parse(sort), limit=False)
    return [str(row["id"]) for row in db.execute(query, {"pattern": f"%{q}%"} if q else None)]


def probe_order(rows: list[dict[str, Any]], desc: bool = False) -> list[str]:
    """The probe column's order, known without the database: values grow with i; NULLs
    last ascending (first descending), ordered by id."""
    valued = [r["id"] for r in sorted(rows, key=lambda r: r["i"]) if r[PROBE] is not None]
    empty = sorted((r["id"] for r in rows if r[PROBE] is None), key=UUID)
    ids = valued + empty
    return ids[::-1] if desc else ids


def stored(db, row_id: str) -> dict[str, Any]:
    return db.execute(f'SELECT * FROM "{TABLE}" WHERE "id" = %s', (row_id,)).fetchone()


# Reading pages.


def ds_get(client, url, view=None, **params):
    """A GET as Datastar makes it: header, and the signals as ?datastar=."""
    signals = {"view": view} if view else {}
    return client.get(url, params={**params, "datastar": json.dumps(signals)}, headers=DATASTAR)


def row_ids(text: str) -> list[str]:
    return re.findall(rf'<tr id="{DOM}-row-([0-9a-f-]{{36}})"', text)


def link(text: str, name: str) -> dict[str, str] | None:
    """The query of the pager's `prev`/`next` link, or None when it is disabled."""
    found = re.search(rf'<a href="([^"]*)"[^>]*id="{DOM}-{name}"', text)
    if not found:
        return None
    query = parse_qs(urlsplit(html.unescape(found.group(1))).query)
    return {key: items[0] for key, items in query.items()}


def walk(client, sort: str) -> tuple[list[str], list[list[str]]]:
    """Follow `next` from the first page to the last, then `prev` back to the first."""
    pages, params = [], {"sort": sort}
    while True:
        text = client.get(PATH, params=params).text
        pages.append(row_ids(text))
        params = link(text, "next")
        if params is None:
            break
        assert len(pages) < 50, "the next links never end"
    backwards = [pages[-1]]
    params = link(text, "prev")
    while params is not None:
        text = client.get(PATH, params=params).text
        backwards.insert(0, row_ids(text))
        params = link(text, "prev")
        assert len(backwards) < 50, "the prev links never end"
    return [row_id for page in pages for row_id in page], backwards


class _EditorForm(HTMLParser):
    """The fields of the inline editor, as the browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "option" and self._select is not None:
            if "selected" in a or self._select not in self.fields:
                self.fields[self._select] = a.get("value", "")
            return
        if a.get("form") != f"{DOM}-editor":
            return
        if tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.fields[a["name"]] = a.get("value", "on")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data


def editor_form(elements: str) -> dict[str, str]:
    parser = _EditorForm()
    parser.feed(elements)
    # A newline right after <textarea> is not part of its value.
    return {name: value.removeprefix("\n") for name, value in parser.fields.items()}


def test_page_renders_the_first_page_on_the_server(client, db):
    rows = seed(db, PAGE_SIZE + 1)

    response = client.get(PATH)

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    assert row_ids(response.text) == ordered_ids(db, "")[:PAGE_SIZE]
    assert link(response.text, "prev") is None
    assert link(response.text, "next") is not None
    assert len(rows) == count(db, TABLE)
    screen = response.text.split('id="screen"')[1]
    signals = json.loads(screen.split("data-signals='")[1].split("'")[0])
    assert signals["_table"]["ids"] == row_ids(response.text)


def test_empty_table_says_so(client, db):
    text = client.get(PATH).text

    assert f'id="{DOM}-empty"' in text
    assert row_ids(text) == []


@pytest.mark.parametrize("sort", [key for name in SORTS for key in (name, f"-{name}")])
def test_keyset_pages_add_up_to_one_ordered_scan(client, db, sort):
    seed(db, 2 * PAGE_SIZE + 3)
    expected = ordered_ids(db, sort)

    forwards, backwards = walk(client, sort)

    assert forwards == expected  # every row once, in order, NULLs and ties included
    assert [row_id for page in backwards for row_id in page] == expected
    assert all(len(page) == PAGE_SIZE for page in backwards[:-1])


@pytest.mark.skipif(PROBE is None, reason="no sortable column with growing test values")
def test_sort_order_is_the_column_order(client, db):
    rows = seed(db, PAGE_SIZE + 3)

    ascending, _ = walk(client, PROBE)
    descending, _ = walk(client, f"-{PROBE}")

    assert ascending == probe_order(rows)
    assert descending == probe_order(rows, desc=True)


def test_bad_sort_and_cursor_fall_back_to_the_first_page(client, db):
    seed(db, PAGE_SIZE + 2)
    first = row_ids(client.get(PATH).text)
    other = next(name for name in SORTS if f"-{name}" != Order.parse("").param)
    cursor = link(client.get(PATH, params={"sort": f"-{other}"}).text, "next")
    assert cursor is not None

    assert row_ids(client.get(PATH, params={"sort": "no_such_column"}).text) == first
    assert row_ids(client.get(PATH, params={"cursor": "not-a-cursor!"}).text) == first
    # A cursor made for another order is not applied to this one.
    assert row_ids(client.get(PATH, params={"cursor": cursor["cursor"]}).text) == first


def test_sorting_when_mounted_patches_only_the_table(client, db):
    seed(db, 3)
    sort = next(f"-{name}" for name in SORTS if f"-{name}" != DEFAULT_SORT)

    events = parse(ds_get(client, PATH, view=MOUNTED, sort=sort).text)

    assert patched_ids(events)[:2] == [f"#{DOM}-table", f"#{DOM}-export"]
    assert signals_of(events)["_table"]["sort"] == sort
    assert f"sort={sort}" in events[-1].elements  # the address bar follows


def test_arriving_from_another_screen_swaps_the_screen(client, db):
    seed(db, 2)

    events = parse(ds_get(client, PATH, view={"screen": "elsewhere", "q": ""}).text)

    assert patched_ids(events)[:2] == ["#screen", "#nav"]
    assert signals_of(events)["view"] == MOUNTED


def test_filter_narrows_on_the_server(client, db):
    rows = seed(db, 8)
    q = str(rows[5]["name"])
    filtered = ("name", "email")
    expected = {
        r["id"] for r in rows
        if any(r[name] is not None and q.lower() in str(r[name]).lower() for name in filtered)
    }

    events = parse(ds_get(client, f"{PATH}/rows", q=q).text)

    table = events[0].elements
    assert patched_ids(events)[0] == f"#{DOM}-table"
    assert set(row_ids(table)) == expected
    assert rows[5]["id"] in expected and len(expected) < len(rows)
    assert signals_of(events)["view"] == {"screen": MOUNTED["screen"], "q": q}
    # The filter survives a reload: the page URL carries it.
    assert set(row_ids(client.get(PATH, params={"q": q}).text)) == expected


def test_bulk_delete_removes_exactly_the_selected_rows(client, db):
    rows = seed(db, 5)
    doomed = [rows[1]["id"], rows[3]["id"]][:PAGE_SIZE]  # a selection on one page

    response = client.post(f"{PATH}/delete", json={"ids": doomed}, headers=DATASTAR)

    assert response.status_code == 200
    left = {str(r["id"]) for r in db.execute(f'SELECT "id" FROM "{TABLE}"')}
    assert left == {r["id"] for r in rows} - set(doomed)
    events = parse(response.text)
    # The table's first page again: what is left, PAGE_SIZE rows of it.
    assert row_ids(events[0].elements) == ordered_ids(db, "")[:PAGE_SIZE]
    assert signals_of(events)["_table"]["sel"] == []


def test_bulk_delete_validates_its_input(client, db):
    seed(db, 2)

    for body in ({"ids": []}, {"ids": ["not-a-uuid"]}, {"ids": "x"}, {}):
        response = client.post(f"{PATH}/delete", json=body, headers=DATASTAR)
        assert response.status_code == 200
        assert "toast" in response.text
    assert count(db, TABLE) == 2


def test_mutations_need_the_datastar_header(client, db):
    rows = seed(db, 1)

    assert client.post(f"{PATH}/delete", json={"ids": [rows[0]["id"]]}).status_code == 403
    assert count(db, TABLE) == 1


def test_inline_edit_needs_the_datastar_header(client, db):
    rows = seed(db, 1)

    response = client.put(f"{PATH}/{rows[0]['id']}", data={})

    assert response.status_code == 403


def test_inline_edit_validates_and_writes_only_its_columns(client, db):
    rows = seed(db, 2)
    row_id = rows[0]["id"]
    before = stored(db, row_id)
    form = editor_form(parse(ds_get(client, f"{PATH}/{row_id}/edit").text)[0].elements)

    form["name"] = ""
    response = client.put(f"{PATH}/{row_id}", data=form, headers=DATASTAR)

    assert f'id="{DOM}-editor-name-error"' in response.text
    assert "This field is required." in response.text
    assert stored(db, row_id) == before

    form["name"] = "Ada <b>&</b> {{ 7*7 }}"
    response = client.put(f"{PATH}/{row_id}", data=form, headers=DATASTAR)

    assert "field-error" not in response.text
    after = stored(db, row_id)
    assert str(after["name"]) == "Ada <b>&</b> {{ 7*7 }}"
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in response.text  # shown escaped, never as markup
    assert after["notes"] == before["notes"]  # not editable here


def test_detail_row_shows_the_record(client, db):
    rows = seed(db, 1)

    events = parse(ds_get(client, f"{PATH}/{rows[0]['id']}/detail").text)

    assert patched_ids(events) == [f"#{DOM}-detail-{rows[0]['id']}"]
    assert "Created" in events[0].elements
    assert client.get(f"{PATH}/{rows[0]['id']}/detail").status_code == 404  # not a page


def test_csv_export_is_quoted_and_formula_safe(client, db):
    rows = seed(db, 3)
    refs = ref_pools(db, 100)
    formula = make(db, TABLE, **{**values(10, refs), "name": '=HYPERLINK("http://x")'})
    quotes = make(db, TABLE, **{**values(11, refs), "name": 'He said "hi",\nthen left'})
    # A spreadsheet must not run the first; the second must come back as it was.
    tricky = {formula: "'=HYPERLINK(\"http://x\")", quotes: 'He said "hi",\nthen left'}

    response = client.get(f"{PATH}/export.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert table[0] == ["id", *("Name", "Email", "Team", "Level", "Salary", "Started", "Remote")]
    assert [line[0] for line in table[1:]] == ordered_ids(db, "")
    column = table[0].index("Name")
    cells = {line[0]: line[column] for line in table[1:]}
    for row_id, cell in tricky.items():
        assert cells[row_id] == cell
    assert len(rows) <= len(table) - 1
