"""Golden tests: the whole generated tree of every example spec, compared with snapshots/."""

from __future__ import annotations

import shutil
import warnings

import pytest

from dsgen._assets import DATASTAR_PATH
from dsgen._blueprints import builtin_registry
from dsgen._project import prepare_spec, render_project
from dsgen._starter import starter_spec
from tests._support import SNAPSHOTS, TreeSnapshot, example_id, example_specs


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


def test_no_stale_golden_trees(request):
    """A golden folder whose case is gone is reported (and removed by --snapshot-update).

    syrupy cannot relate snapshots/ (outside tests/) to a selection of tests, so the folders of
    removed examples are checked here, against the cases this module defines.
    """
    folder = SNAPSHOTS / "test_golden"
    cases = {f"test_example_tree[{example_id(p)}]" for p in example_specs()} | {"test_starter_tree"}
    stale = sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in cases)
    if stale and request.config.option.update_snapshots:
        for path in stale:
            shutil.rmtree(path)
    elif stale:
        warnings.warn(
            "golden folders of no current case (make snapshots removes them): "
            + ", ".join(p.name for p in stale),
            stacklevel=1,
        )
