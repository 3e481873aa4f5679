"""End-to-end: generate each example, install it, and run its own test suite (browser included).

Slow (minutes): marked `e2e`. All generated projects share one virtualenv (DSGEN_E2E_VENV,
default .cache/e2e-venv) so dependencies are installed once per machine, not per project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsgen._project import new_project
from tests._support import ROOT, example_id, example_specs

pytestmark = pytest.mark.e2e


def shared_venv() -> Path:
    """The one virtualenv every generated project under test installs into."""
    path = Path(os.environ.get("DSGEN_E2E_VENV", ROOT / ".cache" / "e2e-venv"))
    if not (path / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("the generated projects' browser tests need Debian's chromium: "
                    "apt-get install -y chromium (make test does it when run as root)")
    if shutil.which("make") is None:
        pytest.fail("make is required")
    return path


@pytest.fixture(scope="session")
def venv() -> Path:
    return shared_venv()


def make_test(project: Path, venv: Path) -> None:
    """Run the generated project's own `make test`; fail with its output if it fails."""
    result = subprocess.run(
        ["make", "test", f"VENV={venv}"], cwd=project, capture_output=True, text=True,
        timeout=1800, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if result.returncode != 0:
        pytest.fail(f"make test failed in {project} (exit {result.returncode}):\n"
                    f"--- stdout ---\n{result.stdout[-12000:]}\n"
                    f"--- stderr ---\n{result.stderr[-6000:]}", pytrace=False)
    print(result.stdout[-2000:])


def test_starter_project(tmp_path, venv):
    outcome = new_project("starter", dest=tmp_path / "starter")
    assert outcome.written
    make_test(outcome.project, venv)


@pytest.mark.parametrize("example", example_specs(), ids=example_id)
def test_example_project(example, tmp_path, venv):
    outcome = new_project(example.stem, dest=tmp_path / example.stem, spec_path=example)
    assert outcome.written
    make_test(outcome.project, venv)


def test_every_pattern_in_one_app(tmp_path, venv):
    """bench/all_patterns.yml: the spec contract's example (every headline pattern, a
    realtime store, a live screen inside a tab) plus data-table and wizard, in one app."""
    spec = ROOT / "bench" / "all_patterns.yml"
    outcome = new_project("allpatterns", dest=tmp_path / "allpatterns", spec_path=spec)
    assert outcome.written
    make_test(outcome.project, venv)
