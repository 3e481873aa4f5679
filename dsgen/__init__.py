"""dsgen: generate complete FastAPI + Datastar + Tailwind apps from one YAML spec."""

__version__ = "0.1.0"

from dsgen._blueprints import Blueprint, Registry, builtin_registry  # noqa: E402
from dsgen._check import check_spec  # noqa: E402
from dsgen._errors import (  # noqa: E402
    ConflictError,
    Diagnostic,
    DsgenError,
    Location,
    SpecError,
    UsageError,
)
from dsgen._load import load_spec, parse_spec  # noqa: E402
from dsgen._model import Field, FieldType, Screen, Spec, Store  # noqa: E402
from dsgen._names import Name  # noqa: E402
from dsgen._render import Plan, RenderedFile, build_plan, render_plan  # noqa: E402
from dsgen._write import FileResult, write_files  # noqa: E402

__all__ = [
    "Blueprint", "ConflictError", "Diagnostic", "DsgenError", "Field", "FieldType", "FileResult",
    "Location", "Name", "Plan", "Registry", "RenderedFile", "Screen", "Spec", "SpecError",
    "Store", "UsageError", "__version__", "build_plan", "builtin_registry", "check_spec",
    "load_spec", "parse_spec", "render_plan", "write_files",
]
