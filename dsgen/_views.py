"""Template-facing views of the spec: what templates read, with every decision made in code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dsgen._fields import TypeInfo, type_info
from dsgen._model import NOW, Field, FieldType, Screen, Spec, Store
from dsgen._names import Name

# Field types a record can be labelled by, best first.
_LABEL_TYPES = (FieldType.STRING, FieldType.EMAIL, FieldType.ENUM, FieldType.URL)
_LABEL_NAMES = ("name", "title", "label")


@dataclass(eq=False)
class FieldView:
    """A store's field as templates see it."""

    field: Field
    store: StoreView
    info: TypeInfo
    ref: StoreView | None = None

    # The plain attributes templates use most, forwarded from the model.
    @property
    def name(self) -> Name:
        return self.field.name

    @property
    def type(self) -> str:
        return self.field.type.value

    @property
    def label(self) -> str:
        return self.field.display

    @property
    def required(self) -> bool:
        return self.field.required

    @property
    def unique(self) -> bool:
        return self.field.unique

    @property
    def values(self) -> tuple[str, ...]:
        return self.field.values

    @property
    def min(self):
        return self.field.min

    @property
    def max(self):
        return self.field.max

    @property
    def many(self) -> bool:
        return self.field.many

    @property
    def is_ref(self) -> bool:
        return self.field.type is FieldType.REF

    @property
    def is_link(self) -> bool:
        """A many-ref, stored in a link table rather than a column."""
        return self.is_ref and self.field.many

    @property
    def default(self) -> Any:
        return self.field.default

    @property
    def default_is_now(self) -> bool:
        return self.field.default == NOW

    @property
    def link_table(self) -> str:
        return f"{self.store.name.snake}_{self.name.snake}"


@dataclass(eq=False)
class StoreView:
    store: Store
    fields: list[FieldView] = field(default_factory=list)

    @property
    def name(self) -> Name:
        return self.store.name

    @property
    def realtime(self) -> bool:
        return self.store.realtime

    @property
    def table(self) -> str:
        return self.store.name.table

    @property
    def columns(self) -> list[FieldView]:
        """Fields stored as columns of the store's own table (all but many-refs)."""
        return [f for f in self.fields if not f.is_link]

    @property
    def links(self) -> list[FieldView]:
        return [f for f in self.fields if f.is_link]

    @property
    def label_field(self) -> FieldView:
        """The field a record is shown by (in ref selects, titles, lists)."""
        for wanted in _LABEL_NAMES:
            for f in self.fields:
                if f.name.snake == wanted and f.field.type in _LABEL_TYPES:
                    return f
        for kind in _LABEL_TYPES:
            for f in self.fields:
                if f.field.type is kind:
                    return f
        return self.fields[0]

    def field(self, name: str) -> FieldView:
        return next(f for f in self.fields if f.name.snake == name)


@dataclass(eq=False)
class ScreenView:
    screen: Screen
    store: StoreView | None
    options: dict[str, Any]

    @property
    def name(self) -> Name:
        return self.screen.name

    @property
    def pattern(self) -> str:
        return self.screen.pattern

    @property
    def title(self) -> str:
        return self.screen.display

    @property
    def nav(self) -> bool:
        return self.screen.nav

    @property
    def route(self) -> str:
        return self.screen.name.route


def store_views(spec: Spec) -> dict[str, StoreView]:
    views = {s.name.snake: StoreView(s) for s in spec.stores}
    for store in spec.stores:
        view = views[store.name.snake]
        for f in store.fields:
            ref = views.get(f.store) if f.store else None
            view.fields.append(FieldView(f, view, type_info(f), ref))
    return views
