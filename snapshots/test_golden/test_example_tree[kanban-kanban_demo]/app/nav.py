"""The menu as a tree: screens with `nav: "Group/Sub"` nest under their groups.

Computed once at import from the registry; templates only loop over it."""

from dataclasses import dataclass

from app.registry import NAV_ITEMS, NavItem


@dataclass(frozen=True)
class NavGroup:
    id: str  # the DOM id of its submenu: "nav-g-1", "nav-g-1-2", … (by position, stable)
    label: str
    children: tuple["NavGroup | NavItem", ...]
    screens: frozenset[str]  # every screen inside it, at any depth

    def holds(self, screen: str) -> bool:
        return screen in self.screens


Entry = NavGroup | NavItem


def nav_tree(items: tuple[NavItem, ...], prefix: str = "nav-g") -> tuple[Entry, ...]:
    """Items in their order; a group sits where its first screen is, and every later screen
    of the same group joins it there."""
    entries: list[NavItem | str] = []  # an item, or the label of a group at this level
    members: dict[str, list[NavItem]] = {}
    for item in items:
        if not item.group:
            entries.append(item)
            continue
        head = item.group[0]
        if head not in members:
            members[head] = []
            entries.append(head)
        members[head].append(NavItem(item.screen, item.label, item.url, item.icon,
                                     item.group[1:]))
    tree: list[Entry] = []
    number = 0
    for entry in entries:
        if isinstance(entry, NavItem):
            tree.append(entry)
            continue
        number += 1
        group_id = f"{prefix}-{number}"
        inside = tuple(members[entry])
        screens = frozenset(i.screen for i in inside)
        tree.append(NavGroup(group_id, entry, nav_tree(inside, group_id), screens))
    return tuple(tree)


NAV_TREE = nav_tree(NAV_ITEMS)
