"""Screen `new_signup` (wizard) in headless Chromium with the real Datastar runtime."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import choose, count, nav_link, ready
from tests.test_new_signup import (
    DRAFTS,
    EXPIRE_DAYS,
    PATH,
    REF_LABELS,
    SCREEN,
    STEPS,
    TABLE,
    drafts,
    newest,
    valid_steps,
)

pytestmark = pytest.mark.browser

K = "new-signup"
REVIEW = True
# Set on window before an action; still there afterwards only if the page never reloaded.
MARK = "window.__noReload = true"
NOT_RELOADED = "window.__noReload === true"


@pytest.fixture(autouse=True)
def no_drafts(db):
    db.execute(f'DELETE FROM "{DRAFTS}"')


def control(page, name: str):
    return page.locator(f"#{K}-form-{name}")


def kind(page, name: str) -> str:
    return control(page, name).evaluate("el => el.tagName + ':' + (el.type || '')")


def fill(page, values: dict[str, Any]) -> None:
    """Fill a step's fields the way a person would, field by field."""
    for name, value in values.items():
        if kind(page, name) == "SELECT:select-multiple":
            choose(page, control(page, name), value)
        elif kind(page, name).startswith("SELECT"):
            control(page, name).select_option(value)
        elif kind(page, name) == "INPUT:checkbox":
            control(page, name).set_checked(value == "on")
        else:
            control(page, name).fill(value)


def expect_values(page, values: dict[str, Any]) -> None:
    """The form shows these values (as they were typed and saved)."""
    for name, value in values.items():
        if kind(page, name) == "INPUT:checkbox":
            expect(control(page, name)).to_be_checked(checked=value == "on")
        elif isinstance(value, list):
            expect(control(page, name)).to_have_values(value)
        else:
            expect(control(page, name)).to_have_value(value)


def expect_step(page, number: int) -> None:
    """Step `number`'s form is shown (the step after the last is the review)."""
    if number <= len(STEPS):
        expect(page.locator(f"#{K}-form")).to_have_attribute("data-step", str(number))
    elif REVIEW:
        expect(page.locator(f"#{K}-review")).to_be_visible()
    else:
        expect(page.locator(f"#{K}-done")).to_be_visible()
    expect(page.locator(f"#{K}-progress [aria-current=step]")).to_have_count(
        1 if number <= len(STEPS) + REVIEW else 0)


def start(page) -> None:
    page.goto(PATH)
    ready(page)  # Datastar has processed the page (a live screen never lets the network idle)
    page.evaluate(MARK)


def save(page, values: dict[str, Any], number: int) -> None:
    """Fill step `number`, press its button, wait for what comes next."""
    expect_step(page, number)
    fill(page, values)
    page.click(f"#{K}-next")
    expect_step(page, number + 1)
    if number < len(STEPS) + REVIEW:
        # The address bar follows the card (the last event): wait for it before going back.
        expect(page).to_have_url(draft_url(number + 1))


def draft_url(number: int) -> re.Pattern[str]:
    return re.compile(re.escape(PATH) + f"/[0-9a-f-]{{36}}\\?step={number}$")


def test_a_step_is_validated_on_the_server_then_saved(page, db):
    steps = valid_steps(db)
    start(page)
    for number in range(1, 1):
        save(page, steps[number - 1], number)

    # Invalid: the server's error shows inline, the input is kept, nothing is saved.
    fill(page, {**steps[0], "name": ""})
    page.click(f"#{K}-next")
    expect(page.locator(f"#{K}-form-name-error")).to_be_visible()
    expect(page.locator(f"#{K}-form-name-error")).to_contain_text("This field is required.")
    expect(control(page, "name")).to_have_value("")
    expect_step(page, 1)
    assert drafts(db) == []

    # Corrected: saved, and the next step is shown, without reloading the page.
    fill(page, {"name": steps[0]["name"]})
    page.click(f"#{K}-next")
    expect_step(page, 2)
    expect(page).to_have_url(draft_url(2))
    (draft,) = drafts(db)
    assert draft["data"]["name"] == steps[0]["name"]
    expect(page.locator(f"#{K}-form-name-error")).to_have_count(0)
    assert page.evaluate(NOT_RELOADED)


def test_refresh_and_another_device_resume_at_the_same_step(page, browser, live_server, db):
    steps = valid_steps(db)
    start(page)
    save(page, steps[0], 1)
    expect(page).to_have_url(draft_url(2))
    url = page.url

    page.reload()
    expect(page).to_have_url(url)
    expect_step(page, 2)
    expect(page.locator(f"#{K}-drafts [aria-current=true]")).to_have_count(1)

    # The same URL elsewhere (another browser: no shared cookies or storage).
    other = browser.new_context(base_url=live_server)
    try:
        elsewhere = other.new_page()
        elsewhere.goto(url)
        expect_step(elsewhere, 2)
        ready(elsewhere)
        elsewhere.click(f"#{K}-progress a")  # step 1, the one step done so far
        expect_step(elsewhere, 1)
        expect_values(elsewhere, steps[0])
    finally:
        other.close()


def test_back_returns_to_the_previous_step_with_its_saved_values(page, db):
    steps = valid_steps(db)
    through = min(2, len(STEPS))
    start(page)
    for number in range(1, through + 1):
        save(page, steps[number - 1], number)

    # history.back() rather than the browser button: Chromium's back button skips entries
    # pushed more than a few seconds after the click (its anti-history-spam rule), which a
    # loaded CI machine can hit; the popstate handling under test is the same.
    for number in range(through, 0, -1):
        page.evaluate("history.back()")
        expect(page).to_have_url(draft_url(number))
        expect_step(page, number)
        expect_values(page, steps[number - 1])
    page.evaluate("history.forward()")
    expect(page).to_have_url(draft_url(2))
    expect_step(page, 2)

    # The Back button in the card does the same, and the browser's forward follows it.
    page.click(f"#{K}-back")
    expect(page).to_have_url(draft_url(1))
    expect_values(page, steps[0])
    assert page.evaluate(NOT_RELOADED)


def test_the_review_lists_every_value_and_submit_creates_one_record(page, db):
    steps = valid_steps(db)
    before = count(db, TABLE)  # a ref may point into the same table
    start(page)
    for number in range(1, len(STEPS) + 1):
        save(page, steps[number - 1], number)
    expect(page).to_have_url(draft_url(len(STEPS) + 1))
    review = page.locator(f"#{K}-review")
    expect(review).to_be_visible()
    expect(review).to_contain_text("Ada <b>&</b> {{ 7*7 }}")  # name
    expect(review).to_contain_text("ada@example.com")  # email
    expect(review).to_contain_text("Ada <b>&</b> {{ 7*7 }}")  # from
    expect(review).to_contain_text(REF_LABELS["companies"])  # company, by its label
    expect(review).to_contain_text("startup")  # class
    expect(review).to_contain_text("250")  # seats
    expect(review).to_contain_text("May 17, 2024")  # starts
    expect(review).to_contain_text("Ada <b>&</b> {{ 7*7 }}")  # notes
    assert count(db, TABLE) == before

    # A double click sends one request: the button is disabled while it is in flight.
    page.dblclick(f"#{K}-submit")
    expect(page.locator(f"#{K}-done")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("created")
    assert count(db, TABLE) == before + 1
    assert drafts(db) == []
    expect(page).to_have_url(re.compile(re.escape(f"{PATH}?created={newest(db)}") + "$"))
    expect(page.locator(f"#{K}-drafts")).to_contain_text("No drafts in progress")
    assert page.evaluate(NOT_RELOADED)

    page.reload()  # the confirmation is a URL too
    expect(page.locator(f"#{K}-done")).to_be_visible()
    page.click(f"#{K}-again")
    expect_step(page, 1)
    expect(page).to_have_url(re.compile(re.escape(PATH) + "$"))


def test_an_expired_draft_is_gone(page, db):
    def draft(label: str, age_days: float) -> str:
        row = db.execute(
            f"""INSERT INTO "{DRAFTS}" ("screen", "step", "data", "updated_at")
                VALUES (%s, 1, jsonb_build_object(%s::text, %s::text),
                        now() - make_interval(secs => %s)) RETURNING "id" """,
            (SCREEN, "name", label, age_days * 86400),
        ).fetchone()
        return str(row["id"])

    expired = draft("Abandoned draft", EXPIRE_DAYS + 1)
    fresh = draft("Recent draft", EXPIRE_DAYS / 2)

    page.goto(f"{PATH}/{expired}")
    expect(page.locator(f"#{K}-gone")).to_be_visible()
    assert [str(d["id"]) for d in drafts(db)] == [fresh]
    expect(page.locator(f"#{K}-drafts")).to_contain_text("Recent draft")
    expect(page.locator(f"#{K}-drafts")).not_to_contain_text("Abandoned draft")

    # The list picks the live one up where it was left.
    ready(page)
    page.click(f"#{K}-draft-{fresh}")
    expect_step(page, 1)
    expect(page).to_have_url(re.compile(re.escape(f"{PATH}/{fresh}?step=1") + "$"))


def test_saving_shows_progress_and_a_failed_save_changes_nothing(page, db):
    steps = valid_steps(db)
    start(page)
    page.evaluate("""() => {
      window.__sawSaving = false;
      const button = document.getElementById('""" + K + """-next');
      new MutationObserver(() => { if (button.disabled) window.__sawSaving = true; })
        .observe(button, {attributes: true, attributeFilter: ['disabled']});
    }""")
    fill(page, steps[0])

    # The server is unreachable: the error banner says so; the step and its input stay.
    page.route(re.compile(re.escape(PATH) + "$"), lambda route: route.fulfill(status=500)
               if route.request.method == "POST" else route.continue_())
    page.click(f"#{K}-next")
    expect(page.locator("#request-error")).to_contain_text("could not complete that request")
    expect_step(page, 1)
    expect_values(page, steps[0])
    assert drafts(db) == []

    page.unroute(re.compile(re.escape(PATH) + "$"))
    page.click(f"#{K}-next")
    expect_step(page, 2)
    expect(page.locator("#request-error")).to_be_hidden()
    assert page.evaluate("window.__sawSaving"), "the button never showed it was saving"
    assert len(drafts(db)) == 1


def test_discarding_asks_first_then_deletes_the_draft(page, db):
    steps = valid_steps(db)
    start(page)
    save(page, steps[0], 1)
    assert len(drafts(db)) == 1

    page.click(f"#{K}-discard")
    dialog = page.locator(f"#{K}-discard-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator("#toasts")).to_contain_text("Draft discarded.")
    expect_step(page, 1)
    expect(page).to_have_url(re.compile(re.escape(PATH) + "$"))
    assert drafts(db) == []


def test_arriving_from_another_screen_swaps_in_the_wizard_without_reload(page, db):
    page.goto("/signups")
    ready(page)
    page.evaluate(MARK)

    nav_link(page, PATH).click()

    expect(page).to_have_url(re.compile(re.escape(PATH) + "$"))
    expect_step(page, 1)
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("New signup")
    assert page.evaluate(NOT_RELOADED)
