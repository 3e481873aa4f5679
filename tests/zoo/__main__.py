"""`python -m tests.zoo run --seed S --n N [--browser K] [--jobs J]`: the spec zoo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.zoo")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="generate N random valid specs and run each project")
    run.add_argument("--seed", type=int, required=True)
    run.add_argument("--n", type=int, default=10, help="how many specs")
    run.add_argument("--start", type=int, default=0, help="index of the first spec")
    run.add_argument("--only", type=int, default=None, help="replay spec number ONLY")
    run.add_argument("--browser", type=int, default=0,
                     help="run the browser tests of the first K projects too")
    run.add_argument("--jobs", type=int, default=1)
    run.add_argument("--dir", type=Path, default=None, help="where projects are generated")
    run.add_argument("--keep", action="store_true", help="keep passing projects too")
    run.add_argument("--no-shrink", action="store_true")
    run.add_argument("--avoid-open", action="store_true",
                     help="do not generate the features of specgen.OPEN_DEFECTS (as CI)")
    run.add_argument("--lint-only", action="store_true", help="render and lint only")
    run.add_argument("--no-save", action="store_true", help="do not write regressions/")
    show = sub.add_parser("show", help="print spec number INDEX of seed SEED")
    show.add_argument("--seed", type=int, required=True)
    show.add_argument("--only", type=int, required=True)
    regress = sub.add_parser("regress", help="run saved specs of tests/zoo/regressions/")
    regress.add_argument("names", nargs="*", help="file names (default: all)")
    args = parser.parse_args(argv)
    if args.command == "regress":
        import tempfile

        from tests.zoo.runner import regression_specs, run_regression, shared_venv

        paths = [p for p in regression_specs() if not args.names or p.name in args.names]
        failed = 0
        with tempfile.TemporaryDirectory(prefix="dsgen-zoo-") as tmp:
            for path in paths:
                result = run_regression(path, Path(tmp), shared_venv())
                print(f"{path.name}: {'ok' if result.ok else 'FAIL ' + result.kind}", flush=True)
                if not result.ok:
                    failed += 1
                    print(result.detail[-4000:])
        return 1 if failed else 0
    if args.command == "show":
        from tests.zoo.specgen import random_spec, to_yaml

        sys.stdout.write(to_yaml(random_spec(args.seed, args.only)))
        return 0
    from tests.zoo.runner import run as run_zoo

    results = run_zoo(args.seed, args.n, start=args.start, browser=args.browser,
                      jobs=args.jobs, only=args.only, workdir=args.dir, keep=args.keep,
                      shrink=not args.no_shrink, save=not args.no_save,
                      lint_only=args.lint_only, avoid_open=args.avoid_open)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
