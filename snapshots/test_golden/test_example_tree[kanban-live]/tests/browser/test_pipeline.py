"""Screen `pipeline`
in headless Chromium with the real Datastar runtime: drag and drop, the keyboard moves,
inline add and the drawer, checked in the DOM and in the database."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import count, nav_link, ready
from tests.test_pipeline import (
    COLUMNS,
    PATH,
    TABLE,
    add,
    ids_in,
)

pytestmark = pytest.mark.browser


def column(index: int) -> str:
    """The CSS id of the column of COLUMNS[index]."""
    return f"#pipeline-col-{index + 1}"


def card(card_id: str) -> str:
    return f"#{card_id_attr(card_id)}"


def card_id_attr(card_id: str) -> str:
    return f"pipeline-card-{card_id}"


BOARD = "#pipeline-board"


def open_board(page, url: str = PATH) -> None:
    page.goto(url)
    # Datastar (a module script) is running. (Not "networkidle": a live screen's stream
    # keeps the network busy for as long as the page is open.)
    ready(page)
    # A marker that only survives while the page is never reloaded.
    page.evaluate("window.__noReload = true")


def end_of(index: int) -> str:
    """The empty space under a column's last card: dropping there puts a card last."""
    return f"{column(index)}-cards > li:last-child"


def test_drag_a_card_to_another_column(page, db):
    moved = add(db, COLUMNS[0], label="Moved card")
    stays = add(db, COLUMNS[0], label="Staying card")
    waiting = add(db, COLUMNS[1], label="Waiting card")
    open_board(page)
    expect(page.locator(f"{BOARD} section.ring-indigo-300")).to_have_count(0)  # none lit

    page.locator(card(moved)).drag_to(page.locator(end_of(1)))

    expect(page.locator(f"{column(1)} {card(moved)}")).to_be_visible()
    expect(page.locator(f"{column(0)} {card(moved)}")).to_have_count(0)
    expect(page.locator(f"{column(1)}-count")).to_contain_text("2")
    assert sorted(ids_in(db, COLUMNS[1])) == sorted([waiting, moved])
    assert ids_in(db, COLUMNS[0]) == [stays]
    assert page.evaluate("window.__noReload") is True


def test_an_invalid_move_snaps_back_and_says_why(page, db):
    kept = add(db, COLUMNS[0], label="Kept card")
    vanishing = add(db, COLUMNS[0], label="Vanishing card")
    open_board(page)

    # A column the server does not know (a tampered page): the server refuses the drop.
    target = page.locator(column(1))
    target.evaluate(
        "el => el.setAttribute('data-on:drop', el.getAttribute('data-on:drop')"
        ".replace(/column: '(?:[^'\\\\]|\\\\.)*',/, \"column: 'no-such-column',\"))"
    )
    page.locator(card(kept)).drag_to(page.locator(end_of(1)))
    expect(page.locator("#toasts")).to_contain_text("does not exist")
    expect(page.locator(f"{column(0)} {card(kept)}")).to_be_visible()
    expect(page.locator(f"{column(1)} {card(kept)}")).to_have_count(0)
    assert ids_in(db, COLUMNS[0]) == [kept, vanishing]

    # A card deleted meanwhile (by someone else): it leaves the board, nothing else moves.
    db.execute('DELETE FROM "leads" WHERE "id" = %s', (vanishing,))
    # The stream takes it off this live board by itself; a move of it sent before that
    # patch arrived (a move button rewritten to name it) is refused.
    expect(page.locator(card(vanishing))).to_have_count(0)
    button = page.locator(f"{card(kept)}-right")
    button.evaluate(
        "(el, ids) => el.setAttribute('data-on:click', el.getAttribute('data-on:click')"
        ".replace(ids[0], ids[1]))",
        [kept, vanishing],
    )
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("no longer exists")
    expect(page.locator(card(vanishing))).to_have_count(0)
    expect(page.locator(f"{column(0)} {card(kept)}")).to_be_visible()
    assert ids_in(db, COLUMNS[1]) == []
    assert page.evaluate("window.__noReload") is True


def test_move_buttons_are_the_keyboard_alternative(page, db):
    moved = add(db, COLUMNS[0], label="Keyboard card")
    open_board(page)

    page.focus(f"{card(moved)}-right")
    page.keyboard.press("Enter")

    expect(page.locator(f"{column(1)} {card(moved)}")).to_be_visible()
    assert ids_in(db, COLUMNS[1]) == [moved]
    # Screen readers hear where the card went.
    expect(page.locator("#pipeline-status")).to_contain_text("now")


def test_add_a_card_inline(page, db):
    text = "Ada <b>&</b> {{ 7*7 }}"
    open_board(page)
    last = len(COLUMNS) - 1
    expect(page.locator(f"{BOARD} form:visible")).to_have_count(0)  # all closed

    page.click(f"{column(last)}-add-open")
    field = page.locator(f"{column(last)}-add-label")
    expect(field).to_be_focused()
    field.press("Enter")  # empty: the server says what is missing
    expect(page.locator(f"{column(last)}-add-error")).to_be_visible()
    assert count(db, TABLE) == 0
    # Enter does nothing while the Add button is disabled (a request in flight),
    # as for anyone typing: wait until the answer has finished.
    expect(page.locator(f"{column(last)}-add button[type=submit]")).to_be_enabled()
    field.fill(text)
    field.press("Enter")

    expect(page.locator(f"{column(last)}-cards article")).to_have_count(1)
    expect(page.locator(f"{column(last)}-cards article a").first).to_have_text(text)
    assert count(db, TABLE) == 1
    assert len(ids_in(db, COLUMNS[last])) == 1
    # The form stays open and empty for the next card.
    expect(field).to_be_visible()
    expect(field).to_have_value("")
    assert page.evaluate("window.__noReload") is True


def test_open_edit_and_delete_a_card_in_the_drawer(page, db):
    card_id = add(db, COLUMNS[0], label="Drawer card")
    # Arrive from another screen: the board is swapped in, without a page load.
    open_board(page, "/board")
    nav_link(page, PATH).click()
    expect(page).to_have_url(re.compile(f"{PATH}$"))

    page.click(f"{card(card_id)}-title")
    expect(page.locator("#pipeline-show")).to_be_visible()
    expect(page).to_have_url(re.compile(f"{PATH}/{card_id}$"))
    expect(page.locator(card(card_id))).to_have_class(re.compile("outline-indigo-500"))

    page.click("#pipeline-edit")
    expect(page.locator("#pipeline-form")).to_be_visible()
    renamed = "Ada <b>&</b> {{ 7*7 }}"  # markup and braces: shown as text, never run
    page.fill("#pipeline-form-name", renamed)
    page.locator("#pipeline-form [type=submit]").click()
    expect(page.locator("#pipeline-show")).to_be_visible()
    expect(page.locator(f"{card(card_id)}-title")).to_have_text(renamed)

    page.keyboard.press("Escape")
    expect(page.locator("#pipeline-drawer-panel")).to_have_count(0)
    expect(page).to_have_url(re.compile(f"{PATH}$"))
    assert page.evaluate("window.__noReload") is True

    page.goto(f"{PATH}/{card_id}")  # a deep link opens the drawer too
    page.click("#pipeline-delete")
    dialog = page.locator("#pipeline-delete-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(card(card_id))).to_have_count(0)
    expect(page.locator("#pipeline-drawer-panel")).to_have_count(0)
    assert count(db, TABLE) == 0


def test_a_confirm_stacks_over_the_drawer_and_escape_closes_one_at_a_time(page, db):
    """The overlays as one system, from the keyboard on a phone: the drawer is a bottom
    sheet; its delete confirm opens over it; Escape closes the confirm only (the focus back
    on Delete), then the drawer. On a desktop the drawer sits at the right."""
    card_id = add(db, COLUMNS[0], label="Stacked card")
    page.set_viewport_size({"width": 360, "height": 740})
    open_board(page, f"{PATH}/{card_id}")
    panel = page.locator("#pipeline-drawer-panel")
    expect(panel).to_be_visible()
    assert page.evaluate("document.getElementById('pipeline-drawer-panel').matches(':modal')")
    sheet = panel.bounding_box()
    assert sheet["x"] == 0 and sheet["width"] == 360, sheet
    assert sheet["y"] > 0 and abs(sheet["y"] + sheet["height"] - 740) <= 1, sheet  # at the bottom

    # Saved from the sheet: the toast shows above it and off its footer's actions.
    page.click("#pipeline-edit")
    expect(page.locator("#pipeline-form")).to_be_visible()
    page.locator("#pipeline-form [type=submit]").click()
    expect(page.locator("#pipeline-show")).to_be_visible()
    expect(page.locator("#toasts [role=status]")).to_be_visible()
    stack = page.locator("#toasts").bounding_box()
    edit = page.locator("#pipeline-edit").bounding_box()
    assert stack["y"] >= edit["y"] + edit["height"] or stack["y"] + stack["height"] <= edit["y"], (
        "a toast covers the drawer's Edit button")

    delete = page.locator("#pipeline-delete")
    delete.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#pipeline-delete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # not Delete
    assert page.evaluate("document.getElementById('pipeline-delete-dialog').matches(':modal')")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(panel).to_be_visible()  # only the top one closed
    expect(delete).to_be_focused()
    expect(page).to_have_url(re.compile(f"{PATH}/{card_id}$"))

    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    expect(page).to_have_url(re.compile(f"{PATH}$"))
    assert count(db, TABLE) == 1
    assert page.evaluate("window.__noReload") is True

    page.set_viewport_size({"width": 1280, "height": 800})
    page.click(f"{card(card_id)}-title")
    expect(panel).to_be_visible()
    side = panel.bounding_box()
    assert abs(side["x"] + side["width"] - 1280) <= 1 and side["y"] == 0, side
    assert abs(side["height"] - 800) <= 1 and side["width"] < 1280 / 2 + 50, side
