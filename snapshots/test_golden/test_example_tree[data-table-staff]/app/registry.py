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
    group: tuple[str, ...] = ()  # the menu groups it sits in, outermost first


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
    NavItem(
        screen="employee_admin",
        label="Employees",
        url="/employee-admin",
        icon="rows",
        group=(
            "Data",
        ),
    ),
    NavItem(
        screen="asset_admin",
        label="Assets",
        url="/asset-admin",
        icon="rows",
        group=(
            "Data",
        ),
    ),
)

HOME_URL = "/employees"

# `signals:` from the spec. Names starting with "_" stay in the browser: Datastar never
# sends them to the server.
SPEC_SIGNALS: dict[str, Any] = {"_ui": {"sidebarOpen": True}}
