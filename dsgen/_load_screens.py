"""The `screens:` and `signals:` sections of a spec: each screen's core keys, its pattern
options kept as plain data with their locations (the pattern's blueprint checks them, in
`dsgen._check`), and the signal namespaces."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from dsgen import _planned as planned
from dsgen._errors import Location
from dsgen._load_yaml import _kind, _nonfinite, _plain, _Reader, bad_char
from dsgen._model import Screen
from dsgen._names import Name

SCREEN_CORE_KEYS = ("pattern", "store", "title", "nav")
SIGNAL_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*\Z")


def _screens(reader: _Reader, root: CommentedMap) -> tuple[Screen, ...]:
    if "screens" not in root:
        reader.error(Location(reader.path, 1, 1), "screens", "missing the 'screens' section",
                     "add at least one screen, e.g. 'screens: {home: {pattern: master-detail, "
                     "store: <store>}}'")
        return ()
    node, loc, path = reader.items(root, "screens", "")
    if not reader.mapping(node, loc, path, "screens by name"):
        return ()
    if not node:
        reader.error(loc, path, "an app needs at least one screen")
    screens = []
    for name in node:
        screen_path = f"screens.{name}"
        if not reader.identifier(name, reader.key_loc(node, name), screen_path, "screen name"):
            continue
        if Name(name).py != name:       # located at the key, not at the body's first line
            reader.error(reader.key_loc(node, name), screen_path, f"screen name '{name}' is a "
                         "Python keyword; it names the screen's module",
                         f"try '{name}_screen'")
        body = node[name]
        body_loc = reader.value_loc(node, name)
        reader.locations[screen_path] = body_loc
        if not reader.mapping(body, body_loc, screen_path, f"screen '{name}'"):
            continue
        pattern, ploc, ppath = reader.items(body, "pattern", screen_path)
        if pattern is None:
            reader.error(body_loc, ppath, "missing the screen's pattern",
                         "add 'pattern: master-detail' (see 'dsgen blueprints list')")
            continue
        if not isinstance(pattern, str):
            reader.error(ploc, ppath, f"expected a pattern id, got {_kind(pattern)}")
            continue
        store = None
        if "store" in body:
            value, sloc, spath = reader.items(body, "store", screen_path)
            if isinstance(value, str):
                store = value
            else:
                reader.error(sloc, spath, f"expected a store name, got {_kind(value)}")
        title = reader.string(body, "title", screen_path)
        nav, nav_group = _nav(reader, body, screen_path)
        options: dict[str, Any] = {}
        option_locations: dict[str, Location] = {}
        for key in body:
            if key in SCREEN_CORE_KEYS:
                continue
            if isinstance(key, str) and key in planned.SCREEN_KEYS:
                reader.error(reader.key_loc(body, key), f"{screen_path}.{key}",
                             planned.refusal(f"the key '{key}'"), planned.SCREEN_KEYS[key])
                continue
            value, oloc, opath = reader.items(body, key, screen_path)
            options[str(key)] = _plain(value)
            option_locations[str(key)] = reader.key_loc(body, key) or body_loc
            _record_nested(reader, value, opath)
        screens.append(Screen(name=Name(name), pattern=pattern, store=store, title=title,
                              nav=nav, nav_group=nav_group, options=options,
                              option_locations=option_locations, location=body_loc))
    return tuple(screens)


NAV_GROUP_DEPTH = 3   # groups around a screen: "A/B/C" (a menu deeper than that is a maze)
NAV_GROUP_CHARS = 40  # one group's label
# YAML 1.1 booleans that YAML 1.2 reads as text: `nav: no` means false, not a group "no".
YAML11_BOOLEANS = frozenset({"yes", "no", "y", "n", "on", "off"})


def _nav(reader: _Reader, body: CommentedMap, path: str) -> tuple[bool, tuple[str, ...]]:
    """`nav: true|false`, or a group path `"Group/Sub"` (listed, inside those groups)."""
    if "nav" not in body:
        return True, ()
    value, loc, full = reader.items(body, "nav", path)
    if isinstance(value, bool):
        return value, ()
    if not isinstance(value, str):
        reader.error(loc, full, f"expected true, false or a group path, got {_kind(value)}",
                     'a group path puts the screen in a menu group: nav: "Sales/Pipelines"')
        return True, ()
    if value.strip().lower() in YAML11_BOOLEANS:
        meant = "true" if value.strip().lower() in ("yes", "y", "on") else "false"
        reader.error(loc, full, f"expected true, false or a group path, got {value!r}",
                     f"write {meant} (a group path would name a menu group {value!r})")
        return True, ()
    parts = tuple(part.strip() for part in value.split("/"))
    hint = 'write it like "Sales/Pipelines": group names separated by /'
    if bad := bad_char(value, one_line=True):
        reader.error(loc, full, f"the group path holds {bad}", hint)
    elif not all(parts):
        reader.error(loc, full, f"the group path {value!r} has an empty group name", hint)
    elif len(parts) > NAV_GROUP_DEPTH:
        reader.error(loc, full, f"the group path {value!r} nests {len(parts)} groups; at most "
                     f"{NAV_GROUP_DEPTH}", "a flatter menu: merge or drop a level")
    elif long := next((p for p in parts if len(p) > NAV_GROUP_CHARS), None):
        reader.error(loc, full, f"the group name {long[:20]!r}… is longer than "
                     f"{NAV_GROUP_CHARS} characters", "a short label fits the menu")
    else:
        return True, parts
    return True, ()


def _record_nested(reader: _Reader, value: Any, path: str) -> None:
    """Record locations inside an option's value so option checks can point into it."""
    if isinstance(value, CommentedMap):
        for key in value:
            loc = reader.value_loc(value, key)
            if loc:
                reader.locations[f"{path}.{key}"] = loc
            _record_nested(reader, value[key], f"{path}.{key}")
    elif isinstance(value, CommentedSeq):
        for i, item in enumerate(value):
            loc = reader.item_loc(value, i)
            if loc:
                reader.locations[f"{path}[{i}]"] = loc
            _record_nested(reader, item, f"{path}[{i}]")


def _signals(reader: _Reader, root: CommentedMap) -> dict[str, dict[str, Any]]:
    if "signals" not in root:
        return {}
    node, loc, path = reader.items(root, "signals", "")
    if node is None:
        return {}
    if not reader.mapping(node, loc, path, "signal namespaces"):
        return {}
    signals: dict[str, dict[str, Any]] = {}
    for namespace in node:
        ns_path = f"signals.{namespace}"
        ns_loc = reader.key_loc(node, namespace)
        if not isinstance(namespace, str) or not SIGNAL_NAME.match(namespace):
            reader.error(ns_loc, ns_path, f"signal namespace '{namespace}' is not a name",
                         "letters, digits and _, e.g. '_ui' or 'filters'")
            continue
        body = node[namespace]
        if not reader.mapping(body, reader.value_loc(node, namespace), ns_path,
                              "signal names -> initial values"):
            continue
        values: dict[str, Any] = {}
        for name in body:
            if not isinstance(name, str) or not SIGNAL_NAME.match(name):
                reader.error(reader.key_loc(body, name), f"{ns_path}.{name}",
                             f"signal name '{name}' is not a name",
                             "letters, digits and _, e.g. 'sidebarOpen'")
                continue
            value = body[name]
            if isinstance(value, (date, datetime)):
                reader.error(reader.value_loc(body, name), f"{ns_path}.{name}",
                             "a signal's initial value must be JSON (string, number, boolean, "
                             "null, list or mapping)", "quote the date: '2024-01-31'")
                continue
            if _nonfinite(value):
                reader.error(reader.value_loc(body, name), f"{ns_path}.{name}",
                             "a signal's initial value must be JSON, which has no "
                             f"{_kind(value)[len('the number '):]}", "use null or a number")
                continue
            values[name] = _plain(value)
        signals[namespace] = values
    return signals
