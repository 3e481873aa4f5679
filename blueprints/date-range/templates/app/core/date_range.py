"""The date-range screens' runtime: months in URLs, and the calendar of a month.

Nothing here depends on the spec: a date-range screen (app/screens/) reads the stays of
its own table and asks this module for the month's grid. A stay's `start` is its first
night and its `end` the day it ends (check-out), exclusive.
"""

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from fastapi import HTTPException

from app.core.forms import today

FIRST_YEAR, LAST_YEAR = 1900, 2999  # the months the calendar can show
DAY = timedelta(days=1)


def parse_month(raw: str) -> date:
    """The `YYYY-MM` month of a URL as its first day; this month when there is none."""
    if not raw:
        return today().replace(day=1)
    try:
        year, month = (int(part) for part in raw.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise HTTPException(status_code=404) from None
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise HTTPException(status_code=404)
    return first


def shift_month(first: date, months: int) -> date | None:
    """The first day of the month `months` away, or None outside the calendar's years."""
    index = first.year * 12 + first.month - 1 + months
    if not FIRST_YEAR <= index // 12 <= LAST_YEAR:
        return None
    return date(index // 12, index % 12 + 1, 1)


def parse_day(raw: str) -> date | None:
    """An ISO date from a form or a signal, or None."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def nights_label(count: int) -> str:
    return f"{count} night{'' if count == 1 else 's'}"


def month_weeks(first: date) -> list[list[date]]:
    """The weeks (Monday first) that show the month starting on `first`."""
    return calendar.Calendar().monthdatescalendar(first.year, first.month)


def taken_nights(stays: Iterable[dict[str, Any]], since: date, until: date) -> set[date]:
    """The nights from `since` to before `until` that one of `stays` holds."""
    taken: set[date] = set()
    for stay in stays:
        night = max(stay["start"], since)
        while night < min(stay["end"], until):
            taken.add(night)
            night += DAY
    return taken


def month_grid(
    first: date, weeks: list[list[date]], taken: set[date]
) -> list[list[dict[str, Any]]]:
    """Every day of `weeks` as the calendar shows it, with what may be done with it:
    `past`, `free`, `taken`, or `checkout` (taken, but a stay may end there)."""
    now = today()

    def state(day: date) -> str:
        if day < now:
            return "past"
        if day not in taken:
            return "free"
        # A taken day after a free night can still end a stay there (a check-out day).
        before = day - DAY
        return "checkout" if before >= now and before not in taken else "taken"

    return [
        [
            {
                "iso": day.isoformat(),
                "day": day.day,
                "label": f"{day:%A, %B} {day.day}, {day.year}",
                "in_month": day.month == first.month,
                "today": day == now,
                "state": state(day),
            }
            for day in week
        ]
        for week in weeks
    ]
