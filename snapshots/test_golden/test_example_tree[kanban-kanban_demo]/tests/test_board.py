"""Screen `board`:
the board, moves (validation, renumbering, concurrency), inline and full adds, the drawer."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx2

from tests.conftest import DATASTAR, count, make
from tests.sse import parse, patched_ids, signals_of

PATH = "/board"
TABLE = "tasks"
LABEL = "title"
GROUP = "lane"
COLUMNS = ["backlog", "todo", "doing", "review", "done"]
ORDER = "position"
FIRST = 1
CAPACITY = 30
MOUNTED = {"screen": "board", "q": ""}
BOARD = "#board-board"  # the element every move patches


def card_tag(card_id: str) -> str:
    """How a card's element starts in the HTML."""
    return f'id="board-card-{card_id}"'


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
    values[ORDER] = position
    return make(db, TABLE, **values)


def ids_in(db, column: str | None) -> list[str]:
    """A column's card ids in board order, read from the database."""
    rows = db.execute(
        'SELECT "id" FROM "tasks"'
        ' WHERE "lane" IS NOT DISTINCT FROM %s'
        ' ORDER BY "position" NULLS LAST, "title", "id"',
        (column,),
    ).fetchall()
    return [str(row["id"]) for row in rows]


def positions_in(db, column: str | None) -> list[int]:
    rows = db.execute(
        'SELECT "position" AS "n" FROM "tasks"'
        ' WHERE "lane" IS NOT DISTINCT FROM %s ORDER BY 1',
        (column,),
    ).fetchall()
    return [row["n"] for row in rows]


def move(client, card: str, column: str, before: str = ""):
    """The one request of a drop: JSON, as Datastar's @post sends its payload."""
    payload = {"card": card, "column": column, "before": before}
    return client.post(f"{PATH}/move", json=payload, headers=DATASTAR)


def test_page_renders_every_column_and_the_cards_on_the_server(client, db):
    second = add(db, COLUMNS[0], FIRST + 1, "Zed second")
    first = add(db, COLUMNS[0], FIRST, "Abe first")

    response = client.get(PATH)

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    html = response.text
    for index in range(len(COLUMNS)):
        assert f'id="board-col-{index + 0}"' in html
    assert html.index(card_tag(first)) < html.index(card_tag(second))
    assert 'id="board-empty"' not in html
    assert '<script type="module" src="/static/datastar.js?v=' in html  # fingerprinted


def test_an_empty_board_says_so(client, db):
    html = client.get(PATH).text

    assert 'id="board-empty"' in html
    assert html.count('id="board-col-') >= len(COLUMNS)


def test_a_move_to_another_column_renumbers_both_columns(client, db):
    a, b = COLUMNS[0], COLUMNS[1]
    moved = add(db, a, FIRST)
    stays = add(db, a, FIRST + 1)
    target = add(db, b, FIRST)

    response = move(client, moved, b, before=target)

    assert response.status_code == 200
    events = parse(response.text)
    assert patched_ids(events) == [BOARD]
    assert ids_in(db, b) == [moved, target]
    assert positions_in(db, b) == [FIRST, FIRST + 1]
    assert ids_in(db, a) == [stays]
    assert positions_in(db, a) == [FIRST]
    # The answer is the board as it now is: the card sits in its new column.
    board = events[0].elements
    second_column = board.index('id="board-col-1"')
    assert board.index(card_tag(moved)) > second_column


def test_a_move_within_a_column_reorders_it(client, db):
    column = COLUMNS[0]
    one, two, three = (add(db, column, FIRST + n) for n in range(3))

    move(client, three, column, before=one)
    assert ids_in(db, column) == [three, one, two]
    move(client, three, column, before="")
    assert ids_in(db, column) == [one, two, three]
    move(client, one, column, before=one)  # dropped onto itself: nothing changes
    assert ids_in(db, column) == [one, two, three]
    assert positions_in(db, column) == [FIRST, FIRST + 1, FIRST + 2]


def test_concurrent_moves_never_share_a_position(live_server, db):
    """Many moves at once, in both directions: every column stays 0..n-1 (from FIRST)."""
    a, b = COLUMNS[0], COLUMNS[1]
    per_column = 4 if CAPACITY is None else min(4, CAPACITY // 2)
    cards = [(add(db, a, FIRST), b) for _ in range(per_column)]
    cards += [(add(db, b, FIRST), a) for _ in range(per_column)]  # all start on one position

    def send(card_and_column):
        card, column = card_and_column
        payload = {"card": card, "column": column, "before": ""}
        url = f"{live_server}{PATH}/move"
        return httpx2.post(url, json=payload, headers=DATASTAR, timeout=30).status_code

    again = list(reversed(cards))  # then once more, to the end of the same column
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, cards + again))

    assert set(statuses) == {200}
    for column in (a, b):
        positions = positions_in(db, column)
        assert positions == list(range(FIRST, FIRST + len(positions))), positions
    assert len(positions_in(db, a)) + len(positions_in(db, b)) == 2 * per_column


def test_an_invalid_move_changes_nothing_and_says_why(client, db):
    a = COLUMNS[0]
    card = add(db, a, FIRST)
    other = add(db, COLUMNS[1], FIRST)

    cases = [
        (card, "no such column", "", "does not exist"),
        (str(uuid.uuid4()), COLUMNS[1], "", "no longer exists"),
        (card, COLUMNS[1], str(uuid.uuid4()), "changed"),  # before a card that is not there
        (card, a, other, "changed"),  # before a card of another column
    ]
    for moved, column, before, words in cases:
        events = parse(move(client, moved, column, before).text)
        # The board comes back as it is (the card snaps back) and a toast says why.
        assert patched_ids(events) == [BOARD, "#toasts"]
        assert words in events[1].elements
    assert ids_in(db, a) == [card]
    assert ids_in(db, COLUMNS[1]) == [other]


def test_a_full_column_takes_no_more_cards(client, db, monkeypatch):
    """The order field's range makes a column hold CAPACITY cards, too many to insert in a
    test: the same rule is checked on a board whose columns hold a few."""
    from dataclasses import replace

    from app.screens import board as screen

    assert screen.TABLE.capacity == CAPACITY
    room = 20
    monkeypatch.setattr(screen, "TABLE", replace(screen.TABLE, capacity=room))
    a, b = COLUMNS[0], COLUMNS[1]
    full = [add(db, b, FIRST + n) for n in range(room)]
    card = add(db, a, FIRST)

    events = parse(move(client, card, b).text)

    assert "full" in events[-1].elements
    assert ids_in(db, b) == full
    assert ids_in(db, a) == [card]


def test_malformed_moves_are_refused(client, db):
    card = add(db, COLUMNS[0], FIRST)
    url = f"{PATH}/move"

    for body in ({"card": card}, {"card": "x", "column": COLUMNS[0]}, [card]):
        assert client.post(url, json=body, headers=DATASTAR).status_code == 422
    assert client.post(url, content=b"not json", headers=DATASTAR).status_code == 422


def test_mutations_need_the_datastar_header(client, db):
    card = add(db, COLUMNS[0], FIRST)

    payload = {"card": card, "column": COLUMNS[-1]}
    assert client.post(f"{PATH}/move", json=payload).status_code == 403
    assert client.post(f"{PATH}/cards", data={LABEL: "x", GROUP: COLUMNS[0]}).status_code == 403
    assert client.delete(f"{PATH}/{card}").status_code == 403
    assert count(db, TABLE) == 1


def test_quick_add_creates_the_card_last_in_its_column(client, db):
    column = COLUMNS[-1]
    existing = add(db, column, FIRST + 3)  # need not be dense
    text = "Ada <b>&</b> {{ 7*7 }}"

    response = client.post(f"{PATH}/cards", data={LABEL: text, GROUP: column}, headers=DATASTAR)

    assert response.status_code == 200
    assert count(db, TABLE) == 2
    new_id = next(i for i in ids_in(db, column) if i != existing)
    assert ids_in(db, column) == [existing, new_id]
    assert positions_in(db, column) == [FIRST, FIRST + 1]
    events = parse(response.text)
    assert patched_ids(events) == [BOARD]
    assert card_tag(new_id) in events[0].elements
    assert "<b>&</b>" not in response.text  # user input is escaped, never markup
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in response.text


def test_quick_add_without_a_label_shows_the_error_in_the_column(client, db):
    response = client.post(f"{PATH}/cards", data={LABEL: "  ", GROUP: COLUMNS[0]}, headers=DATASTAR)

    assert count(db, TABLE) == 0
    events = parse(response.text)
    assert patched_ids(events) == [BOARD]
    assert 'id="board-col-0-add-error"' in events[0].elements


def test_quick_add_into_an_unknown_column_is_refused(client, db):
    response = client.post(f"{PATH}/cards", data={LABEL: "x", GROUP: "nope"}, headers=DATASTAR)

    assert count(db, TABLE) == 0
    assert patched_ids(parse(response.text)) == [BOARD, "#toasts"]


def test_deep_link_opens_the_card_in_the_drawer(client, db):
    card = add(db, COLUMNS[0], FIRST)

    html = client.get(f"{PATH}/{card}").text

    assert 'id="board-show"' in html
    signals = json.loads(html.split("data-signals='")[1].split("'")[0])
    assert signals["_selectedId"] == card
    assert client.get(f"{PATH}/{card}/edit").status_code == 200
    new_form = client.get(f"{PATH}/new?column={COLUMNS[0]}").text
    assert 'id="board-form"' in new_form


def test_unknown_and_malformed_ids_are_404(client, db):
    assert client.get(f"{PATH}/{uuid.uuid4()}").status_code == 404
    assert client.get(f"{PATH}/not-a-uuid").status_code == 404


def test_opening_a_card_patches_only_the_drawer(client, db):
    card = add(db, COLUMNS[0], FIRST)

    events = parse(ds_get(client, f"{PATH}/{card}", view=MOUNTED).text)

    assert patched_ids(events)[0] == "#board-drawer"
    assert BOARD not in patched_ids(events)
    assert signals_of(events) == {"_selectedId": card}


def test_arriving_from_another_screen_swaps_the_whole_screen(client, db):
    events = parse(ds_get(client, PATH, view={"screen": "elsewhere", "q": ""}).text)

    assert patched_ids(events)[0] == "#screen"
    assert signals_of(events)["view"] == MOUNTED


def test_editing_the_column_in_the_drawer_puts_the_card_last_there(client, db):
    a, b = COLUMNS[0], COLUMNS[1]
    card = add(db, a, FIRST)
    waiting = add(db, b, FIRST)
    form = {name: value for name, value in client_form(db).items()}
    form[GROUP] = b

    response = client.put(f"{PATH}/{card}", data=form, headers=DATASTAR)

    assert response.status_code == 200
    assert "field-error" not in response.text, response.text
    assert ids_in(db, b) == [waiting, card]
    assert positions_in(db, b) == [FIRST, FIRST + 1]
    assert ids_in(db, a) == []


def test_delete_removes_the_card(client, db):
    card = add(db, COLUMNS[0], FIRST, label="Doomed")

    response = client.delete(f"{PATH}/{card}", headers=DATASTAR)

    assert response.status_code == 200
    assert count(db, TABLE) == 0
    assert BOARD in patched_ids(parse(response.text))
    assert client.delete(f"{PATH}/{card}", headers=DATASTAR).status_code == 200  # gone: a toast


def client_form(db) -> dict[str, str]:
    """A submission of the drawer's form that the server accepts (strings, like a browser)."""
    form = {
        "title": "Ada <b>&</b> {{ 7*7 }}",
        "lane": "backlog",
        "priority": "low",
        "ends": "2024-05-17",
        "notes": "Ada <b>&</b> {{ 7*7 }}",
    }
    return form
