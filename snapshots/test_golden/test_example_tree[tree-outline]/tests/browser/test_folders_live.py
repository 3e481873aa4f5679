"""Screen `folders` live: changes made elsewhere reach open pages over the realtime
stream, with the real Datastar runtime in headless Chromium."""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_folders import fill, name_link, node
from tests.conftest import ready
from tests.test_folders import LABEL, PARENT, PATH, TABLE, K, add, valid_form

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient() -> Iterator[None]:
    """A frame waits for the coalescing window and a shared, busy machine: wait longer."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


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
    expect(page.locator(f"#{K}-live-status")).to_have_attribute("data-state", "live")
    page.evaluate("window.__noReload = true")  # survives only while the page is never reloaded


def level(page, key: str = "root"):
    """The nodes a level shows, in order (`root`: the top level)."""
    return page.locator(f"#{K}-group-{key} > [role=treeitem]")


def ids_of(nodes) -> list[str]:
    return [i.removeprefix(f"{K}-node-") for i in nodes.evaluate_all("els => els.map(e => e.id)")]


def test_a_change_in_one_browser_appears_in_the_other(page, other_page, db):
    top = add(db, "Middle")
    kid = add(db, "Kid", top)
    open_live(page)
    open_live(other_page)
    page.click(f"#{K}-toggle-{top}")
    expect(node(page, kid)).to_be_visible()

    # Renamed inline in the other browser: the name changes here, and the node moves to
    # its sorted place with its open level (nothing reloads, nothing closes).
    last = add(db, "Zulu")
    expect(node(page, last)).to_have_count(1)
    name_link(other_page, top).click()
    other_page.click(f"#{K}-rename")
    field = other_page.locator(f"#{K}-name-{top} input[name=label]")
    field.fill("Zzz last")
    field.press("Enter")
    expect(name_link(page, top)).to_have_text("Zzz last")
    expect(level(page)).to_have_count(2)
    assert ids_of(level(page)) == [last, top]
    expect(node(page, kid)).to_be_visible()

    # A child created there appears in the level open here, in its sorted place.
    other_page.click(f"#{K}-add-child")
    fill(other_page, {**valid_form(db), LABEL: "Aardvark"})
    other_page.locator(f"#{K}-form [type=submit]").click()
    expect(level(page, top)).to_have_count(2)
    expect(level(page, top).first).to_contain_text("Aardvark")

    # Deleted there (with its subtree): gone here, and the detail shown here says so.
    name_link(page, kid).click()
    expect(page.locator(f"#{K}-title")).to_have_text("Kid")
    name_link(other_page, kid).click()
    other_page.click(f"#{K}-delete")
    other_page.locator(f"#{K}-delete-dialog").get_by_role("button", name="Delete").click()
    expect(node(page, kid)).to_have_count(0)
    expect(page.locator(f"#{K}-show")).to_contain_text("deleted")
    assert page.evaluate("window.__noReload") is True


def test_writes_from_outside_the_app(page, db):
    open_live(page)
    expect(page.locator(f"#{K}-empty")).to_be_visible()
    # Any writer (a script, psql, another service) is seen: the triggers log every change.
    first = add(db, "Written by SQL")
    expect(node(page, first)).to_be_visible()
    expect(page.locator(f"#{K}-empty")).to_be_hidden()
    # A leaf that gets a child gets a toggle, and its level opens on demand.
    kid = add(db, "Child by SQL", first)
    page.click(f"#{K}-toggle-{first}")
    expect(node(page, kid)).to_be_visible()
    burst = [add(db, f"Burst {n:02}") for n in range(8)]
    expect(level(page)).to_have_count(9)
    # (Deleted only once shown: a node created and deleted within one frame's changes is
    # dropped by the runtime's net_changes, though the page may have it already.)
    db.execute(f'DELETE FROM "{TABLE}" WHERE id = %s', (burst[3],))
    expect(level(page)).to_have_count(8)
    # Moved by SQL under another node: it leaves this level (that level is not open here).
    db.execute(f'UPDATE "{TABLE}" SET "{PARENT}" = %s WHERE id = %s', (burst[0], kid))
    expect(node(page, kid)).to_have_count(0)
    expect(page.locator(f"#{K}-group-{first} [data-empty-note]")).to_be_visible()
    db.execute(f'DELETE FROM "{TABLE}"')
    expect(page.locator(f"#{K}-empty")).to_be_visible()
    assert page.evaluate("window.__noReload") is True


def test_chrome_survives_the_patches(page, db):
    alpha = add(db, "Alpha")
    beta = add(db, "Beta")
    kid = add(db, "Beta kid", beta)
    open_live(page, f"{PATH}/{alpha}")
    page.click(f"#{K}-toggle-{beta}")
    expect(node(page, kid)).to_be_visible()

    # An inline rename in progress, with text typed: a change elsewhere to that node, and
    # a sibling moving past it, leave the field, its text and the focus alone.
    page.click(f"#{K}-rename")
    field = page.locator(f"#{K}-name-{alpha} input[name=label]")
    field.fill("Half typed")
    db.execute(f'UPDATE "{TABLE}" SET "{LABEL}" = %s WHERE id = %s', ("Aaa beta", beta))
    expect(name_link(page, beta)).to_have_text("Aaa beta")
    expect(level(page)).to_have_count(2)
    assert ids_of(level(page)) == [beta, alpha]
    expect(node(page, kid)).to_be_visible()  # the moved node kept its open level
    db.execute(f'UPDATE "{TABLE}" SET "updated_at" = now() WHERE id = %s', (alpha,))
    db.execute(f'UPDATE "{TABLE}" SET "{LABEL}" = %s WHERE id = %s', ("Beta again", beta))
    expect(name_link(page, beta)).to_have_text("Beta again")
    assert ids_of(level(page)) == [alpha, beta]
    expect(field).to_have_value("Half typed")
    expect(field).to_be_focused()
    expect(node(page, kid)).to_be_visible()
    field.press("Escape")
    expect(node(page, alpha)).to_be_focused()

    # The keyboard focus stays on a node that a change elsewhere moves.
    db.execute(f'UPDATE "{TABLE}" SET "{LABEL}" = %s WHERE id = %s', ("Zulu alpha", alpha))
    expect(name_link(page, alpha)).to_have_text("Zulu alpha")
    assert ids_of(level(page)) == [beta, alpha]
    expect(node(page, alpha)).to_be_focused()
    expect(node(page, alpha)).to_have_attribute("aria-selected", "true")

    # An open delete dialog stays open while the detail behind it follows the node.
    page.click(f"#{K}-delete")
    dialog = page.locator(f"#{K}-delete-dialog")
    expect(dialog).to_be_visible()
    db.execute(f'UPDATE "{TABLE}" SET "{LABEL}" = %s WHERE id = %s', ("Renamed away", alpha))
    expect(page.locator(f"#{K}-title")).to_have_text("Renamed away")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Renamed away")
    assert page.evaluate("window.__noReload") is True
