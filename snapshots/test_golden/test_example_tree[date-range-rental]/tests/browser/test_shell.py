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
    expect(page).to_have_url(re.compile("/rentals$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Hire \"<x>\" {{ y }}")


def test_sidebar_toggle_is_client_only(page):
    page.goto("/rentals")
    ready(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.click("#sidebar-toggle")
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#sidebar-toggle")).to_have_attribute("aria-expanded", "false")
    page.click("#sidebar-toggle")
    expect(page.locator("#sidebar")).to_be_visible()
    assert [url for url in requests if "/static/" not in url] == []
