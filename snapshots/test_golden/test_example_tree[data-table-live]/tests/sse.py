"""A small parser for the Datastar SSE responses the tests inspect."""

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Event:
    type: str
    data: dict[str, list[str]] = field(default_factory=dict)

    def one(self, key: str) -> str | None:
        values = self.data.get(key)
        return None if values is None else "\n".join(values)

    @property
    def elements(self) -> str:
        return self.one("elements") or ""

    @property
    def signals(self) -> dict[str, Any]:
        return json.loads(self.one("signals") or "{}")


def parse(text: str) -> list[Event]:
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event = Event(type="")
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            if name == "event":
                event.type = value
            elif name == "data":
                key, _, rest = value.partition(" ")
                event.data.setdefault(key, []).append(rest)
        events.append(event)
    return events


def patched_ids(events: list[Event]) -> list[str]:
    """The id of each element patch's top element (or its selector)."""
    import re

    ids = []
    for event in events:
        if event.type != "datastar-patch-elements":
            continue
        selector = event.one("selector")
        if selector:
            ids.append(selector)
            continue
        match = re.search(r'\bid="([^"]+)"', event.elements)
        ids.append("#" + match.group(1) if match else "?")
    return ids


def signals_of(events: list[Event]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for event in events:
        if event.type == "datastar-patch-signals":
            merged.update(event.signals)
    return merged


def scripts_of(events: list[Event]) -> str:
    return "\n".join(e.elements for e in events if "<script" in e.elements)
