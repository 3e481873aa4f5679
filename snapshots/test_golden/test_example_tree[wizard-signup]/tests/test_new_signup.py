"""Screen `new_signup` (wizard): pages, drafts, step validation, submit, expiry."""

import json
import re
import uuid
from typing import Any

import pytest
from markupsafe import escape

from tests.conftest import DATASTAR, count, make
from tests.sse import parse, patched_ids, scripts_of

PATH = "/new-signup"
SCREEN = "new_signup"
TABLE = "signups"
DRAFTS = "wizard_drafts"
STEPS = [
    ["name", "email", "from"],
    ["company", "class", "seats", "budget"],
    ["starts", "newsletter", "notes"],
]  # each step's fields
LAST = 4  # the review, when there is one, is the step after the last
EXPIRE_DAYS = 7
MOUNTED = {"screen": SCREEN, "q": ""}


@pytest.fixture(autouse=True)
def no_drafts(db):
    """The shared fixtures empty the stores' tables; the drafts table is this pattern's."""
    db.execute(f'DELETE FROM "{DRAFTS}"')


# One record for each store the steps refer to (by table), and the label the review must
# show for it.
REF_RECORDS: dict[str, dict[str, Any]] = {"companies": {"name": "Acme <i>&</i> Co"}}
REF_LABELS = {"companies": "Acme <i>&</i> Co"}


def valid_steps(db) -> list[dict[str, Any]]:
    """A valid submission for each step (strings, as a browser sends them)."""
    refs: dict[str, str] = {}
    refs["companies"] = make(db, "companies", **REF_RECORDS["companies"])
    return [
        {
            "name": "Ada <b>&</b> {{ 7*7 }}",
            "email": "ada@example.com",
            "from": "Ada <b>&</b> {{ 7*7 }}",
        },
        {
            "company": refs["companies"],
            "class": "startup",
            "seats": "250",
            "budget": "50.00",
        },
        {
            "starts": "2024-05-17",
            "newsletter": "on",
            "notes": "Ada <b>&</b> {{ 7*7 }}",
        },
    ]


def ds_get(client, url, **params):
    """A GET as Datastar makes it from this screen: header, signals as ?datastar=."""
    signals = json.dumps({"view": MOUNTED})
    return client.get(url, params={**params, "datastar": signals}, headers=DATASTAR)


def drafts(db) -> list[dict[str, Any]]:
    return db.execute(f'SELECT * FROM "{DRAFTS}" ORDER BY "created_at"').fetchall()


def newest(db) -> str:
    """The id of the record created last (a ref may point into the same table)."""
    row = db.execute(f'SELECT "id" FROM "{TABLE}" ORDER BY "created_at" DESC, "id" DESC').fetchone()
    return str(row["id"])


def advance(client, db, steps: list[dict[str, Any]], through: int) -> str:
    """Post steps 1..`through` like the browser does; returns the draft's id."""
    response = client.post(PATH, data=steps[0], headers=DATASTAR)
    assert response.status_code == 200
    assert "field-error" not in response.text
    draft_id = str(drafts(db)[-1]["id"])
    for number in range(2, through + 1):
        response = client.post(f"{PATH}/{draft_id}/steps/{number}", data=steps[number - 1],
                               headers=DATASTAR)
        assert "field-error" not in response.text
    return draft_id


def test_the_first_step_is_a_full_page_and_stores_nothing(client, db):
    response = client.get(PATH)

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    assert 'id="new-signup-form"' in response.text
    assert 'data-step="1"' in response.text
    assert "No drafts in progress" in response.text  # the empty state
    assert drafts(db) == []


def test_mutations_need_the_datastar_header(client, db):
    steps = valid_steps(db)

    assert client.post(PATH, data=steps[0]).status_code == 403
    assert drafts(db) == []
    draft_id = advance(client, db, steps, 1)
    assert client.post(f"{PATH}/{draft_id}/steps/1", data=steps[0]).status_code == 403
    assert client.post(f"{PATH}/{draft_id}/submit").status_code == 403
    assert client.delete(f"{PATH}/{draft_id}").status_code == 403
    assert len(drafts(db)) == 1


def test_a_valid_first_step_creates_the_draft_with_only_its_fields(client, db):
    steps = valid_steps(db)
    stray = {name: value for step in steps[1:] for name, value in step.items()}

    events = parse(client.post(PATH, data={**stray, **steps[0]}, headers=DATASTAR).text)

    (draft,) = drafts(db)
    assert draft["screen"] == SCREEN
    assert sorted(draft["data"]) == sorted(STEPS[0])
    assert draft["step"] == 2
    scripts = scripts_of(events)
    # Back from step 2 returns to this draft's step 1, not to an empty form.
    replace = f"{{const u = new URL(\"{PATH}/{draft['id']}?step=1\", location.href);"
    assert f"{replace} history.replaceState(history.state, '', u);}}" in scripts
    assert f"{PATH}/{draft['id']}?step=2" in scripts
    patched = [target for target in patched_ids(events) if target != "body"]  # not the scripts
    assert patched[:2] == ["#new-signup-wizard", "#new-signup-drafts"]


def test_an_invalid_step_shows_its_errors_keeps_the_input_and_saves_nothing(client, db):
    steps = valid_steps(db)
    bad = dict(steps[0])
    bad["name"] = ""

    response = client.post(PATH, data=bad, headers=DATASTAR)

    assert drafts(db) == []
    events = parse(response.text)
    assert patched_ids(events) == ["#new-signup-wizard"]
    html = events[0].elements
    error = re.search(r'id="new-signup-form-name-error"[^>]*>([^<]*)<', html)
    assert error is not None
    assert "This field is required." in error.group(1)
    assert 'data-step="1"' in html


def test_a_step_not_reached_yet_cannot_be_posted(client, db):
    steps = valid_steps(db)
    draft_id = advance(client, db, steps, 1)
    before = drafts(db)

    response = client.post(f"{PATH}/{draft_id}/steps/3", data={}, headers=DATASTAR)

    assert drafts(db) == before
    events = parse(response.text)
    assert 'data-step="2"' in events[0].elements


def test_resume_shows_the_saved_values_and_redirects_to_a_reachable_step(client, db):
    steps = valid_steps(db)
    draft_id = advance(client, db, steps, 1)
    url = f"{PATH}/{draft_id}"

    for step in ("", "99", "0", "abc", "9" * 5000):
        response = client.get(url, params={"step": step} if step else {})
        assert response.status_code == 303
        assert response.headers["location"] == f"{url}?step=2"
    response = client.get(url, params={"step": "1"})
    assert response.status_code == 200
    assert 'data-step="1"' in response.text
    signals = json.loads(response.text.split("data-signals='")[1].split("'")[0])
    assert signals["_selectedId"] == draft_id
    for value in steps[0].values():
        if isinstance(value, str) and value != "on":  # a checkbox shows as `checked`
            assert str(escape(value)) in response.text  # the saved value, escaped

    # As Datastar asks it from this screen: only the card, and the address bar follows.
    events = parse(ds_get(client, url, step="1").text)
    assert patched_ids(events)[0] == "#new-signup-wizard"
    assert f"{url}?step=1" in scripts_of(events)


def test_unknown_or_malformed_draft_ids_are_a_404_page(client, db):
    for draft_id in (uuid.uuid4(), "not-a-uuid"):
        response = client.get(f"{PATH}/{draft_id}")
        assert response.status_code == 404
        assert 'id="new-signup-gone"' in response.text


def test_submit_creates_one_record_and_deletes_the_draft(client, db):
    steps = valid_steps(db)
    draft_id = advance(client, db, steps, 3)
    assert drafts(db)[0]["step"] == LAST
    review = client.get(f"{PATH}/{draft_id}", params={"step": str(LAST)})
    assert 'id="new-signup-review"' in review.text

    before = count(db, TABLE)

    response = client.post(f"{PATH}/{draft_id}/submit", headers=DATASTAR)

    assert count(db, TABLE) == before + 1
    assert drafts(db) == []
    record_id = newest(db)
    assert f"{PATH}?created={record_id}" in scripts_of(parse(response.text))
    assert 'id="new-signup-done"' in client.get(PATH, params={"created": str(record_id)}).text

    # A second submit (another tab, a double click) finds no draft and creates nothing.
    again = client.post(f"{PATH}/{draft_id}/submit", headers=DATASTAR)
    assert 'id="new-signup-gone"' in again.text
    assert count(db, TABLE) == before + 1


def test_a_database_constraint_is_shown_on_its_step_and_keeps_the_draft(client, db):
    steps = valid_steps(db)
    before = count(db, TABLE)
    for _ in range(2):  # the same values twice, and email is unique
        draft_id = advance(client, db, steps, 3)
        response = client.post(f"{PATH}/{draft_id}/submit", headers=DATASTAR)

    assert count(db, TABLE) == before + 1
    assert len(drafts(db)) == 1  # the second one, to correct
    html = parse(response.text)[0].elements
    assert 'data-step="1"' in html
    assert 'id="new-signup-form-email-error"' in html


def test_submit_checks_every_value_again_with_the_store_model(client, db):
    steps = valid_steps(db)
    draft_id = advance(client, db, steps, 3)
    # The draft changed behind the wizard's back (an old draft, a hand-made request).
    db.execute(
        f"""UPDATE "{DRAFTS}" SET "data" = "data" || %s::jsonb WHERE "id" = %s""",
        (json.dumps({"name": ""}), draft_id),
    )

    before = count(db, TABLE)

    response = client.post(f"{PATH}/{draft_id}/submit", headers=DATASTAR)

    assert count(db, TABLE) == before
    assert len(drafts(db)) == 1
    html = parse(response.text)[0].elements
    assert 'data-step="1"' in html
    assert 'id="new-signup-form-name-error"' in html


def test_discard_deletes_the_draft(client, db):
    steps = valid_steps(db)
    draft_id = advance(client, db, steps, 1)

    response = client.delete(f"{PATH}/{draft_id}", headers=DATASTAR)

    assert drafts(db) == []
    assert "Draft discarded." in response.text
    assert 'data-step="1"' in parse(response.text)[0].elements


def test_expired_drafts_are_deleted_when_the_wizard_is_used(client, db):
    def draft(screen: str, age_days: float) -> str:
        row = db.execute(
            f"""INSERT INTO "{DRAFTS}" ("screen", "updated_at")
                VALUES (%s, now() - make_interval(secs => %s)) RETURNING "id" """,
            (screen, age_days * 86400),
        ).fetchone()
        return str(row["id"])

    expired = draft(SCREEN, EXPIRE_DAYS + 1)
    fresh = draft(SCREEN, EXPIRE_DAYS / 2)
    elsewhere = draft("another_wizard", EXPIRE_DAYS + 1)  # not this screen's to delete

    assert client.get(f"{PATH}/{expired}").status_code == 404
    assert {str(d["id"]) for d in drafts(db)} == {fresh, elsewhere}
    assert client.get(f"{PATH}/{elsewhere}").status_code == 404  # nor to show
    assert client.get(f"{PATH}/{fresh}").status_code == 303
