"""Screen `pipeline`:
the board, moves (validation, renumbering, concurrency), inline and full adds, the drawer."""

import json
import uuid

from tests.conftest import DATASTAR, count, make
from tests.sse import parse, patched_ids, signals_of

PATH = "/pipeline"
TABLE = "leads"
LABEL = "from"
GROUP = "class"
COLUMNS = ["cold", "warm & \"hot\"", "won"]
MOUNTED = {"screen": "pipeline", "q": ""}
BOARD = "#pipeline-board"  # the element every move patches


def card_tag(card_id: str) -> str:
    """How a card's element starts in the HTML."""
    return f'id="pipeline-card-{card_id}"'


def ds_get(client, url, view=None, **params):
    """A GET as Datastar makes it: header, and the signals as ?datastar=."""
    signals = {"view": view} if view else {}
    return client.get(url, params={**params, "datastar": json.dumps(signals)}, headers=DATASTAR)


def add(db, column: str, position: int | None = None, label: str | None = None) -> str:
    """Insert a card with plain SQL (required fields get valid values: conftest's `make`, so
    unique ones differ); returns its id."""
    values: dict[str, object] = {GROUP: column}
    if label is not None:
        values[LABEL] = label
    values["owner"] = make(db, "people")
    return make(db, TABLE, **values)


def ids_in(db, column: str | None) -> list[str]:
    """A column's card ids in board order, read from the database."""
    rows = db.execute(
        'SELECT "id" FROM "leads"'
        ' WHERE "class" IS NOT DISTINCT FROM %s'
        ' ORDER BY "from", "id"',
        (column,),
    ).fetchall()
    return [str(row["id"]) for row in rows]


def move(client, card: str, column: str, before: str = ""):
    """The one request of a drop: JSON, as Datastar's @post sends its payload."""
    payload = {"card": card, "column": column, "before": before}
    return client.post(f"{PATH}/move", json=payload, headers=DATASTAR)


def test_page_renders_every_column_and_the_cards_on_the_server(client, db):
    first = add(db, COLUMNS[0], label="Abe first")  # by label, else by id (time-ordered)
    second = add(db, COLUMNS[0], label="Zed second")

    response = client.get(PATH)

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    html = response.text
    for index in range(len(COLUMNS)):
        assert f'id="pipeline-col-{index + 1}"' in html
    assert html.index(card_tag(first)) < html.index(card_tag(second))
    assert 'id="pipeline-empty"' not in html
    assert '<script type="module" src="/static/datastar.js?v=' in html  # fingerprinted


def test_an_empty_board_says_so(client, db):
    html = client.get(PATH).text

    assert 'id="pipeline-empty"' in html
    assert html.count('id="pipeline-col-') >= len(COLUMNS)


def test_a_move_changes_the_column(client, db):
    a, b = COLUMNS[0], COLUMNS[1]
    moved = add(db, a)
    stays = add(db, a)

    response = move(client, moved, b)

    assert response.status_code == 200
    assert patched_ids(parse(response.text)) == [BOARD]
    assert ids_in(db, b) == [moved]
    assert ids_in(db, a) == [stays]


def test_an_invalid_move_changes_nothing_and_says_why(client, db):
    a = COLUMNS[0]
    card = add(db, a)
    other = add(db, COLUMNS[1])

    cases = [
        (card, "no such column", "", "does not exist"),
        (str(uuid.uuid4()), COLUMNS[1], "", "no longer exists"),
    ]
    for moved, column, before, words in cases:
        events = parse(move(client, moved, column, before).text)
        # The board comes back as it is (the card snaps back) and a toast says why.
        assert patched_ids(events) == [BOARD, "#toasts"]
        assert words in events[1].elements
    assert ids_in(db, a) == [card]
    assert ids_in(db, COLUMNS[1]) == [other]


def test_malformed_moves_are_refused(client, db):
    card = add(db, COLUMNS[0])
    url = f"{PATH}/move"

    for body in ({"card": card}, {"card": "x", "column": COLUMNS[0]}, [card]):
        assert client.post(url, json=body, headers=DATASTAR).status_code == 422
    assert client.post(url, content=b"not json", headers=DATASTAR).status_code == 422


def test_mutations_need_the_datastar_header(client, db):
    card = add(db, COLUMNS[0])

    payload = {"card": card, "column": COLUMNS[-1]}
    assert client.post(f"{PATH}/move", json=payload).status_code == 403
    assert client.post(f"{PATH}/cards", data={LABEL: "x", GROUP: COLUMNS[0]}).status_code == 403
    assert client.delete(f"{PATH}/{card}").status_code == 403
    assert count(db, TABLE) == 1


def test_quick_add_asks_for_the_missing_fields(client, db):
    column = COLUMNS[-1]
    add(db, column)
    text = "Ada <b>&</b> {{ 7*7 }}"

    response = client.post(f"{PATH}/cards", data={LABEL: text, GROUP: column}, headers=DATASTAR)

    assert response.status_code == 200
    # Other required fields have no default: the full form opens, the text kept.
    assert count(db, TABLE) == 1
    events = parse(response.text)
    assert patched_ids(events)[0] == "#pipeline-drawer"
    assert 'id="pipeline-form"' in events[0].elements


def test_quick_add_without_a_label_shows_the_error_in_the_column(client, db):
    response = client.post(f"{PATH}/cards", data={LABEL: "  ", GROUP: COLUMNS[0]}, headers=DATASTAR)

    assert count(db, TABLE) == 0
    events = parse(response.text)
    assert patched_ids(events) == [BOARD]
    assert 'id="pipeline-col-1-add-error"' in events[0].elements


def test_quick_add_into_an_unknown_column_is_refused(client, db):
    response = client.post(f"{PATH}/cards", data={LABEL: "x", GROUP: "nope"}, headers=DATASTAR)

    assert count(db, TABLE) == 0
    assert patched_ids(parse(response.text)) == [BOARD, "#toasts"]


def test_deep_link_opens_the_card_in_the_drawer(client, db):
    card = add(db, COLUMNS[0])

    html = client.get(f"{PATH}/{card}").text

    assert 'id="pipeline-show"' in html
    signals = json.loads(html.split("data-signals='")[1].split("'")[0])
    assert signals["_selectedId"] == card
    assert client.get(f"{PATH}/{card}/edit").status_code == 200
    new_form = client.get(f"{PATH}/new?column={COLUMNS[0]}").text
    assert 'id="pipeline-form"' in new_form


def test_unknown_and_malformed_ids_are_404(client, db):
    assert client.get(f"{PATH}/{uuid.uuid4()}").status_code == 404
    assert client.get(f"{PATH}/not-a-uuid").status_code == 404


def test_opening_a_card_patches_only_the_drawer(client, db):
    card = add(db, COLUMNS[0])

    events = parse(ds_get(client, f"{PATH}/{card}", view=MOUNTED).text)

    assert patched_ids(events)[0] == "#pipeline-drawer"
    assert BOARD not in patched_ids(events)
    assert signals_of(events) == {"_selectedId": card}


def test_arriving_from_another_screen_swaps_the_whole_screen(client, db):
    events = parse(ds_get(client, PATH, view={"screen": "elsewhere", "q": ""}).text)

    assert patched_ids(events)[0] == "#screen"
    assert signals_of(events)["view"] == MOUNTED


def test_editing_the_column_in_the_drawer_puts_the_card_last_there(client, db):
    a, b = COLUMNS[0], COLUMNS[1]
    card = add(db, a)
    waiting = add(db, b)
    form = {name: value for name, value in client_form(db).items()}
    form[GROUP] = b

    response = client.put(f"{PATH}/{card}", data=form, headers=DATASTAR)

    assert response.status_code == 200
    assert "field-error" not in response.text, response.text
    assert sorted(ids_in(db, b)) == sorted([waiting, card])
    assert ids_in(db, a) == []


def test_delete_removes_the_card(client, db):
    card = add(db, COLUMNS[0], label="Doomed")

    response = client.delete(f"{PATH}/{card}", headers=DATASTAR)

    assert response.status_code == 200
    assert count(db, TABLE) == 0
    assert BOARD in patched_ids(parse(response.text))
    assert client.delete(f"{PATH}/{card}", headers=DATASTAR).status_code == 200  # gone: a toast


def client_form(db) -> dict[str, str]:
    """A submission of the drawer's form that the server accepts (strings, like a browser)."""
    form = {
        "from": "Ada <b>&</b> {{ 7*7 }}",
        "class": "cold",
        "order": "50",
        "amount": "50.00",
        "select": "on",
    }
    form["owner"] = make(db, "people")
    return form
