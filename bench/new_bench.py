"""Wall time of `dsgen new` (a fresh process each run, as a user runs it), plus output size.

    python bench/new_bench.py [--runs 7] [SPEC ...]

Prints, per spec: median / min / max seconds, the number of files written and their size.
The Datastar bundle comes from dsgen's cache (fetched once), so runs measure dsgen itself.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_run(spec: Path | None, dest: Path) -> float:
    cmd = [sys.executable, "-m", "dsgen", "new", "bench", "--dir", str(dest)]
    if spec is not None:
        cmd += ["--spec", str(spec)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(spec: Path | None, runs: int) -> tuple[list[float], int, int]:
    times = []
    files = size = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            dest = Path(tmp) / "bench"
            times.append(one_run(spec, dest))
            written = [p for p in dest.rglob("*") if p.is_file() and ".dsgen" not in p.parts]
            files, size = len(written), sum(p.stat().st_size for p in written)
    return times, files, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("specs", nargs="*", type=Path)
    args = parser.parse_args()
    cases: list[tuple[str, Path | None]] = [("starter", None),
                                            ("six_screens", HERE / "six_screens.yml")]
    cases += [(p.stem, p) for p in args.specs]
    one_run(None, Path(tempfile.mkdtemp()) / "warm")  # fills the Datastar cache
    print(f"{'spec':<20} {'median s':>9} {'min s':>7} {'max s':>7} {'files':>6} {'KiB':>7}")
    for name, spec in cases:
        times, files, size = measure(spec, args.runs)
        print(f"{name:<20} {statistics.median(times):>9.3f} {min(times):>7.3f} "
              f"{max(times):>7.3f} {files:>6} {size / 1024:>7.0f}")


if __name__ == "__main__":
    main()
