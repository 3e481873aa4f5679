"""Screen `products` live: changes made elsewhere reach open pages over the realtime
stream, with the real Datastar runtime in headless Chromium.

Each page's stream is keyed by what it shows (filter, order, cursor); a frame sets the
page's rows region to the database's current page. These tests check the page against
the database (or a page freshly loaded in another browser) after writes made through the
UI of another browser and with plain SQL, and that client chrome survives a frame.
"""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from playwright.sync_api import expect
from psycopg import sql

from tests.browser.test_products import ROWS, expect_ids, follow, open_table, shown_ids
from tests.conftest import _free_port
from tests.test_products import (
    PAGE_SIZE,
    PATH,
    TABLE,
    ordered_ids,
    ref_pools,
    seed,
    stored,
)
from tests.test_products import values as row_values

pytestmark = pytest.mark.browser


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


def rewrite(db, row_id: str, i: int) -> dict[str, Any]:
    """Give a row the test values of row `i`, with plain SQL (as a script or psql would)."""
    new = row_values(i, ref_pools(db, i))
    db.execute(
        sql.SQL("UPDATE {} SET {} WHERE id = %s").format(
            sql.Identifier(TABLE),
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(name)) for name in new),
        ),
        (*new.values(), row_id),
    )
    return new


def rows_text(page) -> str:
    """What a person reads in the table body (hidden detail rows excluded)."""
    return page.locator("#products-rows").inner_text()


def expect_same_rows(page, fresh) -> None:
    """Wait until `page` (kept live) reads like `fresh` (loaded after every write)."""
    deadline = time.monotonic() + 15
    while rows_text(page) != rows_text(fresh) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rows_text(page) == rows_text(fresh)


def expect_page_of(page, db, q: str = "", sort: str = "") -> None:
    """Wait until the page shows the first page of this filter and order, as stored now."""
    expect_ids(page, ordered_ids(db, sort, q)[:PAGE_SIZE])


def test_a_change_in_one_browser_appears_in_the_other(page, other_page, db):
    rows = seed(db, min(PAGE_SIZE, 3))
    open_table(page)
    open_table(other_page)

    # Edited inline there: the row here reads as it does there, without a reload.
    edited = rows[0]["id"]
    other_page.click(f"#products-edit-{edited}")
    other_page.locator("#products-editor-name").fill("Ada <b>&</b> {{ 7*7 }}")
    other_page.click("#products-editor-do-save")
    expect(other_page.locator("#toasts")).to_contain_text("Saved")
    assert str(stored(db, edited)["name"]) == "Ada <b>&</b> {{ 7*7 }}"
    expect_page_of(page, db)
    expect_same_rows(page, other_page)

    # Deleted there (bulk delete): gone here.
    doomed = rows[-1]["id"]
    other_page.locator(f"#products-row-{doomed} input[type=checkbox]").check()
    other_page.click("#products-bulk-delete")
    other_page.click("#products-bulk-confirm")
    expect(other_page.locator("#toasts")).to_contain_text("Deleted 1")
    expect(page.locator(f"#products-row-{doomed}")).to_have_count(0)
    expect_page_of(page, db)
    expect_same_rows(page, other_page)
    assert page.evaluate("window.__noReload") is True


def test_writes_from_sql_appear_and_pages_fill_up(page, other_page, db):
    open_table(page)
    expect(page.locator("#products-empty")).to_be_visible()

    # Any writer (a script, psql, another service) is seen: the triggers log every change.
    rows = seed(db, min(PAGE_SIZE, 2))
    expect_page_of(page, db)
    # A row the stream inserted, rewritten: it reads as stored (every row fits on the page).
    rewrite(db, rows[0]["id"], 500)
    expect_page_of(page, db)
    open_table(other_page)
    expect_same_rows(page, other_page)

    # More rows than a page: the pager and the select-all checkbox follow.
    seed(db, PAGE_SIZE, start=10)
    expect_page_of(page, db)
    expect(page.locator("#products-next")).to_have_attribute("rel", "next")  # a link now
    page.locator("#products-select-all").check()  # $_table.ids is patched with the rows
    expect(page.locator("#products-bulk")).to_contain_text(f"{PAGE_SIZE} selected")
    page.locator("#products-select-all").uncheck()

    # A row of the page deleted: the next page's first row slides in.
    db.execute(f'DELETE FROM "{TABLE}" WHERE id = %s', (shown_ids(page)[0],))
    expect_page_of(page, db)
    open_table(other_page)
    expect_same_rows(page, other_page)

    db.execute(f'DELETE FROM "{TABLE}"')
    expect(page.locator("#products-empty")).to_be_visible()
    expect(page.locator(ROWS)).to_have_count(0)
    expect(page.locator("#products-next")).to_have_attribute("aria-disabled", "true")
    assert page.evaluate("window.__noReload") is True


@pytest.mark.skipif(PAGE_SIZE < 4, reason="needs four rows on one page")
def test_client_chrome_survives_a_frame(page, db):
    """Selection, an open detail and a row in its editor (typed text, focus) are the
    page's own: a frame changing those very rows keeps them."""
    rows = seed(db, 3)
    ids = [row["id"] for row in rows]
    open_table(page)
    selected = page.locator(f"#products-row-{ids[0]}")
    selected.locator("input[type=checkbox]").check()
    expect(selected).to_have_class(re.compile(r"bg-indigo-50/60"))
    detail = page.locator(f"#products-detail-{ids[1]}")
    toggle = page.locator(f"[aria-controls='products-detail-{ids[1]}']")
    toggle.click()
    expect(detail).to_contain_text("Created")
    page.click(f"#products-edit-{ids[2]}")
    control = page.locator("#products-editor-name")
    control.fill("Ada <b>&</b> {{ 7*7 }}")  # typed, not saved
    control.focus()

    # Those very rows change elsewhere, and a row is added: one frame (or a few).
    rewrite(db, ids[0], 510)
    shown = rewrite(db, ids[1], 521)
    rewrite(db, ids[2], 530)
    added = seed(db, 1, start=540)[0]["id"]
    expect(page.locator(f"#products-row-{added}")).to_have_count(1)
    expect_ids(page, ordered_ids(db, "")[:PAGE_SIZE])

    expect(selected.locator("input[type=checkbox]")).to_be_checked()
    expect(selected).to_have_class(re.compile(r"bg-indigo-50/60"))
    expect(page.locator("#products-bulk")).to_contain_text("1 selected")

    expect(detail).to_be_visible()  # still open, and showing the new values
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(detail).to_contain_text(str(shown["name"]))

    expect(control).to_have_value("Ada <b>&</b> {{ 7*7 }}")  # the editor is left alone
    expect(control).to_be_focused()
    control.press("Escape")  # closing it shows the row as stored now
    expect(control).to_have_count(0)
    assert page.evaluate("window.__noReload") is True


def test_a_filtered_page_gets_only_its_matches_and_a_new_filter_restarts_it(page, db):
    rows = seed(db, 8)
    q = str(rows[5]["name"])
    open_table(page, f"{PATH}?{urlencode({'q': q})}")
    expect_page_of(page, db, q)
    rewrite(db, rows[5]["id"], 550)  # no longer matches
    rewrite(db, rows[6]["id"], 5)  # matches now (row 5's values are free again)
    expect_page_of(page, db, q)

    # Typing another filter restarts the stream for it.
    other = str(rows[2]["name"])
    page.fill("#products-filter input[name=q]", other)
    expect_page_of(page, db, other)
    expect(page.locator("#products-live-status")).to_have_attribute("data-state", "live")
    rewrite(db, rows[2]["id"], 560)
    expect_page_of(page, db, other)
    assert page.evaluate("window.__noReload") is True


def test_a_later_page_follows_its_own_rows(page, db):
    seed(db, 2 * PAGE_SIZE + 1)
    open_table(page)
    follow(page, "#products-next")  # the stream restarts for page 2 (its cursor)
    expect(page.locator("#products-live-status")).to_have_attribute("data-state", "live")
    before = ordered_ids(db, "")
    anchor = before[PAGE_SIZE - 1]  # page 2 is "the rows after this one"
    expect_ids(page, before[PAGE_SIZE:2 * PAGE_SIZE])

    # Rows after the anchor go, and come: page 2 shows what now follows it.
    db.execute(f'DELETE FROM "{TABLE}" WHERE id = %s', (before[PAGE_SIZE],))
    seed(db, 2, start=570)
    after = ordered_ids(db, "")
    start = after.index(anchor) + 1
    expect_ids(page, after[start:start + PAGE_SIZE])
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
        rows = seed(db, min(PAGE_SIZE, 3))
        open_table(page)

        server.send_signal(signal.SIGKILL)  # mid-stream, no goodbye
        server.wait()
        expect(page.locator("#products-live-status")).to_have_attribute(
            "data-state", "reconnecting"
        )
        # Changes while no server runs: only the database knows them.
        seed(db, 2, start=580)
        rewrite(db, rows[0]["id"], 590)
        db.execute(f'DELETE FROM "{TABLE}" WHERE id = %s', (rows[-1]["id"],))

        server = start_server(database_url, port)
        # Datastar retries with Last-Event-ID; the server replays what the page missed.
        # A retry waits out Datastar's backoff and the restarted server's start-up.
        expect(page.locator("#products-live-status")).to_have_attribute(
            "data-state", "live", timeout=30_000
        )
        expect_page_of(page, db)
        fresh = context.new_page()
        open_table(fresh)
        expect_same_rows(page, fresh)
        assert page.evaluate("window.__noReload") is True
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=10)
