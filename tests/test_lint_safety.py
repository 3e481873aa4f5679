"""Generated Python that stays valid and lint-clean whatever the spec's names (issue 9)."""

from __future__ import annotations

from datetime import date, datetime

from dsgen._fields import _literal, model_line, store_imports
from dsgen._model import Field, FieldType
from dsgen._names import Name, store_alias


def test_store_modules_are_imported_under_a_store_alias_sorted_and_wrapped() -> None:
    assert store_imports(["where", "card", "where"]) == (
        "from app.stores import card as card_store\nfrom app.stores import where as where_store")
    long = "x" * 63
    assert store_imports([long]) == (
        f"from app.stores import (\n    {long} as {store_alias(long)},\n)")


def test_a_long_store_is_imported_under_a_short_alias_of_its_own() -> None:
    """A 63-byte store name would make `<store>_store` lines (its import, `Form = <alias>.
    <Pascal>In`) longer than any formatter can fit: its alias keeps the first words and a
    digest, and never equals the alias of another store, short or long."""
    assert store_alias("card") == "card_store"
    assert store_alias("a" * 20) == "a" * 20 + "_store"
    long = "date_sigma_alpha_theta_delta_beta_delta_beta"
    alias = store_alias(long)
    assert alias.startswith("date_sigma_alph_") and alias.endswith("_store")
    assert alias == store_alias(long) == Name(long).store_alias       # deterministic
    assert store_alias("abcdefghijklmn_op_qr_st") == "abcdefghijklmn_" + (
        store_alias("abcdefghijklmn_op_qr_st")[15:])
    names = [long, long + "_x", "x" * 63, "x" * 62, "abcdefghijklmn_op_qr_st", "b" * 21]
    aliases = [store_alias(n) for n in names]
    assert len(set(aliases)) == len(names)
    assert all(len(a) == 27 for a in aliases)      # stem: 21 characters, a short name's <= 20
    assert all(a.isidentifier() and "__" not in a for a in aliases)
    assert len(f"    {'x' * 63} as {store_alias('x' * 63)},") <= 100


def test_field_names_that_annotations_use_get_an_attribute_of_their_own() -> None:
    assert Name("date").attr == "date_"
    assert Name("list").attr == "list_"
    assert Name("class").attr == "class_"
    assert Name("title").attr == "title"
    line = model_line(Field(Name("date"), FieldType.DATE, default=date(2026, 1, 15)))
    assert line == ('date_: Annotated[date | None, Blank, AfterValidator(in_date_range)] = '
                    'Field(date.fromisoformat("2026-01-15"), alias="date")')


def test_date_defaults_are_spelled_with_the_imported_classes() -> None:
    assert _literal(date(2026, 1, 15)) == 'date.fromisoformat("2026-01-15")'
    assert _literal(datetime(2026, 1, 15, 9, 30)) == (
        'datetime.fromisoformat("2026-01-15T09:30:00")')
    assert eval(_literal(date(2026, 1, 15))) == date(2026, 1, 15)  # noqa: S307


def test_every_regression_spec_renders_to_lint_clean_python(tmp_path, datastar_js) -> None:
    """The zoo's regression specs, every blueprint example and the all-patterns app, rendered
    and linted with the generated project's own ruff settings (seconds; the e2e and zoo
    tiers run their tests too, minutes later)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    from dsgen._project import new_project
    from tests.zoo.runner import regression_specs

    beside = Path(sys.executable).parent / "ruff"
    ruff = str(beside) if beside.exists() else shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is a dev dependency of dsgen")
    root = Path(__file__).resolve().parents[1]
    examples = sorted(root.glob("blueprints/*/examples/*.yml"))
    for spec in [*regression_specs(), *examples, root / "bench" / "all_patterns.yml"]:
        dest = tmp_path / f"{spec.parent.parent.name}-{spec.stem}"
        outcome = new_project(spec.stem, dest=dest, spec_path=spec)
        result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=outcome.project,
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{spec.name}:\n{result.stdout[-4000:]}"


def test_only_statements_with_a_long_line_are_formatted() -> None:
    """Long names (up to 63 bytes) can push a template line past 100 columns: that statement
    is fitted at render time; every other line is left exactly as the template placed it."""
    from dsgen._pyformat import LINE_LENGTH, fit_lines, long_lines

    name = "query_beta_gamma_omega_delta_gamma"
    short = "x = {'a': 1}  # a style ruff format would change\n"
    text = (f"{short}\n\nasync def get(conn, record_id):\n"
            f"    record = await {name}_store.get(conn, record_id) if record_id else None\n"
            f"    return record\n")
    assert long_lines(text) == [5]
    fitted = fit_lines(text, "app/screens/x.py")
    assert long_lines(fitted) == []
    assert fitted.startswith(short)                 # untouched: not a long statement
    assert f"await {name}_store.get(conn, record_id)" in fitted
    assert all(len(line) <= LINE_LENGTH for line in fitted.splitlines())
    assert fit_lines(fitted, "app/screens/x.py") == fitted      # stable
    assert fit_lines(short, "app/screens/x.py") == short
    compile(fitted, "x.py", "exec")


def test_a_statement_ruff_cannot_fit_is_left_as_it_is() -> None:
    from dsgen._pyformat import fit_lines

    text = 'X = "' + "y" * 120 + '"\n'    # a string literal: nothing to split
    assert fit_lines(text, "x.py") == text


def test_files_the_project_exempts_from_e501_are_left_as_placed() -> None:
    """fit_lines follows the generated pyproject's per-file-ignores (E501): tests, migrations
    and stores keep their long lines (titles, SQL) as the templates place them."""
    import re
    from pathlib import Path

    from dsgen._pyformat import EXEMPT, fit_lines

    pyproject = (Path(__file__).parents[1] / "blueprints" / "app" / "templates" /
                 "pyproject.toml.jinja").read_text(encoding="utf-8")
    ignored = re.findall(r'^"([^"]+)/\*\*" = \[[^\]]*"E501"', pyproject, re.M)
    assert sorted(f"{p}/" for p in ignored) == sorted(EXEMPT)
    long = "x = call(" + ", ".join(f"argument_{i}" for i in range(12)) + ")\n"
    assert fit_lines(long, "app/stores/x.py") == long
    assert fit_lines(long, "tests/test_x.py") == long
    assert fit_lines(long, "app/screens/x.py") != long


def test_long_comments_and_docstring_lines_are_wrapped_and_nothing_else() -> None:
    """Prose naming a long store (a module docstring, a comment) has no code a formatter
    could split: it is wrapped at spaces, keeping its indent; strings that are values and
    trailing comments stay as placed."""
    from dsgen._pyformat import LINE_LENGTH, fit_lines, long_lines, wrap_prose

    name = "date_sigma_alpha_theta_delta_beta_delta_beta"
    words = name.replace("_", " ")
    value = f'    s = """{name} {name} {name}"""\n'
    text = (f'"""Screen `x`: a gantt of `{name}`, its {words}s and their {words}s, by day.\n\n'
            f'Rules: a {words} ends after it starts; it cannot start before any {words} ends.\n'
            '"""\n\nX = 1\n\n\ndef f():\n'
            f"    # The fields the chart reads: form/record keys, and attributes of {name}.Form.\n"
            f"{value}    return s\n")
    wrapped = wrap_prose(text)
    assert long_lines(wrapped) == [14]              # only the string value
    assert value in wrapped
    assert "    # The fields the chart reads: form/record keys, and attributes of\n" \
           f"    # {name}.Form.\n" in wrapped
    assert [w for w in wrapped.split() if w != "#"] == [w for w in text.split() if w != "#"]
    assert wrap_prose(wrapped) == wrapped           # stable
    assert fit_lines(text, "app/screens/x.py") == wrapped
    compile(wrapped, "x.py", "exec")
    assert all(len(line) <= LINE_LENGTH for line in wrapped.splitlines()[:13])


def test_lines_no_formatter_can_split_are_rewritten_as_a_person_would() -> None:
    """A string constant naming a long store becomes parenthesised implicit concatenation
    (the same value), a trailing comment moves above its line, a dict value that cannot be
    split gets parentheses for ruff to split; pragmas and short lines stay as placed."""
    from dsgen._pyformat import LINE_LENGTH, fit_lines

    words = "item delta gamma sigma sigma kappa omega omega alpha beta"
    alias = "date_sigma_alph_f4f52_store"
    text = (f'GONE = "That {words} no longer exists. Reload the page \\\\ or \\"not\\"."\n'
            'SHORT = "x"  # a short line keeps its comment\n\n\n'
            "async def options(conn):\n"
            "    return {\n"
            f'        "depends_on_theta_delta_kappa_alpha_gamma_sigma_sigma_options": await '
            f"{alias}.options(conn),\n"
            "    }\n\n\n"
            "def f(a):\n"
            f"    return []  # no such {words} (any more): nothing of it is on a page now\n\n\n"
            f"X = 1  # noqa: E501 {words} {words}\n")
    fitted = fit_lines(text, "app/screens/x.py")
    namespace: dict = {}
    exec(compile(fitted, "x.py", "exec"), namespace)   # noqa: S102 (the module under test)
    assert namespace["GONE"] == (f'That {words} no longer exists. Reload the page \\ or "not".')
    assert 'SHORT = "x"  # a short line keeps its comment\n' in fitted
    assert f"    # no such {words} (any more): nothing of it is\n    # on a page now\n" \
           "    return []\n" in fitted
    assert f"(\n            await {alias}.options(conn)\n        )," in fitted
    assert [n for n, line in enumerate(fitted.splitlines(), 1)
            if len(line) > LINE_LENGTH] == [len(fitted.splitlines())]   # the noqa line only
    assert fit_lines(fitted, "app/screens/x.py") == fitted
