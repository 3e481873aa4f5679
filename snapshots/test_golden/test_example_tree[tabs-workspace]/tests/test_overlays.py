"""Overlays as the server sends them: typed toasts and the shared confirmation dialog
(app/web.py toast() and confirm()); their behaviour in a browser is tests/browser/test_overlays.py."""

from html.parser import HTMLParser

import pytest

from app.registry import HOME_URL
from app.web import TOAST_LEVELS, confirm, js_string, toast
from tests.sse import parse


class Tags(HTMLParser):
    """Every start tag with its attributes, in document order (entities decoded)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


@pytest.mark.parametrize(
    ("level", "role", "stays"),
    [("success", "status", False), ("info", "status", False),
     ("warning", "alert", False), ("error", "alert", True)],
)
def test_a_toast_says_its_level_in_words_and_can_be_closed(level, role, stays):
    (event,) = parse(toast("Saved <Ada> & co.", level))
    assert event.type == "datastar-patch-elements"
    assert event.one("selector") == "#toasts"
    assert event.one("mode") == "append"
    tags = Tags(event.elements)
    (box,) = tags.find("div", role=role)
    assert box["data-toast"] == level
    assert ("data-toast-timeout" not in box) is stays  # an error stays until it is closed
    assert tags.find("svg"), "no icon"
    assert tags.find("button", **{"data-toast-close": None, "aria-label": "Dismiss"})
    text = "".join(tags.text)
    assert "Saved <Ada> & co." in text  # escaped on the wire, the same text in the page
    assert "<Ada>" not in event.elements
    word = {"success": "Success", "info": "Information", "warning": "Warning", "error": "Error"}
    assert f"{word[level]}:" in text  # not colour alone


def test_levels_are_exactly_four_and_an_unknown_one_is_refused():
    assert TOAST_LEVELS == ("success", "info", "warning", "error")
    with pytest.raises(ValueError, match="unknown toast level 'danger'"):
        toast("Nope", "danger")
    assert toast("Default level")  # success


def test_the_server_opens_the_shared_confirm_in_the_overlay_root():
    action = "@delete('/things/1?x=\"y\"&z=<1>')"
    patch, script = parse("".join(confirm("Delete “A”?", "It will be <gone>.", action)))
    assert patch.type == "datastar-patch-elements"
    assert patch.one("selector") is None  # a morph of #overlays by its id: idempotent
    tags = Tags(patch.elements)
    assert tags.tags[0] == ("div", {"id": "overlays"})
    (dialog,) = tags.find("dialog", id="confirm-dialog")
    assert dialog["aria-labelledby"] == "confirm-dialog-title"
    assert dialog["data-preserve-attr"] == "open"
    cancel, destroy = tags.find("button")
    assert "autofocus" in cancel and cancel["value"] == "cancel"  # Cancel is the default
    assert "autofocus" not in destroy
    assert destroy["data-on:click"] == f"el.closest('dialog').close(); {action}"
    text = "".join(tags.text)
    assert "Delete “A”?" in text and "It will be <gone>." in text
    assert "<gone>" not in patch.elements
    assert script.type == "datastar-patch-elements"  # executeScript: an appended <script>
    assert f"appUi.openDialog({js_string('confirm-dialog')})" in script.elements


def test_confirm_tones_and_ids():
    patch, _ = parse("".join(confirm("Send?", "Now.", "@post('/x')", confirm_label="Send",
                                     tone="primary", dialog_id="send-dialog")))
    tags = Tags(patch.elements)
    assert tags.find("dialog", id="send-dialog")
    assert "Send" in "".join(tags.text)
    with pytest.raises(ValueError, match="unknown confirm tone"):
        confirm("A", "B", "@get('/')", tone="loud")


def test_every_page_has_the_overlay_roots(client):
    html = client.get(HOME_URL, follow_redirects=True).text
    tags = Tags(html)
    assert tags.find("div", id="toasts")
    assert tags.find("div", id="overlays")
