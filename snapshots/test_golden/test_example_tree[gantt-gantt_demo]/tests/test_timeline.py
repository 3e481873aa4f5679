"""Screen `timeline`: the chart's geometry, zoom, moves and their rules, over SQL."""

import json
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from psycopg import sql

from tests.conftest import DATASTAR, make
from tests.sse import parse, patched_ids, scripts_of, signals_of

PATH = "/timeline"
TABLE = "tasks"
SCREEN_ID = "timeline"  # the prefix of the screen's element ids
START = "starts"
END = "ends"
LINKS = "task_depends_on"
LINK_TASK = "task_id"  # the task that waits
LINK_NEEDS = "depends_on_id"  # the task it waits for
LINK_FIELD = "depends_on"  # the form's field for it
MOUNTED = {"screen": "timeline", "q": ""}
PX_PER_DAY = {"day": 40, "week": 18, "month": 5}
TODAY = datetime.now(UTC).date()
DAY = timedelta(days=1)


def start_at(days: int) -> date:
    return TODAY + timedelta(days=days)


def end_at(days: int) -> date:
    return TODAY + timedelta(days=days)


def begin(value: Any) -> datetime:
    """Where a bar starts: the start date's midnight (UTC)."""
    return datetime.combine(value, time.min, UTC)


def finish(value: Any) -> datetime:
    """Where a bar ends: the midnight after the (inclusive) end date (UTC)."""
    return datetime.combine(value, time.min, UTC) + DAY


def label(text: str) -> Any:
    """A label value the store accepts, as close to `text` as its type allows."""
    return text[: 200]


def add(db, text: str, start_day: int | None, end_day: int | None) -> str:
    """A row with its start and end `start_day` / `end_day` days from today (None: unset)."""
    values: dict[str, Any] = {
        START: None if start_day is None else start_at(start_day),
        END: None if end_day is None else end_at(end_day),
    }
    values["title"] = label(text)
    return make(db, TABLE, **values)


def depends(db, task: str, needs: str) -> None:
    """`task` waits for `needs`."""
    db.execute(
        sql.SQL("INSERT INTO {} ({}, {}) VALUES (%s, %s)").format(
            sql.Identifier(LINKS), sql.Identifier(LINK_TASK), sql.Identifier(LINK_NEEDS)
        ),
        (task, needs),
    )


def form(db, text: str, start_day: int, end_day: int) -> dict[str, Any]:
    """A submission of the drawer's form the server accepts (strings, as a browser sends)."""
    values: dict[str, Any] = {
        "title": "Ada <b>&</b> {{ 7*7 }}",
        "starts": "2024-05-17",
        "ends": "2024-05-17",
        "owner": "Ada <b>&</b> {{ 7*7 }}",
    }
    values["title"] = label(text)
    values[START] = as_input(start_at(start_day))
    values[END] = as_input(end_at(end_day))
    return values


def as_input(value: Any) -> str:
    """A date or datetime as its <input> submits it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


def dates(db, row_id: str) -> tuple[Any, Any]:
    row = db.execute(
        sql.SQL("SELECT {} AS start, {} AS end FROM {} WHERE id = %s").format(
            sql.Identifier(START), sql.Identifier(END), sql.Identifier(TABLE)
        ),
        (row_id,),
    ).fetchone()
    return row["start"], row["end"]


def window_of(html: str) -> tuple[str, date, int]:
    """The zoom and the window (first day, length in days) the chart was drawn for."""
    match = re.search(
        r'data-zoom="(\w+)" data-window-start="([\d-]+)" data-window-days="(\d+)"', html
    )
    assert match, "the chart carries its window"
    return match[1], date.fromisoformat(match[2]), int(match[3])


def expected(window_start: date, window_days: int, start: Any, end: Any) -> tuple[float, float]:
    """(left, width) in percent of the window, from the dates alone."""
    origin = datetime.combine(window_start, time.min, UTC)
    span = timedelta(days=window_days)
    left = (begin(start) - origin) / span * 100
    return left, (finish(end) - origin) / span * 100 - left


def bar_style(html: str, row_id: str) -> tuple[float, float]:
    bar = rf'id="{SCREEN_ID}-bar-{row_id}"[^>]*?'
    match = re.search(bar + r'style="left: (-?[\d.]+)%; width: (-?[\d.]+)%"', html, re.S)
    assert match, f"no bar for {row_id}"
    return float(match[1]), float(match[2])


def ds_get(client, url, view=None, **params):
    """A GET as Datastar makes it: header, and the signals as ?datastar=."""
    signals = {"view": view} if view else {}
    return client.get(url, params={**params, "datastar": json.dumps(signals)}, headers=DATASTAR)


def drag(client, row_id: str, days: float, *, edge: str = "move", zoom: str = "week"):
    """Drop a bar `days` days (in pixels) away, as the browser reports it."""
    html = client.get(PATH, params={"zoom": zoom}).text
    _, window_start, window_days = window_of(html)
    width = window_days * PX_PER_DAY[zoom]
    payload = {
        "id": row_id, "edge": edge, "dx": days * PX_PER_DAY[zoom], "width": width,
        "window_start": window_start.isoformat(), "window_days": window_days,
    }
    return client.post(f"{PATH}/move", params={"zoom": zoom}, json=payload, headers=DATASTAR)


def test_page_draws_each_bar_from_its_dates(client, db):
    first = add(db, "Ada <b>&</b> {{ 7*7 }}", 0, 4)
    second = add(db, "Second", 6, 9)

    response = client.get(PATH)

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    html = response.text
    zoom, window_start, window_days = window_of(html)
    assert zoom == "week"
    for row_id in (first, second):
        left, width = bar_style(html, row_id)
        want_left, want_width = expected(window_start, window_days, *dates(db, row_id))
        assert abs(left - want_left) < 1e-3
        assert abs(width - want_width) < 1e-3
    rows = re.findall(rf'<li id="{SCREEN_ID}-row-([\w-]+)"', html)
    assert rows == [first, second]  # by start
    assert f'style="width: {window_days * PX_PER_DAY["week"]}px"' in html
    assert "<b>&</b>" not in html  # labels are escaped, never markup
    assert "&lt;b&gt;&amp;&lt;/b&gt; {{ 7*7 }}" in html


def test_window_has_whole_units_and_room_for_every_task(client, db):
    add(db, "Early", 40, 45)
    add(db, "Late", 150, 160)
    for zoom in ("day", "week", "month"):
        html = client.get(PATH, params={"zoom": zoom}).text
        shown, window_start, window_days = window_of(html)
        assert shown == zoom
        window_end = window_start + timedelta(days=window_days)
        assert begin(start_at(40)) > datetime.combine(window_start, time.min, UTC)
        assert finish(end_at(160)) < datetime.combine(window_end, time.min, UTC)
        if zoom == "week":
            assert window_start.weekday() == 0 and window_days % 7 == 0
        if zoom == "month":
            assert window_start.day == 1 and window_end.day == 1
        assert f'style="width: {window_days * PX_PER_DAY[zoom]}px"' in html


def test_zoom_lives_in_the_url(client, db):
    add(db, "Task", 0, 3)

    day = client.get(PATH, params={"zoom": "day"}).text
    month = client.get(PATH, params={"zoom": "month"}).text

    assert window_of(day)[0] == "day" and window_of(month)[0] == "month"
    assert re.search(rf'id="{SCREEN_ID}-zoom-day"\s+aria-current="true"', day)
    assert re.search(rf'id="{SCREEN_ID}-zoom-month"\s+aria-current="true"', month)
    bad = client.get(PATH, params={"zoom": "year"})
    assert bad.status_code in (302, 307) and bad.headers["location"] == PATH


def test_datastar_get_patches_only_the_chart_when_mounted(client, db):
    add(db, "Task", 0, 3)

    events = parse(ds_get(client, PATH, view=MOUNTED, zoom="day").text)

    # Live: the stream element too, replaced, so the stream of this zoom opens.
    assert patched_ids(events) == [
        f"#{SCREEN_ID}-chart", f"#{SCREEN_ID}-live", f"#{SCREEN_ID}-drawer", "body"
    ]
    assert events[1].one("mode") == "replace" and "zoom=day" in events[1].elements
    assert 'data-zoom="day"' in events[0].elements
    assert "?zoom=day" in scripts_of(events)  # the address bar follows the zoom

    events = parse(ds_get(client, PATH, view={"screen": "elsewhere", "q": ""}).text)
    assert patched_ids(events)[:2] == ["#screen", "#nav"]
    assert signals_of(events)["view"] == MOUNTED


def test_a_drag_moves_the_dates_by_whole_days(client, db):
    row_id = add(db, "Task", 0, 4)
    before = dates(db, row_id)

    response = drag(client, row_id, 3.4)  # rounds to 3 days

    assert response.status_code == 200
    assert dates(db, row_id) == (before[0] + 3 * DAY, before[1] + 3 * DAY)
    events = parse(response.text)
    assert patched_ids(events) == [f"#{SCREEN_ID}-row-{row_id}", f"#{SCREEN_ID}-links", "#toasts"]
    assert signals_of(events) == {"_gantt": {"id": "", "move": 0, "grow": 0}}
    html = client.get(PATH).text
    _, window_start, window_days = window_of(html)
    want_left, _ = expected(window_start, window_days, *dates(db, row_id))
    assert abs(bar_style(events[1].elements, row_id)[0] - want_left) < 1e-3


def test_dragging_the_end_changes_only_the_end(client, db):
    row_id = add(db, "Task", 0, 4)
    before = dates(db, row_id)

    drag(client, row_id, 2.6, edge="end", zoom="day")

    assert dates(db, row_id) == (before[0], before[1] + 3 * DAY)


def test_less_than_half_a_day_snaps_back(client, db):
    row_id = add(db, "Task", 0, 4)
    before = dates(db, row_id)

    events = parse(drag(client, row_id, 0.4).text)

    assert dates(db, row_id) == before
    assert f"#{SCREEN_ID}-row-{row_id}" in patched_ids(events)


def test_an_end_before_the_start_is_refused(client, db):
    row_id = add(db, "Task", 0, 4)
    before = dates(db, row_id)

    events = parse(drag(client, row_id, -8, edge="end", zoom="day").text)

    assert dates(db, row_id) == before
    row = events[1].elements
    assert 'class="row-error' in row and "must end after it starts" in row
    assert "must end after it starts" in events[-1].elements  # the toast


def test_a_task_cannot_start_before_what_it_depends_on_ends(client, db):
    first = add(db, "First", 0, 4)
    second = add(db, "Second", 6, 9)
    depends(db, second, first)
    before = dates(db, first), dates(db, second)

    early = parse(drag(client, second, -3).text)  # would start before First ends
    late = parse(drag(client, first, 4).text)  # would end after Second starts

    assert (dates(db, first), dates(db, second)) == before
    assert "can’t start before" in early[1].elements
    assert "must end before" in late[1].elements

    drag(client, second, 3)  # later is fine
    assert dates(db, second)[0] == before[1][0] + 3 * DAY


def test_arrows_join_each_dependency(client, db):
    a = add(db, "A", 0, 2)
    b = add(db, "B", 4, 6)
    c = add(db, "C", 1, 5)  # starts before B... and before A ends: drawn as late
    depends(db, b, a)
    depends(db, c, a)
    depends(db, c, c)  # a task waiting for itself is no arrow

    html = client.get(PATH).text

    paths = re.findall(r'<path id="[^"]+" data-from="([\w-]+)" data-to="([\w-]+)"', html)
    assert set(paths) == {(a, b), (a, c)}
    late = re.search(rf'id="{SCREEN_ID}-link-{a}-{c}"[^>]*class="([^"]+)"', html, re.S)
    assert late and "stroke-rose-500" in late[1]
    assert "starts too early" in html


def test_keys_move_and_stretch_in_one_request(client, db):
    row_id = add(db, "Task", 0, 4)
    before = dates(db, row_id)
    html = client.get(PATH).text
    _, window_start, window_days = window_of(html)

    response = client.post(
        f"{PATH}/nudge",
        json={"id": row_id, "move": 2, "grow": -1, "window_start": window_start.isoformat(),
              "window_days": window_days},
        headers=DATASTAR,
    )

    assert response.status_code == 200
    assert dates(db, row_id) == (before[0] + 2 * DAY, before[1] + DAY)


def test_moving_out_of_the_window_redraws_the_whole_chart(client, db):
    row_id = add(db, "Task", 0, 4)

    events = parse(drag(client, row_id, 400).text)

    assert f"#{SCREEN_ID}-chart" in patched_ids(events)
    assert dates(db, row_id)[0] == start_at(400)


def test_a_move_past_another_row_morphs_the_chart_into_the_new_order(client, db):
    first = add(db, "First", 0, 1)
    second = add(db, "Second", 3, 4)

    events = parse(drag(client, first, 5).text)  # now starts after Second

    # One idempotent morph of the whole chart (a live frame for the same change may land
    # before or after it), never a remove-and-insert pair that could leave the row twice.
    assert f"#{SCREEN_ID}-chart" in patched_ids(events)
    patches = [e for e in events if e.type == "datastar-patch-elements" and not e.one("selector")]
    assert patches and all(e.one("mode") in (None, "outer") for e in patches)
    assert not [e for e in events if e.one("mode") == "remove"]
    chart = next(e.elements for e in patches if f'id="{SCREEN_ID}-chart"' in e.elements)
    assert re.findall(rf'<li id="{SCREEN_ID}-row-([\w-]+)"', chart) == [second, first]
    rows = re.findall(rf'<li id="{SCREEN_ID}-row-([\w-]+)"', client.get(PATH).text)
    assert rows == [second, first]


def test_a_move_that_keeps_the_order_patches_only_that_row(client, db):
    first = add(db, "First", 0, 1)
    add(db, "Second", 5, 6)

    events = parse(drag(client, first, 1).text)  # still starts before Second

    ids = patched_ids(events)
    assert f"#{SCREEN_ID}-chart" not in ids
    assert ids[:2] == [f"#{SCREEN_ID}-row-{first}", f"#{SCREEN_ID}-links"]


def test_moves_need_the_datastar_header(client, db):
    row_id = add(db, "Task", 0, 4)
    before = dates(db, row_id)

    response = client.post(f"{PATH}/move", json={"id": row_id, "dx": 100, "width": 1000,
                                                  "window_start": "2024-01-01", "window_days": 84})

    assert response.status_code == 403
    assert dates(db, row_id) == before


def test_malformed_or_unknown_moves_change_nothing(client, db):
    row_id = add(db, "Task", 0, 4)
    before = dates(db, row_id)
    seen = {"window_start": "2024-01-01", "window_days": 84}
    bad = [
        {"id": row_id, "dx": "far", "width": 1000},
        {"id": row_id, "dx": 50, "width": 0},
        {"id": "not-an-id", "dx": 50, "width": 100},
    ]
    for payload in bad:
        response = client.post(f"{PATH}/move", json=payload | seen, headers=DATASTAR)
        assert response.status_code == 200
        assert "could not be read" in response.text
    gone = client.post(
        f"{PATH}/move",
        json={"id": str(uuid.uuid4()), "dx": 500, "width": 1000} | seen,
        headers=DATASTAR,
    )
    assert "no longer exists" in gone.text
    assert dates(db, row_id) == before


def test_empty_and_unscheduled(client, db):
    html = client.get(PATH).text
    assert f'id="{SCREEN_ID}-empty"' in html


def test_new_and_edit_are_deep_links_to_the_drawer(client, db):
    row_id = add(db, "Task", 0, 4)

    new = client.get(f"{PATH}/new", params={"zoom": "day"}).text
    edit = client.get(f"{PATH}/{row_id}").text

    assert f'id="{SCREEN_ID}-form"' in new and f'id="{SCREEN_ID}-delete"' not in new
    assert window_of(new)[0] == "day"  # the chart behind the drawer keeps its zoom
    assert f'id="{SCREEN_ID}-form"' in edit and f'id="{SCREEN_ID}-delete"' in edit
    assert f'value="{as_input(dates(db, row_id)[0])}"' in edit
    assert client.get(f"{PATH}/{uuid.uuid4()}").status_code == 404
    assert client.get(f"{PATH}/not-an-id").status_code == 404


def test_the_form_creates_a_bar_and_closes_the_drawer(client, db):
    response = client.post(PATH, params={"zoom": "day"}, data=form(db, "Made here", 1, 3),
                           headers=DATASTAR)

    assert response.status_code == 200
    events = parse(response.text)
    assert patched_ids(events)[:2] == [f"#{SCREEN_ID}-chart", f"#{SCREEN_ID}-drawer"]
    assert 'data-zoom="day"' in events[0].elements
    assert f'id="{SCREEN_ID}-form"' not in events[1].elements
    rows = re.findall(rf'<li id="{SCREEN_ID}-row-([\w-]+)"', events[0].elements)
    assert len(rows) == 1
    assert dates(db, rows[0]) == (start_at(1), end_at(3))


def test_the_form_checks_the_schedule_rules(client, db):
    values = form(db, "Backwards", 5, 2)

    events = parse(client.post(PATH, data=values, headers=DATASTAR).text)

    assert patched_ids(events) == [f"#{SCREEN_ID}-drawer"]
    assert f'id="{SCREEN_ID}-form-{END}-error"' in events[0].elements
    assert "must end after it starts" in events[0].elements
    assert f'value="{values[START]}"' in events[0].elements  # the input is kept
    assert "<li id=" not in client.get(PATH).text

    first = add(db, "First", 0, 4)
    values = form(db, "Too soon", 2, 6)
    values[LINK_FIELD] = [first]
    events = parse(client.post(PATH, data=values, headers=DATASTAR).text)
    assert f'id="{SCREEN_ID}-form-{START}-error"' in events[0].elements
    assert "can’t start before" in events[0].elements

    values = form(db, "First", 0, 4)
    values[LINK_FIELD] = [first]
    events = parse(client.put(f"{PATH}/{first}", data=values, headers=DATASTAR).text)
    assert "cannot depend on itself" in events[0].elements
    assert len(re.findall(rf'<li id="{SCREEN_ID}-row-', client.get(PATH).text)) == 1


def test_the_form_saves_and_deletes(client, db):
    row_id = add(db, "Task", 0, 4)

    response = client.put(f"{PATH}/{row_id}", data=form(db, "Task", 2, 9), headers=DATASTAR)
    assert "saved" in response.text
    assert dates(db, row_id) == (start_at(2), end_at(9))

    response = client.delete(f"{PATH}/{row_id}", headers=DATASTAR)
    assert response.status_code == 200 and "Deleted" in response.text
    assert f'id="{SCREEN_ID}-empty"' in response.text
    gone = client.delete(f"{PATH}/{row_id}", headers=DATASTAR)
    assert "no longer exists" in gone.text
    assert client.post(PATH, data=form(db, "Task", 0, 1)).status_code == 403
