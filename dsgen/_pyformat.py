"""Generated Python within the generated project's line length, whatever the names.

Names reach up to PostgreSQL's 63 bytes, so a template line that holds two or three of them
(`await <store>_store.get(conn, …) if … else None`) can pass the project's 100 columns. Such
statements, and only those, are formatted at render time by ruff's formatter (`--range`: the
statement around one long line), so the output stays what the templates place for ordinary
names and the pristine copy is the formatted text (three-way merges see the same bytes on
every render). Whole-file formatting was tried and rejected: it re-indents statements that
fit, and can push a long string literal past the limit that way.

A formatter leaves prose alone: a comment or docstring line naming a long store (its plural,
its model's attribute chain) is wrapped first, at spaces, keeping its indent (`wrap_prose`).
Nor can it split a string constant, move a trailing comment or parenthesise a dict value:
those long lines are rewritten first (`_rescue`). No other line is touched.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import textwrap
import tokenize

LINE_LENGTH = 100   # the generated project's ruff line-length
# Where the generated project's ruff ignores E501 (its pyproject.toml's per-file-ignores):
# tests quote titles and labels, stores keep SQL and model lines unwrapped.
EXEMPT = ("tests/", "migrations/", "app/stores/")


def long_lines(text: str) -> list[int]:
    """1-based numbers of the lines longer than LINE_LENGTH characters."""
    return [n for n, line in enumerate(text.splitlines(), 1) if len(line) > LINE_LENGTH]


def _prose_lines(text: str, long: set[int]) -> dict[int, str]:
    """Of the lines `long`, those that are prose: {line number: "#" for a comment alone on
    its line, '"' for a line of a docstring (a triple-quoted string that is a statement)}."""
    lines = text.splitlines()
    found: dict[int, str] = {}
    skip = {tokenize.NL, tokenize.COMMENT, tokenize.ENCODING}
    starts = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, None}
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    code = [t for t in tokens if t.type not in skip]
    for i, tok in enumerate(code):
        if tok.type != tokenize.STRING or not tok.string.startswith(('"""', "'''")):
            continue
        before = code[i - 1].type if i else None
        after = code[i + 1].type if i + 1 < len(code) else None
        if before in starts and after in (tokenize.NEWLINE, tokenize.ENDMARKER):
            found.update({n: '"' for n in range(tok.start[0], tok.end[0] + 1) if n in long})
    for tok in tokens:
        n = tok.start[0]
        if tok.type == tokenize.COMMENT and n in long and not lines[n - 1][:tok.start[1]].strip():
            found[n] = "#"
    return found


def wrap_prose(text: str) -> str:
    """`text` with its long comment and docstring lines wrapped at spaces, keeping their
    indent (a word longer than the line stays whole); every other line as it was."""
    long = set(long_lines(text))
    if not long:
        return text
    try:
        prose = _prose_lines(text, long)
    except (tokenize.TokenError, SyntaxError):
        return text     # not Python: the project's own lint reports it
    if not prose:
        return text
    out = []
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        kind = prose.get(n)
        if kind is None:
            out.append(line)
            continue
        body = line.rstrip("\r\n")
        indent = body[:len(body) - len(body.lstrip())]
        lead = indent + "# " if kind == "#" else indent
        words = body.strip()[1:].strip() if kind == "#" else body.strip()
        pieces = textwrap.wrap(words, width=LINE_LENGTH - len(lead), break_long_words=False,
                               break_on_hyphens=False)
        out.append("".join(lead + piece + "\n" for piece in pieces))
        if not line.endswith("\n"):
            out[-1] = out[-1][:-1]
    return "".join(out)


def fit_lines(text: str, path: str) -> str:
    """`text` (the Python file `path`) with its long prose lines wrapped and every statement
    holding a long line formatted, after the lines no formatter can split are rewritten the
    way a person would (`_rescue`). Unchanged when no line is long. Deterministic for a given
    ruff version."""
    if path.startswith(EXEMPT) or not long_lines(text):
        return text
    return _ruff_fit(_rescue(wrap_prose(text)), path)


def _ruff_fit(text: str, path: str) -> str:
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


_STRING = r'"(?:[^"\\\n]|\\.)*"'
# `NAME = "…"` / `NAME: str = "…"`: a constant holding a plain string.
_CONSTANT = re.compile(rf"^(\s*)([A-Za-z_]\w*(?:: [\w |]+)? = )({_STRING})$")
# `"key": value,` in a dict display: the value can be parenthesised, then ruff splits it.
_ENTRY = re.compile(rf"^(\s+)({_STRING}: )(?!\()(.+),$")


_PRAGMA = re.compile(r"#\s*(noqa|type:|pragma|ruff:|fmt:)")


def _rescue(text: str) -> str:
    """The long lines no formatter can split, rewritten: a trailing comment moves above its
    line, a string constant becomes parenthesised implicit concatenation (split at spaces),
    a dict value gets parentheses (for ruff to split it)."""
    long = set(long_lines(text))
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    trailing = {t.start[0]: t.start[1] for t in tokens
                if t.type == tokenize.COMMENT and t.start[0] in long}
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    for n, line in enumerate(lines, 1):
        body = line.rstrip("\r\n")
        end = line[len(body):]
        indent = body[:len(body) - len(body.lstrip())]
        column = trailing.get(n)
        if n not in long:
            out.append(line)
        elif column is not None and body[:column].strip() and not _PRAGMA.match(body[column:]) and \
                not (out and out[-1].rstrip("\r\n").endswith("\\")):
            lead = indent + "# "
            words = body[column:].lstrip("#").strip()
            out.extend(lead + piece + "\n" for piece in textwrap.wrap(
                words, width=LINE_LENGTH - len(lead), break_long_words=False,
                break_on_hyphens=False))
            out.append(body[:column].rstrip() + end)
        elif (constant := _CONSTANT.match(body)) is not None and "\\N{" not in body:
            pad, head, literal = constant.groups()
            chunks = _string_chunks(literal[1:-1], LINE_LENGTH - len(pad) - 6)
            out.append(f"{pad}{head}(\n")
            out.extend(f'{pad}    "{chunk}"\n' for chunk in chunks)
            out.append(f"{pad}){end}")
        elif (entry := _ENTRY.match(body)) is not None and _is_expression(entry.group(3)):
            pad, key, value = entry.groups()
            out.append(f"{pad}{key}({value}),{end}")
        else:
            out.append(line)
    return "".join(out)


def _is_expression(code: str) -> bool:
    try:
        ast.parse(f"({code})", mode="eval")
    except SyntaxError:
        return False
    return True


def _string_chunks(content: str, width: int) -> list[str]:
    """The body of a plain string literal cut after spaces into pieces of at most `width`
    characters (a word longer stays whole); never after a backslash, which would escape
    the closing quote."""
    chunks: list[str] = []
    current = ""
    for word in re.findall(r"[^ ]* ?|[^ ]+", content):
        if not word:
            continue
        if current and len(current) + len(word) > width and not current.rstrip(" ").endswith("\\"):
            chunks.append(current)
            current = ""
        current += word
    return [*chunks, current] if current else chunks
