"""Screen `units` (tree) in headless Chromium with the real Datastar runtime."""

import re

import pytest
from playwright.sync_api import expect

from app.screens.units import PAGE_SIZE
from tests.conftest import choose, count
from tests.test_units import (
    PATH,
    RENAMED,
    TABLE,
    K,
    add,
    label_of,
    parent_of,
    valid_form,
)

pytestmark = pytest.mark.browser


def node(page, node_id: str):
    return page.locator(f"#{K}-node-{node_id}")


def name_link(page, node_id: str):
    return page.locator(f"#{K}-name-{node_id} a")


def level_requests(page) -> list[str]:
    """Every children request the page makes from now on."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/children" in r.url else None)
    return seen


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")  # Datastar (a module script) is running


def settle(page) -> None:
    """Let requests in flight finish (before counting them)."""
    page.wait_for_load_state("networkidle")


def fill(page, form: dict[str, str]) -> None:
    """Fill the create form the way a person would, field by field."""
    for name, value in form.items():
        control = page.locator(f"#{K}-form-{name}")
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


def test_empty_state(page, db):
    open_page(page, PATH)
    expect(page.locator(f"#{K}-empty")).to_be_visible()
    expect(page.locator("[role=treeitem]")).to_have_count(0)


def test_expand_lazy_loads_exactly_once(page, db):
    top = add(db, "Top")
    kid = add(db, "Kid", top)
    open_page(page, PATH)
    requests = level_requests(page)
    expect(node(page, kid)).to_have_count(0)  # not in the DOM before the first expand
    expect(node(page, top)).to_have_attribute("aria-expanded", "false")

    page.click(f"#{K}-toggle-{top}")
    expect(node(page, kid)).to_be_visible()
    expect(node(page, top)).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#{K}-group-{top}")).to_have_attribute("data-loaded", "true")

    page.click(f"#{K}-toggle-{top}")  # collapse hides; the children stay in the DOM
    expect(node(page, kid)).to_be_hidden()
    expect(node(page, kid)).to_have_count(1)
    expect(node(page, top)).to_have_attribute("aria-expanded", "false")

    page.click(f"#{K}-toggle-{top}")  # re-open: no second request
    expect(node(page, kid)).to_be_visible()
    settle(page)
    assert len(requests) == 1, requests


def test_error_states(page, db):
    gone = add(db, "Deleted elsewhere")
    add(db, "Its child", gone)
    flaky = add(db, "Flaky")
    kid = add(db, "Flaky child", flaky)
    open_page(page, PATH)

    # A node deleted by someone else: expanding it says so and drops it from the tree.
    db.execute(f'DELETE FROM "{TABLE}" WHERE "id" = %s', (gone,))
    page.click(f"#{K}-toggle-{gone}")
    expect(page.locator("#toasts")).to_contain_text("no longer exists")
    expect(node(page, gone)).to_have_count(0)

    # A failing server: the error banner shows, the node closes again, and the next
    # expand asks again (the level was never marked loaded).
    page.route("**/children*", lambda route: route.fulfill(status=500, body="boom"))
    page.click(f"#{K}-toggle-{flaky}")
    expect(page.locator("#request-error")).to_be_visible()
    expect(node(page, flaky)).to_have_attribute("aria-expanded", "false")
    expect(page.locator(f"#{K}-group-{flaky}")).not_to_have_attribute("data-loaded", "pending")
    page.unroute("**/children*")
    page.click(f"#{K}-toggle-{flaky}")
    expect(node(page, kid)).to_be_visible()


def test_keyboard_navigation(page, db):
    first = add(db, "Alpha")
    child = add(db, "Alpha child", first)
    second = add(db, "Beta")
    open_page(page, PATH)
    expect(node(page, first)).to_have_attribute("tabindex", "0")  # the tree's one tab stop
    node(page, first).focus()

    page.keyboard.press("ArrowDown")
    expect(node(page, second)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(node(page, first)).to_be_focused()

    page.keyboard.press("ArrowRight")  # expands (and lazy-loads) …
    expect(node(page, first)).to_have_attribute("aria-expanded", "true")
    expect(node(page, child)).to_be_visible()
    expect(node(page, first)).to_be_focused()
    page.keyboard.press("ArrowRight")  # … then goes to the first child
    expect(node(page, child)).to_be_focused()
    expect(node(page, child)).to_have_attribute("aria-level", "2")
    page.keyboard.press("ArrowLeft")  # a leaf: to its parent
    expect(node(page, first)).to_be_focused()
    page.keyboard.press("ArrowLeft")  # open: collapses
    expect(node(page, first)).to_have_attribute("aria-expanded", "false")
    expect(node(page, child)).to_be_hidden()

    page.keyboard.press("ArrowDown")  # skips the hidden child
    expect(node(page, second)).to_be_focused()
    expect(node(page, second)).to_have_attribute("tabindex", "0")
    expect(node(page, first)).to_have_attribute("tabindex", "-1")
    page.keyboard.press("Enter")  # selects
    expect(page).to_have_url(re.compile(f"{PATH}/{second}$"))
    expect(page.locator(f"#{K}-title")).to_have_text("Beta")
    expect(node(page, second)).to_have_attribute("aria-selected", "true")


def test_select_shows_detail_and_deep_link_reopens_the_path(page, db):
    top = add(db, "Top")
    middle = add(db, "Middle", top)
    leaf = add(db, "Leaf", middle)
    open_page(page, PATH)
    page.evaluate("window.__noReload = true")
    page.click(f"#{K}-toggle-{top}")
    page.click(f"#{K}-toggle-{middle}")
    name_link(page, leaf).click()

    expect(page).to_have_url(re.compile(f"{PATH}/{leaf}$"))
    expect(page.locator(f"#{K}-title")).to_have_text("Leaf")
    expect(page.locator(f"#{K}-show nav[aria-label=Path]")).to_contain_text("Top")
    expect(page.locator(f"#{K}-show nav[aria-label=Path]")).to_contain_text("Middle")
    expect(node(page, leaf)).to_have_attribute("aria-selected", "true")

    # The breadcrumb selects an ancestor; Back returns to the node.
    page.locator(f"#{K}-show nav[aria-label=Path]").get_by_text("Middle").click()
    expect(page.locator(f"#{K}-title")).to_have_text("Middle")
    expect(node(page, middle)).to_have_attribute("aria-selected", "true")
    # The URL comes in the last event of the response: wait for it, or Back would leave.
    expect(page).to_have_url(re.compile(f"{PATH}/{middle}$"))
    # history.back() rather than the browser button: Chromium's button skips entries pushed
    # a few seconds after the click (anti history spam), which a loaded machine can hit.
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile(f"{PATH}/{leaf}$"))
    expect(page.locator(f"#{K}-title")).to_have_text("Leaf")
    expect(node(page, leaf)).to_have_attribute("aria-selected", "true")
    assert page.evaluate("window.__noReload") is True

    requests = level_requests(page)
    page.reload()  # the deep link renders the path open on the server
    expect(node(page, leaf)).to_be_visible()
    expect(node(page, top)).to_have_attribute("aria-expanded", "true")
    expect(node(page, middle)).to_have_attribute("aria-expanded", "true")
    expect(node(page, leaf)).to_have_attribute("aria-selected", "true")
    expect(page.locator(f"#{K}-title")).to_have_text("Leaf")
    settle(page)
    assert requests == []

    page.click(f"#{K}-toggle-{middle}")  # a server-rendered open level closes without a fetch
    expect(node(page, leaf)).to_be_hidden()
    page.click(f"#{K}-toggle-{middle}")
    expect(node(page, leaf)).to_be_visible()
    assert requests == []


def test_rename_inline(page, db):
    target = add(db, "Old name")
    open_page(page, f"{PATH}/{target}")
    field = page.locator(f"#{K}-name-{target} input[name=label]")

    page.click(f"#{K}-rename")
    expect(field).to_be_focused()
    field.fill("")
    field.press("Enter")
    expect(page.locator(f"#{K}-rename-error-{target}")).to_be_visible()
    assert label_of(db, target) == "Old name"
    field.fill("Not saved")
    field.press("Escape")  # cancels, and the keyboard focus returns to the node
    expect(name_link(page, target)).to_have_text("Old name")
    expect(node(page, target)).to_be_focused()
    assert label_of(db, target) == "Old name"

    page.keyboard.press("F2")  # the keyboard way in
    expect(field).to_be_focused()
    field.fill(RENAMED)
    field.press("Enter")
    expect(name_link(page, target)).to_have_text(RENAMED)
    expect(node(page, target)).to_be_focused()
    expect(page.locator(f"#{K}-title")).to_have_text(RENAMED)
    assert label_of(db, target) == RENAMED


def test_move_with_cycle_rejection(page, db):
    top = add(db, "Top")
    middle = add(db, "Middle", top)
    leaf = add(db, "Leaf", middle)
    other = add(db, "Other")
    open_page(page, f"{PATH}/{leaf}")  # the path is open: all four rows are visible

    # Drag "Top" onto its own grandchild: the server refuses, nothing changes.
    name_link(page, top).drag_to(page.locator(f"#{K}-row-{leaf}"))
    expect(page.locator("#toasts")).to_contain_text("inside its own subtree")
    assert parent_of(db, top) is None
    assert parent_of(db, middle) == top
    assert parent_of(db, leaf) == middle

    # The move form never offers a place inside the node's own subtree.
    name_link(page, top).click()
    page.click(f"#{K}-move-open")
    options = page.locator(f"#{K}-move-parent option")
    expect(options).to_have_count(2)  # top level + "Other"
    page.locator(f"#{K}-move-parent").select_option(other)
    page.locator(f"#{K}-move [type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text("Moved")
    expect(page.locator(f"#{K}-group-{other} #{K}-node-{top}")).to_be_visible()
    assert parent_of(db, top) == other

    # Drag "Leaf" onto "Other": it moves, and the tree shows it there.
    name_link(page, leaf).drag_to(page.locator(f"#{K}-row-{other}"))
    expect(page.locator(f"#{K}-group-{other} > #{K}-node-{leaf}")).to_be_visible()
    assert parent_of(db, leaf) == other
    assert count(db, TABLE) == 4


def test_paginated_level(page, db):
    top = add(db, "Top")
    ids = [add(db, f"Child {i:04d}", top) for i in range(PAGE_SIZE + 3)]
    open_page(page, PATH)
    requests = level_requests(page)
    rows = page.locator(f"#{K}-group-{top} > [role=treeitem]")

    page.click(f"#{K}-toggle-{top}")
    expect(rows).to_have_count(PAGE_SIZE)
    more = page.locator(f"#{K}-more-{top} button")
    expect(more).to_be_visible()
    more.click()
    expect(rows).to_have_count(PAGE_SIZE + 3)
    expect(page.locator(f"#{K}-more-{top}")).to_have_count(0)
    shown = rows.evaluate_all("els => els.map((el) => el.id)")
    assert shown == [f"{K}-node-{i}" for i in ids]  # keyset order, no gap, no repeat
    assert len(requests) == 2
    assert "after=" in requests[1]


def test_create_child_and_delete_subtree(page, db):
    top = add(db, "Top")
    open_page(page, f"{PATH}/{top}")

    page.click(f"#{K}-add-child")
    expect(page.locator(f"#{K}-form")).to_be_visible()
    expect(page.locator(f"#{K}-form nav[aria-label=Path]")).to_contain_text("Top")
    expect(page).to_have_url(re.compile(f"{PATH}/new\\?parent={top}$"))
    fill(page, valid_form(db))
    page.locator(f"#{K}-form [type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text("created")
    assert count(db, TABLE) == 2
    expect(node(page, top)).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#{K}-group-{top} > [role=treeitem]")).to_have_count(1)
    expect(page.locator(f"#{K}-show")).to_be_visible()

    name_link(page, top).click()
    expect(page.locator(f"#{K}-title")).to_have_text("Top")
    page.click(f"#{K}-delete")
    dialog = page.locator(f"#{K}-delete-dialog")
    expect(dialog).to_contain_text("1 item inside it")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(f"#{K}-empty")).to_be_visible()
    expect(page).to_have_url(re.compile(f"{PATH}$"))
    assert count(db, TABLE) == 0
