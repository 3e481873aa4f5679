"""No dead ends: every store gets rows from the UI; forms never edit what the server places."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dsgen._admin import ADMIN_GROUP, admin_screens
from dsgen._blueprints import BUILTIN_DIR, builtin_registry, load_registry
from dsgen._errors import DsgenError
from dsgen._project import prepare_spec, render_project

ROOT = Path(__file__).resolve().parents[1]
ALL_PATTERNS = ROOT / "bench" / "all_patterns.yml"

SPEC = """\
dsgen: 1
app: {name: shop}
stores:
  room: {fields: {name: {type: string, required: true}}}
  booking:
    fields:
      room: {type: ref, store: room, required: true}
      guest: {type: string, required: true}
  rooms: {fields: {name: string}}
  guest: {fields: {name: string}}
screens:
  bookings: {pattern: master-detail, store: booking}
  rooms: {pattern: master-detail, store: rooms}
  guests: {pattern: data-table, store: guest}
"""


def test_a_store_no_screen_shows_gets_an_admin_screen_in_the_data_group():
    spec = prepare_spec(ALL_PATTERNS, builtin_registry())
    admin = [s for s in spec.screens if s.nav_group == ADMIN_GROUP]
    assert [(s.name.snake, s.store, s.pattern, s.display) for s in admin] == [
        ("companies", "company", "master-detail", "Companies"),
        ("rooms", "room", "master-detail", "Rooms")]
    shown = {s.store for s in spec.screens if s.store}
    assert shown == {store.name.snake for store in spec.stores}  # every store, now


def test_admin_screens_are_derived_never_part_of_the_spec_as_written(write_spec):
    path = write_spec(SPEC)
    written = prepare_spec(path, builtin_registry(), admin=False)
    assert [s.name.snake for s in written.screens] == ["bookings", "rooms", "guests"]
    spec = prepare_spec(path, builtin_registry())
    # "rooms" is taken (by another store's screen): the admin screen gets a free name.
    # A store only a data-table lists gets one too (a table has no form to add a row).
    assert [(s.name.snake, s.store) for s in spec.screens] == [
        ("bookings", "booking"), ("rooms", "rooms"), ("guests", "guest"),
        ("room_admin", "room"), ("guest_admin", "guest")]
    # Give the store a screen of its own and its admin screen goes away.
    path = write_spec(SPEC + "  places: {pattern: master-detail, store: room}\n")
    assert [s.name.snake for s in prepare_spec(path, builtin_registry()).screens] == [
        "bookings", "rooms", "guests", "places", "guest_admin"]


def _copy_blueprint(src: str, dest: Path, new_id: str, manifest_edit) -> None:
    shutil.copytree(BUILTIN_DIR / src, dest / new_id)
    manifest = dest / new_id / "blueprint.yml"
    text = manifest.read_text(encoding="utf-8").replace(f"id: {src}\n", f"id: {new_id}\n", 1)
    manifest.write_text(manifest_edit(text), encoding="utf-8")


def test_the_admin_pattern_comes_from_the_registry_not_from_core(tmp_path, write_spec):
    """Which pattern serves admin screens, and which ones only list, is each manifest's
    word (`admin`, `lists_only`): a registry without an admin pattern derives none, and a
    second claim to `admin` is refused when the registry loads."""
    spec = prepare_spec(write_spec(SPEC), builtin_registry(), admin=False)
    no_admin = tmp_path / "no_admin"
    for pattern in ("master-detail", "data-table"):
        _copy_blueprint(pattern, no_admin, f"my-{pattern}",
                        lambda t: t.replace("admin: true", "admin: false"))
    shutil.copytree(BUILTIN_DIR / "app", no_admin / "app")
    assert admin_screens(spec, load_registry(no_admin)) == ()

    twice = tmp_path / "twice"
    _copy_blueprint("master-detail", twice, "browser", lambda t: t)
    with pytest.raises(DsgenError, match="'admin: true' is already claimed by 'browser'"):
        load_registry(twice, BUILTIN_DIR)


def test_no_form_edits_a_position_or_a_timestamp():
    spec = prepare_spec(ALL_PATTERNS, builtin_registry())
    rendered = render_project(spec, builtin_registry(), with_assets=False)
    files = {f.path: f.content.decode() for f in rendered}
    forms = {p: t for p, t in files.items()
             if p.startswith("app/templates/") and re.search(r"<(input|select|textarea)\b", t)}
    assert forms
    placed = []
    for path, text in forms.items():
        for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", text):
            name = re.search(r'\bname="([^"]+)"', control)
            if name is None:
                continue
            assert name.group(1) not in ("created_at", "updated_at", "id"), (path, control)
            if name.group(1) == "position":
                assert 'type="hidden"' in control, (path, control)
                placed.append(path)
    # The task store's position (the board's order_by) is in the timeline and outline forms.
    assert {"app/templates/timeline/_form.html", "app/templates/outline/_form.html"} <= set(placed)


LISTS = """\
dsgen: 1
app: {name: lists}
stores:
  task:
    fields:
      title: {type: string, required: true}
      lane: {type: enum, values: [todo, done], required: true}
  note: {fields: {text: {type: string, required: true}}}
  tag: {fields: {name: {type: string, required: true}}}
screens:
  all_tasks: {pattern: data-table, store: task}
  board: {pattern: kanban, store: task, group_by: lane}
  notes: {pattern: data-table, store: note}
  note_forms: {pattern: master-detail, store: note}
  tags: {pattern: data-table, store: tag}
"""


def test_every_list_has_a_new_that_leads_to_a_form_of_its_store(write_spec):
    """A data-table has no form of its own: its "New" opens the first screen that makes
    rows of its store, whichever pattern that is (a kanban's drawer, a master-detail's
    form, the admin screen of a store only lists show)."""
    spec = prepare_spec(write_spec(LISTS), builtin_registry())
    rendered = render_project(spec, builtin_registry(), with_assets=False)
    files = {f.path: f.content.decode() for f in rendered}

    def new_link(screen: str) -> str | None:
        found = re.search(r'ui\.get_link\("([^"]+)", "_nav"\) }} id="[a-z-]+-new"',
                          files[f"app/templates/{screen}/_screen.html"])
        return found.group(1) if found else None

    assert new_link("all_tasks") == "/board/new"
    assert new_link("notes") == "/note-forms/new"
    assert new_link("tags") == "/tag-admin/new"  # "tags" is taken by the table itself
