"""The spec zoo: generate a project per random valid spec and run its own checks.

Every spec: the project's lint (`ruff check .`) and its API tests; the first `browser` of
them: its browser tests too. All projects share one virtualenv (the e2e tier's), installed
once. A failure prints a one-line replay command and saves the spec, minimised (screens,
stores, fields and decorations dropped while the same kind of failure remains), under
`tests/zoo/regressions/`.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.zoo.specgen import OPEN_DEFECTS, check, random_spec, to_yaml

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).resolve().parent / "regressions"
_GEN_LOCK = threading.Lock()
_VENV_LOCK = threading.Lock()
_DEPS_STAMP = ".dsgen-zoo-deps"


@dataclass
class Result:
    name: str
    ok: bool
    kind: str = ""          # e.g. "lint:E501", "api:UniqueViolation", "render:KeyError"
    detail: str = ""
    browser: bool = False
    seconds: float = 0.0
    tests: dict[str, int] = field(default_factory=dict)


def shared_venv() -> Path:
    path = Path(os.environ.get("DSGEN_E2E_VENV", ROOT / ".cache" / "e2e-venv"))
    if not (path / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def _ensure_deps(project: Path, venv: Path) -> None:
    """The generated projects' dependencies, installed once into the shared venv."""
    with _VENV_LOCK:
        if (venv / _DEPS_STAMP).exists():
            return
        subprocess.run(["make", "install", f"VENV={venv}"], cwd=project, check=True,
                       capture_output=True, text=True, env=_env())
        (venv / _DEPS_STAMP).touch()


def generate_project(spec: dict, dest: Path) -> Path:
    from dsgen._project import new_project

    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    spec_file = dest.parent / f"{dest.name}.yml"
    spec_file.write_text(to_yaml(spec), encoding="utf-8")
    with _GEN_LOCK:     # rendering is quick; keep dsgen's caches single-writer
        outcome = new_project(dest.name, dest=dest, spec_path=spec_file)
    return outcome.project


_RUFF_CODE = re.compile(r"^([A-Z]+\d+) ", re.M)
_EXC = re.compile(r"^E\s+([\w.]+(?:Error|Exception|Violation|Timeout)\w*)", re.M)
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def run_checks(project: Path, venv: Path, *, browser: bool,
               lint_only: bool = False) -> tuple[str, str, dict]:
    """('' or failure kind, detail, counts) for the project's lint + tests (the tests run
    after a lint failure too, so one run finds both kinds)."""
    bin_ = venv / "bin"
    _ensure_deps(project, venv)
    make = ["make", f"VENV={venv}", f"STAMP={venv / _DEPS_STAMP}"]
    lint = subprocess.run([*make, "css", "lint"], cwd=project, capture_output=True,
                          text=True, env=_env(), timeout=600)
    lint_kind, lint_out = "", ""
    if lint.returncode != 0:
        lint_out = lint.stdout + lint.stderr
        codes = sorted(set(_RUFF_CODE.findall(lint_out)))
        lint_kind = "lint:" + (",".join(codes[:3]) if codes else "make")
        if not (project / "app" / "static" / "app.css").exists():
            return lint_kind, lint_out[-6000:], {}
    if lint_only:
        return lint_kind, lint_out[-6000:], {}
    args = [str(bin_ / "pytest"), "-q", "-x", "-p", "no:cacheprovider"]
    if not browser:
        args.append("--ignore=tests/browser")
    test = subprocess.run(args, cwd=project, capture_output=True, text=True, env=_env(),
                          timeout=1800)
    out = test.stdout + test.stderr
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|error|skipped)", out)}
    if test.returncode != 0:
        failed = _FAILED.findall(out)
        where = "browser" if any("tests/browser" in f for f in failed) else "api"
        excs = _EXC.findall(out)
        name = excs[0].rsplit(".", 1)[-1] if excs else ("collection" if not failed else "fail")
        kind = f"{where}:{name}"
        return "+".join(filter(None, [lint_kind, kind])), lint_out[-3000:] + out[-8000:], counts
    return lint_kind, lint_out[-6000:], counts


def run_spec(spec: dict, dest: Path, venv: Path, *, browser: bool,
             lint_only: bool = False) -> Result:
    start = time.monotonic()
    name = dest.name
    problems = check(spec)
    if problems:
        return Result(name, False, "reject", "\n".join(problems))
    try:
        project = generate_project(spec, dest)
    except Exception as exc:   # noqa: BLE001 - any render failure is a finding
        return Result(name, False, f"render:{type(exc).__name__}", str(exc)[:4000])
    try:
        kind, detail, counts = run_checks(project, venv, browser=browser,
                                          lint_only=lint_only)
    except subprocess.TimeoutExpired:
        kind, detail, counts = "timeout", "", {}
    return Result(name, not kind, kind, detail, browser, time.monotonic() - start, counts)


# -- minimising a failing spec ----------------------------------------------------------
def _candidates(spec: dict):
    """Smaller variants of a spec, biggest cuts first (each may be invalid: check filters)."""
    screens = list(spec["screens"])
    for s in screens:
        smaller = copy.deepcopy(spec)
        del smaller["screens"][s]
        for body in smaller["screens"].values():
            for key, value in list(body.items()):
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    body[key] = [i for i in value if i.get("screen") != s] or value
        yield f"drop screen {s}", smaller
    shown = {b.get("store") for b in spec["screens"].values()}
    for st in list(spec["stores"]):
        if st in shown:
            continue
        smaller = copy.deepcopy(spec)
        del smaller["stores"][st]
        yield f"drop store {st}", smaller
    for st, body in spec["stores"].items():
        if body.get("indexes"):
            smaller = copy.deepcopy(spec)
            del smaller["stores"][st]["indexes"]
            yield f"drop indexes of {st}", smaller
        if body.get("realtime"):
            smaller = copy.deepcopy(spec)
            del smaller["stores"][st]["realtime"]
            yield f"realtime off {st}", smaller
        for f in list(body["fields"]):
            smaller = copy.deepcopy(spec)
            del smaller["stores"][st]["fields"][f]
            _forget_field(smaller, st, f)
            yield f"drop field {st}.{f}", smaller
    for s, body in spec["screens"].items():
        for key in list(body):
            if key in ("pattern", "store"):
                continue
            smaller = copy.deepcopy(spec)
            del smaller["screens"][s][key]
            yield f"drop option {s}.{key}", smaller


def _forget_field(spec: dict, store: str, name: str) -> None:
    """Remove a dropped field from the lists that name it (indexes, screen options)."""
    body = spec["stores"].get(store, {})
    idx = [i for i in body.get("indexes", []) if name not in i["fields"]
           and name not in (i.get("partial") or {})]
    if idx:
        body["indexes"] = idx
    else:
        body.pop("indexes", None)
    for screen in spec["screens"].values():
        if screen.get("store") != store:
            continue
        for key, value in list(screen.items()):
            if isinstance(value, list) and name in value:
                screen[key] = [v for v in value if v != name]
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        for k, v in list(item.items()):
                            if isinstance(v, list) and name in v:
                                item[k] = [x for x in v if x != name]


def minimise(spec: dict, kind: str, workdir: Path, venv: Path, *, browser: bool,
             lint_only: bool = False, budget: int = 12, log=print) -> dict:
    """Drop parts of the spec while the same kind of failure remains (at most `budget`
    project runs)."""
    runs = 0
    improved = True
    while improved and runs < budget:
        improved = False
        for what, smaller in _candidates(spec):
            if check(smaller):
                continue
            runs += 1
            result = run_spec(smaller, workdir / f"shrink{runs}", venv, browser=browser,
                              lint_only=lint_only)
            shutil.rmtree(workdir / f"shrink{runs}", ignore_errors=True)
            if result.kind == kind:
                log(f"  shrink: {what} (still {kind})")
                spec = smaller
                improved = True
                break
            if runs >= budget:
                break
    return spec


# -- the command ------------------------------------------------------------------------
def replay_command(seed: int, index: int, browser: bool, avoid_open: bool = False) -> str:
    flag = " --browser 1" if browser else " --browser 0"
    flag += " --avoid-open" if avoid_open else ""
    return f"python -m tests.zoo run --seed {seed} --only {index}{flag}"


def run(seed: int, n: int, *, start: int = 0, browser: int = 0, jobs: int = 1,
        only: int | None = None, workdir: Path | None = None, keep: bool = False,
        shrink: bool = True, save: bool = True, lint_only: bool = False,
        avoid_open: bool = False, log=print) -> list[Result]:
    venv = shared_venv()
    workdir = workdir or Path(os.environ.get("DSGEN_ZOO_DIR", "/tmp/dsgen-zoo")) / str(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    indexes = [only] if only is not None else list(range(start, start + n))
    avoiding = " (avoiding open defects)" if avoid_open else ""
    log(f"zoo: seed {seed}{avoiding}, specs {indexes[0]}..{indexes[-1]} ({len(indexes)}), browser "
        f"for the first {browser}, {jobs} job(s), in {workdir}")

    def one(i: int) -> tuple[int, Result]:
        spec = random_spec(seed, i, avoid=OPEN_DEFECTS if avoid_open else frozenset())
        with_browser = (indexes.index(i) < browser)
        result = run_spec(spec, workdir / f"zoo_{seed}_{i}", venv, browser=with_browser,
                          lint_only=lint_only)
        status = "ok" if result.ok else f"FAIL {result.kind}"
        log(f"[{i}] {status} {'lint+api+browser' if with_browser else 'lint+api'} "
            f"{result.tests} {result.seconds:.0f}s", flush=True)
        if not result.ok and result.kind != "reject":
            log(result.detail[-3000:])
            log(f"replay: {replay_command(seed, i, with_browser, avoid_open)}", flush=True)
            if save:
                small = minimise(spec, result.kind, workdir / f"min_{i}", venv,
                                 browser=with_browser, lint_only=lint_only,
                                 log=log) if shrink else spec
                REGRESSIONS.mkdir(exist_ok=True)
                kind = re.sub(r"[^a-z0-9]+", "_", result.kind.lower()).strip("_")
                path = REGRESSIONS / f"{kind}_s{seed}_{i}.yml"
                path.write_text(f"# zoo: {result.kind}; replay: "
                                f"{replay_command(seed, i, with_browser, avoid_open)}\n"
                                f"# browser: {str(with_browser).lower()}\n" + to_yaml(small),
                                encoding="utf-8")
                log(f"saved {path.relative_to(ROOT)}", flush=True)
        elif not keep:
            shutil.rmtree(workdir / f"zoo_{seed}_{i}", ignore_errors=True)
        return i, result

    if jobs <= 1:
        results = [one(i)[1] for i in indexes]
    else:
        with ThreadPoolExecutor(jobs) as pool:
            results = [r for _, r in pool.map(one, indexes)]
    summary(seed, results, log)
    return results


def summary(seed: int, results: list[Result], log=print) -> None:
    kinds = Counter(r.kind for r in results if not r.ok)
    ran = [r for r in results if r.kind != "reject"]
    log(f"zoo seed {seed}: {len(results)} specs, {kinds.get('reject', 0)} rejected by check, "
        f"{len(ran)} projects run ({sum(r.browser for r in ran)} with browser), "
        f"{sum(r.ok for r in results)} passed; failures by kind: "
        f"{dict(kinds) if kinds else 'none'}", flush=True)


def regression_specs() -> list[Path]:
    return sorted(REGRESSIONS.glob("*.yml"))


def run_regression(path: Path, workdir: Path, venv: Path) -> Result:
    """One saved spec of tests/zoo/regressions/ (`# browser: true` runs its browser tests)."""
    from ruamel.yaml import YAML

    text = path.read_text(encoding="utf-8")
    spec = YAML(typ="safe").load(text)
    browser = "# browser: true" in text.split("\ndsgen:", 1)[0]
    return run_spec(spec, workdir / path.stem, venv, browser=browser)
