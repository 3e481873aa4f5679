"""Realtime view of the tasks list: how changes to `tasks` become patches of the page.

This is the store-specific half of realtime (the generic half is `app.realtime`):
it knows the DOM ids (`#task-list`, `#task-<uuid>`), the row template and the counts.
One instance renders once per coalesced burst for every open tasks page.
"""

from typing import Any

from psycopg import AsyncConnection

from app import sse
from app.realtime import Kind, NetChanges
from app.stores import tasks as store
from app.templating import render


def row_id(task_id: object) -> str:
    return f"task-{task_id}"


def _selector(ids: list[Any]) -> str:
    return ", ".join(f"#{row_id(i)}" for i in ids)


def _rows(rows: list[dict[str, Any]]) -> str:
    return "\n".join(render("tasks/_row.html", task=row) for row in rows)


def count_signals(counts: store.Counts) -> str:
    return sse.patch_signals({"taskTotal": counts["total"], "taskDone": counts["done"]})


class TaskListView:
    channel = store.TABLE

    async def render_changes(
        self, conn: AsyncConnection[Any], changes: NetChanges, *, replay: bool
    ) -> list[str]:
        if changes.reset:
            return await self.render_all(conn)
        # Re-read every affected row that may still exist, in one query.
        rows = await store.get_tasks(
            conn, [rid for rid, kind in changes.kinds.items() if kind is not Kind.DELETED]
        )
        removed = [
            rid
            for rid, kind in changes.kinds.items()
            # An updated row that is gone by now was deleted after these changes: its
            # own event follows, removing it early is harmless.
            if kind is Kind.DELETED or (kind is Kind.UPDATED and rid not in rows)
        ]
        updated = [
            rows[rid] for rid, kind in changes.kinds.items() if kind is Kind.UPDATED and rid in rows
        ]
        # Created and already deleted again: nothing to show.
        created = [rows[rid] for rid in changes.created_order if rid in rows]

        events = []
        if removed:
            events.append(sse.remove_elements(_selector(removed)))
        if created:
            if replay:
                # A reconnecting page may hold rows of the frame it was cut off in: remove
                # them first so the append cannot duplicate (order is kept, since a replay
                # re-appends every row created after the resume point, oldest first).
                events.append(sse.remove_elements(_selector([r["id"] for r in created])))
            events.append(sse.patch_elements(_rows(created), selector="#task-list", mode="append"))
        if updated:
            # No selector: each top-level <li> morphs the element with its id.
            events.append(sse.patch_elements(_rows(updated)))
        events.append(count_signals(await store.count_tasks(conn)))
        return events

    async def render_all(self, conn: AsyncConnection[Any]) -> list[str]:
        tasks = await store.list_tasks(conn)
        return [
            sse.patch_elements(render("tasks/_list.html", tasks=tasks)),
            count_signals(await store.count_tasks(conn)),
        ]
