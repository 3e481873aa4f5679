"""Hostile spec files (issue 13, findings 3 and 4): every loader failure is a located spec
error (exit 2), never a traceback, and no small file makes the loader do unbounded work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsgen._blueprints import builtin_registry
from dsgen._cli import app
from dsgen._errors import SpecError
from dsgen._load import parse_spec
from dsgen._project import prepare_spec

ALIAS_BUDGET = 10_000   # dsgen._load's bounds, written out: the tests pin them
MAX_DEPTH = 64

VALID = """\
dsgen: 1
app: {name: shop}
stores:
  item:
    fields:
      name: string
      status: {type: enum, values: [a, b]}
screens:
  items: {pattern: master-detail, store: item}
"""

# A billion-laughs spec: 9 levels of nine aliases each = 9^9 values if expanded.
BOMB = "dsgen: 1\napp: {name: bomb}\nstores: {t: {fields: {n: string}}}\n" \
       "screens: {s: {pattern: master-detail, store: t}}\nsignals:\n  x:\n" \
       "    a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
           f"    {n}: &{n} [{','.join([f'*{p}'] * 9)}]\n"
           for p, n in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


def _errors(path: Path, text: str | None = None) -> list:
    """The diagnostics of the whole check (load + cross-references) for a spec."""
    with pytest.raises(SpecError) as info:
        prepare_spec(path, builtin_registry(), text)
    assert info.value.diagnostics
    return info.value.diagnostics


def _one(path: Path, text: str | None = None):
    [d] = _errors(path, text)
    assert d.location is not None, d
    return d


def test_the_bomb_is_small_and_the_bounds_are_pinned():
    from dsgen import _load

    assert len(BOMB.encode()) < 500
    assert (_load.ALIAS_BUDGET, _load.MAX_DEPTH) == (ALIAS_BUDGET, MAX_DEPTH)


@pytest.mark.parametrize("command", ["check", "new"])
def test_an_alias_bomb_is_refused_fast_and_located(tmp_path, command):
    # A subprocess with a timeout: before the fix this ran for minutes.
    spec = tmp_path / "bomb.yml"
    spec.write_text(BOMB, encoding="utf-8")
    args = ["check", spec] if command == "check" else \
        ["new", "bomb", "--spec", spec, "--dir", tmp_path / "bomb", "--yes"]
    result = subprocess.run([sys.executable, "-m", "dsgen", *map(str, args)],
                            capture_output=True, text=True, timeout=20,
                            env={"COLUMNS": "300", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "bomb.yml:11:12: " in result.stderr          # the first '*d' past the budget
    assert f"aliases expand the spec by more than {ALIAS_BUDGET:,} values" in result.stderr
    assert not (tmp_path / "bomb").exists()


def test_ordinary_aliases_still_load(tmp_path):
    text = VALID.replace("name: string", "name: &text {type: string, max: 80}\n"
                         "      note: *text")
    spec = prepare_spec(tmp_path / "dsgen.yaml", builtin_registry(), text)
    assert [f.max for f in spec.store("item").fields] == [80, 80, None]


def test_a_recursive_alias_is_refused(tmp_path):
    d = _one(tmp_path / "dsgen.yaml", VALID + "signals:\n  x:\n    a: &a [1, *a]\n")
    assert "points into its own anchor" in d.message and d.location.line == 12


def test_aliases_cannot_nest_past_the_depth_bound(tmp_path):
    deep = "[" * 40 + "1" + "]" * 40
    d = _one(tmp_path / "dsgen.yaml", VALID + f"signals:\n  x:\n    a: &a {deep}\n"
             "    b: [[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]\n")
    assert f"nests the spec more than {MAX_DEPTH} levels deep" in d.message


def test_a_nul_byte_is_located(tmp_path, run):
    path = tmp_path / "dsgen.yaml"
    path.write_text(VALID.replace("name: shop", "name: sh\0op"), encoding="utf-8")
    result = run("check", path)
    assert result.exit_code == 2
    assert f"{path}:2:15: invalid YAML: the character U+0000 is not allowed" in result.output


@pytest.mark.parametrize("deep", [
    "[" * 5000 + "]" * 5000,                                  # flow
    "{a: " * 3000 + "1" + "}" * 3000,
    "".join(f"\n{'  ' * (i + 3)}k{i}:" for i in range(400)) + " 1",   # block
    "".join(f"\n{'  ' * (i + 2)}- " for i in range(300)) + "1",
], ids=["flow-list", "flow-map", "block-map", "block-list"])
def test_deep_nesting_is_located(tmp_path, run, deep):
    path = tmp_path / "dsgen.yaml"
    path.write_text(VALID + "signals:\n  x:\n    a: " + deep + "\n", encoding="utf-8")
    result = run("check", path)
    assert result.exit_code == 2, result.output
    assert f"the spec nests more than {MAX_DEPTH} levels deep" in result.output
    assert f"{path}:" in result.output


def test_nesting_within_the_bound_is_fine(tmp_path):
    depth = MAX_DEPTH - 4            # signals > x > a > the list: 3 levels above it
    text = VALID + "signals:\n  x:\n    a: " + "[" * depth + "1" + "]" * depth + "\n"
    spec = prepare_spec(tmp_path / "dsgen.yaml", builtin_registry(), text)
    assert spec.signals["x"]["a"]


def test_a_huge_integer_is_located(tmp_path, run):
    path = tmp_path / "dsgen.yaml"
    path.write_text(VALID + "signals:\n  x:\n    a: " + "7" * 5000 + "\n", encoding="utf-8")
    result = run("check", path)
    assert result.exit_code == 2
    assert f"{path}:12:8: a number of 5,000 characters" in result.output


def test_invalid_utf8_is_located_for_check_and_new(tmp_path, run, datastar_js):
    path = tmp_path / "spec.yml"
    path.write_bytes(VALID.replace("name: shop", "name: sh\xe9op").encode("latin-1"))
    for args in (["check", path], ["new", "shop", "--spec", path, "--dir", tmp_path / "p"]):
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert f"{path}:2:15: the file is not UTF-8 text" in result.output
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(("line", "where", "escape", "shown"), [
    (2, "app: {{name: shop, title: \"T{}\"}}", "\\ud800", "U+D800, half of a UTF-16 surrogate"),
    (7, "      status: {{type: enum, values: [\"a{}\", b]}}", "\\0", "control character U+0000"),
    (7, "      status: {{type: enum, values: [\"a{}\", b]}}", "\\e", "control character U+001B"),
    (6, "      name: {{type: string, label: \"L{}\"}}", "\\udfff", "U+DFFF"),
    (6, "      name: {{type: string, default: \"L{}\"}}", "\\x07", "control character U+0007"),
    (9, "  \"items{}\": {{pattern: master-detail, store: item}}", "\\ud83d", "U+D83D"),
], ids=["title-surrogate", "enum-nul", "enum-esc", "label-surrogate", "default-bell",
        "key-surrogate"])
def test_surrogates_and_controls_are_refused_at_check(tmp_path, run, line, where, escape,
                                                      shown):
    lines = VALID.splitlines()
    lines[line - 1] = where.format(escape)
    path = tmp_path / "dsgen.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("check", path)
    assert result.exit_code == 2, result.output
    assert f"{path}:{line}:" in result.output and shown in result.output


@pytest.mark.parametrize(("line", "value"), [
    (2, "app: {name: shop, title: \"two\\nlines\"}"),
    (6, "      name: {type: string, label: \"tab\\there\"}"),
    (7, "      status: {type: enum, values: [\"a\\u2028b\", b]}"),
    (9, "  items: {pattern: master-detail, store: item, title: \"x\\ry\"}"),
])
def test_titles_labels_and_enum_values_are_one_line(tmp_path, line, value):
    lines = VALID.splitlines()
    lines[line - 1] = value
    d = _one(tmp_path / "dsgen.yaml", "\n".join(lines) + "\n")
    assert d.location.line == line and "line break or tab" in d.message, d
    assert d.hint and "one line" in d.hint


def test_a_multi_line_string_default_is_fine(tmp_path):
    text = VALID.replace("name: string", "name: {type: text, default: \"a\\nb\\tc\"}")
    spec = prepare_spec(tmp_path / "dsgen.yaml", builtin_registry(), text)
    assert spec.store("item").fields[0].default == "a\nb\tc"


def test_a_valid_spec_still_takes_the_quick_path(tmp_path, monkeypatch):
    import dsgen._project as project

    def fail(*args, **kwargs):
        raise AssertionError("the round-trip parse ran for a valid spec")

    monkeypatch.setattr(project, "parse_spec", fail)
    spec = prepare_spec(tmp_path / "dsgen.yaml", builtin_registry(),
                        VALID.replace("[a, b]", "['R&D', b]"))
    assert spec.store("item").fields[1].values == ("R&D", "b")


def test_parse_spec_never_raises_on_odd_yaml(tmp_path):
    for text in ["%YAML 1.1\n---\na: 0b" + "1" * 2000, "!!python/object:os.system {}",
                 "a: !!binary AAAA", "? [a, b]\n: c\n", "- 1\n- 2", "\ufeffdsgen: 1",
                 "a: 1\n---\nb: 2\n", "*x", "&a a: 1", textwrap.dedent("""\
                 a: !!set {x, y}
                 b: !!omap [x: 1]
                 """)]:
        spec, diagnostics = parse_spec(tmp_path / "dsgen.yaml", text)
        assert spec is None or diagnostics is not None
        assert all(d.location is not None for d in diagnostics), (text, diagnostics)


def test_a_slip_inside_the_yaml_library_is_still_a_located_spec_error(tmp_path, monkeypatch):
    # The fuzz tier met an AttributeError ("'ScalarNode' object has no attribute
    # 'flow_style'") inside ruamel's round-trip constructor on a mutated spec.
    from ruamel.yaml import YAML

    def slip(self, stream):
        raise AttributeError("'ScalarNode' object has no attribute 'flow_style'")

    monkeypatch.setattr(YAML, "load", slip)
    d = _one(tmp_path / "dsgen.yaml", VALID.replace("name: shop", "name: 'shop'"))
    assert d.location.line == 1 and "AttributeError" in d.message


@pytest.mark.parametrize(("ftype", "bound", "ok"), [
    ("int", 2**31, False), ("int", -(2**31), True), ("int", 2**31 - 1, True),
    ("decimal", 10**16, False), ("decimal", 10**16 - 1, True),
    ("float", 10**400, False), ("float", 1e300, True),
])
def test_number_bounds_fit_their_column(tmp_path, ftype, bound, ok):
    """A bound beyond the column (an int past PostgreSQL's integer, a 400-digit float) is a
    located error at check time; found by the fuzz tier as an OverflowError at render."""
    text = VALID.replace("      name: string\n",
                         f"      name: string\n      n: {{type: {ftype}, max: {bound}}}\n")
    path = tmp_path / "dsgen.yaml"
    path.write_text(text, encoding="utf-8")
    if ok:
        prepare_spec(path, builtin_registry())
        return
    (diag,) = _errors(path)
    assert diag.path == "stores.item.fields.n.max"
    assert (diag.location.line, diag.location.col) == (7, 24 + len(ftype))
    assert "beyond what" in diag.message
