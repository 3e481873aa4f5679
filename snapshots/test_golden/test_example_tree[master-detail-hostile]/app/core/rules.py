"""Domain rules the stores enforce on every write, whichever screen's form made it."""

from psycopg import IntegrityError


class RuleViolation(IntegrityError):
    """A write a store refuses (e.g. a node placed under itself). An IntegrityError, so every
    screen's form shows it like a constraint violation: `constraint_errors` of the store
    maps it to the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
