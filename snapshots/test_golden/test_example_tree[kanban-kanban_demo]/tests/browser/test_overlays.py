"""Overlays in a real browser, from the keyboard, on a phone and a desktop: typed toasts
(close, time-out paused while hovered or focused, roles, a capped stack that never covers a
primary action) and the confirmation dialog the server opens (Cancel first, Escape closes
it, the focus goes back). The events are the app's own (app/web.py), served to the page
through a route the test owns, so every app runs these whatever its screens."""

import time

import pytest
from playwright.sync_api import expect

from app.registry import HOME_URL
from app.web import TOAST_TIMEOUT_MS, confirm, toast
from tests.conftest import ready

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

# A button in the top bar that asks the test's route; Datastar wires it up when it appears.
ASK = """() => {
  const b = document.createElement('button');
  b.type = 'button'; b.id = 'ask'; b.textContent = 'Ask';
  b.setAttribute('data-on:click', "@get('/__overlays')");
  document.getElementById('theme-toggle').before(b);
}"""


def open_page(page, viewport, *events, done=()):
    """The home screen with an #ask button whose request answers with `events`; a request
    to /__overlays/done (a confirm's action) answers with `done`."""
    page.set_viewport_size(viewport)
    page.route("**/__overlays/done*", lambda route: route.fulfill(
        status=200, content_type="text/event-stream", body="".join(done)))
    page.route("**/__overlays?*", lambda route: route.fulfill(
        status=200, content_type="text/event-stream", body="".join(events)))
    page.goto(HOME_URL)
    ready(page)
    page.evaluate(ASK)
    ask = page.locator("#ask")
    expect(ask).to_be_visible()
    ask.focus()
    return ask


def no_page_scroll_sideways(page):
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_toasts_by_keyboard_roles_close_and_time_out(page, viewport):
    open_page(page, viewport, toast("Saved the record."), toast("Could not reach it.", "error"))
    page.keyboard.press("Enter")

    done = page.locator("#toasts [role=status]")
    error = page.locator("#toasts [role=alert]")
    expect(done).to_contain_text("Saved the record.")
    expect(done).to_contain_text("Success")  # said in words, not colour alone
    expect(error).to_contain_text("Could not reach it.")
    no_page_scroll_sideways(page)
    box = page.locator("#toasts").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    tabbar = page.locator("#tabbar")
    if tabbar.is_visible():  # on a phone the stack sits above the tab bar
        assert box["y"] + box["height"] <= tabbar.bounding_box()["y"]

    # The success toast goes by itself; the error stays until closed.
    expect(done).to_have_count(0, timeout=TOAST_TIMEOUT_MS + 3000)
    expect(error).to_have_count(1)
    close = error.get_by_role("button", name="Dismiss")
    close.focus()
    page.keyboard.press("Enter")
    expect(error).to_have_count(0)


def test_a_hovered_or_focused_toast_waits(page):
    open_page(page, PHONE, toast("Look at me.", "info"))
    page.keyboard.press("Enter")
    note = page.locator("#toasts [role=status]")
    expect(note).to_contain_text("Look at me.")
    note.hover()
    time.sleep(TOAST_TIMEOUT_MS / 1000 + 1)
    expect(note).to_have_count(1)  # paused while hovered
    page.mouse.move(5, 400)
    note.get_by_role("button", name="Dismiss").focus()
    time.sleep(TOAST_TIMEOUT_MS / 1000 + 1)
    expect(note).to_have_count(1)  # and while it holds the focus
    page.locator("#ask").focus()
    expect(note).to_have_count(0, timeout=TOAST_TIMEOUT_MS + 3000)


def test_the_stack_is_capped_and_a_warning_interrupts(page):
    open_page(page, DESKTOP, *[toast(f"Toast {n}.") for n in range(1, 5)],
              toast("Careful.", "warning"))
    page.keyboard.press("Enter")
    expect(page.locator("#toasts [role=alert]")).to_contain_text("Careful.")
    expect(page.locator("#toasts > [data-toast]")).to_have_count(3)  # the oldest went first
    expect(page.locator("#toasts")).to_contain_text("Toast 4.")
    expect(page.locator("#toasts")).not_to_contain_text("Toast 2.")


def test_toasts_move_away_from_a_primary_action(page):
    open_page(page, PHONE, toast("Saved.", "info"))
    # A form's submit row at the bottom of the phone's screen, above the tab bar.
    page.evaluate("""() => {
      const b = document.createElement('button');
      b.type = 'submit'; b.id = 'submit-row'; b.textContent = 'Confirm';
      const bar = document.getElementById('tabbar').getBoundingClientRect();
      b.style = `position: fixed; left: 0; right: 0; bottom: ${innerHeight - bar.top + 4}px; height: 44px`;
      document.getElementById('screen').append(b);
    }""")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Saved.")
    expect(page.locator("#toasts")).to_have_attribute("data-place", "top")
    toast_box = page.locator("#toasts").bounding_box()
    submit = page.locator("#submit-row").bounding_box()
    assert toast_box["y"] + toast_box["height"] <= submit["y"], "a toast covers the submit row"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_server_opens_a_confirm_escape_closes_it_and_the_focus_returns(page, viewport):
    ask = open_page(page, viewport,
                    *confirm("Delete “Ada”?", "She will be gone.", "@get('/__overlays/done')"),
                    done=[toast("Deleted Ada.")])
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete “Ada”?")
    cancel = dialog.get_by_role("button", name="Cancel")
    expect(cancel).to_be_focused()  # never the destructive button
    # Modal: the page behind is inert and does not scroll.
    assert page.evaluate("document.getElementById('confirm-dialog').matches(':modal')")
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "hidden"
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(ask).to_be_focused()
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") != "hidden"

    # Again, and this time confirm, from the keyboard: Tab to the destructive button.
    page.keyboard.press("Enter")
    expect(cancel).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Delete")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("Deleted Ada.")
    expect(ask).to_be_focused()


def test_dark_pages_are_not_dimmed_only_modals_are(page):
    """The toasts are an always-open popover: in the dark theme its backdrop must stay clear
    (a 60 % black one dimmed every page); a modal dialog's backdrop still darkens the page."""
    page.emulate_media(color_scheme="dark")
    open_page(page, DESKTOP, *confirm("Delete “Ada”?", "She will be gone.", "@get('/x')"))
    backdrop = "id => getComputedStyle(document.getElementById(id), '::backdrop').backgroundColor"
    assert page.evaluate("document.documentElement.classList.contains('dark')")
    assert page.evaluate("document.getElementById('toasts').matches(':popover-open')")
    assert page.evaluate(backdrop, "toasts") == "rgba(0, 0, 0, 0)"
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-dialog")).to_be_visible()
    assert page.evaluate(backdrop, "confirm-dialog") == "rgba(0, 0, 0, 0.6)"
