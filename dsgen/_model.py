"""Typed, frozen models of a dsgen spec (`dsgen.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from dsgen._errors import Location
from dsgen._names import Name


class FieldType(str, Enum):
    STRING = "string"
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    DECIMAL = "decimal"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    EMAIL = "email"
    URL = "url"
    ENUM = "enum"
    JSON = "json"
    UUID = "uuid"
    REF = "ref"


class Backend(str, Enum):
    POSTGRES = "postgres"
    MONGO = "mongo"


class Auth(str, Enum):
    NONE = "none"
    PASSWORD = "password"
    OAUTH = "oauth"


NOW = "now"


@dataclass(frozen=True, slots=True)
class Field:
    name: Name
    type: FieldType
    required: bool = False
    unique: bool = False
    default: Any = None
    min: int | float | None = None
    max: int | float | None = None
    values: tuple[str, ...] = ()
    store: str | None = None
    many: bool = False
    label: str | None = None
    renamed_from: str | None = None
    location: Location | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not None

    @property
    def display(self) -> str:
        return self.label if self.label is not None else self.name.title


@dataclass(frozen=True, slots=True)
class Index:
    fields: tuple[str, ...]
    unique: bool = False
    partial: tuple[tuple[str, Any], ...] = ()
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Store:
    name: Name
    fields: tuple[Field, ...]
    realtime: bool = False
    indexes: tuple[Index, ...] = ()
    location: Location | None = None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name.snake == name), None)


@dataclass(frozen=True, slots=True)
class Screen:
    name: Name
    pattern: str
    store: str | None = None
    title: str | None = None
    nav: bool = True
    # `nav: "Group/Sub"`: the menu groups the screen sits in, outermost first (then nav is
    # true); empty for a top-level item.
    nav_group: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    # Where each option's value sits in the spec, for pattern-option diagnostics.
    option_locations: dict[str, Location] = field(default_factory=dict)
    location: Location | None = None

    @property
    def display(self) -> str:
        return self.title if self.title is not None else self.name.title


@dataclass(frozen=True, slots=True)
class App:
    name: Name
    title: str
    backend: Backend = Backend.POSTGRES
    auth: Auth = Auth.NONE


@dataclass(frozen=True, slots=True)
class Spec:
    version: int
    app: App
    stores: tuple[Store, ...]
    screens: tuple[Screen, ...]
    signals: dict[str, dict[str, Any]]
    path: Path
    # Locations of keys, by dotted path ("stores.contact.fields.email.type"), for later checks.
    locations: dict[str, Location] = field(default_factory=dict, compare=False)
    # The YAML text of a spec parsed without locations (the quick path), to find them when
    # a later stage reports a problem.
    source: str | None = field(default=None, compare=False, repr=False)

    def store(self, name: str) -> Store | None:
        return next((s for s in self.stores if s.name.snake == name), None)

    def screen(self, name: str) -> Screen | None:
        return next((s for s in self.screens if s.name.snake == name), None)

    def where(self, path: str) -> Location | None:
        """Location of a key path, or of its nearest recorded ancestor."""
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path.rpartition(".")[0]
        return None
