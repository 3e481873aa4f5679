"""Jinja2 templates (autoescaped) and the display filters the templates use."""

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app.core.security import csp_nonce
from app.delivery import static_url
from app.nav import NAV_TREE
from app.registry import APP_TITLE, NAV_ITEMS

TEMPLATE_DIR = Path(__file__).parent / "templates"

# Starlette turns autoescaping on for every template; never mark user data |safe.
templates = Jinja2Templates(directory=TEMPLATE_DIR)
# Block tags leave no blank lines behind: smaller, more readable SSE patches.
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
# A served app reads each template file once per process. Checking it for changes costs a
# stat() on every include and import, i.e. per list row or board card (a board of 800
# cards: ~2,400 per render, a fifth of its time); only `make dev`, which edits templates
# under a running server, turns it on (app/devserver.py sets TEMPLATES_AUTO_RELOAD=1).
templates.env.auto_reload = os.environ.get("TEMPLATES_AUTO_RELOAD") == "1"


def fmt_decimal(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def fmt_float(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def fmt_date(value: date | None) -> str:
    return "" if value is None else value.strftime("%b %-d, %Y")


def fmt_datetime(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%b %-d, %Y %H:%M UTC")


def local_datetime(value: datetime | None) -> Markup:
    """A moment as <time>: UTC text from the server, shown in the browser's own time zone
    by static/shell.js (the text stays right without JavaScript)."""
    if value is None:
        return Markup("")
    moment = value.astimezone(UTC)
    return Markup('<time datetime="{}" data-local>{}</time>').format(
        moment.isoformat().replace("+00:00", "Z"), fmt_datetime(moment))


def fmt_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def url_host(value: str | None) -> str:
    return "" if not value else urlsplit(value).netloc


def js_str(value: Any) -> Markup:
    """A single-quoted JS string literal for a Datastar expression inside a double-quoted
    HTML attribute: JSON escapes for JS, then HTML escapes (all but the ' we quote with)."""
    body = json.dumps(str(value))[1:-1].replace("'", "\\'")
    html = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Markup("'" + html.replace('"', "&#34;") + "'")  # noqa: S704 - escaped above


def with_query(path: str, q: str) -> str:
    return f"{path}?{urlencode({'q': q})}" if q else path


templates.env.filters.update(
    show_decimal=fmt_decimal,
    show_float=fmt_float,
    show_date=fmt_date,
    show_datetime=fmt_datetime,
    local_datetime=local_datetime,
    show_json=fmt_json,
    url_host=url_host,
    js_str=js_str,
)
templates.env.globals.update(
    app_title=APP_TITLE,
    nav_items=NAV_ITEMS,
    nav_tree=NAV_TREE,
    with_query=with_query,
    csp_nonce=csp_nonce,
    static_url=static_url,
)


def render(name: str, **context: Any) -> str:
    """Render a fragment for an SSE patch (no request needed)."""
    return templates.get_template(name).render(context)
