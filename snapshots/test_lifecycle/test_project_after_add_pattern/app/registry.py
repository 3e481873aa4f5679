"""App-wide values rendered from dsgen.yaml: title, navigation, client-only signals."""

from dataclasses import dataclass
from typing import Any

APP_TITLE = "Shop"


@dataclass(frozen=True)
class NavItem:
    screen: str
    label: str
    url: str
    icon: str  # a name from templates/_macros.html
    group: tuple[str, ...] = ()  # the menu groups it sits in, outermost first


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(
        screen="contacts",
        label="Contacts",
        url="/contacts",
        icon="rows",
    ),
    NavItem(
        screen="companies",
        label="Companies",
        url="/companies",
        icon="rows",
    ),
    NavItem(
        screen="bills",
        label="Bills",
        url="/bills",
        icon="rows",
    ),
)

HOME_URL = "/contacts"

# `signals:` from the spec. Names starting with "_" stay in the browser: Datastar never
# sends them to the server.
SPEC_SIGNALS: dict[str, Any] = {"_ui": {"sidebarOpen": True}}
