"""Screen `stays` live: bookings made elsewhere redraw open calendars, over the
realtime stream, with the real Datastar runtime in headless Chromium."""

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from psycopg import sql

from tests.browser.test_stays import HIGHLIGHT, band, day, fill, submit
from tests.conftest import ready
from tests.test_stays import (
    ID,
    STAY,
    TABLE,
    book,
    month_url,
    next_month,
    nights,
    valid_form,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def other_page(browser, live_server) -> Iterator[Any]:
    """A second browser context: another person with the same calendar open."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def where(db) -> dict[str, Any]:
    """What a booking of the page's calendar needs besides its dates."""
    return {}


def url(place: dict[str, Any], when: date) -> str:
    return month_url(when)


def form(db, place: dict[str, Any], first: date, last: date) -> dict[str, str]:
    return valid_form(db, first, last)


def open_live(page, address: str) -> None:
    # Not `open_page`: a page holding a stream is never network-idle.
    page.goto(address)
    ready(page)
    expect(page.locator(f"#{ID}-live-status")).to_have_attribute("data-state", "live")
    # A marker that only survives while the page is never reloaded.
    page.evaluate("window.__noReload = true")


def expect_taken(page, days: list[int], taken: bool = True) -> None:
    for n in days:
        if taken:
            expect(day(page, next_month(n))).to_be_disabled()
        else:
            expect(day(page, next_month(n))).to_be_enabled()


def still_live(page) -> None:
    assert page.evaluate("window.__noReload") is True
    status = page.locator(f"#{ID}-live-status")
    expect(status).to_have_attribute("data-state", "live")
    expect(status).to_have_text("Live")


def test_a_booking_in_one_browser_appears_in_the_other(page, other_page, db):
    place = where(db)
    values = form(db, place, next_month(3), next_month(3 + STAY))  # before the pages: its refs
    open_live(page, url(place, next_month()))
    open_live(other_page, url(place, next_month()))
    stay = list(range(3, 3 + STAY))
    expect_taken(page, stay, taken=False)

    # Booked in the other browser: the nights are taken here, the list shows the stay.
    day(other_page, next_month(3)).click()
    day(other_page, next_month(3 + STAY)).click()
    expect(other_page.locator(f"#{ID}-summary")).to_contain_text(f"{nights(STAY)} available")
    fill(other_page, values)
    submit(other_page)
    expect(other_page.locator("#toasts")).to_contain_text("Booked")
    expect_taken(page, stay)
    expect_taken(page, [2, 3 + STAY], taken=False)  # the check-out day is free again
    rows = page.locator(f"#{ID}-bookings li")
    expect(rows).to_have_count(1)
    booking_id = rows.first.get_attribute("id").removeprefix(f"{ID}-booking-")

    # Deleted there: free again here.
    other_page.click(f"#{ID}-delete-{booking_id}")
    other_page.locator(f"#{ID}-delete-dialog-{booking_id}").get_by_role("button", name="Delete").click()
    expect_taken(page, stay, taken=False)
    expect(page.locator(f"#{ID}-bookings-empty")).to_be_visible()
    still_live(page)


def test_writes_from_outside_the_app(page, db):
    place = where(db)
    open_live(page, url(place, next_month()))
    expect(page.locator(f"#{ID}-bookings-empty")).to_be_visible()
    # Any writer (a script, psql, another service) is seen: the triggers log every change.
    first = book(db, next_month(10), next_month(13), **place)
    expect_taken(page, [10, 11, 12])
    expect(page.locator(f"#{ID}-booking-{first}")).to_have_count(1)
    burst = [book(db, next_month(n), next_month(n + 1), **place) for n in (15, 17, 19, 21)]
    db.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(TABLE)), (burst[1],))
    expect_taken(page, [15, 19, 21])
    expect_taken(page, [17], taken=False)
    expect(page.locator(f"#{ID}-bookings li")).to_have_count(4)
    db.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(TABLE)))
    expect(page.locator(f"#{ID}-bookings-empty")).to_be_visible()
    expect_taken(page, [10, 11, 12], taken=False)
    still_live(page)


def test_a_redraw_keeps_the_pick_the_form_and_an_open_dialog(page, db):
    place = where(db)
    kept = book(db, next_month(20), next_month(22), **place)
    values = form(db, place, next_month(3), next_month(8))
    open_live(page, url(place, next_month()))

    # A half-made pick and typed text, then nights taken elsewhere inside the range.
    short = min(STAY, 2)  # the nights of the pick: up to the new stay
    end = 3 + short
    day(page, next_month(3)).click()
    fill(page, values)
    book(db, next_month(end), next_month(end + 2), **place)
    # The new truth: the next night is taken now, and the pick's end can only end a stay ...
    expect_taken(page, [end + 1])
    expect(day(page, next_month(end + 1))).to_have_attribute("data-state", "taken")
    expect(day(page, next_month(end))).to_have_attribute("data-state", "checkout")
    # ... and the pick and the form are as they were.
    expect(day(page, next_month(3))).to_have_attribute("aria-pressed", "true")
    day(page, next_month(end)).hover()  # not the start: the mouse is already there
    expect(band(page, next_month(end - 1))).to_have_class(HIGHLIGHT)
    for name, value in values.items():
        control = page.locator(f"#{ID}-form-{name}")
        if control.count() and control.evaluate(
            "el => el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && el.type !== 'checkbox' && el.type !== 'hidden')"
        ):
            assert control.input_value() == value, name
    # The pick goes on against the new truth: to its end (a check-out day now), and booked.
    day(page, next_month(end)).click()
    expect(page.locator(f"#{ID}-summary")).to_contain_text(f"{nights(short)} available")
    submit(page)
    expect(page.locator("#toasts")).to_contain_text("Booked")
    expect_taken(page, list(range(3, end)))

    # A delete dialog left open stays open through a redraw, and still works.
    page.click(f"#{ID}-delete-{kept}")
    dialog = page.locator(f"#{ID}-delete-dialog-{kept}")
    expect(dialog).to_be_visible()
    book(db, next_month(12), next_month(13), **place)
    expect_taken(page, [12])
    time.sleep(0.3)  # any late morph of the list has landed
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(f"#{ID}-booking-{kept}")).to_have_count(0)
    expect_taken(page, [20, 21], taken=False)
    still_live(page)


def test_another_month_opens_the_stream_of_that_month(page, db):
    place = where(db)
    open_live(page, url(place, next_month()))
    page.click(f"#{ID}-next")
    calendar = page.locator(f"#{ID}-calendar")
    later = (next_month() + timedelta(days=32)).replace(day=1)  # the month after next
    expect(calendar).to_have_attribute("data-month", f"{later:%Y-%m}")
    expect(page.locator(f"#{ID}-live")).to_have_attribute(
        "data-init", re.compile(f"month={later:%Y-%m}")
    )
    expect(page.locator(f"#{ID}-live-status")).to_have_attribute("data-state", "live")
    # Redrawn for the month shown: a stream still on the old month would bring it back.
    first = later.replace(day=10)
    book(db, first, first.replace(day=12), **place)
    expect(page.locator(f"#{ID}-day-{first.isoformat()}")).to_be_disabled()
    expect(calendar).to_have_attribute("data-month", f"{later:%Y-%m}")
    still_live(page)
