"""Screen `folders` (tree): levels, deep links, moves, renames, deletes, over real SQL."""

import json
import uuid

from tests.conftest import DATASTAR, count, make
from tests.sse import parse, patched_ids, signals_of

PATH = "/folders"
TABLE = "folders"
PARENT = "parent"
LABEL = "name"
K = "folders"  # element id prefix
MOUNTED = {"screen": "folders", "q": ""}
RENAMED = "Renamed <b>&</b>"


def ds_get(client, url, view=None, **params):
    """A GET as Datastar makes it: header, and the signals as ?datastar=."""
    signals = {"view": view} if view else {}
    return client.get(url, params={**params, "datastar": json.dumps(signals)}, headers=DATASTAR)


def valid_form(db) -> dict[str, str]:
    """A create submission the server accepts (strings, as a browser sends them)."""
    form = {
        "name": "Ada <b>&</b> {{ 7*7 }}",
        "notes": "Ada <b>&</b> {{ 7*7 }}",
    }
    return form


def add(db, label: str, parent: str | None = None) -> str:
    """Insert a node (under `parent`, or at the top level) with plain SQL."""
    label = label[: 80]  # the label's length bounds

    values = {LABEL: label, PARENT: parent}
    return make(db, TABLE, **values)


def parent_of(db, node_id: str) -> str | None:
    row = db.execute(
        f'SELECT "{PARENT}" AS "parent" FROM "{TABLE}" WHERE "id" = %s', (node_id,)
    ).fetchone()
    return None if row["parent"] is None else str(row["parent"])


def label_of(db, node_id: str) -> str:
    row = db.execute(
        f'SELECT "{LABEL}" AS "label" FROM "{TABLE}" WHERE "id" = %s', (node_id,)
    ).fetchone()
    return row["label"]


def test_page_renders_only_the_top_level(client, db):
    add(db, "Zed top")
    parent = add(db, "Abe top")
    add(db, "Hidden child", parent)

    response = client.get(PATH)

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    html = response.text
    assert html.index("Abe top") < html.index("Zed top")
    assert "Hidden child" not in html  # children load on first expand
    assert f'id="{K}-node-{parent}"' in html
    assert 'role="tree"' in html


def test_empty_tree_shows_the_empty_state(client, db):
    html = client.get(PATH).text

    assert f'id="{K}-empty"' in html


def test_deep_link_opens_the_path_to_the_node(client, db):
    top = add(db, "Top")
    middle = add(db, "Middle", top)
    leaf = add(db, "Leaf", middle)

    html = client.get(f"{PATH}/{leaf}").text

    assert f'id="{K}-node-{leaf}"' in html
    assert f'id="{K}-show"' in html
    signals = json.loads(html.split("data-signals='")[1].split("'")[0])
    assert signals["_selectedId"] == leaf
    screen = html.split('id="screen"')[1]
    screen_signals = json.loads(screen.split("data-signals='")[1].split("'")[0])
    assert set(screen_signals["_treeOpen"]) == {top, middle}


def test_deep_link_reaches_a_node_past_the_first_page(client, db):
    from app.screens.folders import PAGE_SIZE

    top = add(db, "Top")
    ids = [add(db, f"Child {i:04d}", top) for i in range(PAGE_SIZE + 2)]

    html = client.get(f"{PATH}/{ids[-1]}").text

    assert f'id="{K}-node-{ids[-1]}"' in html


def test_unknown_and_malformed_ids_are_404(client, db):
    assert client.get(f"{PATH}/{uuid.uuid4()}").status_code == 404
    assert client.get(f"{PATH}/not-a-uuid").status_code == 404
    assert client.get(f"{PATH}/not-a-uuid/children").status_code == 404


def test_expanding_patches_one_group_with_the_children(client, db):
    top = add(db, "Top")
    add(db, "Kid <b>&</b>", top)

    events = parse(ds_get(client, f"{PATH}/{top}/children", view=MOUNTED).text)

    assert patched_ids(events) == [f"#{K}-group-{top}"]
    assert 'data-loaded="true"' in events[0].elements
    assert "Kid &lt;b&gt;&amp;&lt;/b&gt;" in events[0].elements
    assert 'aria-level="2"' in events[0].elements


def test_a_large_level_pages_with_keyset(client, db):
    from app.screens.folders import PAGE_SIZE

    top = add(db, "Top")
    ids = [add(db, f"Child {i:04d}", top) for i in range(PAGE_SIZE + 3)]

    first = parse(ds_get(client, f"{PATH}/{top}/children").text)[0].elements
    assert first.count('role="treeitem"') == PAGE_SIZE
    assert f'id="{K}-more-{top}"' in first
    last_shown = ids[PAGE_SIZE - 1]
    assert f"after={last_shown}" in first

    events = parse(ds_get(client, f"{PATH}/{top}/children", after=last_shown).text)
    shown = min(3, PAGE_SIZE)  # the 3 left, or a page of them
    page = ids[PAGE_SIZE : PAGE_SIZE + shown]
    # The page's nodes are taken out first (a live frame may have placed one already),
    # then appended: never shown twice.
    present = ", ".join(f"#{K}-node-{i}" for i in page)
    assert patched_ids(events) == [f"#{K}-more-{top}", present, f"#{K}-group-{top}"]
    assert [e.one("mode") for e in events] == ["remove", "remove", "append"]
    rest = events[2].elements
    assert rest.count('role="treeitem"') == shown
    assert all(f'id="{K}-node-{i}"' in rest for i in page)
    assert (f"{K}-more-" in rest) == (shown < 3)


def test_selecting_patches_only_the_detail_pane(client, db):
    node = add(db, "Selected")

    events = parse(ds_get(client, f"{PATH}/{node}", view=MOUNTED).text)

    assert patched_ids(events)[0] == f"#{K}-detail"
    assert f"#{K}-tree" not in patched_ids(events)
    assert signals_of(events) == {"_selectedId": node}


def test_new_child_form_is_a_deep_link(client, db):
    top = add(db, "Top <i>")
    add(db, "Sibling", top)

    html = client.get(f"{PATH}/new", params={"parent": top}).text

    assert f'id="{K}-form"' in html
    assert f'name="{PARENT}" value="{top}"' in html
    assert "Sibling" in html  # the parent is open
    assert "Top &lt;i&gt;" in html
    assert client.get(f"{PATH}/new", params={"parent": str(uuid.uuid4())}).status_code == 404


def test_create_a_child_stores_it_under_its_parent(client, db):
    top = add(db, "Top")
    form = valid_form(db)
    form[PARENT] = top

    response = client.post(PATH, data=form, headers=DATASTAR, params={"open": top})

    assert response.status_code == 200
    assert count(db, TABLE) == 2
    events = parse(response.text)
    assert f"#{K}-tree" in patched_ids(events)
    assert top in signals_of(events)["_treeOpen"]
    assert "field-error" not in response.text


def test_create_with_an_invalid_label_keeps_the_form(client, db):
    form = valid_form(db)
    form[LABEL] = ""

    response = client.post(PATH, data=form, headers=DATASTAR)

    assert count(db, TABLE) == 0
    assert patched_ids(parse(response.text)) == [f"#{K}-detail"]
    assert f'id="{K}-form-{LABEL}-error"' in response.text


def test_mutations_need_the_datastar_header(client, db):
    node = add(db, "Guarded")
    other = add(db, "Other")

    assert client.post(PATH, data=valid_form(db)).status_code == 403
    assert client.put(f"{PATH}/{node}/label", data={"label": RENAMED}).status_code == 403
    assert client.post(f"{PATH}/{node}/move", params={"parent": other}).status_code == 403
    assert client.delete(f"{PATH}/{node}").status_code == 403
    assert count(db, TABLE) == 2
    assert parent_of(db, node) is None
    assert label_of(db, node) == "Guarded"


def test_rename_changes_only_the_label(client, db):
    node = add(db, "Old name")

    response = client.put(f"{PATH}/{node}/label", data={"label": RENAMED}, headers=DATASTAR)

    assert label_of(db, node) == RENAMED
    events = parse(response.text)
    assert patched_ids(events)[:2] == [f"#{K}-name-{node}", f"#{K}-detail"]
    assert "<b>&</b>" not in response.text


def test_rename_is_validated_on_the_server(client, db):
    node = add(db, "Keep me")

    response = client.put(
        f"{PATH}/{node}/label", data={"label": ""}, headers=DATASTAR
    )

    assert label_of(db, node) == "Keep me"
    events = parse(response.text)
    assert patched_ids(events) == [f"#{K}-name-{node}"]
    assert f'id="{K}-rename-error-{node}"' in events[0].elements
    message = events[0].elements.split(f'id="{K}-rename-error-{node}"')[1]
    assert "This field is required." in message


def test_move_under_another_node(client, db):
    a = add(db, "A")
    b = add(db, "B")

    response = client.post(f"{PATH}/{a}/move", params={"parent": b}, headers=DATASTAR)

    assert parent_of(db, a) == b
    events = parse(response.text)
    assert b in signals_of(events)["_treeOpen"]
    client.post(f"{PATH}/{a}/move", params={"parent": ""}, headers=DATASTAR)
    assert parent_of(db, a) is None


def test_move_refuses_a_cycle(client, db):
    top = add(db, "Top")
    middle = add(db, "Middle", top)
    leaf = add(db, "Leaf", middle)

    for target in (leaf, middle, top):
        response = client.post(f"{PATH}/{top}/move", params={"parent": target}, headers=DATASTAR)
        assert response.status_code == 200
        assert f"#{K}-tree" not in patched_ids(parse(response.text))
        assert f'id="{K}-move-error"' in response.text

    assert parent_of(db, top) is None
    assert parent_of(db, middle) == top
    assert parent_of(db, leaf) == middle


def test_move_form_offers_no_place_inside_the_subtree(client, db):
    top = add(db, "Top")
    middle = add(db, "Middle", top)
    other = add(db, "Other")

    html = ds_get(client, f"{PATH}/{top}/move", view=MOUNTED).text

    assert f'value="{other}"' in html
    assert f'value="{middle}"' not in html
    assert f'value="{top}"' not in html


def test_delete_removes_the_whole_subtree(client, db):
    top = add(db, "Top")
    middle = add(db, "Middle", top)
    add(db, "Leaf", middle)
    keep = add(db, "Keep")

    response = client.delete(f"{PATH}/{top}", headers=DATASTAR)

    assert response.status_code == 200
    assert count(db, TABLE) == 1
    assert label_of(db, keep) == "Keep"
    assert "and 2 below it" in response.text
