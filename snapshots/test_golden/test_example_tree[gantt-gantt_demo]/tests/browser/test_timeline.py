"""Screen `timeline` in headless Chromium with the real Datastar runtime."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from tests.conftest import choose, ready
from tests.test_timeline import (
    DAY,
    END,
    PATH,
    PX_PER_DAY,
    SCREEN_ID,
    add,
    as_input,
    dates,
    depends,
    end_at,
    expected,
    form,
    label,
    start_at,
)

pytestmark = pytest.mark.browser


def load(page, url: str = PATH) -> None:
    page.goto(url)
    ready(page)  # Datastar is running (the page's stream keeps the network busy)


def window(page) -> tuple[str, date, int]:
    chart = page.locator(f"#{SCREEN_ID}-chart")
    return (
        chart.get_attribute("data-zoom"),
        date.fromisoformat(chart.get_attribute("data-window-start")),
        int(chart.get_attribute("data-window-days")),
    )


def style_of(page, row_id: str) -> tuple[float, float]:
    style = page.locator(f"#{SCREEN_ID}-bar-{row_id}").get_attribute("style")
    match = re.fullmatch(r"left: (-?[\d.]+)%; width: (-?[\d.]+)%;?", style.strip())
    assert match, style
    return float(match[1]), float(match[2])


def num(value: float) -> str:
    """A percentage as the server writes it (four decimals at most, no trailing zeros)."""
    return f"{round(value, 4) + 0.0:.4f}".rstrip("0").rstrip(".")


def drag(page, row_id: str, dx: float, *, end: bool = False, release: bool = True) -> None:
    """Press on the bar (or its end grip), move `dx` pixels in steps, release."""
    bar = page.locator(f"#{SCREEN_ID}-bar-{row_id}")
    target = bar.locator("[data-edge]") if end else bar
    box = target.bounding_box()
    x = box["x"] + (box["width"] / 2 if end else min(12, box["width"] / 3))
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y, steps=4)
    page.mouse.move(x + dx, y, steps=4)
    if release:
        page.mouse.up()


def previewing(page, row_id: str) -> bool:
    bar = page.locator(f"#{SCREEN_ID}-bar-{row_id}")
    return bar.evaluate("el => el.hasAttribute('data-moving')")


def posts(page) -> list[str]:
    """URLs of the POSTs the page makes from now on."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    return sent


def test_bars_sit_where_their_dates_say(page, db):
    first = add(db, "Design", 0, 4)
    second = add(db, "Build", 6, 12)
    depends(db, second, first)
    load(page)

    zoom, window_start, window_days = window(page)
    px = window_days * PX_PER_DAY[zoom]
    track = page.locator(f"#{SCREEN_ID}-row-{first} [data-track]").bounding_box()
    assert abs(track["width"] - px) < 1
    for row_id in (first, second):
        want_left, want_width = expected(window_start, window_days, *dates(db, row_id))
        left, width = style_of(page, row_id)
        assert abs(left - want_left) < 1e-3 and abs(width - want_width) < 1e-3
        # ... and the browser draws it there, to the pixel.
        box = page.locator(f"#{SCREEN_ID}-bar-{row_id}").bounding_box()
        assert abs(box["x"] - track["x"] - want_left / 100 * px) < 1
        assert abs(box["width"] - want_width / 100 * px) < 1
        expect(page.locator(f"#{SCREEN_ID}-row-{row_id}")).to_contain_text(
            label("Design") if row_id == first else label("Build")
        )

    now = datetime.now(UTC)
    origin = datetime.combine(window_start, time.min, UTC)
    today = (now - origin) / timedelta(days=window_days) * 100
    style = page.locator(f"#{SCREEN_ID}-today").get_attribute("style")
    assert abs(float(re.search(r"left: ([\d.]+)%", style)[1]) - today) < 0.05

    arrows = page.locator(f"#{SCREEN_ID}-links path[data-from]")
    expect(arrows).to_have_count(1)
    arrow = page.locator(f"#{SCREEN_ID}-link-{first}-{second}")
    expect(arrow).to_have_attribute("data-to", second)
    # It leaves the end of the first bar and ends at the start of the second.
    d = arrow.get_attribute("d")
    x1, y1 = (float(v) for v in re.match(r"M(-?[\d.]+) (-?[\d.]+)", d).groups())
    x2 = float(re.search(r"H(-?[\d.]+)$", d)[1])
    first_left, first_width = expected(window_start, window_days, *dates(db, first))
    second_left, _ = expected(window_start, window_days, *dates(db, second))
    assert abs(x1 - (first_left + first_width) / 100 * px) < 1
    assert abs(x2 - second_left / 100 * px) < 1
    assert y1 == 22  # the middle of the first row


def test_a_drag_reschedules_by_whole_days(page, db):
    row_id = add(db, "Design", 0, 4)
    before = dates(db, row_id)
    load(page)
    page.evaluate("window.__noReload = true")
    sent = posts(page)
    zoom, _, _ = window(page)

    # 3.4 days of pixels: the bar previews 3 whole days, and nothing is sent yet.
    drag(page, row_id, 3.4 * PX_PER_DAY[zoom], release=False)
    bar = page.locator(f"#{SCREEN_ID}-bar-{row_id}")
    assert bar.evaluate("el => getComputedStyle(el).translate") == f"{3 * PX_PER_DAY[zoom]}px"
    expect(bar).to_contain_text("+3 days")
    assert sent == []
    page.mouse.up()

    expect(page.locator("#toasts")).to_contain_text("now runs")
    assert dates(db, row_id) == (before[0] + 3 * DAY, before[1] + 3 * DAY)
    assert len(sent) == 1 and f"{PATH}/move" in sent[0]
    # The server redrew the bar at its new dates; the drag preview is gone.
    _, window_start, window_days = window(page)
    want_left, _ = expected(window_start, window_days, *dates(db, row_id))
    assert abs(style_of(page, row_id)[0] - want_left) < 1e-3
    assert not previewing(page, row_id)
    assert page.evaluate("window.__noReload") is True


def test_a_move_past_another_task_resorts_the_rows(page, db):
    first = add(db, "First", 0, 1)
    second = add(db, "Second", 3, 4)
    load(page, f"{PATH}?zoom=day")
    rows = page.locator(f"#{SCREEN_ID}-body li[id]")
    expect(rows.first).to_have_id(f"{SCREEN_ID}-row-{first}")

    drag(page, first, 5 * PX_PER_DAY["day"])

    expect(rows.first).to_have_id(f"{SCREEN_ID}-row-{second}")
    expect(rows).to_have_count(2)
    expect(page.locator(f"#{SCREEN_ID}-bar-{first}")).to_be_focused()  # focus survives the move
    _, window_start, window_days = window(page)
    want_left, _ = expected(window_start, window_days, *dates(db, first))
    assert abs(style_of(page, first)[0] - want_left) < 1e-3


def test_dragging_the_end_grip_changes_only_the_end(page, db):
    row_id = add(db, "Design", 0, 4)
    before = dates(db, row_id)
    load(page, f"{PATH}?zoom=day")

    drag(page, row_id, 2.4 * PX_PER_DAY["day"], end=True)

    expect(page.locator("#toasts")).to_contain_text("now runs")
    assert dates(db, row_id) == (before[0], before[1] + 2 * DAY)


def test_an_illegal_move_snaps_back(page, db):
    first = add(db, "Design", 0, 4)
    row_id = add(db, "Build", 6, 9)
    depends(db, row_id, first)
    message = "can’t start before"
    before = dates(db, row_id)
    load(page, f"{PATH}?zoom=day")
    style = page.locator(f"#{SCREEN_ID}-bar-{row_id}").get_attribute("style")

    drag(page, row_id, -4 * PX_PER_DAY["day"])  # would start before Design ends

    error = page.locator(f"#{SCREEN_ID}-row-{row_id}-error")
    expect(error).to_contain_text(message)
    expect(page.locator("#toasts")).to_contain_text(message)
    assert dates(db, row_id) == before
    bar = page.locator(f"#{SCREEN_ID}-bar-{row_id}")
    expect(bar).to_have_attribute("style", style)
    expect(bar).to_have_attribute("aria-invalid", "true")
    assert not previewing(page, row_id)


def test_a_failed_move_puts_the_bar_back_and_says_so(page, db):
    row_id = add(db, "Design", 0, 4)
    before = dates(db, row_id)
    load(page)
    page.route(re.compile(r"/move\?"), lambda route: route.fulfill(status=500, body="boom"))

    drag(page, row_id, 2 * PX_PER_DAY["week"])

    expect(page.locator("#request-error")).to_be_visible()
    expect(page.locator(f"#{SCREEN_ID}-bar-{row_id}")).not_to_have_attribute("data-moving", "")
    assert dates(db, row_id) == before
    # ... and the chart still works once the server answers again.
    page.unroute(re.compile(r"/move\?"))
    drag(page, row_id, 2 * PX_PER_DAY["week"])
    expect(page.locator("#toasts")).to_contain_text("now runs")
    assert dates(db, row_id) == (before[0] + 2 * DAY, before[1] + 2 * DAY)


def test_zoom_changes_the_scale_and_survives_a_reload(page, db):
    add(db, "Design", 0, 4)
    load(page)
    expect(page.locator(f"#{SCREEN_ID}-chart")).to_have_attribute("data-zoom", "week")
    page.evaluate("window.__noReload = true")

    page.click(f"#{SCREEN_ID}-zoom-day")

    expect(page).to_have_url(re.compile(r"\?zoom=day$"))
    expect(page.locator(f"#{SCREEN_ID}-chart")).to_have_attribute("data-zoom", "day")
    assert page.evaluate("window.__noReload") is True

    def track_fits(zoom: str) -> None:
        _, _, days = window(page)
        width = page.locator(f"#{SCREEN_ID}-scale").evaluate("el => el.offsetWidth")
        assert width == days * PX_PER_DAY[zoom]
        expect(page.locator(f"#{SCREEN_ID}-zoom-{zoom}")).to_have_attribute("aria-current", "true")

    track_fits("day")
    page.reload()
    expect(page.locator(f"#{SCREEN_ID}-chart")).to_have_attribute("data-zoom", "day")
    track_fits("day")

    ready(page)
    page.click(f"#{SCREEN_ID}-zoom-month")
    expect(page).to_have_url(re.compile(r"\?zoom=month$"))
    expect(page.locator(f"#{SCREEN_ID}-chart")).to_have_attribute("data-zoom", "month")
    track_fits("month")
    page.evaluate("history.back()")
    expect(page.locator(f"#{SCREEN_ID}-chart")).to_have_attribute("data-zoom", "day")


def test_arrow_keys_move_and_stretch_in_one_request(page, db):
    row_id = add(db, "Design", 0, 4)
    before = dates(db, row_id)
    load(page)
    sent = posts(page)
    bar = page.locator(f"#{SCREEN_ID}-bar-{row_id}")

    bar.focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowRight", "Shift+ArrowRight"):
        page.keyboard.press(key)

    expect(page.locator("#toasts")).to_contain_text("now runs")
    assert dates(db, row_id) == (before[0] + 3 * DAY, before[1] + 4 * DAY)
    assert len(sent) == 1 and f"{PATH}/nudge" in sent[0]
    expect(bar).to_be_focused()


def test_empty_chart_says_so(page, db):
    load(page)
    expect(page.locator(f"#{SCREEN_ID}-empty")).to_be_visible()
    expect(page.locator(f"#{SCREEN_ID}-chart")).to_contain_text("Nothing scheduled yet")


def fill(page, values: dict[str, str]) -> None:
    """Fill the drawer's form the way a person would, field by field."""
    for name, value in values.items():
        control = page.locator(f"#{SCREEN_ID}-form-{name}")
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


def test_add_edit_and_delete_in_the_drawer(page, db):
    values = form(db, "From the drawer", 1, 3)  # before the form: it may insert ref choices
    load(page, f"{PATH}?zoom=day")
    page.evaluate("window.__noReload = true")

    page.click(f"#{SCREEN_ID}-add")
    expect(page.locator(f"#{SCREEN_ID}-form")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/new\?zoom=day$"))
    fill(page, values)
    page.locator(f"#{SCREEN_ID}-form [type=submit]").click()

    expect(page.locator(f"#{SCREEN_ID}-drawer-panel")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("created")
    bars = page.locator("[data-bar]")
    expect(bars).to_have_count(1)
    row_id = bars.first.get_attribute("data-bar")
    assert dates(db, row_id) == (start_at(1), end_at(3))
    assert page.evaluate("window.__noReload") is True

    # The label opens it again; a new end moves the bar's right edge.
    page.click(f"#{SCREEN_ID}-row-{row_id} a[data-open]")
    expect(page).to_have_url(re.compile(rf"/{row_id}\?zoom=day$"))
    page.fill(f"#{SCREEN_ID}-form-{END}", as_input(end_at(6)))
    page.locator(f"#{SCREEN_ID}-form [type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text("saved")
    assert dates(db, row_id) == (start_at(1), end_at(6))
    _, window_start, window_days = window(page)
    want_left, want_width = expected(window_start, window_days, *dates(db, row_id))
    expect(page.locator(f"#{SCREEN_ID}-bar-{row_id}")).to_have_attribute(
        "style", f"left: {num(want_left)}%; width: {num(want_width)}%"
    )

    page.click(f"#{SCREEN_ID}-row-{row_id} a[data-open]")
    page.click(f"#{SCREEN_ID}-delete")
    page.locator(f"#{SCREEN_ID}-delete-dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(f"#{SCREEN_ID}-empty")).to_be_visible()
    assert page.evaluate("window.__noReload") is True
