"""Living with a generated project: edits survive `add pattern` / `update`; `dsgen db`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsgen._errors import ConflictError
from dsgen._project import add_pattern, emit_migration, new_project, update_project
from dsgen._write import Action
from tests._support import TreeSnapshot

PY_EDIT = "\n\ndef my_helper() -> str:\n    return 'kept'\n"
HTML_EDIT = "<!-- my note: keep me -->\n"


@pytest.fixture
def project(tmp_path: Path, datastar_js) -> Path:
    outcome = new_project("shop", dest=tmp_path / "shop")
    return outcome.project


def _actions(outcome) -> dict[str, Action]:
    return {r.path: r.action for r in outcome.results}


def test_rerun_writes_nothing(project: Path):
    before = {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()}
    outcome = new_project("shop", dest=project)
    assert not outcome.written
    assert {r.action for r in outcome.results} == {Action.IDENTICAL}
    after = {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()}
    assert after == before


def test_add_pattern_keeps_edits_and_the_spec_formatting(project: Path):
    screen_py = project / "app/screens/contacts.py"
    screen_html = project / "app/templates/contacts/_screen.html"
    screen_py.write_text(screen_py.read_text() + PY_EDIT)
    screen_html.write_text(HTML_EDIT + screen_html.read_text())
    spec_before = (project / "dsgen.yaml").read_text()

    outcome = add_pattern(project, "master-detail", store="invoice")

    actions = _actions(outcome)
    assert actions["app/screens/invoices.py"] is Action.CREATE
    assert actions["app/stores/invoice.py"] is Action.CREATE
    assert actions["app/registry.py"] is Action.UPDATE       # nav is rendered from the spec
    assert actions["app/screens/contacts.py"] is Action.KEEP   # edited, nothing new for it
    assert screen_py.read_text().endswith(PY_EDIT)
    assert screen_html.read_text().startswith(HTML_EDIT)
    spec_after = (project / "dsgen.yaml").read_text()
    # Everything the user wrote is still there, byte for byte, comments included.
    kept = [line for line in spec_before.splitlines() if line.strip()]
    assert all(line in spec_after.splitlines() for line in kept)
    assert "  invoices:\n    pattern: master-detail\n    store: invoice\n" in spec_after
    assert 'url="/invoices"' not in spec_after
    assert '"/invoices"' in (project / "app/registry.py").read_text()


def test_edit_merged_with_a_changed_render(project: Path):
    registry = project / "app/registry.py"
    registry.write_text(registry.read_text().replace(
        '"""App-wide values', '"""Edited by me. App-wide values'))

    outcome = add_pattern(project, "master-detail", store="invoice")

    assert _actions(outcome)["app/registry.py"] is Action.MERGE
    text = registry.read_text()
    assert "Edited by me." in text and '"/invoices"' in text


def test_conflicting_edit_writes_nothing_then_markers_with_yes(project: Path):
    registry = project / "app/registry.py"
    original = registry.read_text()
    edited = original.replace("HOME_URL = ", "HOME_URL = '/mine' or ")
    # Change the very lines the new render changes too: the nav tuple's end.
    edited = edited.replace("\n)\n\nHOME_URL", "\n    # my own nav item goes here\n)\n\nHOME_URL")
    registry.write_text(edited)
    spec = (project / "dsgen.yaml").read_text()

    with pytest.raises(ConflictError) as caught:
        add_pattern(project, "master-detail", store="invoice")
    assert caught.value.paths == ["app/registry.py"]
    assert registry.read_text() == edited                       # nothing written
    assert (project / "dsgen.yaml").read_text() == spec
    assert not (project / "app/screens/invoices.py").exists()

    outcome = add_pattern(project, "master-detail", store="invoice", conflicts="markers")
    assert _actions(outcome)["app/registry.py"] is Action.CONFLICT
    text = registry.read_text()
    assert "<<<<<<< yours" in text and ">>>>>>> new dsgen render" in text
    assert "# my own nav item goes here" in text


def test_deleted_file_stays_deleted_and_unmanaged_is_untouched(project: Path):
    (project / "app/templates/error.html").unlink()
    mine = project / "app/screens/mine.py"
    mine.write_text("# not dsgen's\n")

    outcome = update_project(project)

    assert _actions(outcome)["app/templates/error.html"] is Action.DELETED
    assert not (project / "app/templates/error.html").exists()
    assert mine.read_text() == "# not dsgen's\n"
    assert "app/screens/mine.py" not in _actions(outcome)


def test_dry_run_and_check_write_nothing(project: Path):
    spec = project / "dsgen.yaml"
    spec.write_text(spec.read_text().replace("title: Shop", "title: Shop Floor"))
    before = (project / "app/registry.py").read_text()

    outcome = update_project(project, dry_run=True)

    assert not outcome.written
    assert _actions(outcome)["app/registry.py"] is Action.UPDATE
    assert (project / "app/registry.py").read_text() == before


def test_db_emits_the_next_revision_for_a_new_store(project: Path):
    add_pattern(project, "master-detail", store="invoice")

    migration = emit_migration(project, message="add invoices")

    assert migration is not None
    assert migration.path == "migrations/versions/0002_add_invoices.py"
    text = (project / migration.path).read_text()
    assert 'down_revision = "0001"' in text or "down_revision: str | None = \"0001\"" in text
    assert '"invoices"' in text
    assert emit_migration(project) is None        # nothing more to do


def test_project_after_add_pattern(project: Path, snapshot):
    add_pattern(project, "master-detail", store="invoice", screen="bills")
    changed = {
        path: (project / path).read_text()
        for path in ("dsgen.yaml", "app/registry.py", "app/screens/__init__.py")
    }
    assert changed == snapshot.use_extension(TreeSnapshot)


@pytest.mark.e2e
def test_edits_survive_add_pattern_and_the_new_screen_works(project: Path, datastar_js):
    """generate → edit by hand → add a kanban → migrate → the project's own suite passes."""
    from tests.test_e2e import make_test, shared_venv

    screen_py = project / "app/screens/contacts.py"
    screen_html = project / "app/templates/contacts/_screen.html"
    screen_py.write_text(screen_py.read_text() + PY_EDIT)
    screen_html.write_text(HTML_EDIT + screen_html.read_text())

    add_pattern(project, "kanban", store="task")
    assert emit_migration(project) is not None

    assert screen_py.read_text().endswith(PY_EDIT)
    assert screen_html.read_text().startswith(HTML_EDIT)
    make_test(project, shared_venv())


def test_add_pattern_on_an_existing_store_takes_the_scaffold_options_that_fit(project: Path):
    text = _spec_after(project, "tabs", store="contact")  # the scaffold's own-panel tabs
    assert "pattern: tabs" in text and "name: recent" in text and "reorder: true" in text


def test_add_pattern_fills_start_and_end_with_different_fields(project: Path):
    spec = project / "dsgen.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "      notes: text\n",
        "      notes: text\n      starts: date\n      ends: date\n", 1), encoding="utf-8")
    text = _spec_after(project, "date-range", store="contact")
    assert "start: starts" in text and "end: ends" in text


def test_add_pattern_errors_point_into_the_spec_it_would_write(project: Path):
    from dsgen._errors import SpecError

    before = (project / "dsgen.yaml").read_text(encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        add_pattern(project, "date-range", store="contact")  # contact has no date fields
    error = caught.value
    assert error.source is not None and "pattern: date-range" in error.source
    located = [d for d in error.diagnostics if d.location is not None]
    assert located and all(
        "date-range" in error.source.splitlines()[d.location.line - 1]
        or "contacts_date_range" in error.source.splitlines()[d.location.line - 2]
        for d in located)
    assert "--set" in (error.note or "")
    assert (project / "dsgen.yaml").read_text(encoding="utf-8") == before


def _spec_after(project: Path, pattern: str, **kwargs) -> str:
    add_pattern(project, pattern, **kwargs)
    return (project / "dsgen.yaml").read_text(encoding="utf-8")
