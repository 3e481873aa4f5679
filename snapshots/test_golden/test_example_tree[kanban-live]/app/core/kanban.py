"""The kanban screens' runtime: what a move asks for, and how a move can fail.

Nothing here depends on the spec: a kanban screen (app/screens/) reads and renumbers the
cards of its own table, and raises these errors for its routes to answer.
"""

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.core.forms import Blank


class Move(BaseModel):
    """A drop or a move button: put `card` into `column`, before card `before` (None: last)."""

    model_config = ConfigDict(extra="forbid")

    card: UUID
    column: str = Field(max_length=200)
    before: Annotated[UUID | None, Blank] = None


class Rejected(Exception):
    """The board cannot take this change; the message says why, for the user."""


class Gone(Exception):
    """The card was deleted (elsewhere) before this request reached it."""
