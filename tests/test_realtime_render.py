"""The realtime runtime is rendered only for specs with a realtime store."""

from __future__ import annotations

from pathlib import Path

from dsgen._blueprints import BUILTIN_DIR, builtin_registry
from dsgen._project import prepare_spec, render_project
from dsgen.db.postgres import plan_migration

CRM = BUILTIN_DIR / "master-detail" / "examples" / "crm.yml"
RUNTIME = {
    "app/realtime/__init__.py", "app/realtime/events.py", "app/realtime/hub.py",
    "app/realtime/listener.py", "app/realtime/subscriber.py", "app/realtime/response.py",
    "app/realtime/runtime.py", "app/realtime/conformance.py", "tests/test_realtime_sse.py",
    "tests/datastar_sdk_cases.json",
}


def _files(text: str) -> dict[str, str]:
    spec = prepare_spec(Path("dsgen.yaml"), builtin_registry(), text)
    return {f.path: f.content.decode("utf-8") for f in render_project(
        spec, builtin_registry(), with_assets=False)}


def test_no_realtime_store_no_runtime():
    files = _files(CRM.read_text(encoding="utf-8"))
    assert not RUNTIME & set(files)
    assert "realtime" not in files["app/main.py"] + files["app/core/config.py"] \
        + files["app/screens/__init__.py"]


def test_a_realtime_store_gets_the_runtime_and_its_wiring():
    text = CRM.read_text(encoding="utf-8").replace(
        "  contact:\n", "  contact:\n    realtime: true\n", 1)
    assert "realtime: true" in text
    files = _files(text)
    assert RUNTIME <= set(files)
    assert "realtime = Realtime(config, pool, REALTIME_VIEWS)" in files["app/main.py"]
    assert "test_mode: bool = False" in files["app/core/config.py"]
    assert "realtime_retention_s" in files["app/core/config.py"]
    assert "REALTIME_VIEWS" in files["app/screens/__init__.py"]
    assert "def test_writes_to_contact_are_logged_in_commit_order" \
        in files["tests/test_realtime_sse.py"]
    spec = prepare_spec(Path("dsgen.yaml"), builtin_registry(), text)
    migration = plan_migration(spec, Path("/nonexistent/versions"), message="initial")
    assert migration is not None
    assert "CREATE TABLE realtime_events" in migration.text
    assert "realtime_capture('contacts')" in migration.text


def test_screens_over_a_realtime_store_stream_and_the_others_do_not():
    text = CRM.read_text(encoding="utf-8").replace(
        "  contact:\n", "  contact:\n    realtime: true\n", 1)
    files = _files(text)
    assert "app/realtime/asgi.py" in files
    screens = files["app/screens/__init__.py"]
    assert "contacts_screen.LIVE" in screens and "contacts_screen.STREAM" in screens
    assert "companies_screen.LIVE" not in screens  # company is not realtime
    assert "class LiveList" in files["app/screens/contacts.py"]
    assert "LiveList" not in files["app/screens/companies.py"]
    assert "app/templates/contacts/_live.html" in files
    assert "app/templates/companies/_live.html" not in files
    assert "tests/browser/test_contacts_live.py" in files
    assert "app = create_asgi()" in files["app/main.py"]


def test_without_a_streaming_screen_there_is_no_front_handler():
    files = _files(CRM.read_text(encoding="utf-8"))
    assert "app/realtime/asgi.py" not in files
    assert "tests/browser/test_contacts_live.py" not in files
    assert "app = create_app()" in files["app/main.py"]
