"""App-wide values rendered from dsgen.yaml: title, navigation, client-only signals."""

from dataclasses import dataclass
from typing import Any

APP_TITLE = "Table Demo"


@dataclass(frozen=True)
class NavItem:
    screen: str
    label: str
    url: str
    icon: str  # a name from templates/_macros.html


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(
        screen="employees",
        label="Employees",
        url="/employees",
        icon="table",
    ),
    NavItem(
        screen="assets",
        label="Assets",
        url="/assets",
        icon="table",
    ),
    NavItem(
        screen="teams",
        label="Teams",
        url="/teams",
        icon="rows",
    ),
)

HOME_URL = "/employees"

# `signals:` from the spec. Names starting with "_" stay in the browser: Datastar never
# sends them to the server.
SPEC_SIGNALS: dict[str, Any] = {"_ui": {"sidebarOpen": True}}
