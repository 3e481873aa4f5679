"""Wall time of `dsgen new` (a fresh process each run, as a user runs it), plus output size.

    python bench/new_bench.py [--runs 7] [SPEC ...]

Prints, per spec: median / min / max seconds, the number of files written and their size.
The Datastar bundle comes from dsgen's cache (fetched once), so runs measure dsgen itself.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def one_run(spec: Path | None, dest: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `dsgen new` process. CPU time is the steadier
    figure on a shared machine: it does not grow when other processes take the cores."""
    cmd = [sys.executable, "-m", "dsgen", "new", "bench", "--dir", str(dest)]
    if spec is not None:
        cmd += ["--spec", str(spec)]
    cpu = _child_cpu()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start, _child_cpu() - cpu


def measure(spec: Path | None, runs: int) -> tuple[list[float], list[float], int, int]:
    times, cpus = [], []
    files = size = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            dest = Path(tmp) / "bench"
            wall, cpu = one_run(spec, dest)
            times.append(wall)
            cpus.append(cpu)
            written = [p for p in dest.rglob("*") if p.is_file() and ".dsgen" not in p.parts]
            files, size = len(written), sum(p.stat().st_size for p in written)
    return times, cpus, files, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("specs", nargs="*", type=Path)
    args = parser.parse_args()
    cases: list[tuple[str, Path | None]] = [("starter", None),
                                            ("six_screens", HERE / "six_screens.yml")]
    cases += [(p.stem, p) for p in args.specs]
    with tempfile.TemporaryDirectory() as tmp:
        one_run(None, Path(tmp) / "warm")  # fills the Datastar cache (and is removed)
    print(f"{'spec':<16} {'wall median s':>13} {'min s':>6} {'max s':>6} {'CPU median s':>13} "
          f"{'files':>6} {'KiB':>6}")
    for name, spec in cases:
        times, cpus, files, size = measure(spec, args.runs)
        print(f"{name:<16} {statistics.median(times):>13.3f} {min(times):>6.3f} "
              f"{max(times):>6.3f} {statistics.median(cpus):>13.3f} {files:>6} {size / 1024:>6.0f}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
