"""No dead ends: a store that no screen shows still gets rows from the UI.

Every such store (or one only a `lists_only` pattern shows) gets a minimal screen of the
registry's `admin` pattern (its list, a detail, create/edit/delete; the built-in one is
master-detail), listed under the menu group `Data`. It is
derived, never written to the spec: when the spec gives the store a screen of its own, the
admin screen goes away. Without it a ref to the store (a booking's room, a contact's
company) has nothing to pick, and the screen that needs one can only say "add one first".
"""

from __future__ import annotations

from dataclasses import replace

from dsgen._blueprints import Registry
from dsgen._model import Screen, Spec
from dsgen._names import Name

ADMIN_GROUP = ("Data",)


def admin_screens(spec: Spec, registry: Registry) -> tuple[Screen, ...]:
    admin = registry.admin
    if admin is None:           # a registry without an admin pattern: no admin screens
        return ()
    lists_only = {b.id for b in registry.patterns if b.lists_only}
    shown = {screen.store for screen in spec.screens
             if screen.store and screen.pattern not in lists_only}
    taken = {screen.name.snake for screen in spec.screens}
    routes = {screen.name.route for screen in spec.screens}
    screens = []
    for store in spec.stores:
        if store.name.snake in shown:
            continue
        name = next(n for n in (store.name.plural, f"{store.name.snake}_admin",
                                *(f"{store.name.snake}_admin_{i}" for i in range(2, 99)))
                    if n not in taken and Name(n).route not in routes)
        taken.add(name)
        routes.add(Name(name).route)
        screens.append(Screen(name=Name(name), pattern=admin.id, store=store.name.snake,
                              title=Name(store.name.plural).title, nav_group=ADMIN_GROUP,
                              location=store.location))
    return tuple(screens)


def with_admin_screens(spec: Spec, registry: Registry) -> Spec:
    """The spec with an admin screen for every store no screen shows (after its checks)."""
    extra = admin_screens(spec, registry)
    return replace(spec, screens=spec.screens + extra) if extra else spec
