"""Python source layout for generated revisions: literals, calls laid out black-style."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

WIDTH = 100  # the generated project's ruff line length


class Raw(str):
    """A Python expression, placed as is."""


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


def py_str(text: str) -> str:
    """A Python string literal: double quotes unless single ones need fewer escapes."""
    quote = "'" if '"' in text and "'" not in text else '"'
    out = []
    for ch in text:
        if ch == "\\" or ch == quote:
            out.append("\\" + ch)
        elif ord(ch) < 32 or ch == "\x7f":
            out.append(repr(ch)[1:-1])
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def _flat(node: Any) -> str:
    if isinstance(node, Raw):
        return str(node)
    if isinstance(node, str):
        return py_str(node)
    if isinstance(node, Call):
        parts = [_flat(a) for a in node.args] + [f"{k}={_flat(v)}" for k, v in node.kwargs]
        return f"{node.func}({', '.join(parts)})"
    if isinstance(node, (list, tuple)):
        return "[" + ", ".join(_flat(v) for v in node) + "]"
    if isinstance(node, dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in node.items()) + "}"
    return repr(node)


def _string_chunks(text: str, room: int) -> list[str]:
    """Split a string at spaces into literals of at most `room` characters each."""
    chunks, current = [], ""
    for word in re.findall(r"\S+\s*|\s+", text):
        if current and len(py_str(current + word)) > room:
            chunks.append(current)
            current = ""
        current += word
    chunks.append(current)
    return [py_str(c) for c in chunks]


def fmt(node: Any, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """Lay out a node black-style: on one line when it fits, else one argument per line."""
    pad = " " * indent
    line = f"{pad}{prefix}{_flat(node)}{suffix}"
    if len(line) <= WIDTH:
        return [line]
    if isinstance(node, Call):
        lines = [f"{pad}{prefix}{node.func}("]
        for arg in node.args:
            lines += fmt(arg, indent + 4, suffix=",")
        for key, value in node.kwargs:
            lines += fmt(value, indent + 4, prefix=f"{key}=", suffix=",")
        return lines + [f"{pad}){suffix}"]
    if isinstance(node, (list, tuple)) and node:
        lines = [f"{pad}{prefix}["]
        for value in node:
            lines += fmt(value, indent + 4, suffix=",")
        return lines + [f"{pad}]{suffix}"]
    if isinstance(node, str) and not isinstance(node, Raw) and not prefix:
        chunks = _string_chunks(node, WIDTH - indent - len(suffix))
        lines = [pad + c for c in chunks]
        lines[-1] += suffix
        return [ln if len(ln) <= WIDTH else ln + "  # noqa: E501" for ln in lines]
    return [line if len(line) <= WIDTH else line + "  # noqa: E501"]


def json_lines(value: Any, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """JSON laid out like the code: a value on one line when it fits, else expanded."""
    pad = " " * indent
    flat = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(", ", ": "))
    if len(pad + prefix + flat + suffix) <= WIDTH or not value or \
            not isinstance(value, (dict, list)):
        return [pad + prefix + flat + suffix]
    if isinstance(value, dict):
        items = sorted(value.items())
        lines = [pad + prefix + "{"]
        for i, (key, item) in enumerate(items):
            lines += json_lines(item, indent + 2, json.dumps(key) + ": ",
                                 "," if i < len(items) - 1 else "")
        return lines + [pad + "}" + suffix]
    lines = [pad + prefix + "["]
    for i, item in enumerate(value):
        lines += json_lines(item, indent + 2, "", "," if i < len(value) - 1 else "")
    return lines + [pad + "]" + suffix]
