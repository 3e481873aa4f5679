"""Screen `tasks` in headless Chromium with the real Datastar runtime."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import choose, count, label, ready
from tests.test_tasks import PATH, TABLE, add, valid_form

pytestmark = pytest.mark.browser


def fill(page, form: dict[str, str]) -> None:
    """Fill the form the way a person would, field by field."""
    for name, value in form.items():
        control = page.locator(f"#tasks-form-{name}")
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


def test_create_select_edit_delete(page, db):
    form = valid_form(db)
    page.goto(PATH)
    ready(page)
    # A marker that only survives while the page is never reloaded.
    page.evaluate("window.__noReload = true")

    page.click("#tasks-new")
    expect(page.locator("#tasks-form")).to_be_visible()
    fill(page, form)
    page.locator("#tasks-form [type=submit]").click()

    expect(page.locator("#tasks-show")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("created")
    assert count(db, TABLE) == 1
    expect(page.locator("#tasks-list a[id^='tasks-row-']")).to_have_count(1)
    assert page.evaluate("window.__noReload") is True

    # Selecting another record patches only the detail pane: the list element survives.
    other_id = add(db, "Another one")
    page.goto(PATH)
    ready(page)
    page.evaluate("document.getElementById('tasks-list').__marker = 'kept'")
    page.locator(f"#tasks-row-{other_id}").click()
    expect(page).to_have_url(re.compile(f"{PATH}/{other_id}$"))
    expect(page.locator("#tasks-show h2")).to_have_text(label(TABLE, "Another one"))
    assert page.evaluate("document.getElementById('tasks-list').__marker") == "kept"
    expect(page.locator(f"#tasks-row-{other_id}")).to_have_attribute("aria-current", "true")

    # An invalid edit shows the server's error next to the field and keeps the input.
    page.click("#tasks-edit")
    fill(page, {"title": ""})
    page.locator("#tasks-form [type=submit]").click()
    expect(page.locator("#tasks-form-title-error")).to_contain_text(
        "This field is required."
    )
    expect(page.locator("#tasks-form-title")).to_have_value("")
    page.goto(f"{PATH}/{other_id}")

    # Delete, through the in-page confirmation dialog.
    page.click("#tasks-delete")
    dialog = page.locator("#tasks-delete-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(f"#tasks-row-{other_id}")).to_have_count(0)
    expect(page).to_have_url(re.compile(f"{PATH}$"))
    assert count(db, TABLE) == 1


def test_back_button_and_deep_link(page, db):
    first = add(db, "First record")
    second = add(db, "Second record")
    page.goto(f"{PATH}/{first}")
    ready(page)
    expect(page.locator("#tasks-show h2")).to_have_text(label(TABLE, "First record"))
    page.locator(f"#tasks-row-{second}").click()
    expect(page.locator("#tasks-show h2")).to_have_text(label(TABLE, "Second record"))
    # The URL is pushed by the last event of the same response: wait for it, or back()
    # would leave the page instead of returning to the first record.
    expect(page).to_have_url(re.compile(f"{PATH}/{second}$"))

    # history.back() rather than the browser button: Chromium's back button skips entries
    # pushed more than a few seconds after the click (its anti-history-spam rule), which a
    # loaded CI machine can hit; the popstate handling under test is the same.
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile(f"{PATH}/{first}$"))
    expect(page.locator("#tasks-show h2")).to_have_text(label(TABLE, "First record"))
    page.reload()
    expect(page.locator("#tasks-show h2")).to_have_text(label(TABLE, "First record"))


def test_search_filters_on_the_server(page, db):
    findable = label(TABLE, "Alpha findable")  # far apart: distinct even in a short enum
    add(db, "Alpha findable")
    add(db, "Zulu hidden")
    page.goto(PATH)
    ready(page)
    page.fill("#tasks-search input[name=q]", findable)
    expect(page.locator("#tasks-list a[id^='tasks-row-']")).to_have_count(1)
    expect(page.locator("#tasks-list")).to_contain_text(findable)
