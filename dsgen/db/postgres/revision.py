"""The Alembic revision file dsgen writes: ops up, ops reversed down, and the state."""

from __future__ import annotations

import re
from typing import Any

from dsgen.db.postgres.history import STATE_CONSTANT
from dsgen.db.postgres.ops import Op
from dsgen.db.postgres.pysrc import WIDTH, Call, Raw, fmt, json_lines, py_str


def slugify(text: str, limit: int = 48) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("_", 1)[0] or slug[:limit]
    return slug or "migration"


def default_message(ops: list[Op], first: bool) -> str:
    if first:
        return "initial"
    phrases: list[str] = []
    for op in ops:
        phrase = op.phrase()
        if phrase is not None and phrase not in phrases:
            phrases.append(phrase)
    if not phrases:
        return f"update {ops[0].table}"
    if len(phrases) > 3:
        return ", ".join(phrases[:3]) + " and more"
    return ", ".join(phrases)


def _statements(node: Any) -> list[str]:
    if isinstance(node, Raw):
        return [f"    {node}"]
    return fmt(node, 4)


def _body(blocks: list[list[Any]]) -> list[str]:
    """Statements of each op; a table creation is set off by blank lines, like a paragraph."""
    out: list[str] = []
    previous_table = False
    for block in blocks:
        table = any(isinstance(node, Call) and node.func == "op.create_table" for node in block)
        if out and (table or previous_table):
            out.append("")
        out += [ln for node in block for ln in _statements(node)]
        previous_table = table
    return out or ["    pass"]


def render_state(state: dict) -> str:
    """The state as deterministic JSON (sorted keys, ASCII only)."""
    return "\n".join(json_lines(state, 0))


def render_revision(ops: list[Op], state: dict, *, revision: str, down_revision: str | None,
                    message: str) -> str:
    """The Alembic revision file: ops up, ops reversed down, and the state it leads to."""
    up = _body([op.up() for op in ops])
    down = _body([op.down() for op in reversed(ops)])
    state_text = render_state(state)
    uses_pg = any("postgresql." in ln for ln in up + down)
    title = " ".join(message.split())
    title = title[:1].upper() + title[1:]
    if len(title) > WIDTH - 3:
        title = title[: WIDTH - 6].rstrip() + "..."
    title = title.replace("\\", "/").replace('"""', "'''")
    head = [
        f'"""{title}',
        "",
        f"Revision ID: {revision}",
        f"Revises: {down_revision or '(none)'}",
        "",
        "Written by `dsgen db` from dsgen.yaml. Edit freely; dsgen reads only the",
        f"{STATE_CONSTANT} below, which records the schema these migrations lead to.",
        '"""',
    ]
    if any(len(ln) > WIDTH for ln in state_text.splitlines()):
        # A long constant (an enum value, a default) in the recorded state cannot be wrapped.
        head = ["# ruff: noqa: E501", *head]
    lines = [
        *head,
        "",
        "from collections.abc import Sequence",
        "",
        *(["import sqlalchemy as sa"] if any("sa." in ln for ln in up + down) else []),
        "from alembic import op",
        *(["from sqlalchemy.dialects import postgresql"] if uses_pg else []),
        "",
        f"revision: str = {py_str(revision)}",
        f"down_revision: str | None = {py_str(down_revision) if down_revision else 'None'}",
        "branch_labels: str | Sequence[str] | None = None",
        "depends_on: str | Sequence[str] | None = None",
        "",
        "",
        "def upgrade() -> None:",
        *up,
        "",
        "",
        "def downgrade() -> None:",
        *down,
        "",
        "",
        "# The schema after this revision, as dsgen records it: `dsgen db` diffs dsgen.yaml",
        "# against the head revision's copy to write the next revision.",
        f'{STATE_CONSTANT} = r"""',
        state_text,
        '"""',
    ]
    return "\n".join(lines) + "\n"
