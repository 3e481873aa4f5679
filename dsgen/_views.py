"""Template-facing views of the spec: what templates read, with every decision made in code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dsgen import _fields
from dsgen._fields import TypeInfo, type_info
from dsgen._load_stores import IMPLICIT_FIELDS
from dsgen._model import NOW, Field, FieldType, Screen, Spec, Store
from dsgen._names import Name
from dsgen.db.postgres.state import link_columns, link_table
from dsgen.db.quote import identifier

# Field types a record can be labelled by, best first.
_LABEL_TYPES = (FieldType.STRING, FieldType.EMAIL, FieldType.ENUM, FieldType.URL)
_LABEL_NAMES = ("name", "title", "label")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(eq=False)
class FieldView:
    """A store's field as templates see it."""

    field: Field
    store: StoreView
    info: TypeInfo
    ref: StoreView | None = None
    # The URL prefix of a screen showing single records of the referenced store (a pattern
    # hook's `record_route`), if any:
    # lets a ref be shown as a link to the referenced record.
    ref_route: str | None = None
    # A ref back to its own store that a pattern uses as a hierarchy or an ordering (a
    # tree's parent, a gantt's dependencies): the store refuses a write making a cycle.
    acyclic: bool = False
    # Fields of the same type this one may not come before (a date-range's or a gantt's
    # start, for its end: option `not_before`): the store refuses such a write.
    not_before: list[FieldView] = field(default_factory=list)
    # A field a pattern places on the server (a kanban's order_by): forms keep its value in a
    # hidden input, never an editable one.
    placed: bool = False

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

    # Names shared with the migrations (dsgen.db), so SQL and schema always agree.
    @property
    def link_table(self) -> str:
        return link_table(self.store.store, self.field)

    @property
    def link_owner(self) -> str:
        """The link table's column holding the owning record's id."""
        return link_columns(self.store.store, self.field)[0]

    @property
    def link_target(self) -> str:
        """The link table's column holding the referenced record's id."""
        return link_columns(self.store.store, self.field)[1]

    @property
    def alias(self) -> str:
        """SQL alias of the joined referenced table (for its label)."""
        return f"ref_{self.name.snake}"

    @property
    def unique_constraint(self) -> str:
        return identifier(f"uq_{self.store.table}_{self.name.snake}")

    @property
    def fk_constraint(self) -> str:
        if self.is_link:
            return identifier(f"fk_{self.link_table}_{self.link_target}")
        return identifier(f"fk_{self.store.table}_{self.name.snake}")

    # Code for the generated store module (decided in dsgen._fields, placed by templates).
    @property
    def model_line(self) -> str:
        return _fields.model_line(self.field)

    @property
    def form_reader(self) -> str:
        return _fields.form_reader(self.field)

    @property
    def record_reader(self) -> str:
        return _fields.record_reader(self.field)

    @property
    def new_value(self) -> str:
        return _fields.new_value(self.field)

    @property
    def show_filter(self) -> str | None:
        return _fields.show_filter(self.field)

    @property
    def sample(self) -> str | None:
        return _fields.sample_value(self.field)

    @property
    def invalid(self) -> tuple[str, str] | None:
        return _fields.invalid_value(self.field)

    @property
    def widget(self) -> str:
        return self.info.widget

    @property
    def input_type(self) -> str:
        return self.info.input_type

    @property
    def numeric(self) -> bool:
        return self.info.numeric


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
    def order_days(self) -> dict[str, int]:
        """A day offset for each field in a `not_before` rule such that every end is a day
        after its start (the longest chain of rules leading to it): sample rows whose
        ordered fields all keep the store's rules, with room on either side."""
        ordered = [f for f in self.fields if f.not_before]
        days = {s.name.snake: 0 for f in ordered for s in f.not_before}
        days.update({f.name.snake: 0 for f in ordered})
        for _ in range(len(days)):     # relax the rules: a chain of n fields needs n rounds
            for f in ordered:
                for start in f.not_before:
                    days[f.name.snake] = max(days[f.name.snake], days[start.name.snake] + 1)
        return dict(sorted(days.items(), key=lambda item: (item[1], item[0])))

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

    @property
    def invalid_field(self) -> FieldView | None:
        """A field with a value the server must reject (for generated validation tests)."""
        return next((f for f in self.fields if f.invalid is not None), None)

    @property
    def typed_invalid_field(self) -> FieldView | None:
        """A field with a value the server must reject that a person can type into its input
        (for browser tests: a number input takes only numbers)."""
        for f in self.fields:
            bad = f.invalid
            if bad is not None and not (f.numeric and not _is_number(bad[0])):
                return f
        return None

    @property
    def required_refs(self) -> list[FieldView]:
        return [f for f in self.fields if f.is_ref and f.required]

    def field(self, name: str) -> FieldView:
        return next(f for f in self.fields if f.name.snake == name)

    def find(self, name: str) -> FieldView | None:
        """A declared field, or one of the columns every store gets (id, created_at,
        updated_at) as a read-only view; None if the store has neither."""
        declared = next((f for f in self.fields if f.name.snake == name), None)
        if declared is not None or name not in IMPLICIT_FIELDS:
            return declared
        implicit = Field(name=Name(name), type=IMPLICIT_FIELDS[name], required=True)
        return FieldView(implicit, self, type_info(implicit))


@dataclass(eq=False)
class ScreenView:
    screen: Screen
    store: StoreView | None
    options: dict[str, Any]
    icon: str = "rows"
    # Streams its store's changes to open pages (the store is realtime, the blueprint can).
    live: bool = False
    # Where a new row of its store is made from the UI: the first screen with a form for
    # one (its form is #<kebab>-form) and that form's URL; None: nowhere. A list-only
    # screen's "New" leads there.
    create_screen: ScreenView | None = None
    create_route: str | None = None

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
    def nav_group(self) -> tuple[str, ...]:
        return self.screen.nav_group

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
