"""Screen `stays`.

The month page, Datastar patches, the range rules, SQL round trips, and the database's
no-overlap rule under concurrency.
"""

import json
import re
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from itertools import count as counter

import psycopg
import pytest
from psycopg import sql

from tests.conftest import DATASTAR, count, make
from tests.sse import parse, patched_ids, scripts_of, signals_of

PATH = "/stays"
ID = "stays"  # the screen's element ids start with it
TABLE = "stays"
START = "from"
END = "end"
MAX_NIGHTS: int | None = None
STAY = 3  # nights of the stays picked on the screen: within MAX_NIGHTS
_serial = counter(1)  # keeps unique fields unique across rows


def next_month(day: int = 1) -> date:
    """A day of next month: always in the future, so every day of it can be booked."""
    first = datetime.now(UTC).date().replace(day=1)
    return (first + timedelta(days=32)).replace(day=day)


def nights(n: int) -> str:
    return "1 night" if n == 1 else f"{n} nights"


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def ds_get(client, url, **params):
    """A GET as Datastar makes it: header, and the signals as ?datastar=."""
    return client.get(url, params={**params, "datastar": json.dumps({})}, headers=DATASTAR)


def button(html: str, day: date) -> str:
    """The <button> tag of one day of the calendar."""
    match = re.search(rf'<button[^>]*id="{ID}-day-{day.isoformat()}"[^>]*>', html)
    assert match, f"no button for {day}"
    return match.group(0)


def is_disabled(html: str, day: date) -> bool:
    # The bare attribute, not data-attr:disabled or the disabled: variant of a class.
    return re.search(r"\sdisabled(\s|>)", button(html, day)) is not None


def new_row(db, first: date, last: date, **values) -> dict:
    """Column values of one row from `first` to `last` (the day it ends: exclusive): the
    required ones, the unique ones (a default would repeat) and the label the tests read."""
    row = {
        "guest": "Ada <b>&</b> {{ 7*7 }}",
        START: first,
        END: last,
    }
    return {**row, **values}


def book(db, first: date, last: date, **values) -> str:
    return make(db, TABLE, **new_row(db, first, last, **values))


def valid_form(db, first: date, last: date) -> dict[str, str]:
    """A submission the server accepts (strings, as a browser sends them)."""
    form = {
        "guest": "Ada <b>&</b> {{ 7*7 }}",
        "party": "4",
        "paid": "on",
        START: first.isoformat(),
        END: last.isoformat(),
    }
    return form


def month_url(day: date) -> str:
    return f"{PATH}?month={month_of(day)}"


# Pages.


def test_the_month_is_rendered_with_taken_days_disabled(client, db):
    book(db, next_month(10), next_month(13))

    response = client.get(month_url(next_month()))

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    html = response.text
    assert f"{next_month():%B %Y}" in html
    assert '<script type="module" src="/static/datastar.js?v=' in html  # fingerprinted
    for day in (10, 11, 12):
        assert is_disabled(html, next_month(day)), day
    for day in (9, 13, 20, 21):  # 13: a check-out day; its night is free
        assert not is_disabled(html, next_month(day)), day
    assert 'data-state="taken"' in button(html, next_month(11))
    # The 10th follows a free night: it may end a stay, so the browser enables it while an
    # end is being picked (and only then).
    assert "data-checkout" in button(html, next_month(10))
    assert "data-checkout" not in button(html, next_month(11))
    assert "<b>&</b>" not in html  # user input is escaped, never markup
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html


def test_days_before_today_are_disabled(client, db):
    today = datetime.now(UTC).date()
    html = client.get(month_url(today)).text
    assert not is_disabled(html, today)
    if today.day > 1:
        assert is_disabled(html, today - timedelta(days=1))
        assert 'data-state="past"' in button(html, today - timedelta(days=1))


def test_without_a_month_this_month_is_shown(client, db):
    html = client.get(PATH).text

    assert f"{datetime.now(UTC).date():%B %Y}" in html
    assert f'id="{ID}-calendar"' in html


def test_a_malformed_month_is_404(client, db):
    assert client.get(PATH, params={"month": "2024-13"}).status_code == 404
    assert client.get(PATH, params={"month": "soon"}).status_code == 404


def test_arriving_from_another_screen_swaps_the_whole_screen(client, db):
    events = parse(ds_get(client, PATH).text)

    assert patched_ids(events)[:2] == ["#screen", "#nav"]
    assert signals_of(events)["_pick"] == {"start": "", "end": "", "hover": ""}


def test_month_navigation_patches_only_the_calendar(client, db):
    book(db, next_month(3), next_month(5))

    events = parse(ds_get(client, f"{PATH}/month", month=month_of(next_month())).text)

    # Live: the list too (the page's new stream starts now), and the stream of the new month.
    assert patched_ids(events) == [f"#{ID}-calendar", f"#{ID}-bookings", f"#{ID}-live", "body"]
    assert events[2].one("mode") == "replace" and f"month={month_of(next_month())}" in events[2].elements
    assert f"{next_month():%B %Y}" in events[0].elements
    assert is_disabled(events[0].elements, next_month(4))
    assert f"month={month_of(next_month())}" in scripts_of(events)
    assert "_pick" not in signals_of(events)  # the pick survives a month change


# The range rules, as the calendar's check reports them (one request per completed pick).


@pytest.mark.parametrize(("first", "last", "verdict"), [
    (3, 3 + STAY, f"{nights(STAY)} available"),
    (13, 13 + STAY, f"{nights(STAY)} available"),  # starts the day the other one ends
    (10 - STAY, 10, f"{nights(STAY)} available"),  # ends the day the other one starts
    (12 - STAY, 12, "overlap"),
    (11, 12, "overlap"),
    (6, 6, "must be after"),
    (7, 5, "must be after"),
])
def test_the_check_reports_on_a_pick(client, db, first, last, verdict):
    book(db, next_month(10), next_month(13))
    params = {"start": next_month(first).isoformat(), "end": next_month(last).isoformat()}

    events = parse(ds_get(client, f"{PATH}/check", **params).text)

    assert patched_ids(events) == [f"#{ID}-summary"]
    assert verdict in events[0].elements
    assert ("field-error" in events[0].elements) == ("available" not in verdict)


def test_the_check_refuses_the_past_and_garbage(client, db):
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    base = {}
    past = parse(ds_get(client, f"{PATH}/check", **base, start=yesterday.isoformat(),
                        end=next_month(2).isoformat()).text)
    assert "in the past" in past[0].elements
    garbage = parse(ds_get(client, f"{PATH}/check", **base, start="x", end="<b>").text)
    assert "Pick the first night" in garbage[0].elements


# Mutations.


def test_booking_stores_the_row_and_updates_calendar_and_list(client, db):
    form = valid_form(db, next_month(3), next_month(3 + STAY))

    response = client.post(PATH, data=form, headers=DATASTAR)

    assert response.status_code == 200
    rows = db.execute(f'SELECT "{START}" AS s, "{END}" AS e FROM "{TABLE}"').fetchall()
    assert [(r["s"], r["e"]) for r in rows] == [(next_month(3), next_month(3 + STAY))]
    events = parse(response.text)
    assert patched_ids(events)[:3] == [f"#{ID}-calendar", f"#{ID}-bookings", f"#{ID}-form"]
    for day in range(3, 3 + STAY):
        assert is_disabled(events[0].elements, next_month(day)), day
    assert not is_disabled(events[0].elements, next_month(3 + STAY))
    assert "field-error" not in events[2].elements
    assert signals_of(events)["_pick"] == {"start": "", "end": "", "hover": ""}
    assert nights(STAY) in response.text  # the toast
    assert "<b>&</b>" not in events[1].elements  # user input is escaped, never markup
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in events[1].elements


def test_an_overlapping_booking_is_refused_and_the_input_kept(client, db):
    book(db, next_month(10), next_month(13))
    form = valid_form(db, next_month(12), next_month(12 + STAY))

    events = parse(client.post(PATH, data=form, headers=DATASTAR).text)

    assert count(db, TABLE) == 1
    assert patched_ids(events) == [f"#{ID}-form"]
    assert f'id="{ID}-summary-error"' in events[0].elements
    assert "overlap" in events[0].elements
    assert f'value="{next_month(12).isoformat()}"' in events[0].elements  # the pick is kept


def test_back_to_back_do_not_overlap(client, db):
    book(db, next_month(10), next_month(13))
    forms = [valid_form(db, next_month(13), next_month(13 + STAY)),
             valid_form(db, next_month(10 - STAY), next_month(10))]

    for form in forms:
        response = client.post(PATH, data=form, headers=DATASTAR)
        assert "field-error" not in response.text, response.text

    assert count(db, TABLE) == 1 + len(forms)


def test_mutations_need_the_datastar_header(client, db):
    form = valid_form(db, next_month(3), next_month(3 + STAY))
    assert client.post(PATH, data=form).status_code == 403
    assert count(db, TABLE) == 0
    booking_id = book(db, next_month(3), next_month(6))
    assert client.delete(f"{PATH}/{booking_id}").status_code == 403
    assert count(db, TABLE) == 1


def test_an_invalid_field_shows_its_error_inline(client, db):
    form = valid_form(db, next_month(3), next_month(3 + STAY))
    form["guest"] = ""

    events = parse(client.post(PATH, data=form, headers=DATASTAR).text)

    assert count(db, TABLE) == 0
    assert patched_ids(events) == [f"#{ID}-form"]
    assert f'id="{ID}-form-guest-error"' in events[0].elements
    assert f"{nights(STAY)} available" in events[0].elements  # the dates themselves were fine


def test_delete_frees_the_dates(client, db):
    booking_id = book(db, next_month(10), next_month(13))

    response = client.delete(f"{PATH}/{booking_id}", headers=DATASTAR)

    assert count(db, TABLE) == 0
    events = parse(response.text)
    assert patched_ids(events)[:2] == [f"#{ID}-calendar", f"#{ID}-bookings"]
    assert not is_disabled(events[0].elements, next_month(11))
    assert f'id="{ID}-bookings-empty"' in events[1].elements
    for gone_id in (booking_id, uuid.uuid4(), "not-a-uuid"):
        gone = client.delete(f"{PATH}/{gone_id}", headers=DATASTAR)
        assert "no longer exists" in gone.text


# The database's own rule: EXCLUDE USING gist, so no race can double-book.


def insert_sql(row: dict) -> tuple[sql.Composed, list]:
    """An INSERT of one row, to run on a connection of the test's own."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(TABLE),
        sql.SQL(", ").join(map(sql.Identifier, row)),
        sql.SQL(", ").join(sql.Placeholder() * len(row)),
    )
    return query, list(row.values())


def test_two_concurrent_overlapping_inserts_exactly_one_wins(database_url, db):
    one = insert_sql(new_row(db, next_month(10), next_month(13)))
    other = insert_sql(new_row(db, next_month(12), next_month(14)))
    outcome: list[str] = []
    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        first.execute(*one)  # in an open transaction: not committed yet

        def race() -> None:
            try:
                second.execute(*other)  # waits for `first` to finish
                second.commit()
                outcome.append("committed")
            except psycopg.errors.ExclusionViolation:
                second.rollback()
                outcome.append("refused")

        thread = threading.Thread(target=race)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second insert should wait for the first transaction"
        first.commit()
        thread.join(timeout=10)
    assert outcome == ["refused"]
    assert count(db, TABLE) == 1


def test_a_booking_racing_past_the_check_gets_a_friendly_error(client, database_url, db):
    """Another transaction holds an overlapping, uncommitted row: the app's check cannot see
    it, the insert waits on it, and when it commits the database refuses ours."""
    form = valid_form(db, next_month(12), next_month(12 + STAY))
    theirs = insert_sql(new_row(db, next_month(10), next_month(13)))
    responses: list[str] = []
    with psycopg.connect(database_url) as holder:
        holder.execute(*theirs)
        thread = threading.Thread(
            target=lambda: responses.append(client.post(PATH, data=form, headers=DATASTAR).text))
        thread.start()
        deadline = time.monotonic() + 10
        while not db.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        ).fetchone()["n"]:
            assert time.monotonic() < deadline, "the app's insert never waited on the lock"
            time.sleep(0.02)
        holder.commit()
        thread.join(timeout=10)
    assert count(db, TABLE) == 1  # theirs, not ours
    events = parse(responses[0])
    assert patched_ids(events) == [f"#{ID}-form"]
    assert "Someone has just booked" in events[0].elements
