"""The one error hierarchy of dsgen; only the CLI turns these into messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file; line and column are 1-based, as editors show them."""

    file: Path
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a spec: where, which key, what was expected, and a hint."""

    location: Location | None
    path: str
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.location} " if self.location else ""
        key = f"{self.path}: " if self.path else ""
        text = f"{where}{key}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class DsgenError(Exception):
    """Base of every error dsgen reports to a user."""

    exit_code = 1


class UsageError(DsgenError):
    """The command was called wrongly (a missing project, a bad option value)."""

    exit_code = 2


class SpecError(DsgenError):
    """The spec is invalid; carries every diagnostic found, not only the first."""

    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic], *, source: str | None = None,
                 note: str | None = None):
        self.diagnostics = diagnostics
        # The text the locations refer to, when it is not the file on disk (e.g. the spec
        # as `dsgen add pattern` would write it); and a closing note for the user.
        self.source = source
        self.note = note
        count = len(diagnostics)
        super().__init__(f"{count} error{'s' if count != 1 else ''} in the spec")


class ConflictError(DsgenError):
    """Writing would overwrite or conflict with a user's edit; nothing was written."""

    exit_code = 1

    def __init__(self, message: str, paths: list[str]):
        self.paths = paths
        super().__init__(message)


class UnsafePathError(DsgenError):
    """A write or removal would leave the project (a lock entry naming an outside path, a
    symbolic link leading out); nothing was written."""

    exit_code = 1

    def __init__(self, message: str, paths: list[str]):
        self.paths = paths
        shown = "".join(f"\n  {p}" for p in paths[:20])
        more = f"\n  … and {len(paths) - 20} more" if len(paths) > 20 else ""
        super().__init__(f"{message}{shown}{more}")


class AssetError(DsgenError):
    """A pinned asset (the Datastar bundle) could not be obtained or failed its checksum."""

    exit_code = 1
