"""The tree screens' runtime: levels of nodes as the templates see them, and the script a
live tree applies its patches with.

Nothing here depends on the spec: a tree screen (app/screens/) reads each level from its
own table (`load_level`) and hands the result to its templates.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from app.core.forms import parse_id

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
