"""Compatibility names: the migration emitter now lives in the `dsgen.db` package.

Import from `dsgen.db` (the backend interface) or `dsgen.db.postgres.*` in new code; the old
names resolve lazily to their new homes.
"""

from __future__ import annotations

import importlib
from typing import Any

_P = "dsgen.db.postgres"
_HOMES = {
    "dsgen.db": "Migration",
    "dsgen.db.errors": "DestructiveMigrationError MigrationError MigrationRefusedError",
    "dsgen.db.quote": "identifier quote_ident",
    _P: "plan_migration",
    f"{_P}.ddl": "check_sql exclude_sql where_sql",
    f"{_P}.diff": "diff_states is_widening",
    f"{_P}.history": "STATE_CONSTANT VERSIONS_DIR Revision head_revision read_history "
                     "read_revision recorded_state",
    f"{_P}.ops": "AddColumn AddConstraint AlterColumnDefault AlterColumnNullable "
                 "AlterColumnType CreateExtension CreateIndex CreateTable DropColumn "
                 "DropConstraint DropExtension DropIndex DropTable Op RenameColumn "
                 "RenameConstraint RenameIndex RenameTable render_down render_up summarize",
    f"{_P}.pysrc": "py_str",
    f"{_P}.realtime": "REALTIME_LOG CreateRealtimeLog DisableRealtime DropRealtimeLog "
                      "EnableRealtime UpgradeRealtimeLog realtime_ops realtime_state",
    f"{_P}.revision": "default_message render_revision render_state slugify",
    f"{_P}.state": "STATE_VERSION empty_state link_columns link_table schema_state "
                   "spec_renames sql_type",
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names.split()}
_MODULE_OF["_realtime_state"] = f"{_P}.realtime"

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dsgen._migrate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name.removeprefix("_"))
