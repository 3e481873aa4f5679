"""Screen `workspace` (tabs): the page, lazy panels, the saved tab order, Datastar patches."""

import json
import re

import pytest
from markupsafe import escape

from tests.conftest import DATASTAR, label, make
from tests.sse import parse, patched_ids, scripts_of, signals_of

PATH = "/workspace"
ID = "workspace"
TABS = ["overview", "people", "companies", "ideas", "reports", "archive"]  # the spec's order
OWN = ["overview", "ideas", "reports", "archive"]  # tabs showing this screen's own panel
MOUNTED = {"screen": "workspace", "q": ""}
TABLE = "notes"


def ds_get(client, url, view=None, **params):
    """A GET as Datastar makes it: header, and the signals as ?datastar=."""
    signals = {"view": view} if view else {}
    return client.get(url, params={**params, "datastar": json.dumps(signals)}, headers=DATASTAR)


def strip(html: str) -> list[str]:
    """The tab names in the order the strip shows them."""
    return re.findall(r'role="tab" id="' + ID + r'-tab-([a-z0-9_]+)"', html)


def tab_signals(html: str) -> dict:
    """The screen's initial $_tabs (from its data-signals attribute)."""
    for raw in re.findall(r"data-signals='([^']*)'", html):
        signals = json.loads(raw)
        if "_tabs" in signals:
            return signals["_tabs"]
    raise AssertionError("no _tabs signals on the page")


def add(db, text: str) -> str:
    """A note labelled for `text` (see conftest.label) with every required
    field set; returns its id."""
    values = {"title": label(TABLE, text)}
    return make(db, TABLE, **values)


def forget_order(db) -> None:
    """Start from the spec's order: no saved order for this screen."""
    db.execute('DELETE FROM "tab_orders" WHERE "screen" = %s', (MOUNTED["screen"],))


def saved_order(db) -> list[str]:
    rows = db.execute(
        'SELECT "tab" FROM "tab_orders" WHERE "screen" = %s ORDER BY "position"',
        (MOUNTED["screen"],),
    ).fetchall()
    return [row["tab"] for row in rows]


@pytest.fixture(autouse=True)
def _spec_order(db):
    forget_order(db)  # the order table is not one of the stores the db fixture empties


def test_page_renders_the_strip_and_only_the_active_panel(client, db):
    response = client.get(PATH)

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    html = response.text
    assert strip(html) == TABS
    assert f'id="{ID}-tab-{TABS[0]}" data-tab="{TABS[0]}"' in html
    assert html.count('aria-selected="true"') == 1
    # The other panels are empty until opened: a skeleton each, fetched on first open.
    assert html.count('aria-label="Loading') == len(TABS) - 1
    assert tab_signals(html)["state"] == {n: "loaded" if n == TABS[0] else "" for n in TABS}
    # One screen element, even when the active tab shows another screen.
    assert html.count('id="screen"') == 1
    assert html.count("<main") == 1


def test_deep_link_opens_the_named_tab(client, db):
    html = client.get(PATH, params={"tab": TABS[-1]}).text

    assert tab_signals(html)["active"] == TABS[-1]
    assert re.search(f'id="{ID}-tab-{TABS[-1]}"[^>]*aria-selected="true"', html)
    assert html.count('aria-label="Loading') == len(TABS) - 1


def test_an_unknown_tab_falls_back_to_the_first(client, db):
    html = client.get(PATH, params={"tab": "no_such_tab"}).text

    assert tab_signals(html)["active"] == TABS[0]


def test_a_panel_is_patched_into_its_place(client, db):
    for name in TABS:
        events = parse(ds_get(client, f"{PATH}/tabs/{name}").text)

        assert patched_ids(events) == [f"#{ID}-panel-{name}"]
        assert events[0].one("mode") == "inner"
        assert signals_of(events) == {"_tabs": {"state": {name: "loaded"}}}
        # A screen shown inside a tab brings its content, never a second screen element.
        assert 'id="screen"' not in events[0].elements
        assert "<main" not in events[0].elements


def test_panel_urls_without_datastar_redirect_to_the_tab(client, db):
    response = client.get(f"{PATH}/tabs/{TABS[-1]}")

    assert response.status_code == 307
    assert response.headers["location"] == f"{PATH}?tab={TABS[-1]}"


def test_an_unknown_panel_is_a_toast(client, db):
    events = parse(ds_get(client, f"{PATH}/tabs/no_such_tab").text)

    assert patched_ids(events) == ["#toasts"]
    assert "no longer exists" in events[0].elements


def test_own_panel_filter_runs_on_the_server_and_escapes(client, db):
    alpha = label(TABLE, "Alpha <b>&</b>")
    zulu = label(TABLE, "Zulu")
    add(db, "Alpha <b>&</b>")
    add(db, "Zulu")

    events = parse(ds_get(client, f"{PATH}/tabs/{OWN[0]}/rows", q=alpha).text)

    assert patched_ids(events) == [f"#{ID}-rows-{OWN[0]}"]
    assert str(escape(alpha)) in events[0].elements
    assert "<b>&</b>" not in events[0].elements
    assert zulu not in events[0].elements
    nothing = parse(ds_get(client, f"{PATH}/tabs/{OWN[0]}/rows", q="no such thing").text)
    assert "match “no such thing”" in nothing[0].elements  # the empty state says why


def test_on_the_page_already_a_get_only_switches_the_tab(client, db):
    events = parse(ds_get(client, PATH, view=MOUNTED, tab=TABS[1]).text)

    assert patched_ids(events) == ["body"]  # only the script that points the URL at the tab
    assert signals_of(events) == {"_tabs": {"active": TABS[1]}}
    assert f"{PATH}?tab={TABS[1]}" in scripts_of(events)


def test_from_another_screen_the_whole_screen_is_swapped_in(client, db):
    events = parse(ds_get(client, PATH, view={"screen": "elsewhere", "q": ""}).text)

    assert patched_ids(events)[:2] == ["#screen", "#nav"]
    assert strip(events[0].elements) == TABS
    assert signals_of(events)["view"] == MOUNTED


def test_reorder_needs_the_datastar_header(client, db):
    response = client.put(f"{PATH}/order", json={"order": TABS[::-1]})

    assert response.status_code == 403
    assert saved_order(db) == []


def test_reorder_is_saved_and_the_strip_rerendered(client, db):
    wanted = TABS[::-1]

    events = parse(client.put(f"{PATH}/order", json={"order": wanted}, headers=DATASTAR).text)

    assert saved_order(db) == wanted
    assert patched_ids(events) == [f"#{ID}-tabbar"]
    assert strip(events[0].elements) == wanted
    assert signals_of(events)["_tabs"]["order"] == wanted
    assert strip(client.get(PATH).text) == wanted
    # Saving again (another order) updates every position in place.
    client.put(f"{PATH}/order", json={"order": TABS}, headers=DATASTAR)
    assert saved_order(db) == TABS


@pytest.mark.parametrize("body", [
    {"order": TABS[:-1]},
    {"order": [*TABS, TABS[0]]},
    {"order": [*TABS[:-1], "no_such_tab"]},
    {"order": "nope"},
    {},
])
def test_an_order_that_is_not_a_permutation_is_refused(client, db, body):
    client.put(f"{PATH}/order", json={"order": TABS[::-1]}, headers=DATASTAR)

    text = client.put(f"{PATH}/order", json=body, headers=DATASTAR).text

    assert saved_order(db) == TABS[::-1]
    events = parse(text)
    assert patched_ids(events) == [f"#{ID}-tabbar", "#toasts"]
    assert strip(events[0].elements) == TABS[::-1]  # the saved order, shown again
    assert "could not be saved" in text
