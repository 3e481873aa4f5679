"""Hostile strings in every text field, in a real browser with the real Datastar: whatever a
record holds is shown as text. It never runs as script, in the HTML or in a Datastar
expression (`data-*` attributes), and the Content-Security-Policy blocks nothing the app
itself needs (the `page` fixture fails on any page error or CSP violation)."""

from typing import Any

import pytest

from tests.conftest import make, nav_link, ready

pytestmark = pytest.mark.browser

PAGES = ["/contacts", "/companies", "/deals"]
NAV_PAGES = ["/contacts", "/companies", "/deals"]  # the ones the menu links to
# Each would set window.__pwned if it ever ran: in HTML, in a JS string, in a template
# literal, in a Jinja/Datastar-looking expression.
PAYLOADS = [
    "</script><script>window.__pwned=1</script><img src=x onerror=window.__pwned=1>",
    "');window.__pwned=1;('",
    "\"+(window.__pwned=1)+\"",
    "${window.__pwned=1}`;window.__pwned=1;`",
    "{{constructor.constructor('window.__pwned=1')()}}",
    "$__pwned=1 \u2028 \u2029 @get('/x')",
]


def _fill(db: Any) -> None:
    """Rows whose every string and text field holds a payload (one row per payload)."""
    for payload in PAYLOADS:  # other required and unique columns: the sample factory's
        make(db, "companies", **{
            "name": payload[: 120],
        })
    for payload in PAYLOADS:  # other required and unique columns: the sample factory's
        make(db, "contacts", **{
            "name": payload[: 120],
            "notes": payload[: 10000],
        })
    for payload in PAYLOADS:  # other required and unique columns: the sample factory's
        make(db, "deals", **{
            "title": payload[: 10000],
            "from": payload[: 10000],
        })


@pytest.mark.parametrize("path", PAGES)
def test_hostile_records_are_shown_never_run(page: Any, db: Any, path: str) -> None:
    _fill(db)
    page.goto(path)
    ready(page)
    page.wait_for_timeout(300)  # Datastar has evaluated every expression on the page
    assert page.evaluate("window.__pwned") is None
    if path not in NAV_PAGES:
        return  # no menu link to follow (`nav: false`): reached by its URL only
    # Through Datastar too: the screen patched in by SSE (from another screen's page).
    page.goto(PAGES[-1] if path == PAGES[0] else PAGES[0])
    ready(page)
    nav_link(page, path).click()
    page.wait_for_url(f"**{path}*")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
