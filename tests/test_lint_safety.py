"""Generated Python that stays valid and lint-clean whatever the spec's names (issue 9)."""

from __future__ import annotations

from datetime import date, datetime

from dsgen._fields import _literal, model_line, store_imports
from dsgen._model import Field, FieldType
from dsgen._names import Name


def test_store_modules_are_imported_under_a_store_alias_sorted_and_wrapped() -> None:
    assert store_imports(["where", "card", "where"]) == (
        "from app.stores import card as card_store\nfrom app.stores import where as where_store")
    long = "x" * 50
    assert store_imports([long]) == (
        f"from app.stores import (\n    {long} as {long}_store,\n)")


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
    """The zoo's regression specs, rendered and linted with the generated project's own ruff
    settings (seconds; the zoo tier runs their tests too)."""
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
    for spec in regression_specs():
        outcome = new_project(spec.stem, dest=tmp_path / spec.stem, spec_path=spec)
        result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=outcome.project,
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{spec.name}:\n{result.stdout[-4000:]}"
