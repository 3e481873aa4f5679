"""App-wide values rendered from dsgen.yaml: title, navigation, client-only signals."""

from dataclasses import dataclass
from typing import Any

APP_TITLE = "Tabs Demo"


@dataclass(frozen=True)
class NavItem:
    screen: str
    label: str
    url: str
    icon: str  # a name from templates/_macros.html
    group: tuple[str, ...] = ()  # the menu groups it sits in, outermost first


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(
        screen="workspace",
        label="Workspace",
        url="/workspace",
        icon="tabs",
    ),
    NavItem(
        screen="contacts",
        label="Contacts",
        url="/contacts",
        icon="rows",
    ),
)

HOME_URL = "/workspace"

# `signals:` from the spec. Names starting with "_" stay in the browser: Datastar never
# sends them to the server.
SPEC_SIGNALS: dict[str, Any] = {"_ui": {"sidebarOpen": True}}
