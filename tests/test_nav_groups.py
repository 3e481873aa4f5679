"""`nav: true | false | "Group/Sub"`: a screen's place in the menu, parsed and located."""

from __future__ import annotations

import textwrap

import pytest

from dsgen._load import parse_spec
from dsgen._load_screens import NAV_GROUP_CHARS, NAV_GROUP_DEPTH

HEAD = """\
dsgen: 1
app: {name: shop}
stores:
  item: {fields: {name: string}}
screens:
"""


def screens(write_spec, *navs: str):
    text = HEAD + "".join(f"  s{i}: {{pattern: master-detail, store: item{nav}}}\n"
                          for i, nav in enumerate(navs))
    spec, diagnostics = parse_spec(write_spec(textwrap.dedent(text)))
    return spec, [(d.location.line, d.location.col, d.path, d.message, d.hint)
                  for d in diagnostics]


def test_a_group_path_is_a_tuple_of_trimmed_names_and_lists_the_screen(write_spec):
    spec, errors = screens(write_spec, "", ", nav: false", ", nav: Sales",
                           ', nav: " Sales / Pipelines "', ", nav: true")
    assert errors == []
    assert [(s.nav, s.nav_group) for s in spec.screens] == [
        (True, ()), (False, ()), (True, ("Sales",)), (True, ("Sales", "Pipelines")),
        (True, ())]


@pytest.mark.parametrize(("nav", "message", "hint"), [
    ('"Sales/"', "the group path 'Sales/' has an empty group name",
     'write it like "Sales/Pipelines": group names separated by /'),
    ('"/Sales"', "the group path '/Sales' has an empty group name",
     'write it like "Sales/Pipelines": group names separated by /'),
    ('"Sales// Pipes"', "the group path 'Sales// Pipes' has an empty group name",
     'write it like "Sales/Pipelines": group names separated by /'),
    ('"  "', "the group path '  ' has an empty group name",
     'write it like "Sales/Pipelines": group names separated by /'),
    ('"A/B/C/D"', f"the group path 'A/B/C/D' nests 4 groups; at most {NAV_GROUP_DEPTH}",
     "a flatter menu: merge or drop a level"),
    ('"Sales/\\tPipes"', "the group path holds a line break or tab (U+0009)",
     'write it like "Sales/Pipelines": group names separated by /'),
    ('"' + "x" * (NAV_GROUP_CHARS + 1) + '"',
     f"the group name {'x' * 20!r}… is longer than {NAV_GROUP_CHARS} characters",
     "a short label fits the menu"),
    ("3", "expected true, false or a group path, got the number 3",
     'a group path puts the screen in a menu group: nav: "Sales/Pipelines"'),
    ("no", "expected true, false or a group path, got 'no'",
     "write false (a group path would name a menu group 'no')"),
    ("On", "expected true, false or a group path, got 'On'",
     "write true (a group path would name a menu group 'On')"),
    ("[Sales]", "expected true, false or a group path, got a list",
     'a group path puts the screen in a menu group: nav: "Sales/Pipelines"'),
])
def test_a_bad_nav_is_located(write_spec, nav, message, hint):
    _, errors = screens(write_spec, f", nav: {nav}")
    assert errors == [(6, 50, "screens.s0.nav", message, hint)]


def test_a_group_path_at_the_depth_limit_is_fine(write_spec):
    path = "/".join(f"G{i}" for i in range(NAV_GROUP_DEPTH))
    spec, errors = screens(write_spec, f", nav: {path}")
    assert errors == []
    assert spec.screens[0].nav_group == tuple(f"G{i}" for i in range(NAV_GROUP_DEPTH))
