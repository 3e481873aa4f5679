"""What the spec contract names but this dsgen version does not build yet (dsgen._planned):
refused, located, with one honest wording — never an "unknown key" typo, a traceback or a
silent ignore; and `dsgen db --backend mongo` answers through the dsgen.db registry."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsgen import _planned
from dsgen._blueprints import BUILTIN_DIR, builtin_registry, load_registry
from dsgen._check import check_spec
from dsgen._cli import app
from dsgen._errors import SpecError
from dsgen._load import parse_spec
from dsgen._project import prepare_spec

BASE = """\
dsgen: 1
app:
  name: shop
stores:
  item:
    fields:
      name: {type: string, required: true}
      notes: text
screens:
  items:
    pattern: master-detail
    store: item
"""
NOT_YET = "is not supported yet by this dsgen version"
AUTH_HINT = "remove it for now: it comes with sign-in (app.auth), which is planned"
BUILDS = ("this version builds data-table, date-range, gantt, kanban, master-detail, tabs, "
          "tree, wizard (see 'dsgen blueprints list')")


def _pattern(name: str, extra: str = "") -> tuple[str, str]:
    return "screens:", f"screens:\n  other:\n    pattern: {name}\n    store: item\n{extra}"


# (id, text replaced in BASE, its replacement, expected (line, col, path, message, hint)s)
CASES = [
    ("auth", "  name: shop\n", "  name: shop\n  auth: password\n",
     [(4, 9, "app.auth", f"auth 'password' {NOT_YET}", "use 'auth: none' for now: sign-in, "
       "owned rows and role-gated screens are planned")]),
    ("oauth", "  name: shop\n", "  name: shop\n  oauth: {providers: [{name: g, issuer: x}]}\n",
     [(4, 3, "app.oauth", f"the key 'oauth' {NOT_YET}", AUTH_HINT)]),
    ("signup", "  name: shop\n", "  name: shop\n  signup: invite\n",
     [(4, 3, "app.signup", f"the key 'signup' {NOT_YET}", AUTH_HINT)]),
    ("owned", "      notes: text\n", "      notes: text\n    owned: true\n",
     [(9, 5, "stores.item.owned", f"the key 'owned' {NOT_YET}", "remove it for now: owned "
       "rows come with sign-in (app.auth), which is planned")]),
    ("access", "    store: item\n", "    store: item\n    access: {role: admin}\n",
     [(13, 5, "screens.items.access", f"the key 'access' {NOT_YET}", "remove it for now: "
       "screens are public until sign-in (app.auth), which is planned, is built")]),
    ("file", "      notes: text\n", "      notes: text\n      photo: file\n",
     [(9, 14, "stores.item.fields.photo.type", f"the field type 'file' {NOT_YET}",
       "store a link in a 'url' field for now; uploads are planned")]),
    ("file-accept", "      notes: text\n",
     "      notes: text\n      photo: {type: file, max: 100, accept: [image/png]}\n",
     [(9, 21, "stores.item.fields.photo.type", f"the field type 'file' {NOT_YET}",
       "store a link in a 'url' field for now; uploads are planned"),
      (9, 37, "stores.item.fields.photo.accept", f"the key 'accept' {NOT_YET}",
       "it goes with the 'file' field type, which is planned")]),
    *[(name, *_pattern(name), [(11, 14, "screens.other.pattern", f"the pattern '{name}' "
                                f"{NOT_YET}", BUILDS)])
      for name in ("dashboard", "feed", "chat", "document", "accordion")],
]


def _diagnostics(path: Path) -> list[tuple]:
    """What `dsgen check` reports: the loader's diagnostics, then the checks'."""
    with pytest.raises(SpecError) as caught:
        prepare_spec(path, builtin_registry())
    return [(d.location.line, d.location.col, d.path, d.message, d.hint)
            for d in caught.value.diagnostics]


@pytest.mark.parametrize(("old", "new", "expected"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_a_planned_feature_is_refused_located(write_spec, old, new, expected):
    assert BASE.count(old) == 1
    assert _diagnostics(write_spec(BASE.replace(old, new))) == expected


def test_the_base_spec_is_valid(write_spec):
    spec = prepare_spec(write_spec(BASE), builtin_registry())
    assert [s.pattern for s in spec.screens] == ["master-detail"]


def test_every_planned_pattern_is_in_the_contract_and_none_is_built():
    """The planned list holds patterns no built-in blueprint builds (when one lands, its
    entry goes); and the contract names each of them."""
    assert not set(_planned.PATTERNS) & set(builtin_registry().blueprints)
    contract = Path(__file__).parents[2] / "shared" / "spec-format.md"
    if contract.is_file():  # the shared contract sits beside the worktrees here
        text = contract.read_text(encoding="utf-8")
        for name in _planned.PATTERNS:
            assert f"| `{name}` |" in text, name


def test_a_registered_blueprint_wins_over_the_planned_refusal(tmp_path, write_spec):
    """A pack that builds one of the planned patterns plugs in with no edit under dsgen/:
    the registry knows it, so the refusal no longer applies."""
    pack = tmp_path / "pack" / "accordion"
    (pack / "templates").mkdir(parents=True)
    (pack / "blueprint.yml").write_text(textwrap.dedent("""\
        id: accordion
        kind: pattern
        summary: Collapsible sections.
        version: 1
        backends: [postgres]
        store: required
        icon: rows
        options: {}
        """), encoding="utf-8")
    registry = load_registry(BUILTIN_DIR, tmp_path / "pack")
    spec, diagnostics = parse_spec(write_spec(BASE.replace(*_pattern("accordion"))))
    assert diagnostics == []
    assert check_spec(spec, registry) == []
    assert [d.message for d in check_spec(spec, builtin_registry())] == [
        f"the pattern 'accordion' {NOT_YET}"]


def test_the_quick_path_refuses_too(write_spec):
    """`dsgen new` reads a valid-looking spec with the quick loader first: a planned key
    must fail there too and come back located by the round-trip parse."""
    path = write_spec(BASE.replace("      notes: text\n", "      notes: text\n    owned: true\n"))
    with pytest.raises(SpecError) as caught:
        prepare_spec(path, builtin_registry())
    (d,) = caught.value.diagnostics
    assert (d.location.line, d.location.col, d.path) == (9, 5, "stores.item.owned")


@pytest.mark.parametrize("command", ["check", "new"])
def test_cli_refuses_with_exit_2_and_writes_nothing(tmp_path, command):
    spec = tmp_path / "spec.yml"
    spec.write_text(BASE.replace("    store: item\n", "    store: item\n    access: user\n"),
                    encoding="utf-8")
    args = ["check", str(spec)] if command == "check" else \
        ["new", "shop", "--spec", str(spec), "--dir", str(tmp_path / "shop"), "--yes"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"spec.yml:13:5: screens.items.access: the key 'access' {NOT_YET}" in \
        " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "shop").exists()


def test_cli_db_mongo_is_refused_through_the_backend_registry(tmp_path):
    (tmp_path / "dsgen.yaml").write_text(BASE, encoding="utf-8")
    result = CliRunner().invoke(app, ["db", "--backend", "mongo", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"the database backend 'mongo' {NOT_YET}: MongoDB is planned; 'dsgen db' " \
        "writes Alembic revisions for postgres apps" in \
        " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "migrations").exists()


def test_a_mongo_spec_is_refused_located_once(write_spec):
    """One error for the backend, not one more per blueprint that lacks it."""
    path = write_spec(BASE.replace("  name: shop\n", "  name: shop\n  backend: mongo\n"))
    assert _diagnostics(path) == [(4, 12, "app.backend", f"the backend 'mongo' {NOT_YET}",
                                   "use 'backend: postgres' for now: MongoDB is planned")]
