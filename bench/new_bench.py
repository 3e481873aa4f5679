"""Wall time of `dsgen new` (a fresh process each run, as a user runs it), plus output size.

    python bench/new_bench.py [--runs 7] [--rev REV ...] [SPEC ...]

Prints, per spec: median / min / max seconds, the number of files written and their size.
The Datastar bundle comes from dsgen's cache (fetched once), so runs measure dsgen itself.
`--rev REV` also measures dsgen as it was at a git revision (its `dsgen/` and `blueprints/`,
exported to a temporary folder, run with this venv), its runs interleaved with the working
tree's: a before/after from one run on the same machine load.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(spec: Path | None, dest: Path, tree: Path = HERE.parent) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `dsgen new` process, with dsgen imported from
    `tree`. CPU time is the steadier figure on a shared machine: it does not grow when other
    processes take the cores."""
    cmd = [sys.executable, "-m", "dsgen", "new", "bench", "--dir", str(dest)]
    if spec is not None:
        cmd += ["--spec", str(spec.resolve())]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cpu = _child_cpu()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=tree, env=env)
    return time.perf_counter() - start, _child_cpu() - cpu


def measure(spec: Path | None, runs: int,
            trees: dict[str, Path]) -> dict[str, tuple[list[float], list[float], int, int]]:
    """Per tree: wall and CPU seconds of each run, files written and their size; the trees
    take turns run by run."""
    out: dict[str, tuple[list[float], list[float], int, int]] = {
        label: ([], [], 0, 0) for label in trees}
    for _ in range(runs):
        for label, tree in trees.items():
            with tempfile.TemporaryDirectory() as tmp:
                dest = Path(tmp) / "bench"
                wall, cpu = one_run(spec, dest, tree)
                written = [p for p in dest.rglob("*") if p.is_file() and ".dsgen" not in p.parts]
                times, cpus, _, _ = out[label]
                out[label] = ([*times, wall], [*cpus, cpu], len(written),
                              sum(p.stat().st_size for p in written))
    return out


def copy_working_tree(into: Path) -> Path:
    """The working tree's dsgen/ and blueprints/, copied like a revision is exported: a
    tree run from its checkout is not comparable (it ran ~10 % faster than the same commit
    exported, in one run on this machine)."""
    for part in ("dsgen", "blueprints"):
        shutil.copytree(HERE.parent / part, into / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return into


def export(rev: str, into: Path) -> Path:
    """dsgen's package and blueprints as they were at `rev`, in a folder of their own."""
    tree = into / rev.replace("/", "_")
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev, "dsgen", "blueprints"], cwd=HERE.parent,
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rev", action="append", default=[],
                        help="also measure dsgen at this git revision (repeatable)")
    parser.add_argument("specs", nargs="*", type=Path)
    args = parser.parse_args()
    cases: list[tuple[str, Path | None]] = [("starter", None),
                                            ("six_screens", HERE / "six_screens.yml")]
    cases += [(p.stem, p) for p in args.specs]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {rev: export(rev, Path(tmp) / "revs") for rev in args.rev}
        trees["working tree"] = copy_working_tree(Path(tmp) / "work") if args.rev \
            else HERE.parent
        for tree in trees.values():  # fills the Datastar cache, warms each tree's bytecode
            one_run(None, Path(tmp) / "warm", tree)
            shutil.rmtree(Path(tmp) / "warm")
        print(f"{'spec':<16} {'dsgen':<14} {'wall median s':>13} {'min s':>6} {'max s':>6} "
              f"{'CPU median s':>13} {'files':>6} {'KiB':>6}")
        for name, spec in cases:
            for label, (times, cpus, files, size) in measure(spec, args.runs, trees).items():
                print(f"{name:<16} {label:<14} {statistics.median(times):>13.3f} "
                      f"{min(times):>6.3f} {max(times):>6.3f} {statistics.median(cpus):>13.3f} "
                      f"{files:>6} {size / 1024:>6.0f}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
