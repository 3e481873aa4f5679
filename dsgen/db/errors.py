"""Errors of the database layer (every backend raises these)."""

from __future__ import annotations

from dsgen._errors import DsgenError


class MigrationError(DsgenError):
    """A migration cannot be planned (unreadable history, unsupported change)."""

    exit_code = 1


class MigrationRefusedError(MigrationError):
    """The spec asks for a change that no migration can make safely as written."""

    def __init__(self, problems: list[str], losses: list[str] | None = None):
        self.problems = problems
        self.losses = losses or []  # reported together, so one run shows everything to fix
        text = "cannot write this migration; nothing was written:\n" + "\n".join(
            f"  - {p}" for p in problems)
        if self.losses:
            text += "\nand these steps lose data (they need --allow-destructive):\n" + \
                "\n".join(f"  - {step}" for step in self.losses)
        super().__init__(text)


class DestructiveMigrationError(MigrationError):
    """The migration would lose data; it is emitted only with --allow-destructive."""

    def __init__(self, steps: list[str]):
        self.steps = steps
        lines = "\n".join(f"  - {s}" for s in steps)
        super().__init__(
            f"this migration would lose data; nothing was written:\n{lines}\n"
            "back up the database, then re-run with --allow-destructive to emit it anyway"
        )
