"""All terminal output: statuses and diagnostics on stderr, machine output on stdout."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from dsgen._errors import Diagnostic
from dsgen._write import Action, FileResult

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)

_STYLE = {
    Action.CREATE: "green", Action.UPDATE: "cyan", Action.MERGE: "magenta",
    Action.CONFLICT: "bold red", Action.UNMANAGED: "bold red", Action.REMOVE: "yellow",
    Action.ORPHAN: "yellow", Action.KEEP: "dim", Action.DELETED: "dim",
    Action.IDENTICAL: "dim",
}


def diagnostics(items: list[Diagnostic], *, source: str | None = None,
                note: str | None = None) -> None:
    """Each problem as `file:line:col path: message (hint)`, with the line and a caret.

    `source` is the text the locations point into when it is not the file on disk."""
    for d in items:
        where = f"{d.location}: " if d.location else ""
        err.print(f"[bold red]error[/] [bold]{where}[/]{d.path + ': ' if d.path else ''}"
                  f"{_escape(d.message)}")
        if d.location is not None:
            line = _source_line(d.location.file, d.location.line, source)
            if line is not None:
                err.print(f"  [dim]{d.location.line:>4} |[/] {_escape(line)}")
                err.print(f"  [dim]     |[/] {' ' * (d.location.col - 1)}[red]^[/]")
        if d.hint:
            err.print(f"  [cyan]hint:[/] {_escape(d.hint)}")
    count = len(items)
    err.print(f"[bold red]{count} error{'s' if count != 1 else ''}[/] in the spec; "
              "nothing was written.")
    if note:
        err.print(f"[cyan]hint:[/] {_escape(note)}")


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


def _source_line(file: Path, line: int, source: str | None = None) -> str | None:
    try:
        text = source if source is not None else file.read_text(encoding="utf-8")
        return text.splitlines()[line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def summary(results: list[FileResult], *, verb: str = "wrote") -> None:
    counts: dict[Action, int] = {}
    for r in results:
        counts[r.action] = counts.get(r.action, 0) + 1
    parts = [f"[{_STYLE[a]}]{n} {a.value}[/]" for a, n in sorted(
        counts.items(), key=lambda kv: list(Action).index(kv[0]))]
    err.print(f"{verb}: " + ", ".join(parts))
    for r in results:
        if r.action in (Action.MERGE, Action.CONFLICT, Action.UNMANAGED, Action.ORPHAN,
                        Action.REMOVE, Action.KEEP):
            note = {
                Action.MERGE: "your edits merged with the new render",
                Action.CONFLICT: f"{r.conflicts} conflict(s) with your edits",
                Action.UNMANAGED: "exists and was not written by dsgen: left alone",
                Action.ORPHAN: "no longer generated; you edited it, so it was kept",
                Action.REMOVE: "no longer generated",
                Action.KEEP: "you edited it; dsgen has nothing new for it",
            }[r.action]
            err.print(f"  [{_STYLE[r.action]}]{r.action.value:>10}[/] {r.path}  [dim]{note}[/]")


def unified_diff(results: list[FileResult]) -> str:
    chunks = []
    for r in results:
        if not r.action.changes_disk and r.action is not Action.UNMANAGED:
            continue
        before, after = r.before, r.after if r.action is not Action.UNMANAGED else r.rendered
        if _binary(before) or _binary(after):
            chunks.append(f"Binary file {r.path} ({r.action.value}, "
                          f"{len(after or b'')} bytes)\n")
            continue
        a = (before or b"").decode().splitlines(keepends=True)
        b = (after or b"").decode().splitlines(keepends=True)
        chunks.append("".join(difflib.unified_diff(
            a, b, fromfile=f"a/{r.path}" if before is not None else "/dev/null",
            tofile=f"b/{r.path}" if after is not None else "/dev/null")))
    return "".join(chunks)


def _binary(data: bytes | None) -> bool:
    if data is None:
        return False
    if b"\0" in data[:8000]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def show_diff(results: list[FileResult]) -> None:
    text = unified_diff(results)
    if not text:
        err.print("[dim]no changes[/]")
        return
    if out.is_terminal:
        from rich.syntax import Syntax  # pygments: only a dry run shows diffs

        out.print(Syntax(text, "diff", theme="ansi_dark", word_wrap=False))
    else:
        sys.stdout.write(text)


def results_json(results: list[FileResult], **extra) -> None:
    data = {a.value: [r.path for r in results if r.action is a] for a in Action}
    data.update(extra)
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def next_steps(project: Path, cwd: Path) -> None:
    try:
        where = project.relative_to(cwd)
    except ValueError:
        where = project
    body = (f"[bold]cd {where}[/]\n"
            "[bold]make dev[/]    [dim]# venv, embedded PostgreSQL 18, migrations, CSS, "
            "server on http://127.0.0.1:8000[/]\n"
            "[bold]make test[/]   [dim]# ruff, API tests and browser tests (headless "
            "Chromium)[/]")
    err.print(Panel(body, title="next steps", expand=False))


def blueprint_table(rows: list[tuple[str, str, str]]) -> None:
    from rich.table import Table

    table = Table("pattern", "store", "summary", box=None, pad_edge=False)
    for row in rows:
        table.add_row(*row)
    out.print(table)
