"""The tree screens' runtime: the queries of a tree kept in one table, levels of nodes as
the templates see them, and the script a live tree applies its patches with.

Nothing here depends on the spec: a tree screen (app/screens/) names its table, parent
column and label column (`TreeTable`) and hands what the queries return to its templates.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from app.core.forms import parse_id

Conn = AsyncConnection[DictRow]
Row = dict[str, Any]
MAX_OPEN = 200  # open nodes the client may ask to keep open across a re-render


# The tree as the templates see it: levels of nodes; an open node carries its children.


@dataclass
class Level:
    key: str  # the parent's id, or "root"
    depth: int  # aria-level of its nodes (1 = top)
    nodes: list[Row]
    more_after: str | None = None  # set when the level has more rows after this id


@dataclass
class Tree:
    root: Level
    open_ids: list[str] = field(default_factory=list)  # the nodes rendered open
    focus_id: str = ""  # the node that takes Tab focus (roving tabindex)


# Loads the nodes under a parent (None: the top level) at a depth (1 = top), far enough
# down to include the node `through` (a keyword argument; None: the first page).
LoadLevel = Callable[..., Awaitable[Level]]


async def build_tree(
    load_level: LoadLevel,
    open_ids: list[UUID],
    target: UUID | None = None,
    path: list[UUID] | None = None,
) -> Tree:
    """Render-ready tree: the top level, and the children of every open node that shows.

    `path` (the ancestors of `target`, top first) is opened, and each level on the way is
    shown far enough down to include the next node, so `target` is always in view.
    """
    path = path or []
    wanted = set(open_ids) | set(path)
    through = dict(zip([None, *path], [*path, target], strict=True)) if target else {}
    selected_id = str(target) if target else ""
    tree = Tree(root=await load_level(None, 1, through=through.get(None)))
    pending = [tree.root]
    while pending:
        level = pending.pop()
        for node in level.nodes:
            node_id = node["id"]
            if node["has_children"] and node_id in wanted:
                node["children"] = await load_level(
                    node_id, level.depth + 1, through=through.get(node_id)
                )
                tree.open_ids.append(str(node_id))
                pending.append(node["children"])
    shown = {str(n["id"]) for n in walk(tree.root)}
    first = str(tree.root.nodes[0]["id"]) if tree.root.nodes else ""
    tree.focus_id = selected_id if selected_id in shown else first
    return tree


def label_text(value: Any) -> str:
    """How a node's label reads in titles and messages (it may be empty)."""
    return "Untitled" if value is None or value == "" else str(value)


class MoveError(Exception):
    """A move the tree cannot take; the message is shown to the user."""


# SQL: parameterised; identifiers are quoted by psycopg (`sql.Identifier`). Siblings sort by
# label, then id; the same key drives keyset pagination ("the rows after this id").

_NODE_COLUMNS = """
    t."id", t.{parent} AS "parent", t.{label} AS "label",
    EXISTS (SELECT 1 FROM {table} AS c WHERE c.{parent} = t."id") AS "has_children"
"""
_SORT_KEY = """(COALESCE(t.{label}::text, ''), t."id")"""
_KEYSET = """
    AND (COALESCE(t.{label}::text, ''), t."id") > (
        SELECT COALESCE(a.{label}::text, ''), a."id" FROM {table} AS a WHERE a."id" = %(after)s)
"""
# A node and everything below it (CYCLE: terminates even on a cycle already in the data).
_SUBTREE = """
    WITH RECURSIVE sub AS (
        SELECT t."id" FROM {table} AS t WHERE t."id" = %(id)s
        UNION ALL
        SELECT c."id" FROM {table} AS c JOIN sub ON c.{parent} = sub."id"
    ) CYCLE "id" SET "is_cycle" USING "seen"
"""


@dataclass(frozen=True)
class TreeTable:
    """The queries of a tree kept in one table: each row names its parent in `parent` (a
    nullable ref to the same table; None: the top level) and is named and sorted by `label`.

    After an earlier query of the request, `conn.transaction()` is a savepoint in the
    request's transaction; the routes commit explicitly, so a change is durable before the
    SSE answer (which may reach the browser before the connection returns to the pool).
    """

    table: str
    parent: str  # the parent ref's column
    label: str  # the label's column
    noun: str  # what a node is called in messages
    page_size: int  # children per level page
    max_depth: int = 1000  # guards the recursive queries against a cycle already in the data
    move_limit: int = 500  # parents offered by the move form

    def _sql(self, query: str, **parts: str) -> sql.Composed:
        """`query` with its {table}, {parent} and {label} quoted, and the fragments `parts`
        (themselves SQL text with the same placeholders) in place."""
        names = {
            "table": sql.Identifier(self.table),
            "parent": sql.Identifier(self.parent),
            "label": sql.Identifier(self.label),
        }
        fragments = {key: sql.SQL(text).format(**names) for key, text in parts.items()}
        return sql.SQL(query).format(**names, **fragments)

    def _siblings(self, parent: UUID | None) -> str:
        return "t.{parent} IS NULL" if parent is None else "t.{parent} = %(parent)s"

    async def _level_rows(
        self, conn: Conn, parent: UUID | None, *, after: UUID | None, limit: int
    ) -> list[Row]:
        """Up to `limit` + 1 children of `parent`, after the node `after`."""
        query = self._sql(
            """
            SELECT {columns} FROM {table} AS t
            WHERE {siblings} {keyset}
            ORDER BY {sort_key}
            LIMIT %(limit)s
            """,
            columns=_NODE_COLUMNS, siblings=self._siblings(parent), sort_key=_SORT_KEY,
            keyset=_KEYSET if after is not None else "",
        )
        cur = await conn.execute(query, {"parent": parent, "after": after, "limit": limit + 1})
        return await cur.fetchall()

    async def _position(self, conn: Conn, parent: UUID | None, node_id: UUID) -> int:
        """How many siblings sort before `node_id` (to show a deep-linked node's level)."""
        query = self._sql(
            """
            SELECT count(*) AS "n" FROM {table} AS t, {table} AS x
            WHERE x."id" = %(id)s AND {siblings}
              AND {sort_key} < (COALESCE(x.{label}::text, ''), x."id")
            """,
            siblings=self._siblings(parent), sort_key=_SORT_KEY,
        )
        cur = await conn.execute(query, {"parent": parent, "id": node_id})
        row = await cur.fetchone()
        return int(row["n"]) if row else 0

    async def level(
        self, conn: Conn, parent: UUID | None, depth: int, *, after: UUID | None = None,
        through: UUID | None = None,
    ) -> Level:
        """One page of the children of `parent` (None: the top level) at `depth` (1 = top):
        after the node `after`, or from the first, far enough down to show `through`."""
        limit = self.page_size
        if through is not None:  # a deep link: show the level at least down to that node
            limit = max(limit, await self._position(conn, parent, through) + 1)
        rows = await self._level_rows(conn, parent, after=after, limit=limit)
        more = len(rows) > limit
        rows = rows[:limit]
        return Level(
            key=str(parent) if parent else "root",
            depth=depth,
            nodes=rows,
            more_after=str(rows[-1]["id"]) if more else None,
        )

    async def tree(
        self, conn: Conn, open_ids: list[UUID], target: UUID | None = None,
        path: list[UUID] | None = None,
    ) -> Tree:
        """The tree with these nodes open, showing `target` (see `build_tree`)."""

        async def load_level(parent: UUID | None, depth: int, *, through: UUID | None) -> Level:
            return await self.level(conn, parent, depth, through=through)

        return await build_tree(load_level, open_ids, target, path)

    async def ancestors(self, conn: Conn, node_id: UUID) -> list[Row]:
        """The path from the top level down to `node_id`'s parent: id and label of each."""
        query = self._sql(
            """
            WITH RECURSIVE up AS (
                SELECT t."id", t.{parent} AS "parent", t.{label} AS "label", 0 AS "depth"
                FROM {table} AS t
                WHERE t."id" = %(id)s
                UNION ALL
                SELECT p."id", p.{parent}, p.{label}, up."depth" + 1
                FROM {table} AS p
                JOIN up ON p."id" = up."parent"
                WHERE up."depth" < %(max_depth)s
            ) CYCLE "id" SET "is_cycle" USING "seen"
            SELECT "id", "label" FROM up
            WHERE "depth" > 0 AND NOT "is_cycle"
            ORDER BY "depth" DESC
            """
        )
        cur = await conn.execute(query, {"id": node_id, "max_depth": self.max_depth})
        return await cur.fetchall()

    async def descendant_count(self, conn: Conn, node_id: UUID) -> int:
        query = self._sql('{subtree} SELECT count(DISTINCT "id") - 1 AS "n" FROM sub',
                          subtree=_SUBTREE)
        cur = await conn.execute(query, {"id": node_id})
        row = await cur.fetchone()
        return max(int(row["n"]), 0) if row else 0

    async def move_choices(self, conn: Conn, node_id: UUID) -> list[Row]:
        """Nodes `node_id` may move under (never itself or its own subtree), by path: up to
        `move_limit` + 1 (the extra one says there are more)."""
        query = self._sql(
            """
            WITH RECURSIVE paths AS (
                SELECT t."id", COALESCE(t.{label}::text, '') AS "path", 0 AS "depth"
                FROM {table} AS t
                WHERE t.{parent} IS NULL AND t."id" <> %(id)s
                UNION ALL
                SELECT c."id", paths."path" || ' / ' || COALESCE(c.{label}::text, ''),
                       paths."depth" + 1
                FROM {table} AS c
                JOIN paths ON c.{parent} = paths."id"
                WHERE c."id" <> %(id)s AND paths."depth" < %(max_depth)s
            )
            SELECT "id", "path" FROM paths ORDER BY "path", "id" LIMIT %(limit)s
            """
        )
        params = {"id": node_id, "max_depth": self.max_depth, "limit": self.move_limit + 1}
        cur = await conn.execute(query, params)
        return await cur.fetchall()

    async def rename(self, conn: Conn, node_id: UUID, label: Any) -> None:
        """Write the label column only (the rest of the record stays exactly as stored)."""
        query = self._sql(
            'UPDATE {table} SET {label} = %(label)s, "updated_at" = now() WHERE "id" = %(id)s'
        )
        async with conn.transaction():  # a failed write rolls back only itself
            await conn.execute(query, {"id": node_id, "label": label})

    async def move(self, conn: Conn, node_id: UUID, target: UUID | None) -> None:
        """Give `node_id` a new parent (None: the top level), refusing cycles (MoveError).
        Moves of one table run one at a time, so two concurrent moves cannot build a cycle."""
        gone = MoveError(f"That {self.noun} no longer exists.")
        if target == node_id:
            raise MoveError(f"A {self.noun} cannot be its own parent.")
        async with conn.transaction():
            lock = f"dsgen-tree:{self.table}"
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(lock)s))", {"lock": lock})
            if target is not None:
                query = self._sql(
                    """{subtree}
                    SELECT EXISTS (SELECT 1 FROM sub WHERE "id" = %(target)s) AS "inside",
                           EXISTS (SELECT 1 FROM {table} WHERE "id" = %(target)s) AS "exists"
                    """,
                    subtree=_SUBTREE,
                )
                cur = await conn.execute(query, {"id": node_id, "target": target})
                row = await cur.fetchone()
                assert row is not None
                if not row["exists"]:
                    raise gone
                if row["inside"]:
                    raise MoveError(f"A {self.noun} cannot move inside its own subtree.")
            query = self._sql(
                'UPDATE {table} SET {parent} = %(target)s, "updated_at" = now()'
                ' WHERE "id" = %(id)s'
            )
            cur = await conn.execute(query, {"id": node_id, "target": target})
            if cur.rowcount != 1:
                raise gone

    async def delete_subtree(self, conn: Conn, node_id: UUID) -> tuple[str, int] | None:
        """Delete a node and everything below it; its label and how many rows went, or None."""
        query = self._sql(
            """{subtree}
            DELETE FROM {table} AS t
            USING (SELECT DISTINCT "id" FROM sub) AS doomed
            WHERE t."id" = doomed."id"
            RETURNING t."id", t.{label} AS "label"
            """,
            subtree=_SUBTREE,
        )
        async with conn.transaction():
            cur = await conn.execute(query, {"id": node_id})
            rows = await cur.fetchall()
        label = next((r["label"] for r in rows if r["id"] == node_id), None)
        return None if not rows else (label_text(label), len(rows))

    async def placements(self, conn: Conn, ids: list[UUID]) -> list[Row]:
        """Each node of `ids` as the tree shows it, with the sibling it now follows (`after`,
        None: first of its level), in tree order within each level (a live tree's frames)."""
        query = self._sql(
            """
            SELECT {columns},
                (SELECT p."id"
                 FROM {table} AS p
                 WHERE (p.{parent} = t.{parent} OR (p.{parent} IS NULL AND t.{parent} IS NULL))
                   AND (COALESCE(p.{label}::text, ''), p."id") < {sort_key}
                 ORDER BY COALESCE(p.{label}::text, '') DESC, p."id" DESC
                 LIMIT 1) AS "after"
            FROM {table} AS t
            WHERE t."id" = ANY(%(ids)s)
            ORDER BY {sort_key}
            """,
            columns=_NODE_COLUMNS, sort_key=_SORT_KEY,
        )
        cur = await conn.execute(query, {"ids": ids})
        return await cur.fetchall()


def walk(level: Level) -> list[Row]:
    rows = []
    for node in level.nodes:
        rows.append(node)
        if node.get("children"):
            rows.extend(walk(node["children"]))
    return rows


def requested_open(raw: str) -> list[UUID]:
    """The open node ids a client sent (comma-separated); junk is dropped, the rest capped."""
    ids = [parse_id(item) for item in raw.split(",")[:MAX_OPEN] if item]
    return [i for i in ids if i is not None]


# Applies a frame's <template>s (from _place.html, in #…-live-box) to this page's tree.
# Trusted, constant code: the data travels in the templates' escaped attributes.
_PLACE_SCRIPT = """(() => {
  const k = __K__;
  const byId = (what, id) => document.getElementById(`${k}-${what}-${id}`);
  const box = document.getElementById(`${k}-live-box`);
  for (const tpl of box ? [...box.children] : []) {
    tpl.remove();
    const d = tpl.dataset;
    const fresh = tpl.content.firstElementChild;
    if (d.parent) {
      // A node that has children now: it gets a toggle (row patch) and a group to open.
      const li = byId("node", d.parent);
      const group = fresh.querySelector(":scope > [role=group]");
      if (li && group && !li.querySelector(":scope > [role=group]")) {
        for (const name of ["aria-expanded", "data-attr:aria-expanded"]) {
          li.setAttribute(name, fresh.getAttribute(name));
        }
        li.append(group);
      }
      continue;
    }
    const old = byId("node", d.node);
    const group = byId("group", d.group);
    const anchor = d.after ? byId("node", d.after) : null;
    const fits = group?.dataset.loaded === "true"
      && (!d.after || anchor?.parentElement === group);
    if (!fits) { old?.remove(); continue; }  // not loaded here, or past what this page shows
    const ref = anchor ? anchor.nextElementSibling : group.firstElementChild;
    if (old && old.parentElement === group) {
      // Same level: move the element itself (children, open state and focus stay).
      if (ref !== old) {
        const focused = document.activeElement;
        if ("moveBefore" in group) group.moveBefore(old, ref); else group.insertBefore(old, ref);
        if (old.contains(focused) && document.activeElement !== focused) {
          focused.focus({preventScroll: true});
        }
      }
      continue;
    }
    const hadFocus = old?.contains(document.activeElement);
    old?.remove();
    group.insertBefore(fresh, ref === old ? null : ref);
    if (hadFocus) fresh.focus({preventScroll: true});
  }
})();"""


def place_script(prefix: str) -> str:
    """The script that applies a frame's placements to a page's tree, for the tree whose
    element ids start with `prefix`."""
    return _PLACE_SCRIPT.replace("__K__", json.dumps(prefix))
