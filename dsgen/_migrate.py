"""Compatibility names: the migration emitter now lives in the `dsgen.db` package.

Import from `dsgen.db` (the backend interface) or `dsgen.db.postgres.*` in new code.
"""

from dsgen.db import Migration
from dsgen.db.errors import DestructiveMigrationError, MigrationError, MigrationRefusedError
from dsgen.db.postgres import plan_migration
from dsgen.db.postgres.ddl import check_sql, exclude_sql, where_sql
from dsgen.db.postgres.diff import diff_states, is_widening
from dsgen.db.postgres.history import (
    STATE_CONSTANT,
    VERSIONS_DIR,
    Revision,
    head_revision,
    read_history,
    read_revision,
    recorded_state,
)
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
    render_down,
    render_up,
    summarize,
)
from dsgen.db.postgres.pysrc import py_str
from dsgen.db.postgres.realtime import (
    REALTIME_LOG,
    CreateRealtimeLog,
    DisableRealtime,
    DropRealtimeLog,
    EnableRealtime,
    realtime_ops,
)
from dsgen.db.postgres.realtime import realtime_state as _realtime_state
from dsgen.db.postgres.revision import default_message, render_revision, render_state, slugify
from dsgen.db.postgres.state import (
    STATE_VERSION,
    empty_state,
    link_columns,
    link_table,
    schema_state,
    spec_renames,
    sql_type,
)
from dsgen.db.quote import identifier, quote_ident

__all__ = [
    "REALTIME_LOG", "STATE_CONSTANT", "STATE_VERSION", "VERSIONS_DIR",
    "AddColumn", "AddConstraint", "AlterColumnDefault", "AlterColumnNullable",
    "AlterColumnType", "CreateExtension", "CreateIndex", "CreateRealtimeLog", "CreateTable",
    "DestructiveMigrationError", "DisableRealtime", "DropColumn", "DropConstraint",
    "DropExtension", "DropIndex", "DropRealtimeLog", "DropTable", "EnableRealtime",
    "Migration", "MigrationError", "MigrationRefusedError", "Op", "RenameColumn",
    "RenameConstraint", "RenameIndex", "RenameTable", "Revision", "_realtime_state",
    "check_sql", "default_message", "diff_states", "empty_state", "exclude_sql",
    "head_revision", "identifier", "is_widening", "link_columns", "link_table",
    "plan_migration", "py_str", "quote_ident", "read_history", "read_revision",
    "realtime_ops", "recorded_state", "render_down", "render_revision", "render_state",
    "render_up", "schema_state", "slugify", "spec_renames", "sql_type", "summarize",
    "where_sql",
]
