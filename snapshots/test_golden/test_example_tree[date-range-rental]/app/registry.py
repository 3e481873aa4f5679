"""App-wide values rendered from dsgen.yaml: title, navigation, client-only signals."""

from dataclasses import dataclass
from typing import Any

APP_TITLE = "Rent \"<b>&</b>\" {{ 7*7 }}"


@dataclass(frozen=True)
class NavItem:
    screen: str
    label: str
    url: str
    icon: str  # a name from templates/_macros.html
    group: tuple[str, ...] = ()  # the menu groups it sits in, outermost first


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(
        screen="rentals",
        label="Hire \"<x>\" {{ y }}",
        url="/rentals",
        icon="calendar",
    ),
    NavItem(
        screen="depots",
        label="Depots",
        url="/depots",
        icon="rows",
        group=(
            "Data",
        ),
    ),
    NavItem(
        screen="units",
        label="Units",
        url="/units",
        icon="rows",
        group=(
            "Data",
        ),
    ),
)

HOME_URL = "/rentals"

# `signals:` from the spec. Names starting with "_" stay in the browser: Datastar never
# sends them to the server.
SPEC_SIGNALS: dict[str, Any] = {"_ui": {"sidebarOpen": True}}
