"""The spec zoo in CI: a seeded sample of random valid specs, and every saved regression
spec, each generated into a project that runs its own lint and tests.

The sample is small (lint + API tests for ZOO_N specs, browser tests for ZOO_BROWSER of
them); run hundreds locally with `make zoo SEED=… N=…`. A failure prints the replay
command. Marked `e2e` (slow, needs the shared venv and chromium).
"""

from __future__ import annotations

import os

import pytest

from tests.zoo.runner import regression_specs, replay_command, run_regression, run_spec
from tests.zoo.specgen import OPEN_DEFECTS, random_spec

pytestmark = [pytest.mark.e2e, pytest.mark.zoo]

# A fresh seed per CI run would find more, but a red build must replay: the seed is fixed
# here and overridable (ZOO_SEED) for exploring. CI avoids the features of the defects the
# zoo found that are still open (specgen.OPEN_DEFECTS): red means a new regression.
SEED = int(os.environ.get("ZOO_SEED", "20261207"))
N = int(os.environ.get("ZOO_N", "3"))
BROWSER = int(os.environ.get("ZOO_BROWSER", "1"))


@pytest.fixture(scope="module")
def zoo_venv():
    from tests.test_e2e import shared_venv

    return shared_venv()


def _fail_with(result, replay: str) -> None:
    pytest.fail(f"{result.name}: {result.kind}\nreplay: {replay}\n{result.detail[-8000:]}",
                pytrace=False)


@pytest.mark.parametrize("index", range(N))
def test_random_spec(index, tmp_path, zoo_venv):
    browser = index < BROWSER
    spec = random_spec(SEED, index, avoid=OPEN_DEFECTS)
    result = run_spec(spec, tmp_path / f"zoo_{SEED}_{index}", zoo_venv, browser=browser)
    if not result.ok:
        _fail_with(result, replay_command(SEED, index, browser, avoid_open=True))


@pytest.mark.parametrize("path", regression_specs(), ids=lambda p: p.stem)
def test_regression_spec(path, tmp_path, zoo_venv):
    result = run_regression(path, tmp_path, zoo_venv)
    if not result.ok:
        _fail_with(result, f"python -m tests.zoo regress {path.name}")
