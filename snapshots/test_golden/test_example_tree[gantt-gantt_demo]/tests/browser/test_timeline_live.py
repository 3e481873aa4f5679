"""Screen `timeline` live: changes made elsewhere redraw open charts, over the realtime
stream, with the real Datastar runtime in headless Chromium."""

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from psycopg import sql

from tests.browser.test_timeline import (
    drag,
    fill,
    previewing,
    style_of,
    window,
)
from tests.conftest import ready
from tests.test_timeline import (
    END,
    PATH,
    PX_PER_DAY,
    SCREEN_ID,
    START,
    TABLE,
    add,
    dates,
    depends,
    end_at,
    expected,
    form,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def other_page(browser, live_server) -> Iterator[Any]:
    """A second browser context: another person with the same chart open."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_live(page, url: str = PATH) -> None:
    # Not `load`: a page holding a stream is never network-idle.
    page.goto(url)
    ready(page)
    expect(page.locator(f"#{SCREEN_ID}-live-status")).to_have_attribute("data-state", "live")
    # A marker that only survives while the page is never reloaded.
    page.evaluate("window.__noReload = true")


def expect_still_live(page) -> None:
    """The status badge, inside the redrawn chart, still says what the stream said."""
    status = page.locator(f"#{SCREEN_ID}-live-status")
    expect(status).to_have_attribute("data-state", "live")
    expect(status).to_have_text("Live")


def bar_ids(page) -> set[str]:
    return set(page.eval_on_selector_all("[data-bar]", "bars => bars.map(b => b.dataset.bar)"))


def table_ids(db) -> set[str]:
    rows = db.execute(sql.SQL("SELECT id::text AS id FROM {}").format(sql.Identifier(TABLE)))
    return {row["id"] for row in rows.fetchall()}


def wait_for(condition, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition()


def expect_bars(page, want: set[str]) -> None:
    deadline = time.monotonic() + 15
    while bar_ids(page) != want and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bar_ids(page) == want


def expect_drawn(page, db, row_id: str) -> None:
    """The bar sits where the database's dates say, in the window the page shows."""
    def placed() -> bool:
        _, window_start, window_days = window(page)
        want = expected(window_start, window_days, *dates(db, row_id))
        left, width = style_of(page, row_id)
        return abs(left - want[0]) < 1e-3 and abs(width - want[1]) < 1e-3

    deadline = time.monotonic() + 15
    while not placed() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert placed()


def set_dates(db, row_id: str, start: Any, end: Any) -> None:
    """Plain SQL, as any writer outside the app would."""
    db.execute(
        sql.SQL("UPDATE {} SET {} = %s, {} = %s WHERE id = %s").format(
            sql.Identifier(TABLE), sql.Identifier(START), sql.Identifier(END)
        ),
        (start, end, row_id),
    )


def test_a_change_in_one_browser_appears_in_the_other(page, other_page, db):
    anchor = add(db, "Anchor", 0, 2)
    values = form(db, "From elsewhere", 3, 5)  # before the pages: it may insert ref choices
    open_live(page)
    open_live(other_page)

    # Created in the other browser's drawer: the bar appears here, without a reload.
    other_page.click(f"#{SCREEN_ID}-new")
    fill(other_page, values)
    other_page.locator(f"#{SCREEN_ID}-form [type=submit]").click()
    expect(other_page.locator("#toasts")).to_contain_text("created")
    expect_bars(page, table_ids(db))
    created = (table_ids(db) - {anchor}).pop()
    expect_drawn(page, db, created)

    # Moved there with the keyboard: redrawn here where its new dates say.
    before = dates(db, anchor)
    other_page.focus(f"#{SCREEN_ID}-bar-{anchor}")
    other_page.keyboard.press("ArrowRight")
    expect(other_page.locator("#toasts")).to_contain_text("now runs")
    assert dates(db, anchor) != before
    expect_drawn(page, db, anchor)

    # Deleted there: gone here.
    other_page.click(f"#{SCREEN_ID}-row-{created} a[data-open]")
    other_page.click(f"#{SCREEN_ID}-delete")
    other_page.locator(f"#{SCREEN_ID}-delete-dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(f"#{SCREEN_ID}-row-{created}")).to_have_count(0)
    expect_bars(page, {anchor})
    expect_still_live(page)
    assert page.evaluate("window.__noReload") is True


def test_writes_from_outside_the_app_and_the_empty_state(page, db):
    open_live(page)
    expect(page.locator(f"#{SCREEN_ID}-empty")).to_be_visible()
    # Any writer (a script, psql, another service) is seen: the triggers log every change.
    first = add(db, "Written by SQL", 1, 3)
    expect_bars(page, {first})
    expect_drawn(page, db, first)
    burst = [add(db, f"Burst {n:02}", n, n + 1) for n in range(8)]
    db.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(TABLE)), (burst[3],))
    expect_bars(page, table_ids(db))
    for row_id in (first, burst[0], burst[7]):
        expect_drawn(page, db, row_id)
    # A task far away widens the window: every bar is redrawn in the new window.
    far = add(db, "Far away", 120, 125)
    expect_bars(page, table_ids(db))
    expect_drawn(page, db, far)
    expect_drawn(page, db, first)
    db.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(TABLE)))
    expect(page.locator(f"#{SCREEN_ID}-empty")).to_be_visible()
    assert page.evaluate("window.__noReload") is True


def test_a_dependency_moved_elsewhere_makes_its_follower_late(page, db):
    first = add(db, "Design", 0, 2)
    second = add(db, "Build", 3, 5)
    depends(db, second, first)
    open_live(page)
    arrow = page.locator(f"#{SCREEN_ID}-link-{first}-{second}")
    expect(arrow).to_have_class(re.compile("stroke-slate-400"))
    expect(page.locator(f"#{SCREEN_ID}-row-{second}")).not_to_contain_text("starts too early")

    # The task it waits for now ends after it starts (changed by SQL, no rule checked):
    # the chart shows the new truth, the follower drawn late and its arrow red.
    start, _ = dates(db, first)
    set_dates(db, first, start, end_at(4))
    expect(page.locator(f"#{SCREEN_ID}-row-{second}")).to_contain_text("starts too early")
    expect(arrow).to_have_class(re.compile("stroke-rose-500"))
    assert page.evaluate("window.__noReload") is True


def test_a_redraw_keeps_the_open_drawer_a_drag_and_the_focus(page, db):
    anchor = add(db, "Anchor", 0, 2)
    values = form(db, "Typed, not saved", 1, 3)
    open_live(page, f"{PATH}?zoom=day")

    # The drawer, with typed text: a redraw of the chart underneath leaves it alone.
    page.click(f"#{SCREEN_ID}-new")
    fill(page, values)
    elsewhere = add(db, "Added meanwhile", 1, 2)
    expect_bars(page, {anchor, elsewhere})
    expect(page.locator(f"#{SCREEN_ID}-drawer-panel")).to_be_visible()
    for name, value in values.items():
        control = page.locator(f"#{SCREEN_ID}-form-{name}")
        if control.count() and control.evaluate(
            "el => el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && el.type !== 'checkbox')"
        ):
            assert control.input_value() == value, name
    page.locator(f"#{SCREEN_ID}-form [type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text("created")
    expect(page.locator(f"#{SCREEN_ID}-drawer-panel")).to_have_count(0)

    # A drag in progress: the preview survives a redraw, and the drop moves by what it showed.
    before = dates(db, anchor)
    drag(page, anchor, 3 * PX_PER_DAY["day"], release=False)
    assert previewing(page, anchor)
    third = add(db, "Added during the drag", 2, 3)
    expect(page.locator(f"#{SCREEN_ID}-bar-{third}")).to_have_count(1)
    assert previewing(page, anchor)
    assert page.locator(f"#{SCREEN_ID}-body").evaluate(
        "el => el.style.getPropertyValue('--move')"
    ) == f"{3 * PX_PER_DAY['day']}px"
    page.mouse.up()
    expect(page.locator("#toasts")).to_contain_text("now runs")
    assert dates(db, anchor) == (before[0] + timedelta(days=3), before[1] + timedelta(days=3))
    expect_drawn(page, db, anchor)
    assert not previewing(page, anchor)

    # Keyboard focus on a bar stays there through a redraw; the keys keep working.
    page.focus(f"#{SCREEN_ID}-bar-{third}")
    fourth = add(db, "Added while focused", 4, 5)
    expect(page.locator(f"#{SCREEN_ID}-bar-{fourth}")).to_have_count(1)
    assert page.evaluate("document.activeElement.id") == f"{SCREEN_ID}-bar-{third}"
    moved = dates(db, third)
    page.keyboard.press("ArrowRight")
    wait_for(lambda: dates(db, third)[0] == moved[0] + timedelta(days=1))
    expect_drawn(page, db, third)
    expect_still_live(page)
    assert page.evaluate("window.__noReload") is True


def test_a_new_zoom_opens_the_stream_of_that_zoom(page, db):
    first = add(db, "First", 0, 2)
    open_live(page)
    page.click(f"#{SCREEN_ID}-zoom-month")
    expect(page.locator(f"#{SCREEN_ID}-chart")).to_have_attribute("data-zoom", "month")
    expect(page.locator(f"#{SCREEN_ID}-live")).to_have_attribute(
        "data-init", re.compile(r"zoom=month")
    )
    expect(page.locator(f"#{SCREEN_ID}-live-status")).to_have_attribute("data-state", "live")
    # The redraw is the month chart: a stream still on the old zoom would draw weeks.
    second = add(db, "Second", 3, 4)
    expect_bars(page, {first, second})
    assert window(page)[0] == "month"
    expect_drawn(page, db, second)
    assert page.evaluate("window.__noReload") is True
