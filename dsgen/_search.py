"""The command palette's record search, decided at render time.

The palette (every generated app's Ctrl-K dialog) searches the records of each store that
has a page showing one record: a master-detail's detail (`record_route`), a kanban card's or
a gantt task's drawer, a tree node (`record_page`, a pattern hook). For each such store this
decides the text columns matched (the label field when it is text, and the fields a screen
of the store names in its `search` option), the column a hit is shown by, and the URL prefix
of a record's page. A store without such a page is not searched: its screen (if any) is
still reachable by name. The generated `app/palette.py` lists these sources; the queries
live in the app's `app/core/search.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dsgen._names import humanize, pluralize
from dsgen._views import FieldView, ScreenView, StoreView

# Column types matched with ILIKE (stored as text; the store layer's search uses the same).
TEXT_TYPES = ("string", "text", "email", "url", "enum")


@dataclass(frozen=True)
class SearchSource:
    """One store the palette searches."""

    store: StoreView
    screen: ScreenView  # the screen whose page shows one record
    route: str  # a record's page is f"{route}/{id}"
    label: FieldView  # what a hit shows
    columns: tuple[FieldView, ...]  # the text columns matched, label first when text

    @property
    def title(self) -> str:
        """The group heading of its hits: the store's name, plural ("Contacts")."""
        return humanize(pluralize(self.store.name.snake))


def search_sources(
    screens: Sequence[ScreenView],
    record_route: Callable[[ScreenView], str | None],
    record_page: Callable[[ScreenView], str | None],
) -> list[SearchSource]:
    """The stores the palette searches, in the order of the screens their records open on.

    A store's records open on the first of its screens with a detail (`record_route`),
    else on the first with any page for one record (`record_page`). Only text columns are
    matched; a store with none (its label is not text and no `search` option names a text
    field) is not searched.
    """
    chosen: dict[str, tuple[int, ScreenView, str]] = {}  # store -> (rank, screen, route)
    for screen in screens:
        store = screen.store
        if store is None or not store.fields:
            continue
        for rank, hook in enumerate((record_route, record_page)):
            route = hook(screen)
            if route is None:
                continue
            best = chosen.get(store.name.snake)
            if best is None or rank < best[0]:
                chosen[store.name.snake] = (rank, screen, route)
            break
    sources = []
    for name, (_, screen, route) in chosen.items():
        store = screen.store
        assert store is not None
        label = store.label_field
        wanted = [label.name.snake]
        for s in screens:  # every `search` option over this store, in screen order
            if s.store is not None and s.store.name.snake == name:
                wanted += [f.name.snake for f in s.options.get("search") or []]
        columns: list[FieldView] = []
        for field_name in dict.fromkeys(wanted):
            f = store.find(field_name)
            if f is not None and f.type in TEXT_TYPES and not f.is_ref:
                columns.append(f)
        if columns:
            sources.append(SearchSource(store, screen, route, label, tuple(columns)))
    order = {s.name.snake: i for i, s in enumerate(screens)}
    return sorted(sources, key=lambda src: order[src.screen.name.snake])
