"""Screen `workspace` (tabs) in headless Chromium with the real Datastar runtime."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import label, ready
from tests.test_contacts import add as add_contact
from tests.test_workspace import ID, PATH, TABS, add, forget_order, saved_order

pytestmark = pytest.mark.browser
WIDE = {"width": 1600, "height": 900}  # every tab fits the strip


@pytest.fixture(autouse=True)
def _spec_order(db):
    forget_order(db)  # every test starts from the spec's tab order


def open_screen(page, url: str = PATH) -> None:
    page.goto(url)
    ready(page)  # Datastar has processed the page


def tab(page, name: str):
    return page.locator(f"#{ID}-tab-{name}")


def panel(page, name: str):
    return page.locator(f"#{ID}-panel-{name}")


def shown_order(page) -> list[str]:
    tabs = page.locator(f"#{ID}-tablist [role=tab]")
    return tabs.evaluate_all("els => els.map(e => e.dataset.tab)")


def panel_requests(page) -> list[str]:
    """Every panel fetch the page makes from now on."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(urlsplit(r.url).path) if "/tabs/" in r.url else None)
    return urls


def test_a_panel_loads_on_first_open_and_never_again(page, db):
    page.set_viewport_size(WIDE)
    fetched = panel_requests(page)
    open_screen(page)
    first, second = TABS[0], TABS[1]
    assert fetched == []  # the active panel came with the page; the others wait
    expect(panel(page, second).locator("[aria-label^=Loading]")).to_have_count(1)

    tab(page, second).click()

    expect(tab(page, second)).to_have_attribute("aria-selected", "true")
    expect(panel(page, second)).to_be_visible()
    expect(panel(page, first)).to_be_hidden()
    expect(panel(page, second).locator("[aria-label^=Loading]")).to_have_count(0)
    expect(panel(page, second)).not_to_have_attribute("aria-busy", "true")
    assert fetched == [f"{PATH}/tabs/{second}"]
    # Switching away and back shows the same, already loaded panel: no request, same nodes.
    panel(page, second).evaluate("el => el.firstElementChild.__kept = true")
    tab(page, first).click()
    expect(panel(page, first)).to_be_visible()
    tab(page, second).click()
    expect(panel(page, second)).to_be_visible()
    page.wait_for_timeout(300)
    assert len(fetched) == 1
    assert panel(page, second).evaluate("el => el.firstElementChild.__kept") is True


def test_a_panel_that_fails_to_load_offers_a_retry(page, db):
    page.set_viewport_size(WIDE)
    open_screen(page)
    second = TABS[1]
    url = f"**{PATH}/tabs/{second}?*"
    page.route(url, lambda route: route.fulfill(status=500, body="boom"))

    tab(page, second).click()

    retry = panel(page, second).get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    expect(panel(page, second).get_by_role("alert")).to_contain_text("could not be loaded")
    page.unroute(url)
    retry.click()
    expect(retry).to_have_count(0)
    expect(panel(page, second).locator("[aria-label^=Loading]")).to_have_count(0)
    expect(panel(page, second)).not_to_have_attribute("aria-busy", "true")


def test_unsaved_input_and_scroll_survive_a_switch(page, db):
    page.set_viewport_size(WIDE)
    for i in range(60):
        add(db, f"Row {i:02}")
    mine = "overview"
    other = next(name for name in TABS if name != mine)
    open_screen(page)
    tab(page, mine).click()
    expect(panel(page, mine)).to_be_visible()
    expect(panel(page, mine).locator("li")).to_have_count(60)
    panel(page, mine).evaluate("el => { el.scrollTop = 400 }")
    tab(page, other).click()
    expect(panel(page, mine)).to_be_hidden()
    tab(page, mine).click()
    expect(panel(page, mine)).to_be_visible()
    assert panel(page, mine).evaluate("el => el.scrollTop") == 400

    box = page.locator(f"#{ID}-filter-{mine}")
    box.type("draft")  # typed (and filtered on the server), never saved anywhere
    tab(page, other).click()
    expect(panel(page, mine)).to_be_hidden()
    tab(page, mine).click()
    expect(box).to_have_value("draft")
    expect(box).to_be_visible()


def test_a_screen_inside_a_tab_keeps_working_there(page, db):
    page.set_viewport_size(WIDE)
    inside = "people"
    record = add_contact(db, "Shown inside the tab")
    open_screen(page, f"{PATH}?tab={inside}")
    page.evaluate("window.__noReload = true")

    # Its links patch its own parts, inside the panel; the tabs screen stays.
    panel(page, inside).locator(f"#contacts-row-{record}").click()
    expect(panel(page, inside).locator("#contacts-show h2")).to_have_text(
        label("contacts", "Shown inside the tab")
    )
    expect(page.locator(f"#{ID}-tablist")).to_be_visible()
    expect(tab(page, inside)).to_have_attribute("aria-selected", "true")
    assert page.evaluate("window.__noReload") is True
    assert page.locator("#screen").count() == 1

    # Unsaved input in its form survives a tab switch.
    panel(page, inside).locator("#contacts-new").click()
    field = panel(page, inside).locator("#contacts-form-name")
    typed = label("contacts", "Half typed")
    field.fill(typed)
    other = next(name for name in TABS if name != inside)
    tab(page, other).click()
    expect(field).to_be_hidden()
    tab(page, inside).click()
    expect(field).to_have_value(typed)


def test_reorder_by_drag_is_saved_and_survives_a_reload(page, db):
    page.set_viewport_size(WIDE)
    open_screen(page)
    last = TABS[-1]
    wanted = [last, *TABS[:-1]]

    tab(page, last).drag_to(tab(page, TABS[0]))

    expect(page.locator(f"#{ID}-tablist [role=tab]").first).to_have_attribute("data-tab", last)
    assert shown_order(page) == wanted
    assert saved_order(db) == wanted
    page.reload()
    ready(page)
    assert shown_order(page) == wanted

    # The keyboard way: Alt+Shift+Right moves the active tab one place to the right.
    tab(page, wanted[0]).click()
    tab(page, wanted[0]).press("Alt+Shift+ArrowRight")
    moved = [wanted[1], wanted[0], *wanted[2:]]
    expect(page.locator(f"#{ID}-tablist [role=tab]").first).to_have_attribute("data-tab", moved[0])
    assert saved_order(db) == moved


def test_the_tab_lives_in_the_url_with_back_and_reload(page, db):
    page.set_viewport_size(WIDE)
    open_screen(page)
    second, third = TABS[1], TABS[2 % len(TABS)]

    tab(page, second).click()
    expect(page).to_have_url(re.compile(rf"{PATH}\?tab={second}$"))
    tab(page, third).click()
    expect(page).to_have_url(re.compile(rf"{PATH}\?tab={third}$"))

    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile(rf"{PATH}\?tab={second}$"))
    expect(tab(page, second)).to_have_attribute("aria-selected", "true")
    expect(panel(page, second)).to_be_visible()
    page.reload()
    ready(page)
    expect(tab(page, second)).to_have_attribute("aria-selected", "true")
    expect(panel(page, second)).to_be_visible()
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile(rf"{PATH}$"))
    expect(tab(page, TABS[0])).to_have_attribute("aria-selected", "true")
    expect(panel(page, TABS[0])).to_be_visible()
    expect(panel(page, second)).to_be_hidden()


def test_arrow_keys_home_and_end_move_between_tabs(page, db):
    page.set_viewport_size(WIDE)
    open_screen(page)
    tab(page, TABS[0]).focus()

    def at(name: str) -> None:
        expect(tab(page, name)).to_be_focused()
        expect(tab(page, name)).to_have_attribute("aria-selected", "true")
        expect(tab(page, name)).to_have_attribute("tabindex", "0")
        expect(panel(page, name)).to_be_visible()
        assert page.locator(f"#{ID}-tablist [tabindex='0']").count() == 1  # roving tabindex

    page.keyboard.press("ArrowRight")
    at(TABS[1])
    page.keyboard.press("End")
    at(TABS[-1])
    page.keyboard.press("Home")
    at(TABS[0])
    page.keyboard.press("ArrowLeft")  # wraps around
    at(TABS[-1])


def test_tabs_that_do_not_fit_go_into_the_more_menu(page, db):
    # So narrow that only the first tab stays in the strip (the sidebar covers the content
    # at this width instead of taking room from it, so narrower than a phone).
    page.set_viewport_size({"width": 200, "height": 800})
    open_screen(page)
    more, menu, last = page.locator(f"#{ID}-more"), page.locator(f"#{ID}-menu"), TABS[-1]
    expect(more).to_be_visible()
    expect(tab(page, last)).not_to_be_in_viewport()

    more.click()
    expect(menu).to_be_visible()
    expect(page.locator(f"#{ID}-menu-{TABS[0]}")).to_be_hidden()  # it fits: not offered
    expect(menu.get_by_role("menuitemradio")).to_have_count(len(TABS) - 1)
    page.locator(f"#{ID}-menu-{last}").click()

    expect(menu).to_be_hidden()
    expect(tab(page, last)).to_have_attribute("aria-selected", "true")
    expect(panel(page, last)).to_be_visible()
    expect(more).to_have_class(re.compile(r"\bbg-indigo-50\b"))  # the active tab is in there

    page.set_viewport_size(WIDE)  # room again: the menu empties, the button goes
    expect(more).to_be_hidden()
