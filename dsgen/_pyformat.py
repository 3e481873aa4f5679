"""Generated Python within the generated project's line length, whatever the names.

Names reach up to PostgreSQL's 63 bytes, so a template line that holds two or three of them
(`await <store>_store.get(conn, …) if … else None`) can pass the project's 100 columns. Such
statements, and only those, are formatted at render time by ruff's formatter (`--range`: the
statement around one long line), so the output stays what the templates place for ordinary
names and the pristine copy is the formatted text (three-way merges see the same bytes on
every render). Whole-file formatting was tried and rejected: it re-indents statements that
fit, and can push a long string literal past the limit that way.
"""

from __future__ import annotations

import subprocess

LINE_LENGTH = 100   # the generated project's ruff line-length
# Where the generated project's ruff ignores E501 (its pyproject.toml's per-file-ignores):
# tests quote titles and labels, stores keep SQL and model lines unwrapped.
EXEMPT = ("tests/", "migrations/", "app/stores/")


def long_lines(text: str) -> list[int]:
    """1-based numbers of the lines longer than LINE_LENGTH characters."""
    return [n for n, line in enumerate(text.splitlines(), 1) if len(line) > LINE_LENGTH]


def fit_lines(text: str, path: str) -> str:
    """`text` (the Python file `path`) with every statement holding a long line formatted;
    unchanged when no line is long. Deterministic for a given ruff version."""
    if path.startswith(EXEMPT) or not long_lines(text):
        return text
    from ruff.__main__ import find_ruff_bin

    ruff = find_ruff_bin()
    tried: set[tuple[int, str]] = set()   # a statement ruff cannot fit is left as it is
    while True:
        lines = text.splitlines()
        todo = [n for n in long_lines(text) if (n, lines[n - 1]) not in tried]
        if not todo:
            return text
        n = todo[-1]        # bottom-up: the lines above keep their numbers
        tried.add((n, lines[n - 1]))
        done = subprocess.run(
            [ruff, "format", "--isolated", f"--line-length={LINE_LENGTH}", f"--range={n}-{n + 1}",
             f"--stdin-filename={path}", "-"],
            input=text, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            text = done.stdout
