"""Golden tests: the whole generated tree of every example spec, compared with snapshots/."""

from __future__ import annotations

import pytest

from dsgen._assets import DATASTAR_PATH
from dsgen._blueprints import builtin_registry
from dsgen._project import prepare_spec, render_project
from dsgen._starter import starter_spec
from tests._support import TreeSnapshot, example_id, example_specs


@pytest.fixture
def tree(snapshot):
    return snapshot.use_extension(TreeSnapshot)


def _tree(spec) -> dict[str, str]:
    files = render_project(spec, builtin_registry(), with_assets=False)
    assert DATASTAR_PATH not in {f.path for f in files}
    return {f.path: f.content.decode("utf-8") for f in files}


@pytest.mark.parametrize("example", example_specs(), ids=example_id)
def test_example_tree(example, tree):
    spec = prepare_spec(example, builtin_registry())
    assert _tree(spec) == tree


def test_starter_tree(tmp_path, tree):
    path = tmp_path / "dsgen.yaml"
    path.write_text(starter_spec("starter"), encoding="utf-8")
    spec = prepare_spec(path, builtin_registry())
    assert _tree(spec) == tree


def test_render_is_deterministic(tmp_path):
    path = tmp_path / "dsgen.yaml"
    path.write_text(starter_spec("starter"), encoding="utf-8")
    spec = prepare_spec(path, builtin_registry())
    assert _tree(spec) == _tree(spec)
