"""The app shell in a real browser: navigation, history, indicator, sidebar, errors."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import nav_link, ready

pytestmark = pytest.mark.browser

# Set on window before an action; still there afterwards only if the page never reloaded.
MARK = "window.__noReload = true"
NOT_RELOADED = "window.__noReload === true"

WATCH_LOADING = """() => {
  window.__sawLoading = false;
  const el = document.getElementById('loading');
  new MutationObserver(() => {
    if (el.style.display !== 'none') window.__sawLoading = true;
  }).observe(el, {attributes: true, attributeFilter: ['style']});
}"""


def test_home_redirects_to_the_first_screen(page):
    page.goto("/")
    expect(page).to_have_url(re.compile("/types$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Types & <Kinds> {{ title }}")


def test_nav_swaps_screens_without_reload_and_history_works(page):
    page.goto("/types")
    ready(page)
    page.evaluate(MARK)
    page.evaluate(WATCH_LOADING)

    nav_link(page, "/orders").click()

    expect(page).to_have_url(re.compile("/orders$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Orders 'n' \"stuff\"")
    expect(page.locator("#crumb")).to_contain_text("Orders 'n' \"stuff\"")
    # the page title as a browser reads it: runs of spaces collapse into one
    expect(page).to_have_title(re.compile(re.escape("Orders 'n' \"stuff\"")))
    assert page.evaluate(NOT_RELOADED)
    assert page.evaluate("window.__sawLoading"), "the loading indicator never showed"
    # The pushState script arrived as a patch and removed itself.
    assert page.evaluate("document.body.querySelectorAll('script').length") == 0

    # history.back(): see the note in the screens' browser tests on Chromium's back button.
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile("/types$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Types & <Kinds> {{ title }}")
    page.evaluate("history.forward()")
    expect(page).to_have_url(re.compile("/orders$"))
    assert page.evaluate(NOT_RELOADED)


def test_a_failed_request_shows_the_error_banner(page):
    page.goto("/types")
    ready(page)
    failing = re.compile("/orders(\\?|$)")
    page.route(failing, lambda route: route.fulfill(status=500, body="boom"))

    nav_link(page, "/orders").click()
    expect(page.locator("#request-error")).to_contain_text("could not complete that request")
    expect(page).to_have_url(re.compile("/types$"))  # nothing half-applied


def test_sidebar_toggle_is_client_only(page):
    page.goto("/types")
    ready(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.click("#sidebar-toggle")
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#sidebar-toggle")).to_have_attribute("aria-expanded", "false")
    page.click("#sidebar-toggle")
    expect(page.locator("#sidebar")).to_be_visible()
    assert [url for url in requests if "/static/" not in url] == []


def test_sidebar_state_is_remembered_by_this_browser(page):
    page.goto("/types")
    ready(page)
    page.click("#sidebar-toggle")
    expect(page.locator("#sidebar")).to_be_hidden()

    page.reload()
    ready(page)
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#sidebar-toggle")).to_have_attribute("aria-expanded", "false")
    page.click("#sidebar-toggle")
    page.reload()
    ready(page)
    expect(page.locator("#sidebar")).to_be_visible()


def test_on_a_phone_the_sidebar_covers_the_content_and_escape_closes_it(page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/types")
    ready(page)
    sidebar, toggle = page.locator("#sidebar"), page.locator("#sidebar-toggle")
    expect(sidebar).to_be_hidden()  # starts closed on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    toggle.click()
    expect(sidebar).to_be_visible()
    expect(page.locator("#sidebar-backdrop")).to_be_visible()
    expect(page.locator("#nav a[aria-current=page]")).to_be_focused()  # into the menu
    expect(page.locator("#content")).to_have_attribute("inert", "")  # and stays there
    width = page.evaluate("document.getElementById('screen').getBoundingClientRect().width")
    assert width == 360, "the sidebar pushed the content instead of covering it"

    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(page.locator("#content")).not_to_have_attribute("inert", "")

    toggle.click()
    page.locator("#sidebar-backdrop").click(position={"x": 350, "y": 400})
    expect(sidebar).to_be_hidden()

    toggle.click()
    nav_link(page, "/orders").click()
    expect(page).to_have_url(re.compile("/orders$"))
    expect(sidebar).to_be_hidden()  # choosing a screen closes the menu


def test_dark_theme_follows_the_system_and_the_toggle_is_remembered(page):
    page.emulate_media(color_scheme="dark")
    page.goto("/types")
    ready(page)
    is_dark = "document.documentElement.classList.contains('dark')"
    assert page.evaluate(is_dark)
    toggle = page.locator("#theme-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "true")

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert not page.evaluate(is_dark)
    # Remembered, and applied before the first paint: no Datastar needed for it.
    page.route("**/static/datastar.js*", lambda route: route.abort())
    page.reload()
    assert not page.evaluate(is_dark)
    page.emulate_media(color_scheme="light")
    page.unroute("**/static/datastar.js*")
    page.goto("/types")
    ready(page)
    page.locator("#theme-toggle").click()
    assert page.evaluate(is_dark)
    page.reload()
    assert page.evaluate(is_dark)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_moments_are_shown_in_the_browsers_time_zone(browser, live_server, zone):
    context = browser.new_context(base_url=live_server, timezone_id=zone, locale="en-US")
    page = context.new_page()
    page.goto("/types")
    ready(page)
    # As a patch would bring it: the server's UTC text, marked for the browser's zone.
    page.evaluate("""() => document.getElementById('screen').insertAdjacentHTML('beforeend',
        '<time id="moment" datetime="2026-01-15T12:30:00Z" data-local>Jan 15, 2026 12:30 UTC</time>')""")
    moment = page.locator("#moment")
    local = {"Asia/Tokyo": "Jan 15, 2026, 09:30 PM GMT+9",
             "America/New_York": "Jan 15, 2026, 07:30 AM EST"}[zone]
    expect(moment).to_have_text(local)
    expect(moment).not_to_have_attribute("data-local", "")
    # A morph back to the server's text is shown in the zone again.
    page.evaluate("""() => { const t = document.getElementById('moment');
        t.textContent = 'Jan 15, 2026 12:30 UTC'; t.setAttribute('data-local', ''); }""")
    expect(moment).to_have_text(local)
    context.close()
