"""Screen `product_admin` live: changes made elsewhere reach open pages, over the realtime
stream, with the real Datastar runtime in headless Chromium."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from playwright.sync_api import expect

from tests.browser.test_product_admin import fill
from tests.conftest import _free_port, label, ready
from tests.test_product_admin import PATH, TABLE, add, valid_form

pytestmark = pytest.mark.browser

LABEL = "name"


@pytest.fixture
def other_page(browser, live_server) -> Iterator[Any]:
    """A second browser context: another person with the same screen open."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_live(page, url: str = PATH) -> None:
    page.goto(url)
    ready(page)
    expect(page.locator("#product-admin-live-status")).to_have_attribute("data-state", "live")
    # A marker that only survives while the page is never reloaded.
    page.evaluate("window.__noReload = true")


def shown_ids(page) -> list[str]:
    """The record ids of the list, top to bottom."""
    return page.eval_on_selector_all(
        "#product-admin-rows > li", "items => items.map(li => li.id.replace('product-admin-item-', ''))"
    )


def ordered_ids(db, where: str = "TRUE", params: tuple[Any, ...] = ()) -> list[str]:
    """What the list must show: the table's rows in the list's order."""
    rows = db.execute(
        f'SELECT id::text AS id FROM "{TABLE}" WHERE {where} ORDER BY "{LABEL}", id', params
    ).fetchall()
    return [row["id"] for row in rows]


def expect_ids(page, db, where: str = "TRUE", params: tuple[Any, ...] = ()) -> None:
    expected = ordered_ids(db, where, params)
    deadline = time.monotonic() + 15
    while shown_ids(page) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shown_ids(page) == expected


def save_label(page, record_id: str, text: str) -> None:
    """Rename a record through the UI of `page`."""
    page.locator(f"#product-admin-row-{record_id}").click()
    # Wait for this record's detail, as a person does: the pane's Edit button may still be
    # the previous record's while the click's answer is on its way.
    expect(page.locator("#product-admin-show")).to_have_attribute("data-record", record_id)
    page.click("#product-admin-edit")
    expect(page.locator("#product-admin-form")).to_be_visible()
    fill(page, {LABEL: label(TABLE, text)})
    page.locator("#product-admin-form [type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text("saved")


def test_a_change_in_one_browser_appears_in_the_other(page, other_page, db):
    middle = add(db, "Middle")
    open_live(page)
    open_live(other_page)

    # Created in the other browser: here it appears in its sorted place, without a reload.
    other_page.click("#product-admin-new")
    fill(other_page, {**valid_form(db), LABEL: label(TABLE, "Aardvark")})
    other_page.locator("#product-admin-form [type=submit]").click()
    expect(page.locator("#product-admin-rows > li").first).to_contain_text(label(TABLE, "Aardvark"))
    expect_ids(page, db)
    created = ordered_ids(db)[0]

    # Renamed there: the row moves here; the detail pane here follows the record it shows.
    page.locator(f"#product-admin-row-{middle}").click()
    expect(page.locator("#product-admin-show h2")).to_have_text(label(TABLE, "Middle"))
    save_label(other_page, middle, "Zebra")
    expect(page.locator("#product-admin-show h2")).to_have_text(label(TABLE, "Zebra"))
    expect_ids(page, db)
    assert shown_ids(page) == [created, middle]
    expect(page.locator(f"#product-admin-row-{middle}")).to_have_attribute("aria-current", "true")

    # Deleted there: gone from the list here, and the detail says so.
    other_page.locator(f"#product-admin-row-{middle}").click()
    expect(other_page.locator("#product-admin-show")).to_have_attribute("data-record", middle)
    other_page.click("#product-admin-delete")
    other_page.locator("#product-admin-delete-dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(f"#product-admin-item-{middle}")).to_have_count(0)
    expect(page.locator("#product-admin-show")).to_contain_text("deleted")
    expect_ids(page, db)
    assert page.evaluate("window.__noReload") is True


def test_an_open_delete_dialog_survives_an_update_from_elsewhere(page, db):
    record = add(db, "Before")
    open_live(page, f"{PATH}/{record}")
    page.click("#product-admin-delete")
    dialog = page.locator("#product-admin-delete-dialog")
    expect(dialog).to_be_visible()
    after = label(TABLE, "After")
    db.execute(f'UPDATE "{TABLE}" SET "{LABEL}" = %s WHERE id = %s', (after, record))
    expect(page.locator("#product-admin-show h2")).to_have_text(label(TABLE, "After"))
    expect(dialog).to_be_visible()


def test_writes_from_outside_the_app_and_the_empty_state(page, db):
    open_live(page)
    expect(page.locator("#product-admin-list")).to_contain_text("yet")
    # Any writer (a script, psql, another service) is seen: the triggers log every change.
    first = add(db, "Written by SQL")
    expect(page.locator(f"#product-admin-item-{first}")).to_have_count(1)
    burst = [add(db, f"Burst {n:02}") for n in range(12)]
    db.execute(f'DELETE FROM "{TABLE}" WHERE id = %s', (burst[3],))
    expect_ids(page, db)
    db.execute(f'DELETE FROM "{TABLE}"')
    expect(page.locator("#product-admin-list")).to_contain_text("yet")
    assert page.evaluate("window.__noReload") is True

# The app as its own process, to be killed mid-stream and started again.


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url}
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"http://127.0.0.1:{port}/static/app.css", timeout=1)
            return server
        except httpx2.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the app did not start")


def test_a_page_catches_up_after_the_server_was_killed(browser, database_url, db):
    port = _free_port()
    server = start_server(database_url, port)
    context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        kept = add(db, "Kept")
        renamed = add(db, "Renamed later")
        removed = add(db, "Removed later")
        open_live(page)

        server.send_signal(signal.SIGKILL)  # mid-stream, no goodbye
        server.wait()
        expect(page.locator("#product-admin-live-status")).to_have_attribute(
            "data-state", "reconnecting"
        )
        # Changes while no server runs: only the database knows them.
        added = [add(db, f"Added {n}") for n in range(3)]
        new_label = label(TABLE, "A renamed")
        db.execute(f'UPDATE "{TABLE}" SET "{LABEL}" = %s WHERE id = %s', (new_label, renamed))
        db.execute(f'DELETE FROM "{TABLE}" WHERE id = %s', (removed,))

        server = start_server(database_url, port)
        # Datastar retries with Last-Event-ID; the server replays what the page missed.
        # A retry waits out Datastar's backoff and the restarted server's start-up.
        expect(page.locator("#product-admin-live-status")).to_have_attribute(
            "data-state", "live", timeout=30_000
        )
        expect_ids(page, db)
        assert set(added) | {kept, renamed} == set(shown_ids(page))
        expect(page.locator(f"#product-admin-row-{renamed}")).to_contain_text(new_label)
        assert page.evaluate("window.__noReload") is True
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=10)
