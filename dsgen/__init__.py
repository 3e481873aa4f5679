"""dsgen: generate complete FastAPI + Datastar + Tailwind apps from one YAML spec.

The public API is imported lazily (PEP 562), so `dsgen --help` does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Blueprint": "dsgen._blueprints", "Registry": "dsgen._blueprints",
    "builtin_registry": "dsgen._blueprints", "check_spec": "dsgen._check",
    "ConflictError": "dsgen._errors", "Diagnostic": "dsgen._errors",
    "DsgenError": "dsgen._errors", "Location": "dsgen._errors", "SpecError": "dsgen._errors",
    "UsageError": "dsgen._errors", "load_spec": "dsgen._load", "parse_spec": "dsgen._load",
    "Field": "dsgen._model", "FieldType": "dsgen._model", "Screen": "dsgen._model",
    "Spec": "dsgen._model", "Store": "dsgen._model", "Name": "dsgen._names",
    "Plan": "dsgen._render", "RenderedFile": "dsgen._render", "build_plan": "dsgen._render",
    "render_plan": "dsgen._render", "FileResult": "dsgen._write", "write_files": "dsgen._write",
    "Conflicts": "dsgen._write",
    "add_pattern": "dsgen._project", "emit_migration": "dsgen._project",
    "new_project": "dsgen._project", "update_project": "dsgen._project",
    "prepare_spec": "dsgen._project", "plan_migration": "dsgen.db.postgres",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dsgen' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
