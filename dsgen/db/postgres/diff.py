"""The diff of two PostgreSQL schema states into ordered, typed ops."""

from __future__ import annotations

import copy

from dsgen.db.errors import DestructiveMigrationError, MigrationRefusedError
from dsgen.db.postgres.ddl import VARCHAR
from dsgen.db.postgres.ops import (
    AddColumn,
    AddConstraint,
    AlterColumnDefault,
    AlterColumnNullable,
    AlterColumnType,
    CreateExtension,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropConstraint,
    DropExtension,
    DropIndex,
    DropTable,
    Op,
    RenameColumn,
    RenameConstraint,
    RenameIndex,
    RenameTable,
)

_INTEGERS = ("smallint", "integer", "bigint")


def is_widening(old: str, new: str) -> bool:
    """Whether every value of type `old` converts to `new` unchanged."""
    if old == new or new == "text" and (old == "text" or VARCHAR.match(old)):
        return True
    old_len, new_len = VARCHAR.match(old), VARCHAR.match(new)
    if old_len and new_len:
        return int(new_len.group(1)) >= int(old_len.group(1))
    if old in _INTEGERS:
        if new in _INTEGERS:
            return _INTEGERS.index(new) >= _INTEGERS.index(old)
        return new in ("numeric", "double precision")
    return old == "date" and new == "timestamptz"


def _rename_columns_in(table: dict, old: str, new: str) -> None:
    """Follow a column rename through a table state's definitions, in place."""
    for column in table["columns"]:
        if column["name"] == old:
            column["name"] = new
    for definition in [*table["constraints"].values(), *table["indexes"].values()]:
        if "columns" in definition:
            definition["columns"] = [new if c == old else c for c in definition["columns"]]
        if definition.get("column") == old:
            definition["column"] = new
        if "where" in definition:
            definition["where"] = [[new if c == old else c, v] for c, v in definition["where"]]
        if "range" in definition:
            definition["range"] = [new if c == old else c for c in definition["range"]]
        for per_column in ("ops", "keys"):  # pattern indexes (PatternSchema.add_index)
            if old in definition.get(per_column, {}):
                definition[per_column][new] = definition[per_column].pop(old)


def _columns(table: dict) -> dict[str, dict]:
    return {c["name"]: c for c in table["columns"]}


def _link_key(table: dict) -> tuple[str, str] | None:
    link = table.get("link")
    return (link["table"], link["field"]) if link else None


def _create_order(tables: dict[str, dict], names: set[str]) -> tuple[list[str], set]:
    """Tables in an order where each one's FKs point at tables made before it.

    Returns (order, deferred) where deferred holds (table, fk name) pairs that close a
    cycle: those foreign keys are added after every table of the set exists. Main tables
    come first, link tables last; ties break by name, so the order is deterministic.
    """
    order: list[str] = []
    deferred: set[tuple[str, str]] = set()
    pending = sorted(names, key=lambda t: (tables[t].get("link") is not None, t))
    while pending:
        made = set(order)
        for name in pending:
            needs = {d["ref_table"] for d in tables[name]["constraints"].values()
                     if d["kind"] == "foreign_key"} & names - made - {name}
            if not needs:
                break
        else:
            name = pending[0]
            for fk, d in tables[name]["constraints"].items():
                if d["kind"] == "foreign_key" and d["ref_table"] in names - made - {name}:
                    deferred.add((name, fk))
        order.append(name)
        pending.remove(name)
    return order, deferred


def diff_states(old: dict, new: dict, *, renames: dict[str, dict[str, str]] | None = None,
                allow_destructive: bool = False) -> list[Op]:
    """The ops that take the schema from `old` to `new`, in a safe order.

    `renames` ({table: {new field: old field}}) turns what would be drop + add into renames.
    Raises MigrationRefusedError for changes no migration can make as written, and
    DestructiveMigrationError for data-losing ones unless `allow_destructive`.
    """
    renames = renames or {}
    cur: dict[str, dict] = copy.deepcopy(old.get("tables", {}))
    want: dict[str, dict] = new.get("tables", {})
    problems: list[str] = []
    phase: dict[str, list[Op]] = {k: [] for k in (
        "rename", "drop_index", "drop_constraint", "drop_column", "drop_table",
        "create_table", "add_column", "alter", "add_constraint", "create_index")}

    # 1. Renames: link tables of renamed many-refs, then columns, then the names derived
    #    from them (a constraint or index whose definition, renamed, is found under a new name).
    renamed_tables: set[str] = set()
    by_link = {_link_key(t): name for name, t in cur.items() if _link_key(t)}
    for name in sorted(want):
        key = _link_key(want[name])
        if key is None or name in cur:
            continue
        old_field = renames.get(key[0], {}).get(key[1])
        old_name = by_link.get((key[0], old_field)) if old_field else None
        if old_name is None or old_name in want:
            continue
        phase["rename"].append(RenameTable(old_name, name))
        table = cur.pop(old_name)
        table["link"] = dict(want[name]["link"])
        cur[name] = table
        renamed_tables.add(name)
        for old_col, new_col in zip([c["name"] for c in table["columns"]],
                                    [c["name"] for c in want[name]["columns"]], strict=False):
            if old_col != new_col and new_col not in _columns(table):
                phase["rename"].append(RenameColumn(name, old_col, new_col))
                _rename_columns_in(table, old_col, new_col)
    for table_name in sorted(renames):
        table = cur.get(table_name)
        if table is None or table_name not in want:
            continue
        for new_col, old_col in sorted(renames[table_name].items()):
            have = _columns(table)
            if old_col in have and new_col not in have and new_col in _columns(want[table_name]):
                phase["rename"].append(RenameColumn(table_name, old_col, new_col))
                _rename_columns_in(table, old_col, new_col)
                renamed_tables.add(table_name)
    for table_name in sorted(renamed_tables):
        table, target = cur[table_name], want[table_name]
        for group, op_type in (("constraints", RenameConstraint), ("indexes", RenameIndex)):
            mine, theirs = table[group], target[group]
            for name in sorted(mine):
                if name in theirs:
                    continue
                match = next((n for n in sorted(theirs)
                              if n not in mine and theirs[n] == mine[name]), None)
                if match is not None:
                    phase["rename"].append(op_type(table_name, name, match))
                    mine[match] = mine.pop(name)

    # 2. Tables that go away, and tables that come.
    dropped = set(cur) - set(want)
    drop_order, drop_deferred = _create_order(cur, dropped)
    for table_name, fk in sorted(drop_deferred):
        phase["drop_constraint"].append(
            DropConstraint(table_name, fk, cur[table_name]["constraints"][fk]))
    for table_name in reversed(drop_order):
        deferred = tuple(sorted(fk for t, fk in drop_deferred if t == table_name))
        phase["drop_table"].append(DropTable(table_name, cur[table_name], deferred))
    created = set(want) - set(cur)
    create_order, create_deferred = _create_order(want, created)
    for table_name in create_order:
        deferred = tuple(sorted(fk for t, fk in create_deferred if t == table_name))
        phase["create_table"].append(CreateTable(table_name, want[table_name], deferred))
    for table_name, fk in sorted(create_deferred):
        phase["add_constraint"].append(
            AddConstraint(table_name, fk, want[table_name]["constraints"][fk]))

    # 3. Tables on both sides: columns, constraints, indexes.
    for table_name in sorted(set(cur) & set(want)):
        _diff_table(table_name, cur[table_name], want[table_name], phase, problems)

    # 4. Extensions: made before the tables and constraints that use them, dropped after.
    had, has = set(old.get("extensions", ())), set(new.get("extensions", ()))
    phase["create_table"][:0] = [CreateExtension("", e) for e in sorted(has - had)]
    phase["drop_table"].extend(DropExtension("", e) for e in sorted(had - has))

    ops = [op for ops in phase.values() for op in ops]
    losses = [op.loss for op in ops if op.loss] if not allow_destructive else []
    if problems:
        raise MigrationRefusedError(problems, losses)
    if losses:
        raise DestructiveMigrationError(losses)
    return ops


def _diff_table(name: str, old: dict, new: dict, phase: dict[str, list[Op]],
                problems: list[str]) -> None:
    old_cols, new_cols = _columns(old), _columns(new)
    for col in new["columns"]:
        if col["name"] in old_cols:
            continue
        if not col["nullable"] and col["default"] is None:
            problems.append(
                f"{name}.{col['name']} is new and required but has no default, so the rows "
                f"already in '{name}' would have no value for it: give the field a 'default' "
                "(it fills those rows), or add it without 'required', fill it, and make it "
                "required in a later migration")
            continue
        phase["add_column"].append(AddColumn(name, col))
    for col in old["columns"]:
        if col["name"] not in new_cols:
            phase["drop_column"].append(DropColumn(name, col))
    for col in new["columns"]:
        before = old_cols.get(col["name"])
        if before is None:
            continue
        column = col["name"]
        if before["type"] != col["type"]:
            if before["default"] is not None:
                # A default of the old type may not cast; it is set again after the change.
                phase["alter"].append(AlterColumnDefault(name, column, before["default"], None))
            phase["alter"].append(AlterColumnType(name, column, before["type"], col["type"],
                                                  is_widening(before["type"], col["type"])))
            if col["default"] is not None:
                phase["alter"].append(AlterColumnDefault(name, column, None, col["default"]))
        elif before["default"] != col["default"]:
            phase["alter"].append(
                AlterColumnDefault(name, column, before["default"], col["default"]))
        if before["nullable"] != col["nullable"]:
            phase["alter"].append(AlterColumnNullable(
                name, column, col["nullable"], None if col["nullable"] else col["default"]))

    for cname in sorted(old["constraints"]):
        definition = old["constraints"][cname]
        if new["constraints"].get(cname) != definition:
            phase["drop_constraint"].append(DropConstraint(name, cname, definition))
    for cname in sorted(new["constraints"]):
        definition = new["constraints"][cname]
        before = old["constraints"].get(cname)
        if before == definition:
            continue
        reason = None
        if before and definition["kind"] == "check" and definition["check"] == "values":
            gone = [v for v in before["values"] if v not in definition["values"]]
            if gone:
                reason = (f"remove {', '.join(repr(v) for v in gone)} from the values of "
                          f"{name}.{definition['column']} (rows holding "
                          f"{'it' if len(gone) == 1 else 'them'} make the upgrade fail; "
                          "change them first)")
        phase["add_constraint"].append(AddConstraint(name, cname, definition, reason))
    for iname in sorted(old["indexes"]):
        if new["indexes"].get(iname) != old["indexes"][iname]:
            phase["drop_index"].append(DropIndex(name, iname, old["indexes"][iname]))
    for iname in sorted(new["indexes"]):
        if old["indexes"].get(iname) != new["indexes"][iname]:
            phase["create_index"].append(CreateIndex(name, iname, new["indexes"][iname]))
