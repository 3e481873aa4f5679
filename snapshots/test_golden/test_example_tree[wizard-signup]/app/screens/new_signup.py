"""Screen `new_signup` (wizard over store `signup`).

A multi-step form whose draft lives on the server, in the `wizard_drafts` table. Each step
is validated (its own fields only, by the store's model) and saved before the next one is
shown, so a refresh, the back button or the same URL on another device resumes at the same
step with the same values. The draft id is in the URL rather than a cookie: the URL is what a
refresh, a bookmark and another device share, and a cookie would allow one draft per browser.
The last step creates the record through the store's own `create` and deletes the draft in
the same transaction. Drafts untouched for EXPIRE_DAYS are deleted when the wizard is used.

Every GET answers a normal request with the whole page (first load, refresh, deep link) and a
Datastar request with SSE patches: only the wizard card when the client shows this screen
already, the whole screen when it arrives from another one.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from datastar_py.sse import DatastarEvent
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from psycopg import IntegrityError
from pydantic import ValidationError

from app.core.forms import field_errors, parse_id
from app.core.wizard import Drafts
from app.db import Conn
from app.stores import company as company_store
from app.stores import signup as signup_store
from app.templating import render
from app.web import (
    client_signals,
    is_datastar,
    is_mounted,
    page,
    patch,
    patch_signals,
    push_url,
    replace_url,
    require_datastar,
    screen_events,
    sse,
    toast,
)

router = APIRouter(tags=["new_signup"])

SCREEN = "new_signup"
TITLE = "New signup"
NOUN = "signup"
LABEL = "name"  # what a draft and the new record are shown by
PATH = "/new-signup"
DETAIL_PATH = "/signups"  # the master-detail screen of the same store
EXPIRE_DAYS = 7
RECENT_LIMIT = 8  # drafts listed beside the wizard

Row = dict[str, Any]
Input = signup_store.SignupIn  # the store's form model: what a valid record is


@dataclass(frozen=True)
class Step:
    title: str
    fields: tuple[str, ...]  # form names (= the store's field names)


STEPS: tuple[Step, ...] = (
    Step("About you", ("name", "email", "from")),
    Step("Your company", ("company", "class", "seats", "budget")),
    Step("Getting started", ("starts", "newsletter", "notes")),
)
REVIEW = True
# Step numbers start at 1; the review, when there is one, is the step after the last.
LAST = len(STEPS) + 1 if REVIEW else len(STEPS)


# Drafts: kept in the shared drafts table, scoped to this screen (app/core/wizard.py).
DRAFTS = Drafts(
    table="wizard_drafts", screen=SCREEN, label=LABEL, expire_days=EXPIRE_DAYS,
    recent_limit=RECENT_LIMIT,
)


async def _recent(conn: Conn) -> list[Row]:
    """The drafts in progress, most recently touched first, as the list beside shows them."""
    return [
        {
            "id": str(row["id"]),
            "label": row["label"] or "",
            "where": _where(row["step"]),
            "updated_at": row["updated_at"],
            "url": f"{PATH}/{row['id']}",
        }
        for row in await DRAFTS.recent(conn)
    ]


def _where(reached: int) -> str:
    if reached > len(STEPS):
        return "Ready to review"
    return f"Step {reached} of {LAST}: {STEPS[reached - 1].title}"


# Values and validation: the store's own form model decides what is valid.


def _values(draft: Row | None) -> dict[str, Any]:
    """What the form shows: the store's new-record values, overlaid with the draft's."""
    values = signup_store.new_values()
    if draft is not None:
        values.update((k, v) for k, v in draft["data"].items() if k in values)
    return values


def _posted(form: Any, step: Step) -> dict[str, Any]:
    """This step's fields from the submitted form; anything else in it is ignored."""
    return {k: v for k, v in signup_store.form_values(form).items() if k in step.fields}


def _check(values: dict[str, Any]) -> tuple[Input | None, dict[str, str]]:
    """The valid record, or the first error of each form field."""
    try:
        return Input.model_validate(values), {}
    except ValidationError as exc:
        return None, field_errors(exc)


def _step_with(errors: dict[str, str]) -> int | None:
    """The first step asking for a field that has an error."""
    for number, step in enumerate(STEPS, start=1):
        if any(name in errors for name in step.fields):
            return number
    return None


async def _choices(conn: Conn, step: Step) -> dict[str, Any]:
    """The options of the step's selects (refs by label, enum values)."""
    choices: dict[str, Any] = {}
    if "company" in step.fields:
        choices["company"] = await company_store.options(conn)
    if "class" in step.fields:
        choices["class"] = signup_store.CLASS_VALUES
    return choices


async def _preview(conn: Conn, data: Input) -> tuple[Row, dict[str, str]]:
    """The values as the review lists them (typed; refs by their label), and an error for
    each ref whose record has gone since it was chosen."""
    record: Row = data.model_dump(by_alias=True)
    errors: dict[str, str] = {}
    cur = await conn.execute(
        """
        SELECT "id", "name" AS "label" FROM "companies"
        WHERE "id" = ANY(%(ids)s)
        ORDER BY "name", "id"
        """,
        {"ids": [] if data.company is None else [data.company]},
    )
    found = await cur.fetchall()
    record["company_label"] = found[0]["label"] if found else None
    if data.company is not None and not found:
        errors["company"] = "That company no longer exists."
    return record, errors


# What the wizard card shows: a step's form, the review, the new record, or a lost draft.


def _url(draft: Row, number: int) -> str:
    return f"{PATH}/{draft['id']}?step={number}"


def _progress(draft: Row | None, number: int) -> list[dict[str, Any]]:
    reached = draft["step"] if draft is not None else 1
    titles = [step.title for step in STEPS] + (["Review"] if REVIEW else [])
    return [
        {
            "number": n,
            "title": title,
            "state": "current" if n == number else "done" if n < reached else "todo",
            # Any step reached so far can be revisited; later ones only through "Next".
            "url": _url(draft, n) if draft is not None and n <= reached and n != number else None,
        }
        for n, title in enumerate(titles, start=1)
    ]


def _card(draft: Row | None, number: int, **extra: Any) -> dict[str, Any]:
    card = {
        "state": "step",
        "draft": draft,
        "draft_id": str(draft["id"]) if draft is not None else "",
        "label": (draft["data"].get(LABEL) or "") if draft is not None else "",
        "number": number,
        "last": LAST,
        "progress": _progress(draft, number),
        "percent": round(100 * number / LAST),
        "heading": STEPS[number - 1].title if number <= len(STEPS) else "Review",
        "back_url": _url(draft, number - 1) if draft is not None and number > 1 else None,
        "draft_url": f"{PATH}/{draft['id']}" if draft is not None else "",
        "input": {},  # not "values": Jinja would find dict.values first
        "errors": {},
        "general": [],  # errors of no field on this card
        "choices": {},
    }
    card.update(extra)
    return card


async def _step_card(
    conn: Conn,
    draft: Row | None,
    number: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Step `number`'s form, with these values (default: the draft's) and errors."""
    step = STEPS[number - 1]
    if number < len(STEPS) or REVIEW:
        button = f"Next: {STEPS[number].title}" if number < len(STEPS) else "Review"
    else:
        button = f"Create {NOUN}"
    return _card(
        draft, number,
        input=values if values is not None else _values(draft),
        errors=errors or {},
        general=[m for name, m in (errors or {}).items() if name not in step.fields],
        choices=await _choices(conn, step),
        action=f"{PATH}/{draft['id']}/steps/{number}" if draft is not None else PATH,
        button=button,
    )


async def _at(conn: Conn, draft: Row, number: int) -> dict[str, Any]:
    """The card for step `number` of a draft. The review re-checks everything first: a
    value that is no longer valid sends the user to its step, with the error shown."""
    if number <= len(STEPS):
        return await _step_card(conn, draft, number)
    data, errors = _check(_values(draft))
    record: Row | None = None
    if data is not None:
        record, errors = await _preview(conn, data)
    failed = _step_with(errors)
    if failed is not None or record is None:
        return await _step_card(conn, draft, failed or len(STEPS), errors=errors)
    return _card(draft, number, record=record, submit_url=f"{PATH}/{draft['id']}/submit")


def _done(record: Row) -> dict[str, Any]:
    return {
        "state": "done",
        "draft_id": "",
        "heading": f"{NOUN.capitalize()} created",
        "record": record,
        "label": record[LABEL],
        "view_url": f"{DETAIL_PATH}/{record['id']}",
    }


def _gone() -> dict[str, Any]:
    return {"state": "gone", "draft_id": "", "heading": "Draft not found"}


# Responses.


def _title(card: dict[str, Any]) -> str:
    return f"{card['heading']} · {TITLE}"


async def _respond(
    request: Request, conn: Conn, card: dict[str, Any], *, url: str | None, status_code: int = 200
) -> Response:
    """A GET's answer: the page, or patches that bring the client to `url`."""
    if not is_datastar(request):
        return page(
            request, f"{SCREEN}/page.html", screen=SCREEN, title=_title(card),
            selected_id=card["draft_id"], status_code=status_code, wizard=card,
            drafts=await _recent(conn),
        )
    signals = await client_signals(request)
    if is_mounted(signals, SCREEN, ""):
        events = [
            patch(render(f"{SCREEN}/_wizard.html", wizard=card)),
            patch_signals({"_selectedId": card["draft_id"]}),
        ]
    else:
        html = render(
            f"{SCREEN}/_screen.html", wizard=card, drafts=await _recent(conn),
            selected_id=card["draft_id"],
        )
        events = screen_events(html, screen=SCREEN, q="", selected_id=card["draft_id"])
    if url is not None:
        events.append(push_url(url, _title(card)))
    return sse(events)


async def _changed(conn: Conn, card: dict[str, Any], url: str | None) -> list[DatastarEvent]:
    """After a mutation: the card, the drafts list (it changed too) and the address bar."""
    events = [
        patch(render(f"{SCREEN}/_wizard.html", wizard=card)),
        patch(render(f"{SCREEN}/_drafts.html", drafts=await _recent(conn),
                     selected_id=card["draft_id"])),
        patch_signals({"_selectedId": card["draft_id"]}),
    ]
    if url is not None:
        events.append(push_url(url, _title(card)))
    return events


async def _lost(conn: Conn) -> Response:
    """The draft vanished (submitted in another tab, discarded or expired)."""
    return sse([*await _changed(conn, _gone(), None),
                toast("That draft no longer exists.", "error")])


# Pages (GET): each URL is a deep link and a Datastar target.


def _number(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:  # not a number (or absurdly long)
        return None


@router.get(PATH)
async def start(request: Request, conn: Conn, created: str = "") -> Response:
    """Step 1 of a new draft (none is stored before step 1 is valid), or, with
    ?created=<id>, the confirmation for a record this wizard just created."""
    await DRAFTS.expire(conn)
    record_id = parse_id(created) if created else None
    record = await signup_store.get(conn, record_id) if record_id is not None else None
    if record is not None:
        return await _respond(request, conn, _done(record), url=f"{PATH}?created={record['id']}")
    return await _respond(request, conn, await _step_card(conn, None, 1), url=PATH)


@router.get(f"{PATH}/{{draft_id}}")
async def resume(request: Request, conn: Conn, draft_id: str, step: str = "") -> Response:
    """A draft at the step in the URL; a step not reached yet (or none) means the furthest
    one reached, and a full page load is redirected to that canonical URL."""
    await DRAFTS.expire(conn)
    draft = await DRAFTS.load(conn, parse_id(draft_id))
    if draft is None:
        return await _respond(request, conn, _gone(), url=None, status_code=404)
    reached = min(draft["step"], LAST)
    number = _number(step)
    if number is None or not 1 <= number <= reached:
        number = reached
    if str(number) != step and not is_datastar(request):
        return RedirectResponse(_url(draft, number), status_code=303)
    card = await _at(conn, draft, number)
    return await _respond(request, conn, card, url=_url(draft, card["number"]))


# Mutations: Datastar only (see require_datastar), answered with SSE patches.


async def _save(request: Request, conn: Conn, draft: Row | None, number: int) -> Response:
    """Validate step `number` (its fields only), save it into the draft, show the next."""
    step = STEPS[number - 1]
    posted = _posted(await request.form(), step)
    values = {**_values(draft), **posted}
    _, errors = _check(values)
    errors = {name: message for name, message in errors.items() if name in step.fields}
    if errors:  # the same step again: errors inline, the input kept, nothing saved
        card = await _step_card(conn, draft, number, values, errors)
        return sse([patch(render(f"{SCREEN}/_wizard.html", wizard=card))])
    reached = min(number + 1, LAST)
    events: list[DatastarEvent] = []
    if draft is None:
        draft = await DRAFTS.insert(conn, posted, reached)
        # The entry we are on becomes this draft's step 1, so "back" returns to it.
        events.append(replace_url(_url(draft, 1)))
    else:
        draft = await DRAFTS.update(conn, draft["id"], posted, reached)
        if draft is None:
            return await _lost(conn)
    if number == len(STEPS) and not REVIEW:
        return await _finish(conn, draft["id"], events)
    card = await _at(conn, draft, number + 1)
    return sse(events + await _changed(conn, card, _url(draft, card["number"])))


@router.post(PATH, dependencies=[Depends(require_datastar)])
async def save_first(request: Request, conn: Conn) -> Response:
    """Step 1 of a new draft: the draft is created once step 1 is valid."""
    await DRAFTS.expire(conn)
    return await _save(request, conn, None, 1)


@router.post(f"{PATH}/{{draft_id}}/steps/{{number}}", dependencies=[Depends(require_datastar)])
async def save_step(request: Request, conn: Conn, draft_id: str, number: int) -> Response:
    await DRAFTS.expire(conn)
    draft = await DRAFTS.load(conn, parse_id(draft_id))
    if draft is None:
        return await _lost(conn)
    if not 1 <= number <= min(draft["step"], len(STEPS)):
        # Not a step of this wizard, or one not reached yet: show where the draft is.
        card = await _at(conn, draft, min(draft["step"], LAST))
        return sse(await _changed(conn, card, _url(draft, card["number"])))
    return await _save(request, conn, draft, number)


async def _finish(conn: Conn, draft_id: UUID, events: list[DatastarEvent]) -> Response:
    """Create the record from the draft and delete the draft, in one transaction. The draft
    row is locked first, so a double submit creates one record, not two."""
    record_id: UUID | None = None
    async with conn.transaction():
        draft = await DRAFTS.load(conn, draft_id, lock=True)
        if draft is None:
            return await _lost(conn)
        data, errors = _check(_values(draft))
        if data is not None:
            try:
                record_id = await signup_store.create(conn, data)
            except IntegrityError as exc:  # create's own savepoint is rolled back already
                errors = signup_store.constraint_errors(exc)
                if not errors:
                    raise
            else:
                await DRAFTS.delete(conn, draft["id"])
    if record_id is not None:
        record = await signup_store.get(conn, record_id)
        assert record is not None
        done = await _changed(conn, _done(record), f"{PATH}?created={record_id}")
        return sse([*events, *done, toast(f"{NOUN.capitalize()} created.")])
    # Back to the first step with an error (the last one for an error of no step's field).
    failed = _step_with(errors) or len(STEPS)
    card = await _step_card(conn, draft, failed, errors=errors)
    return sse(events + await _changed(conn, card, _url(draft, failed)))


@router.post(f"{PATH}/{{draft_id}}/submit", dependencies=[Depends(require_datastar)])
async def submit(conn: Conn, draft_id: str) -> Response:
    await DRAFTS.expire(conn)
    draft_uuid = parse_id(draft_id)
    if draft_uuid is None:
        return await _lost(conn)
    return await _finish(conn, draft_uuid, [])


@router.delete(f"{PATH}/{{draft_id}}", dependencies=[Depends(require_datastar)])
async def discard(conn: Conn, draft_id: str) -> Response:
    draft_uuid = parse_id(draft_id)
    if draft_uuid is None or not await DRAFTS.delete(conn, draft_uuid):
        return await _lost(conn)
    card = await _step_card(conn, None, 1)
    return sse([*await _changed(conn, card, PATH), toast("Draft discarded.")])
