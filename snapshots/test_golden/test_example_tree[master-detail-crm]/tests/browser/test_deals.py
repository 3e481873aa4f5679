"""Screen `deals` in headless Chromium with the real Datastar runtime."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import choose, count, label, make, ready
from tests.test_deals import PATH, TABLE, add, valid_form

pytestmark = pytest.mark.browser


def fill(page, form: dict[str, str]) -> None:
    """Fill the form the way a person would, field by field."""
    for name, value in form.items():
        control = page.locator(f"#deals-form-{name}")
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

    page.click("#deals-new")
    expect(page.locator("#deals-form")).to_be_visible()
    fill(page, form)
    page.locator("#deals-form [type=submit]").click()

    expect(page.locator("#deals-show")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("created")
    assert count(db, TABLE) == 1
    expect(page.locator("#deals-list a[id^='deals-row-']")).to_have_count(1)
    assert page.evaluate("window.__noReload") is True

    # Selecting another record patches only the detail pane: the list element survives.
    other_id = add(db, "Another one")
    page.goto(PATH)
    ready(page)
    page.evaluate("document.getElementById('deals-list').__marker = 'kept'")
    page.locator(f"#deals-row-{other_id}").click()
    expect(page).to_have_url(re.compile(f"{PATH}/{other_id}$"))
    expect(page.locator("#deals-show h2")).to_have_text(label(TABLE, "Another one"))
    assert page.evaluate("document.getElementById('deals-list').__marker") == "kept"
    expect(page.locator(f"#deals-row-{other_id}")).to_have_attribute("aria-current", "true")

    # An invalid edit shows the server's error next to the field and keeps the input.
    page.click("#deals-edit")
    fill(page, {"title": ""})
    page.locator("#deals-form [type=submit]").click()
    expect(page.locator("#deals-form-title-error")).to_contain_text(
        "This field is required."
    )
    expect(page.locator("#deals-form-title")).to_have_value("")
    page.goto(f"{PATH}/{other_id}")

    # Delete, through the in-page confirmation dialog.
    page.click("#deals-delete")
    dialog = page.locator("#deals-delete-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(f"#deals-row-{other_id}")).to_have_count(0)
    expect(page).to_have_url(re.compile(f"{PATH}$"))
    assert count(db, TABLE) == 1


def test_back_button_and_deep_link(page, db):
    first = add(db, "First record")
    second = add(db, "Second record")
    page.goto(f"{PATH}/{first}")
    ready(page)
    expect(page.locator("#deals-show h2")).to_have_text(label(TABLE, "First record"))
    page.locator(f"#deals-row-{second}").click()
    expect(page.locator("#deals-show h2")).to_have_text(label(TABLE, "Second record"))
    # The URL is pushed by the last event of the same response: wait for it, or back()
    # would leave the page instead of returning to the first record.
    expect(page).to_have_url(re.compile(f"{PATH}/{second}$"))

    # history.back() rather than the browser button: Chromium's back button skips entries
    # pushed more than a few seconds after the click (its anti-history-spam rule), which a
    # loaded CI machine can hit; the popstate handling under test is the same.
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile(f"{PATH}/{first}$"))
    expect(page.locator("#deals-show h2")).to_have_text(label(TABLE, "First record"))
    page.reload()
    expect(page.locator("#deals-show h2")).to_have_text(label(TABLE, "First record"))


def test_search_filters_on_the_server(page, db):
    findable = label(TABLE, "Alpha findable")  # far apart: distinct even in a short enum
    add(db, "Alpha findable")
    add(db, "Zulu hidden")
    page.goto(PATH)
    ready(page)
    page.fill("#deals-search input[name=q]", findable)
    expect(page.locator("#deals-list a[id^='deals-row-']")).to_have_count(1)
    expect(page.locator("#deals-list")).to_contain_text(findable)


def test_many_ref_picker_by_keyboard_on_a_phone(page, db):
    """The many-ref picker (static/multiselect.js: chips and a filter box), by keyboard at
    360 px: typing filters, arrows and Enter add, Backspace removes; an error re-render keeps
    the chips, and the form saves exactly the chosen ids."""
    page.set_viewport_size({"width": 360, "height": 740})
    ref = "contacts"
    names = {text: label(ref, text) for text in ("Alpha one", "Alto two", "Beta three")}
    ids = {
        text: make(db, ref, **{"name": name})
        for text, name in names.items()
    }
    page.goto(PATH)
    ready(page)
    page.click("#deals-new")
    sent = []  # what the form sends: nothing until it is submitted on purpose
    page.on("request", lambda request: request.method == "GET" or sent.append(request.url))
    field = page.locator("#deals-form-contacts-field")
    box = field.get_by_role("combobox")
    chips = field.locator(".ms-chip > span")
    listed = field.locator(".ms-list [role=option]")  # the listbox the script draws
    expect(page.locator("#deals-form-contacts")).to_be_hidden()  # the select stays, drawn over

    page.locator("label[for='deals-form-contacts']").click()  # the field's label leads to the box
    expect(box).to_be_focused()
    box.press_sequentially("al")
    expect(listed).to_have_text([names["Alpha one"], names["Alto two"]])
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("Enter")
    expect(chips).to_have_text([names["Alto two"]])
    expect(box).to_have_value("")
    box.press_sequentially("bet")
    expect(listed).to_have_text([names["Beta three"]])
    box.press("Enter")
    expect(chips).to_have_text([names["Alto two"], names["Beta three"]])
    box.press("Backspace")  # the box is empty: the last chip goes
    expect(chips).to_have_text([names["Alto two"]])
    box.press_sequentially("alp")
    box.press("Enter")
    box.press_sequentially("zzz")
    expect(field.locator(".ms-list")).to_have_text("No matches")
    box.press("Enter")  # typed text that matches nothing neither adds nor submits
    box.press("Control+a")
    box.press("Backspace")  # clears the text, the chips stay
    expect(box).to_have_value("")
    expect(chips).to_have_text([names["Alpha one"], names["Alto two"]])
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#deals-form")).to_be_visible()  # Escape closed the list only
    expect(field.get_by_role("button", name=f"Remove {names['Alpha one']}")).to_be_visible()
    choose(page, page.locator("#deals-form-contacts"), ids["Beta three"])  # the other tests' helper
    expect(chips).to_have_text([names["Alpha one"], names["Alto two"], names["Beta three"]])
    chosen = sorted(ids.values())

    assert sent == []

    # An error elsewhere: the server renders the form again, with the chosen ids.
    fill(page, {**valid_form(db), "title": ""})
    submit = page.locator("#deals-form [type=submit]")
    submit.focus()
    submit.press("Enter")
    expect(page.locator("#deals-form-title-error")).to_be_visible()
    # In the options' order.
    expect(chips).to_have_text([names["Alpha one"], names["Alto two"], names["Beta three"]])
    assert count(db, TABLE) == 0

    fill(page, {"title": valid_form(db).get("title", "")})
    expect(submit).to_be_enabled()
    submit.focus()
    submit.press("Enter")
    expect(page.locator("#deals-show")).to_be_visible()
    rows = db.execute(
        'SELECT "contacts_id" AS id FROM "deal_contacts"'
    ).fetchall()
    assert sorted(str(row["id"]) for row in rows) == chosen
