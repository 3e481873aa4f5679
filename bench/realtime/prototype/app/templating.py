"""Jinja2 templates (autoescaped): full pages and the fragments SSE patches carry."""

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

TEMPLATE_DIR = Path(__file__).parent / "templates"

# Starlette turns autoescaping on for every template; never mark user data |safe.
templates = Jinja2Templates(directory=TEMPLATE_DIR)


def render(name: str, **context: Any) -> str:
    """Render a fragment for an SSE patch (no request needed)."""
    return templates.get_template(name).render(context)
