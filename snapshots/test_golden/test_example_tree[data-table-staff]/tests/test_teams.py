"""Screen `teams`: pages, Datastar patches, validation, SQL round trips."""

import json
import uuid

from tests.conftest import DATASTAR, count, label, make
from tests.sse import parse, patched_ids, signals_of

PATH = "/teams"
TABLE = "teams"
MOUNTED = {"screen": "teams", "q": ""}


def ds_get(client, url, view=None, **params):
    """A GET as Datastar makes it: header, and the signals as ?datastar=."""
    signals = {"view": view} if view else {}
    return client.get(url, params={**params, "datastar": json.dumps(signals)}, headers=DATASTAR)


def valid_form(db) -> dict[str, str]:
    """A submission the server accepts (strings, as a browser sends them)."""
    form = {
        "name": "Ada <b>&</b> {{ 7*7 }}",
    }
    return form


def add(db, text: str) -> str:
    """A record labelled for `text` (see conftest.label), with plain SQL."""
    values = {"name": label(TABLE, text)}
    return make(db, TABLE, **values)


def test_page_renders_the_list_on_the_server(client, db):
    zed = add(db, "Zed Last")
    abe = add(db, "Abe First")

    response = client.get(PATH)

    assert response.status_code == 200
    assert "Datastar-Request" in response.headers["vary"].split(", ")
    html = response.text
    # In label order, by the rows' ids: the list need not show the label field.
    assert html.index(abe) < html.index(zed)
    assert '<script type="module" src="/static/datastar.js?v=' in html  # fingerprinted


def test_deep_link_selects_the_record(client, db):
    record_id = add(db, "Deep Link")

    html = client.get(f"{PATH}/{record_id}").text

    assert 'id="teams-show"' in html
    signals = json.loads(html.split("data-signals='")[1].split("'")[0])
    assert signals["_selectedId"] == record_id


def test_unknown_and_malformed_ids_are_404(client, db):
    assert client.get(f"{PATH}/{uuid.uuid4()}").status_code == 404
    assert client.get(f"{PATH}/not-a-uuid").status_code == 404


def test_selecting_patches_only_the_detail_pane(client, db):
    record_id = add(db, "Selected")

    events = parse(ds_get(client, f"{PATH}/{record_id}", view=MOUNTED).text)

    assert patched_ids(events)[0] == "#teams-detail"
    assert "#teams-list" not in patched_ids(events)
    assert signals_of(events) == {"_selectedId": record_id}


def test_create_stores_the_record_and_escapes_it(client, db):
    form = valid_form(db)

    response = client.post(PATH, data=form, headers=DATASTAR)

    assert response.status_code == 200
    assert count(db, TABLE) == 1
    text = response.text
    assert "field-error" not in text
    assert "<b>&</b>" not in text  # user input is escaped, never markup
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in text


def test_mutations_need_the_datastar_header(client, db):
    response = client.post(PATH, data=valid_form(db))

    assert response.status_code == 403
    assert count(db, TABLE) == 0


def test_invalid_input_shows_the_field_error_and_keeps_the_input(client, db):
    form = valid_form(db)
    form["name"] = ""

    response = client.post(PATH, data=form, headers=DATASTAR)

    assert count(db, TABLE) == 0
    events = parse(response.text)
    assert patched_ids(events) == ["#teams-detail"]
    assert 'id="teams-form-name-error"' in events[0].elements
    assert "This field is required." in events[0].elements


def test_delete_removes_the_record(client, db):
    record_id = add(db, "Doomed")

    response = client.delete(f"{PATH}/{record_id}", headers=DATASTAR)

    assert response.status_code == 200
    assert count(db, TABLE) == 0
    assert label(TABLE, "Doomed") in response.text  # the toast names what was deleted
