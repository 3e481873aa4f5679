"""App-wide values rendered from dsgen.yaml: title, navigation, client-only signals."""

from dataclasses import dataclass
from typing import Any

APP_TITLE = "Tree Demo"


@dataclass(frozen=True)
class NavItem:
    screen: str
    label: str
    url: str
    icon: str  # a name from templates/_macros.html
    group: tuple[str, ...] = ()  # the menu groups it sits in, outermost first


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(
        screen="folders",
        label="Folders",
        url="/folders",
        icon="tree",
    ),
    NavItem(
        screen="units",
        label="Org units",
        url="/units",
        icon="tree",
    ),
)

HOME_URL = "/folders"

# `signals:` from the spec. Names starting with "_" stay in the browser: Datastar never
# sends them to the server.
SPEC_SIGNALS: dict[str, Any] = {"_ui": {"sidebarOpen": True}}
