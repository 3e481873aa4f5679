"""Screen `pipeline` live: changes made elsewhere reach open boards over the realtime
stream, with the real Datastar runtime in headless Chromium, and what the user is doing on
the board (an open form, typed text, focus, the drawer and its dialog) survives them."""

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_pipeline import card, column
from tests.conftest import ready
from tests.test_pipeline import (
    COLUMNS,
    GROUP,
    LABEL,
    PATH,
    TABLE,
    add,
    ids_in,
)

pytestmark = pytest.mark.browser

STATUS = "#pipeline-live-status"
EMPTY = "#pipeline-empty"


@pytest.fixture
def other_page(browser, live_server) -> Iterator[Any]:
    """A second browser context: another person with the same board open."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_live(page, url: str = PATH) -> None:
    page.goto(url)
    ready(page)
    expect(page.locator(STATUS)).to_have_attribute("data-state", "live")
    # A marker that only survives while the page is never reloaded.
    page.evaluate("window.__noReload = true")


def shown(page) -> list[list[str]]:
    """The card ids of every column of COLUMNS, top to bottom, as the page shows them."""
    return [
        page.eval_on_selector_all(
            f"{column(index)}-cards article",
            "els => els.map(e => e.id.replace('pipeline-card-', ''))",
        )
        for index in range(len(COLUMNS))
    ]


def expect_board(page, db) -> None:
    """Every column shows the database's cards, in board order (waits for the stream)."""
    expected = [ids_in(db, key) for key in COLUMNS]
    deadline = time.monotonic() + 15
    while shown(page) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shown(page) == expected
    for index, ids in enumerate(expected):
        count = page.locator(f"{column(index)}-count")
        expect(count).to_have_text(re.compile(rf"^\s*{len(ids)}(/|\s*$)"))


def sql(db, statement: str, *params: Any) -> None:
    db.execute(statement.format(table=TABLE, group=GROUP), params)


def test_a_change_in_one_browser_appears_in_the_other(page, other_page, db):
    moved = add(db, COLUMNS[0], label="Moved card")
    stays = add(db, COLUMNS[0], label="Staying card")
    open_live(page)
    open_live(other_page)

    # Moved with the other browser's keyboard: here it changes column without a reload.
    other_page.focus(f"{card(moved)}-right")
    other_page.keyboard.press("Enter")
    expect(page.locator(f"{column(1)} {card(moved)}")).to_be_visible()
    expect(page.locator(f"{column(0)} {card(moved)}")).to_have_count(0)
    expect_board(page, db)

    # This page has the other card open in its drawer (selected on the board).
    page.click(f"{card(stays)}-title")
    expect(page.locator("#pipeline-show")).to_be_visible()
    expect(page.locator(card(stays))).to_have_class(re.compile("outline-indigo-500"))
    # Renamed there: the card and the drawer here follow; the card stays selected.
    other_page.click(f"{card(stays)}-title")
    other_page.click("#pipeline-edit")
    other_page.fill("#pipeline-form-name", "Renamed elsewhere")
    other_page.locator("#pipeline-form [type=submit]").click()
    expect(page.locator(f"{card(stays)}-title")).to_have_text("Renamed elsewhere")
    expect(page.locator("#pipeline-drawer-title")).to_have_text("Renamed elsewhere")
    expect(page.locator(card(stays))).to_have_class(re.compile("outline-indigo-500"))

    # Deleted there: gone from the board here, and the drawer says so.
    other_page.click("#pipeline-delete")
    other_page.locator("#pipeline-delete-dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(card(stays))).to_have_count(0)
    expect(page.locator("#pipeline-show")).to_contain_text("deleted")
    expect_board(page, db)

    # A move made here is announced to screen readers, and the stream's frames (its own
    # echo, then a later change) leave that announcement alone.
    page.click("#pipeline-drawer-close")
    page.focus(f"{card(moved)}-left")
    page.keyboard.press("Enter")
    expect(page.locator(f"{column(0)} {card(moved)}")).to_be_visible()
    status = page.locator("#pipeline-status")
    expect(status).to_contain_text("now")
    later = add(db, COLUMNS[1], label="Later card")
    expect(page.locator(f"{column(1)} {card(later)}")).to_be_visible()
    expect(status).to_contain_text("now")
    assert page.evaluate("window.__noReload") is True


def test_writes_made_with_sql_appear_in_board_order(page, db):
    open_live(page)
    expect(page.locator(EMPTY)).to_be_visible()
    # Any writer (a script, psql, another service) is seen: the triggers log every change.
    last = len(COLUMNS) - 1
    first = add(db, COLUMNS[last], label="Written by SQL")
    expect(page.locator(f"{column(last)} {card(first)}")).to_be_visible()
    expect(page.locator(EMPTY)).to_have_count(0)

    size = 12
    burst = [
        add(db, COLUMNS[n % len(COLUMNS)], label=f"Burst {n:02}")
        for n in range(size)
    ]
    if len(burst) > 1:
        sql(db, 'UPDATE "{table}" SET "{group}" = %s WHERE id = %s', COLUMNS[0], burst[-1])
        sql(db, 'DELETE FROM "{table}" WHERE id = %s', burst[0])
    expect_board(page, db)

    sql(db, 'DELETE FROM "{table}"')
    expect(page.locator(EMPTY)).to_be_visible()
    expect_board(page, db)
    assert page.evaluate("window.__noReload") is True


def test_an_open_inline_form_keeps_its_text_and_focus_through_a_patch(page, db):
    open_live(page)
    page.click(f"{column(0)}-add-open")
    field = page.locator(f"{column(0)}-add-label")
    expect(field).to_be_focused()
    field.fill("Half typed")

    # A card arrives in the same column meanwhile: the board is patched around the form.
    arrived = add(db, COLUMNS[0], label="Arrived meanwhile")
    expect(page.locator(f"{column(0)} {card(arrived)}")).to_be_visible()
    expect(field).to_be_visible()
    expect(field).to_have_value("Half typed")
    expect(field).to_be_focused()

    field.press("End")
    field.press_sequentially(" and done")
    field.press("Enter")
    expect(page.locator(f"{column(0)}-cards article")).to_have_count(2)
    rows = db.execute(f'SELECT "{LABEL}" AS label FROM "{TABLE}" ORDER BY 1').fetchall()
    assert [row["label"] for row in rows] == ["Arrived meanwhile", "Half typed and done"]
    assert page.evaluate("window.__noReload") is True


def test_the_drawer_follows_its_card_and_keeps_the_dialog_and_the_form(page, db):
    opened = add(db, COLUMNS[0], label="Drawer card")
    open_live(page, f"{PATH}/{opened}")
    expect(page.locator("#pipeline-show")).to_be_visible()
    page.click("#pipeline-delete")
    dialog = page.locator("#pipeline-delete-dialog")
    expect(dialog).to_be_visible()

    # Moved elsewhere while the delete dialog is open: the drawer's facts and the board
    # follow, the dialog stays open and the card stays selected.
    sql(db, 'UPDATE "{table}" SET "{group}" = %s WHERE id = %s', COLUMNS[1], opened)
    expect(page.locator(f"{column(1)} {card(opened)}")).to_be_visible()
    title = COLUMNS[1].replace("_", " ")
    expect(page.locator("#pipeline-show-facts")).to_contain_text(re.compile(re.escape(title), re.I))
    expect(dialog).to_be_visible()
    expect(page.locator(card(opened))).to_have_class(re.compile("outline-indigo-500"))
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    # A form being edited is never touched by the stream; the board still is.
    page.click("#pipeline-edit")
    form = page.locator("#pipeline-form")
    expect(form).to_be_visible()
    label_input = page.locator("#pipeline-form-name")
    label_input.fill("Typed, not saved")
    sql(db, 'UPDATE "{table}" SET "{group}" = %s WHERE id = %s', COLUMNS[0], opened)
    expect(page.locator(f"{column(0)} {card(opened)}")).to_be_visible()
    expect(form).to_be_visible()
    expect(label_input).to_have_value("Typed, not saved")

    # Back to the card, then deleted elsewhere while the drawer shows it: it says so.
    form.get_by_role("link", name="Cancel").click()
    expect(page.locator("#pipeline-show")).to_be_visible()
    sql(db, 'DELETE FROM "{table}" WHERE id = %s', opened)
    expect(page.locator(card(opened))).to_have_count(0)
    expect(page.locator("#pipeline-show")).to_contain_text("deleted")
    page.click("#pipeline-drawer-close")
    expect(page.locator("#pipeline-drawer-panel")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True
