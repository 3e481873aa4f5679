"""Screen `rentals`.

In headless Chromium with the real Datastar runtime.
"""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.conftest import choose, count, nav_link
from tests.test_rentals import (
    END,
    ID,
    MAX_NIGHTS,
    PATH,
    RESOURCE,
    START,
    STAY,
    TABLE,
    book,
    make_unit,
    month_url,
    next_month,
    nights,
    valid_form,
)
from tests.test_units import valid_form as units_form

pytestmark = pytest.mark.browser

HIGHLIGHT = re.compile(r"\bbg-indigo-50\b")


def day(page, when: date):
    return page.locator(f"#{ID}-day-{when.isoformat()}")


def band(page, when: date):
    """The cell around a day's button: it carries the range highlight."""
    return day(page, when).locator("..")


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")  # Datastar (a module script) is running


def fill(page, form: dict[str, str]) -> None:
    """Type the fields the form shows (the dates come from the calendar)."""
    for name, value in form.items():
        if name in (RESOURCE, START, END):
            continue
        control = page.locator(f"#{ID}-form-{name}")
        kind = control.evaluate("el => el.tagName + ':' + (el.type || '')")
        if kind == "INPUT:hidden":
            continue  # a value the server places (a position): not for a person to fill
        if kind == "SELECT:select-multiple":
            choose(page, control, value)
        elif kind.startswith("SELECT"):
            control.select_option(value)
        elif kind == "INPUT:checkbox":
            control.set_checked(value == "on")
        else:
            control.fill(value)


def submit(page) -> None:
    """Submit the form and wait for the server's whole answer."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator(f"#{ID}-form-submit").click()
    answer.value.finished()


def stays(db) -> list[tuple[date, date]]:
    rows = db.execute(f'SELECT "{START}" AS s, "{END}" AS e FROM "{TABLE}" ORDER BY 1').fetchall()
    return [(r["s"], r["e"]) for r in rows]


def test_pick_a_range_and_book_it(page, db):
    room = make_unit(db)
    book(db, next_month(10), next_month(13), **{RESOURCE: room})
    form = valid_form(db, next_month(3), next_month(3 + STAY), room)  # before the page: its refs
    open_page(page, month_url(room, next_month()))
    page.evaluate("window.__noReload = true")  # survives only if the page never reloads

    # Taken nights are disabled by the server; the day a stay ends is free again.
    for taken in (10, 11, 12):
        expect(day(page, next_month(taken))).to_be_disabled()
    for free in (9, 13):
        expect(day(page, next_month(free))).to_be_enabled()

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    day(page, next_month(3)).click()
    expect(day(page, next_month(3))).to_have_attribute("aria-pressed", "true")
    # The hover preview is client chrome: the range lights up, no request is made.
    day(page, next_month(3 + STAY)).hover()
    for lit in range(3, 4 + STAY):
        expect(band(page, next_month(lit))).to_have_class(HIGHLIGHT)
    expect(band(page, next_month(4 + STAY))).not_to_have_class(HIGHLIGHT)
    expect(band(page, next_month(2))).not_to_have_class(HIGHLIGHT)
    assert requests == []

    # Completing the pick asks the server once; it answers with the nights it spans.
    day(page, next_month(3 + STAY)).click()
    expect(page.locator(f"#{ID}-summary")).to_contain_text(f"{nights(STAY)} available")
    assert len(requests) == 1 and "/check?" in requests[0]

    fill(page, form)
    submit(page)

    expect(page.locator("#toasts")).to_contain_text("Booked")
    assert stays(db) == [(next_month(3), next_month(3 + STAY)), (next_month(10), next_month(13))]
    for booked in range(3, 3 + STAY):
        expect(day(page, next_month(booked))).to_be_disabled()
    expect(day(page, next_month(3 + STAY))).to_be_enabled()
    expect(page.locator(f"#{ID}-bookings li[id^='{ID}-booking-']")).to_have_count(2)
    expect(page.locator(f"#{ID}-summary-error")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True


def test_an_overlapping_range_is_rejected_inline(page, db):
    # A stay from the 10th to the (9 + STAY)th: a pick from the 9th to its check-out day
    # crosses it in STAY nights (a pick of one night cannot: its night is free or not offered).
    last = next_month(9 + STAY) if STAY > 1 else next_month(13)
    room = make_unit(db)
    book(db, next_month(10), last, **{RESOURCE: room})
    form = valid_form(db, next_month(9), next_month(9 + STAY), room)
    open_page(page, month_url(room, next_month()))
    error = page.locator(f"#{ID}-summary-error")

    day(page, next_month(9)).click()
    day(page, next_month(9 + STAY)).click()
    expect(error).to_contain_text("overlap")
    fill(page, form)
    submit(page)
    expect(error).to_be_visible()
    expect(error).to_contain_text("overlap")
    assert count(db, TABLE) == 1

    # A pick ending on the 21st, and a stay from the 20th booked meanwhile.
    # The server has the last word even when the page is stale: these nights were taken
    # after the page was drawn, so the browser still offers them.
    book(db, next_month(20), next_month(23), **{RESOURCE: room})
    day(page, next_month(21 - STAY)).click()  # after a completed pick: this starts a new one
    expect(error).to_be_hidden()  # the old verdict is about the old pick
    day(page, next_month(21)).click()
    expect(error).to_contain_text("overlap")
    assert count(db, TABLE) == 2


def test_max_nights_is_enforced(page, db):
    first = next_month(1)
    last = first + timedelta(days=MAX_NIGHTS + 1)
    room = make_unit(db)
    form = valid_form(db, first, last, room)
    open_page(page, month_url(room, first))

    day(page, first).click()
    heading = page.locator(f"#{ID}-month")
    month = first
    while month < last.replace(day=1):  # the pick survives month changes
        month = (month + timedelta(days=31)).replace(day=1)
        page.click(f"#{ID}-next")
        expect(heading).to_have_text(f"{month:%B %Y}")
    day(page, last).click()

    error = page.locator(f"#{ID}-summary-error")
    expect(error).to_contain_text(f"At most {MAX_NIGHTS} night")
    fill(page, form)
    submit(page)
    expect(error).to_contain_text(f"At most {MAX_NIGHTS} night")
    assert count(db, TABLE) == 0


def test_month_navigation(page, db):
    later = (next_month(28) + timedelta(days=7)).replace(day=1)  # the month after next
    room = make_unit(db)
    book(db, later.replace(day=4), later.replace(day=6), **{RESOURCE: room})
    open_page(page, month_url(room, next_month()))
    heading = page.locator(f"#{ID}-month")
    expect(heading).to_have_text(f"{next_month():%B %Y}")

    # A pick may span months: start now (the month's last day), end after moving on.
    first = later - timedelta(days=1)
    day(page, first).click()
    page.click(f"#{ID}-next")
    expect(heading).to_have_text(f"{later:%B %Y}")
    expect(page).to_have_url(re.compile(rf"month={later:%Y-%m}"))
    expect(day(page, later.replace(day=5))).to_be_disabled()  # the server drew this month too
    day(page, first + timedelta(days=STAY)).click()
    expect(page.locator(f"#{ID}-summary")).to_contain_text(f"{nights(STAY)} available")

    page.click(f"#{ID}-prev")
    expect(heading).to_have_text(f"{next_month():%B %Y}")
    expect(page).to_have_url(re.compile(rf"month={next_month():%Y-%m}"))
    page.evaluate("history.back()")  # back/forward re-renders the screen for that URL
    expect(heading).to_have_text(f"{later:%B %Y}")
    page.reload()
    expect(heading).to_have_text(f"{later:%B %Y}")


def test_delete_frees_the_dates(page, db):
    room = make_unit(db)
    booking_id = book(db, next_month(10), next_month(13), **{RESOURCE: room})
    open_page(page, month_url(room, next_month()))
    expect(day(page, next_month(11))).to_be_disabled()

    page.click(f"#{ID}-delete-{booking_id}")
    dialog = page.locator(f"#{ID}-delete-dialog-{booking_id}")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()

    expect(page.locator(f"#{ID}-bookings-empty")).to_be_visible()
    expect(day(page, next_month(11))).to_be_enabled()
    assert count(db, TABLE) == 0


def test_availability_is_per_unit(page, db):
    first, second = make_unit(db), make_unit(db)
    book(db, next_month(10), next_month(13), **{RESOURCE: first})
    open_page(page, month_url(first, next_month()))
    expect(day(page, next_month(11))).to_be_disabled()

    page.select_option(f"#{ID}-resource", second)

    expect(page).to_have_url(re.compile(f"resource={second}"))
    expect(day(page, next_month(11))).to_be_enabled()
    expect(page.locator(f"#{ID}-month")).to_have_text(f"{next_month():%B %Y}")
    expect(page.locator(f"#{ID}-bookings-empty")).to_be_visible()


def test_a_newcomer_adds_a_unit_then_books_it(page, db):
    """From an empty app, through the UI alone: the empty state leads to the form of
    Units; back here by the menu, the new one is picked and booked."""
    # Before the pages: the rows its required refs need must be in their pickers.
    values = units_form(db)
    open_page(page, PATH)
    page.click(f"#{ID}-empty-add")
    home_form = page.locator("#units-form")
    expect(home_form).to_be_visible()
    for name, value in values.items():
        control = page.locator(f"#units-form-{name}")
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    home_form.locator("[type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text("created")
    rows = db.execute('SELECT id FROM "units"').fetchall()
    assert len(rows) == 1
    resource = str(rows[0]["id"])

    form = valid_form(db, next_month(3), next_month(3 + STAY), resource)  # before the page: refs
    nav_link(page, PATH).click()
    expect(page).to_have_url(re.compile(re.escape(PATH)))
    expect(page.locator(f"#{ID}-empty")).to_have_count(0)
    page.click(f"#{ID}-next")
    expect(page.locator(f"#{ID}-month")).to_have_text(f"{next_month():%B %Y}")
    day(page, next_month(3)).click()
    day(page, next_month(3 + STAY)).click()
    expect(page.locator(f"#{ID}-summary")).to_contain_text(f"{nights(STAY)} available")
    fill(page, form)
    submit(page)

    expect(page.locator("#toasts")).to_contain_text("Booked")
    assert stays(db) == [(next_month(3), next_month(3 + STAY))]
    booked = db.execute(f'SELECT "{RESOURCE}" AS r FROM "{TABLE}" WHERE "{RESOURCE}" IS NOT NULL').fetchone()["r"]
    assert str(booked) == resource
