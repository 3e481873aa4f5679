"""The Name value object: every spelling of one spec name that a template needs, computed once."""

from __future__ import annotations

import hashlib
import keyword
import re
from dataclasses import dataclass

# \Z, not $: `$` also matches before a final newline, letting "shop\n" through.
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*\Z")
# Fixed rather than keyword.softkwlist, which grows with Python (3.12 adds 'type'): the
# generated code must not depend on which Python runs dsgen.
_SOFT_KEYWORDS = frozenset({"_", "case", "match"})
# Names a generated store model's annotations and defaults use (types, pydantic helpers,
# app.core.forms validators): lower-case ones can be spec field names.
_ANNOTATION_NAMES = frozenset({
    "list", "str", "int", "float", "bool", "dict", "date", "datetime", "as_utc", "check_email",
    "check_http_url", "json_present", "parse_json",
})

# Plurals that the suffix rules below get wrong; kept short on purpose.
_IRREGULAR = {
    "person": "people",
    "child": "children",
    "man": "men",
    "woman": "women",
    "mouse": "mice",
    "datum": "data",
    "index": "indexes",
    "status": "statuses",
    "news": "news",
    "series": "series",
    "info": "info",
    "data": "data",
    "feedback": "feedback",
}


def pluralize(word: str) -> str:
    """English plural of a snake_case word (pluralises the last part only)."""
    head, _, last = word.rpartition("_")
    prefix = f"{head}_" if head else ""
    if last in _IRREGULAR:
        return prefix + _IRREGULAR[last]
    if re.search(r"[^aeiou]y$", last):
        return prefix + last[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", last):
        return prefix + last + "es"
    return prefix + last + "s"


def humanize(word: str) -> str:
    """`next_call` -> `Next call`."""
    text = word.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class Name:
    """A snake_case spec name and its derived forms.

    `py` is safe as a Python identifier (`class` -> `class_`); SQL identifiers are always
    quoted by the templates, so `snake` is used there as is.
    """

    snake: str

    @property
    def kebab(self) -> str:
        return self.snake.replace("_", "-")

    @property
    def pascal(self) -> str:
        return "".join(part.capitalize() for part in self.snake.split("_") if part)

    @property
    def camel(self) -> str:
        pascal = self.pascal
        return pascal[:1].lower() + pascal[1:]

    @property
    def title(self) -> str:
        return humanize(self.snake)

    @property
    def plural(self) -> str:
        return pluralize(self.snake)

    @property
    def py(self) -> str:
        if keyword.iskeyword(self.snake) or self.snake in _SOFT_KEYWORDS:
            return f"{self.snake}_"
        return self.snake

    @property
    def attr(self) -> str:
        """The attribute of a field on the store's pydantic model: like `py`, and also
        suffixed when the name is one the model's annotations use (`list`, `date`…) —
        pydantic resolves annotations in the class namespace, where a field `date` with a
        default would shadow the type `date`. The spec name stays the alias."""
        if self.snake in _ANNOTATION_NAMES:
            return f"{self.snake}_"
        return self.py

    @property
    def store_alias(self) -> str:
        """The name a screen module imports store module `snake` under (see store_alias)."""
        return store_alias(self.snake)

    @property
    def table(self) -> str:
        return self.plural

    @property
    def route(self) -> str:
        return f"/{self.kebab}"

    def __str__(self) -> str:
        return self.snake


# A store module is imported by screens as `<store>_store`, so that a store named like a local
# of the screen module (`card`, `where`, `page`) cannot shadow or be shadowed. Store names
# reach PostgreSQL's 63 bytes: the alias of a long one is shortened so that the lines naming
# it (`from app.stores import (<store> as <alias>,)`, `Form = <alias>.<Pascal>In`) fit the
# generated project's 100 columns. A long name keeps its first words and gains a digest of
# the whole name: still readable, deterministic, and (its stem is longer than any short name)
# never the alias of another store.
_ALIAS_STEM = 20


def store_alias(snake: str) -> str:
    if len(snake) <= _ALIAS_STEM:
        return f"{snake}_store"
    head = snake[:_ALIAS_STEM - 5].rstrip("_")
    digest = hashlib.sha256(snake.encode("utf-8")).hexdigest()[:_ALIAS_STEM - len(head)]
    return f"{head}_{digest}_store"     # the stem: _ALIAS_STEM + 1 characters

