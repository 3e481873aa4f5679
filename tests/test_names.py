"""Name: every spelling of a spec name, and the plural/humanize rules behind them."""

from __future__ import annotations

import keyword

import pytest

from dsgen._names import IDENTIFIER, Name, humanize, pluralize


@pytest.mark.parametrize(("word", "plural"), [
    ("contact", "contacts"),
    ("company", "companies"),      # consonant + y
    ("day", "days"),               # vowel + y
    ("box", "boxes"),
    ("class", "classes"),
    ("match", "matches"),
    ("wish", "wishes"),
    ("buzz", "buzzes"),
    ("person", "people"),
    ("status", "statuses"),
    ("index", "indexes"),
    ("datum", "data"),
    ("news", "news"),
    ("sales_person", "sales_people"),          # only the last part is pluralised
    ("order_item", "order_items"),
    ("task_category", "task_categories"),
])
def test_pluralize(word, plural):
    assert pluralize(word) == plural


@pytest.mark.parametrize(("word", "text"), [
    ("next_call", "Next call"),
    ("name", "Name"),
    ("a", "A"),
    ("", ""),
])
def test_humanize(word, text):
    assert humanize(word) == text


def test_name_forms():
    n = Name("order_item")
    assert (n.snake, n.kebab, n.pascal, n.camel) == ("order_item", "order-item", "OrderItem",
                                                     "orderItem")
    assert (n.title, n.plural, n.table, n.route) == ("Order item", "order_items",
                                                    "order_items", "/order-item")
    assert n.py == "order_item"
    assert str(n) == "order_item"


def test_name_with_digits():
    n = Name("step2_result")
    assert n.pascal == "Step2Result"
    assert n.camel == "step2Result"
    assert n.kebab == "step2-result"


@pytest.mark.parametrize("word", ["class", "def", "from", "import", "lambda", "none", "async"])
def test_py_escapes_hard_keywords_only_when_they_are_keywords(word):
    expected = f"{word}_" if keyword.iskeyword(word) else word
    assert Name(word).py == expected


def test_py_hard_keyword():
    assert Name("class").py == "class_"
    assert Name("from").py == "from_"


def test_py_is_the_same_on_every_python_version(monkeypatch):
    # keyword.softkwlist grows with Python (3.12 adds 'type'); the generated code must not
    # depend on which Python runs dsgen. Simulate 3.12's list on whatever runs the tests.
    py312 = frozenset({"_", "case", "match", "type"})
    monkeypatch.setattr(keyword, "softkwlist", sorted(py312))
    monkeypatch.setattr(keyword, "issoftkeyword", py312.__contains__)
    assert Name("type").py == "type"
    assert Name("match").py == "match_"
    assert Name("case").py == "case_"


def test_name_is_frozen_and_hashable():
    n = Name("contact")
    with pytest.raises(AttributeError):
        n.snake = "other"  # type: ignore[misc]
    assert {n, Name("contact")} == {Name("contact")}


@pytest.mark.parametrize(("text", "ok"), [
    ("contact", True), ("order_item", True), ("a1", True), ("x_", True),
    ("Contact", False), ("1st", False), ("_x", False), ("order-item", False), ("", False),
    ("é", False), ("a b", False), ("contact\n", False),
])
def test_identifier(text, ok):
    assert bool(IDENTIFIER.match(text)) is ok
