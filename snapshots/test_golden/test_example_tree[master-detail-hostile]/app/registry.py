"""App-wide values rendered from dsgen.yaml: title, navigation, client-only signals."""

from dataclasses import dataclass
from typing import Any

APP_TITLE = "Acme \"Quotes\" & <b>Tags</b> {{ 7*7 }} \\ it's"


@dataclass(frozen=True)
class NavItem:
    screen: str
    label: str
    url: str
    icon: str  # a name from templates/_macros.html
    group: tuple[str, ...] = ()  # the menu groups it sits in, outermost first


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(
        screen="types",
        label="Types & <Kinds> {{ title }}",
        url="/types",
        icon="rows",
    ),
    NavItem(
        screen="orders",
        label="Orders 'n' \"stuff\"",
        url="/orders",
        icon="rows",
    ),
)

HOME_URL = "/types"

# `signals:` from the spec. Names starting with "_" stay in the browser: Datastar never
# sends them to the server.
SPEC_SIGNALS: dict[str, Any] = {
    "_ui": {"sidebarOpen": True, "label": "</script><script>alert(1)</script>"},
    "filters": {"q": "it's \"q\""},
}
