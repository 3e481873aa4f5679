"""The command palette (Ctrl-K) with the keyboard only, at 360x740 and 1280x800: open it,
type, move with the arrow keys, Enter opens the active option; Escape closes it and the
focus goes back where it was; every label is shown as text."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import ready

pytestmark = pytest.mark.browser

SIZES = [{"width": 360, "height": 740}, {"width": 1280, "height": 800}]


def open_palette(page):
    page.keyboard.press("Control+k")
    expect(page.locator("#palette")).to_be_visible()
    expect(page.locator("#palette-input")).to_be_focused()


def active(page):
    """The active option, as a screen reader finds it: the box's aria-activedescendant."""
    option_id = page.locator("#palette-input").get_attribute("aria-activedescendant")
    assert option_id, "no active option"
    return page.locator(f"#{option_id}")


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_escape_closes_and_returns_the_focus(page, size):
    page.set_viewport_size(size)
    page.goto("/stays")
    ready(page)
    page.locator("#theme-toggle").focus()
    open_palette(page)
    box = page.locator("#palette").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.keyboard.press("Escape")
    expect(page.locator("#palette")).to_be_hidden()
    expect(page.locator("#theme-toggle")).to_be_focused()


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_the_top_bar_button_opens_it(page, size):
    page.set_viewport_size(size)
    page.goto("/stays")
    ready(page)
    button = page.locator("#palette-open")
    expect(button).to_be_visible()
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#palette-input")).to_be_focused()
    page.keyboard.press("Escape")
    expect(button).to_be_focused()


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_typing_a_screen_title_and_enter_goes_there(page, size):
    page.set_viewport_size(size)
    page.goto("/stays")
    ready(page)
    open_palette(page)
    page.keyboard.type("stays")
    option = page.locator('#palette-results [role=option][href="/stays"]')
    expect(option).to_be_visible()
    expect(page.locator("#palette-body")).to_have_attribute("data-q", "stays")
    for _ in range(page.locator("#palette-results [role=option]").count()):
        if active(page).get_attribute("href") == "/stays":
            break
        page.keyboard.press("ArrowDown")
    expect(active(page)).to_have_attribute("href", "/stays")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/stays$"))
