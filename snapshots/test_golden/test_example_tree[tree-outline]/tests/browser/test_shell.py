"""The app shell in a real browser: navigation, history, indicator, sidebar, errors."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import ready

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
    expect(page).to_have_url(re.compile("/folders$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Folders")


def test_nav_swaps_screens_without_reload_and_history_works(page):
    page.goto("/folders")
    ready(page)
    page.evaluate(MARK)
    page.evaluate(WATCH_LOADING)

    page.locator("#nav a", has_text="Org units").click()

    expect(page).to_have_url(re.compile("/units$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Org units")
    expect(page.locator("#crumb")).to_contain_text("Org units")
    expect(page).to_have_title(re.compile(re.escape("Org units")))
    assert page.evaluate(NOT_RELOADED)
    assert page.evaluate("window.__sawLoading"), "the loading indicator never showed"
    # The pushState script arrived as a patch and removed itself.
    assert page.evaluate("document.body.querySelectorAll('script').length") == 0

    # history.back(): see the note in the screens' browser tests on Chromium's back button.
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile("/folders$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Folders")
    page.evaluate("history.forward()")
    expect(page).to_have_url(re.compile("/units$"))
    assert page.evaluate(NOT_RELOADED)


def test_a_failed_request_shows_the_error_banner(page):
    page.goto("/folders")
    ready(page)
    failing = re.compile("/units(\\?|$)")
    page.route(failing, lambda route: route.fulfill(status=500, body="boom"))

    page.locator("#nav a", has_text="Org units").click()
    expect(page.locator("#request-error")).to_contain_text("could not complete that request")
    expect(page).to_have_url(re.compile("/folders$"))  # nothing half-applied


def test_sidebar_toggle_is_client_only(page):
    page.goto("/folders")
    ready(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.click("#sidebar-toggle")
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#sidebar-toggle")).to_have_attribute("aria-expanded", "false")
    page.click("#sidebar-toggle")
    expect(page.locator("#sidebar")).to_be_visible()
    assert [url for url in requests if "/static/" not in url] == []
