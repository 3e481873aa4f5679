"""The command palette (Ctrl-K) with the keyboard only, at 360x740 and 1280x800: open it,
type, move with the arrow keys, Enter opens the active option; Escape closes it and the
focus goes back where it was; every label is shown as text."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import COLUMNS, make, ready

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
    page.goto("/contacts")
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
    page.goto("/contacts")
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
    page.goto("/contacts")
    ready(page)
    open_palette(page)
    page.keyboard.type("deals")
    option = page.locator('#palette-results [role=option][href="/deals"]')
    expect(option).to_be_visible()
    expect(page.locator("#palette-body")).to_have_attribute("data-q", "deals")
    for _ in range(page.locator("#palette-results [role=option]").count()):
        if active(page).get_attribute("href") == "/deals":
            break
        page.keyboard.press("ArrowDown")
    expect(active(page)).to_have_attribute("href", "/deals")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/deals$"))

# Records of `contact` (by `name`), opened at /contacts/{id}.
TABLE = "contacts"
LABEL = "name"
TEXT = "Qb <b>&</b> {{ 7*7 }}"  # shown literally, never as markup


def add(db, text: str) -> str:
    col = next(c for c in COLUMNS[TABLE] if c.name == LABEL)
    if (col.high is not None and len(text) > col.high) or (col.low or 0) > len(text):
        pytest.skip(f"{TABLE}.{LABEL} does not take {text!r}")
    return make(db, TABLE, **{LABEL: text})


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_arrow_to_a_record_and_enter_opens_its_page(page, db, size):
    add(db, f"{TEXT} 1")
    second = add(db, f"{TEXT} 2")
    page.set_viewport_size(size)
    page.goto("/contacts")
    ready(page)
    open_palette(page)
    page.keyboard.type("qb <b>&")
    # The answer to the whole text (typing may have sent a shorter one first).
    expect(page.locator("#palette-body")).to_have_attribute("data-q", "qb <b>&")

    options = page.locator("#palette-results [role=option]")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_text(f"{TEXT} 1")  # as text: no <b>, no 49
    expect(page.locator("#palette-results b")).to_have_count(0)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(active(page)).to_have_text(f"{TEXT} 1")

    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    expect(active(page)).to_have_text(f"{TEXT} 2")
    page.keyboard.press("ArrowDown")  # stays on the last
    expect(active(page)).to_have_text(f"{TEXT} 2")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape("/contacts" + f"/{second}") + "$"))
    expect(page.locator("#palette")).to_be_hidden()
    page.wait_for_function(SHOWN, arg=f"{TEXT} 2")  # the record's page shows it


# Some element on the page shows this text as text (a label, a heading, a card).
SHOWN = """text => [...document.querySelectorAll('body *')].some(el => el.checkVisibility()
  && [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.includes(text)))"""


def test_enter_right_after_typing_opens_the_first_hit_of_the_whole_text(page, db):
    first_hit = add(db, f"{TEXT} 1")
    add(db, f"{TEXT} 2")
    page.goto("/contacts")
    ready(page)
    open_palette(page)
    # Typed and confirmed at once: the answer to the whole text is awaited, not an older one.
    page.keyboard.type("7*7 }} 1")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape("/contacts" + f"/{first_hit}") + "$"))
