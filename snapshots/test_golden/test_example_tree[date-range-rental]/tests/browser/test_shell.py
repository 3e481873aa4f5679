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
    expect(page).to_have_url(re.compile("/rentals$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Hire \"<x>\" {{ y }}")


def test_nav_swaps_screens_without_reload_and_history_works(page):
    page.goto("/rentals")
    ready(page)
    page.evaluate(MARK)
    page.evaluate(WATCH_LOADING)

    nav_link(page, "/depots").click()

    expect(page).to_have_url(re.compile("/depots$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Depots")
    expect(page.locator("#crumb")).to_contain_text("Depots")
    # the page title as a browser reads it: runs of spaces collapse into one
    expect(page).to_have_title(re.compile(re.escape("Depots")))
    assert page.evaluate(NOT_RELOADED)
    assert page.evaluate("window.__sawLoading"), "the loading indicator never showed"
    # The pushState script arrived as a patch and removed itself.
    assert page.evaluate("document.body.querySelectorAll('script').length") == 0

    # history.back(): see the note in the screens' browser tests on Chromium's back button.
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile("/rentals$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Hire \"<x>\" {{ y }}")
    page.evaluate("history.forward()")
    expect(page).to_have_url(re.compile("/depots$"))
    assert page.evaluate(NOT_RELOADED)


def test_a_failed_request_shows_the_error_banner(page):
    page.goto("/rentals")
    ready(page)
    failing = re.compile("/depots(\\?|$)")
    page.route(failing, lambda route: route.fulfill(status=500, body="boom"))

    nav_link(page, "/depots").click()
    expect(page.locator("#request-error")).to_contain_text("could not complete that request")
    expect(page).to_have_url(re.compile("/rentals$"))  # nothing half-applied


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


def test_sidebar_state_is_remembered_by_this_browser(page):
    page.goto("/rentals")
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
    page.goto("/rentals")
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
    nav_link(page, "/depots").click()
    expect(page).to_have_url(re.compile("/depots$"))
    expect(sidebar).to_be_hidden()  # choosing a screen closes the menu


def test_dark_theme_follows_the_system_and_the_toggle_is_remembered(page):
    page.emulate_media(color_scheme="dark")
    page.goto("/rentals")
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
    page.goto("/rentals")
    ready(page)
    page.locator("#theme-toggle").click()
    assert page.evaluate(is_dark)
    page.reload()
    assert page.evaluate(is_dark)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_moments_are_shown_in_the_browsers_time_zone(browser, live_server, zone):
    context = browser.new_context(base_url=live_server, timezone_id=zone, locale="en-US")
    page = context.new_page()
    page.goto("/rentals")
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

GROUPS = ["Data"]  # around Depots, outermost first
DEEP = "/depots"


def group_button(page, label):
    return page.locator("#nav li.nav-group > button", has_text=label).first


def arrow_down_to(page, target) -> None:
    """ArrowDown through the menu until `target` has the focus (what a keyboard user does)."""
    for _ in range(30):
        if target.evaluate("(el) => el === document.activeElement"):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError("ArrowDown never reached " + target.evaluate("(el) => el.outerHTML"))


def test_menu_groups_work_from_the_keyboard_alone(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/rentals")
    ready(page)
    outer = group_button(page, GROUPS[0])
    expect(outer).to_have_attribute("aria-expanded", "false")  # not around the active screen
    expect(page.locator(f'#nav a[href="{DEEP}"]')).to_be_hidden()

    page.locator("#nav a[aria-current=page]").focus()
    arrow_down_to(page, outer)  # arrows walk what is shown, down to the group
    page.keyboard.press("Enter")
    expect(outer).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")  # inside the menu: closes the group, focus stays on it
    expect(outer).to_have_attribute("aria-expanded", "false")
    expect(outer).to_be_focused()
    expect(page.locator("#sidebar")).to_be_visible()

    for label in GROUPS:  # ArrowRight opens a group and enters it
        button = group_button(page, label)
        arrow_down_to(page, button)
        page.keyboard.press("ArrowRight")
        expect(button).to_have_attribute("aria-expanded", "true")
    link = page.locator(f'#nav a[href="{DEEP}"]')
    arrow_down_to(page, link)
    page.keyboard.press("ArrowLeft")  # back out to the group around it
    expect(group_button(page, GROUPS[-1])).to_be_focused()
    expect(group_button(page, GROUPS[-1])).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(re.escape(DEEP) + "$"))
    expect(page.locator("#nav a[aria-current=page]")).to_have_attribute("href", DEEP)
    for label in GROUPS:  # the server opens the groups around the active screen
        expect(group_button(page, label)).to_have_attribute("aria-expanded", "true")
    for label in GROUPS:
        expect(page.locator("#crumb")).to_contain_text(label)


def test_menu_groups_drill_down_on_a_phone(page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/rentals")
    ready(page)
    page.click("#sidebar-toggle")
    top_link = page.locator("#nav a[aria-current=page]")
    expect(top_link).to_be_focused()
    for label in GROUPS:  # each group replaces the list, under a back button
        group_button(page, label).click()
        expect(group_button(page, label)).to_be_hidden()
        expect(page.locator("#nav [data-nav-back]:visible")).to_have_count(1)
        expect(page.locator("#nav [data-nav-back]:visible")).to_contain_text(label)
        expect(top_link).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    # Back, level by level, to the top.
    for label in reversed(GROUPS):
        page.locator("#nav [data-nav-back]:visible").click()
        expect(group_button(page, label)).to_be_focused()
    expect(top_link).to_be_visible()

    nav_link(page, DEEP).click()
    expect(page).to_have_url(re.compile(re.escape(DEEP) + "$"))
    expect(page.locator("#sidebar")).to_be_hidden()
    page.click("#sidebar-toggle")  # it opens where the active screen is
    expect(page.locator("#nav a[aria-current=page]")).to_be_focused()
    expect(page.locator("#nav [data-nav-back]:visible")).to_contain_text(GROUPS[-1])
    page.keyboard.press("Escape")  # first Escape: up one level; the menu stays open
    expect(page.locator("#sidebar")).to_be_visible()
    expect(group_button(page, GROUPS[-1])).to_be_focused()
    # The tab bar still works beside the groups.
    page.click("#sidebar-close")
    expect(page.locator("#sidebar")).to_be_hidden()
    page.locator("#tabbar a").first.click()
    expect(page).to_have_url(re.compile(re.escape("/rentals") + "$"))
