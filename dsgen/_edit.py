"""Edits to a user's dsgen.yaml that keep every other byte of it (comments, order, style).

ruamel parses the file to find where a section ends; the new entry is dumped on its own
and spliced in as text, so nothing else in the file is re-serialised.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from dsgen._errors import UsageError


def _dump_block(key: str, body: Any, indent: int) -> str:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = None   # block style outside, flow for short leaves
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    buf = io.StringIO()
    yaml.dump({key: body}, buf)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line
                   for line in buf.getvalue().splitlines(keepends=True))


def add_entry(text: str, section: str, key: str, body: Any) -> str:
    """Return `text` with `key: body` added at the end of the top-level `section` mapping.

    Creates the section at the end of the file when it is missing.
    """
    root = YAML(typ="rt").load(text)
    if not isinstance(root, CommentedMap):
        raise UsageError("dsgen.yaml is not a mapping; fix it first ('dsgen check')")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    node = root.get(section)
    if section not in root or node is None:
        if section in root:   # `section:` with nothing under it
            line = root.lc.key(section)[0]
            lines[line] = f"{section}:\n"
            return "".join(lines[: line + 1]) + _dump_block(key, body, 2) + "".join(
                lines[line + 1:])
        return "".join(lines) + f"\n{section}:\n" + _dump_block(key, body, 2)
    if not isinstance(node, CommentedMap):
        raise UsageError(f"'{section}' in dsgen.yaml is not a mapping; fix it first")
    if key in node:
        raise UsageError(f"'{section}.{key}' exists already in dsgen.yaml",)
    if node.fa.flow_style() or not node:
        raise UsageError(f"'{section}' is written in flow style ({{...}}); write it as a "
                         "block mapping to let dsgen add to it")
    indent = node.lc.key(next(iter(node)))[1]
    keys = list(root)
    after = keys[keys.index(section) + 1:]
    if after:
        end = root.lc.key(after[0])[0]
        # Comments and blank lines just above the next section belong to it.
        while end > 0 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
    else:
        end = len(lines)
        while end > 0 and not lines[end - 1].strip():
            end -= 1
    return "".join(lines[:end]) + _dump_block(key, body, indent) + "".join(lines[end:])
