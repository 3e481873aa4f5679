"""Real Chromium, the real Datastar v1.0.4 bundle, the real server in a subprocess."""

import re
import signal
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support import AppServer, sql

pytestmark = pytest.mark.browser
MakeServer = Callable[..., AppServer]

# Records every element patch Datastar applies, and whether two rows ever shared an id.
RECORDER = """
window.__patches = [];
window.__duplicateIds = [];
document.addEventListener('datastar-fetch', (evt) => {
  if (evt.detail.type === 'datastar-patch-elements') window.__patches.push(evt.detail.argsRaw);
});
new MutationObserver(() => {
  const ids = [...document.querySelectorAll('#task-list > li')].map((li) => li.id);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dup.length) window.__duplicateIds.push(...dup);
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def open_page(browser: Browser, url: str) -> Page:
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(RECORDER)
    page.on("pageerror", lambda exc: pytest.fail(f"page error: {exc}"))
    page.goto(url + "/tasks")
    expect(page.locator("#realtime-status")).to_have_text("live", timeout=15_000)
    return page


def dom_rows(page: Page) -> list[tuple[str, str, str]]:
    """(id, title, done) of every row, in DOM order."""
    return [
        tuple(r)
        for r in page.eval_on_selector_all(  # type: ignore[misc]
            "#task-list > li",
            "els => els.map(li => "
            "[li.id, li.querySelector('.task-title').textContent, li.dataset.done])",
        )
    ]


def db_rows(url: str) -> list[tuple[str, str, str]]:
    return [
        (f"task-{i}", title, "true" if done else "false")
        for i, title, done in sql(url, "SELECT id, title, done FROM tasks ORDER BY id")
    ]


def appended_ids(page: Page) -> list[str]:
    out: list[str] = []
    for patch in page.evaluate("window.__patches"):
        if patch.get("mode") == "append":
            out += re.findall(r'<li id="(task-[0-9a-f-]+)"', patch.get("elements", ""))
    return out


def test_a_change_in_one_browser_appears_in_the_other(
    browser: Browser, make_server: MakeServer
) -> None:
    server = make_server()
    alice, bob = open_page(browser, server.url), open_page(browser, server.url)

    alice.fill("#task-title", "Buy milk")
    alice.press("#task-title", "Enter")
    row = bob.locator("#task-list > li", has_text="Buy milk")
    expect(row).to_have_count(1)
    expect(bob.locator("#task-total")).to_have_text("1")
    expect(alice.locator("#task-title")).to_have_value("")  # the action cleared the input

    row.locator(".task-toggle").click()  # Bob ticks it
    alice_row = alice.locator("#task-list > li", has_text="Buy milk")
    expect(alice_row).to_have_attribute("data-done", "true")
    expect(alice.locator("#task-done")).to_have_text("1")

    alice_row.locator(".task-delete").click()  # Alice deletes it
    expect(bob.locator("#task-list > li")).to_have_count(0)
    expect(bob.locator("#task-total")).to_have_text("0")
    expect(bob.get_by_text("No tasks yet.")).to_be_visible()
    for page in (alice, bob):
        assert page.evaluate("window.__duplicateIds") == []
        assert len(appended_ids(page)) == 1


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "sigterm"])
def test_pages_catch_up_after_a_server_restart(
    browser: Browser, make_server: MakeServer, database_url: str, sig: signal.Signals
) -> None:
    sql(database_url, "INSERT INTO tasks (title) VALUES ('one'), ('two'), ('three')")
    server = make_server()
    pages = [open_page(browser, server.url), open_page(browser, server.url)]
    sql(database_url, "INSERT INTO tasks (title) VALUES ('four')")
    for page in pages:
        expect(page.locator("#task-list > li")).to_have_count(4)

    server.stop(sig)
    for page in pages:
        expect(page.locator("#realtime-status")).to_have_text("reconnecting", timeout=10_000)

    # Changes by another process while the app is down.
    sql(database_url, "INSERT INTO tasks (title) VALUES ('five'), ('six')")
    sql(database_url, "UPDATE tasks SET done = true WHERE title IN ('two', 'five')")
    sql(database_url, "DELETE FROM tasks WHERE title = 'three'")
    sql(database_url, "INSERT INTO tasks (title) VALUES ('seven')")

    server.start()  # same port
    want = db_rows(database_url)
    assert [t for _, t, _ in want] == ["one", "two", "four", "five", "six", "seven"]
    for page in pages:
        expect(page.locator("#realtime-status")).to_have_text("live", timeout=20_000)
        expect(page.locator("#task-list > li")).to_have_count(len(want))
        page.wait_for_function(
            "n => document.querySelectorAll('#task-list > li[data-done=true]').length === n", arg=2
        )
        assert dom_rows(page) == want, "every change once, in order"
        expect(page.locator("#task-total")).to_have_text("6")
        expect(page.locator("#task-done")).to_have_text("2")
        assert page.evaluate("window.__duplicateIds") == []
        appended = appended_ids(page)
        assert len(appended) == len(set(appended)) == 4  # four, five, six, seven: once each

    # Still live after the restart.
    sql(database_url, "INSERT INTO tasks (title) VALUES ('eight')")
    for page in pages:
        expect(page.locator("#task-list > li").last).to_have_text(re.compile("eight"))
