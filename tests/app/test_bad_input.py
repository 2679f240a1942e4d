"""Hostile input gets a 4xx with a sentence to act on, in Dutch and English, and changes nothing.

Each case once answered 500: JSON nested thousands deep (the parser's recursion runs out), a lone
UTF-16 surrogate such as ``"\\ud800"`` (a string no database, drive or JSON encoder takes), an
action's owner or status outside its choices, an occurrence key at the calendar's edge (year 9999).
The pane's API and the Google card endpoints read the same bodies, so both are held to it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from test_api import ADA, GRACE, NOW, PREFS, Api
from test_workspace_endpoints import BASE, Panel, buttons, plan

from addin.app import create_app
from addin.demo import seed
from addin.jsonbody import MAX_DEPTH
from connectors.local import LocalStore
from connectors.testing import ManualClock

SURROGATE = "\\ud800"
"""A lone high surrogate as JSON writes it (six characters in the request body)."""


def _deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


DEEP = {
    "array 10k": _deep_array(10_000),
    "array 30k": _deep_array(30_000),
    "object 10k": _deep_object(10_000),
    f"array {MAX_DEPTH + 1}": _deep_array(MAX_DEPTH + 1),
}


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The app on the seeded local store."""
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)
    seed(store, NOW)
    return app


@pytest.fixture
def api(app: Flask) -> Api:
    """The pane's API client (checks every answer against the OpenAPI document)."""
    clock = app.extensions["goedgesprek.clock"]
    assert isinstance(clock, ManualClock)
    return Api(app, clock)


def _raw(api: Api, method: str, path: str, raw: str, lang: str, **headers: str) -> Any:
    """Send `raw` as a JSON body; the answer must match the OpenAPI document."""
    response = api.client.open(
        f"{path}?lang={lang}",
        method=method,
        data=raw.encode("utf-8"),
        headers={**api.headers(ADA), "Content-Type": "application/json", **headers},
    )
    api.check(method, path, response.status_code, response.get_json(silent=True))
    return response


def _refused_in_both_languages(api: Api, method: str, path: str, raw: str, **headers: str) -> str:
    """A 400 whose sentence differs between Dutch and English; returns the English one."""
    answers = {lang: _raw(api, method, path, raw, lang, **headers) for lang in ("nl", "en")}
    for response in answers.values():
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        assert response.get_json()["error"] in {"bad_request", "invalid"}
    messages = {lang: r.get_json()["message"] for lang, r in answers.items()}
    assert messages["nl"] != messages["en"]
    return str(messages["en"])


def _series_count(app: Flask) -> int:
    return len(app.extensions["goedgesprek.service"].registry.for_person(ADA))


# -- the pane's API --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", DEEP.values(), ids=DEEP.keys())
def test_deeply_nested_json_is_refused_on_every_writing_route(api: Api, raw: str) -> None:
    """Nesting beyond the limit is a 400 that names the limit, on every route that reads a body."""
    ctx = api.plan()["context"]
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    routes = [
        ("POST", "/api/series/preview", {}),
        ("POST", "/api/series", {}),
        ("PATCH", f"/api/series/{series}", {}),
        ("POST", f"/api/series/{series}/occurrences/{occ}", {"If-Match": ""}),
    ]
    for method, path, headers in routes:
        message = _refused_in_both_languages(api, method, path, raw, **headers)
        assert f"more than {MAX_DEPTH} levels" in message
    assert _series_count(api.app) == 1


def test_nesting_within_the_limit_is_read(api: Api) -> None:
    """A body exactly at the limit reaches the service (which refuses it for its own reasons)."""
    inner = _deep_array(MAX_DEPTH - 1)
    response = _raw(api, "POST", "/api/series/preview", f'{{"partner": {inner}}}', "en")
    assert response.status_code == 400
    assert "levels" not in response.get_json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"partner": f"gr{SURROGATE}ace@example.org", "role": "employee", "preferences": {}},
        {"partner": GRACE, "role": "employee", "preferences": {"place": SURROGATE}},
        {"partner": GRACE, "role": "employee", "preferences": {SURROGATE: 1}},
        {
            "partner": GRACE,
            "role": "employee",
            "preferences": PREFS,
            "request_id": f"abcdefgh{SURROGATE}",
        },
    ],
    ids=["partner", "place", "key", "request_id"],
)
def test_a_lone_surrogate_in_a_plan_is_refused(api: Api, body: dict[str, Any]) -> None:
    """Preview and plan refuse it with a sentence; no series is made."""
    raw = json.dumps(body).replace("\\\\ud800", SURROGATE)
    assert SURROGATE in raw
    for path in ("/api/series/preview", "/api/series"):
        message = _refused_in_both_languages(api, "POST", path, raw)
        assert "not text" in message
    assert _series_count(api.app) == 0


def test_a_lone_surrogate_in_an_item_or_a_series_change_is_refused(api: Api) -> None:
    """An item title or a place with one is a 400; the conversation stays as it was."""
    ctx = api.plan()["context"]
    series, occ, event = ctx["series"]["id"], ctx["occurrence"]["key"], ctx["event"]["id"]
    op = f'{{"op": "agenda.add_item", "theme": "personal", "title": "Energie {SURROGATE}"}}'
    raw = f'{{"event": "{event}", "ops": [{op}]}}'
    message = _refused_in_both_languages(
        api, "POST", f"/api/series/{series}/occurrences/{occ}", raw, **{"If-Match": ""}
    )
    assert "not text" in message
    _refused_in_both_languages(api, "PATCH", f"/api/series/{series}", f'{{"place": "{SURROGATE}"}}')
    again = api.call("GET", f"/api/context?event={event}").get_json()
    assert again["agenda"]["items"] == []
    assert again["etag"] is None


@pytest.mark.parametrize(
    ("op", "english"),
    [
        (
            {"op": "record.add_action", "description": "Cursus", "owner": "admin"},
            "An action's owner must be employee or manager, not 'admin'.",
        ),
        (
            {"op": "record.edit_action", "action": "a1", "owner": "admin"},
            "An action's owner must be employee or manager, not 'admin'.",
        ),
        (
            {"op": "record.set_status", "action": "a1", "status": "x"},
            "An action's status must be open, done or dropped, not 'x'.",
        ),
    ],
    ids=["add owner", "edit owner", "status"],
)
def test_an_action_owner_or_status_outside_its_choices_is_refused(
    api: Api, op: dict[str, str], english: str
) -> None:
    """The sentence names the field, the choices and the value; nothing is saved."""
    ctx = api.plan()["context"]
    series, occ, event = ctx["series"]["id"], ctx["occurrence"]["key"], ctx["event"]["id"]
    path = f"/api/series/{series}/occurrences/{occ}"
    raw = json.dumps({"event": event, "ops": [op]})
    assert _refused_in_both_languages(api, "POST", path, raw, **{"If-Match": ""}) == english
    assert api.call("GET", f"/api/context?event={event}").get_json()["etag"] is None


@pytest.mark.parametrize(
    ("op", "dutch"),
    [
        ({}, "Een wijziging noemt geen op"),
        ({"op": "agenda.nope"}, "Onbekende wijziging 'agenda.nope'"),
        ({"op": "agenda.remove_item"}, "De wijziging mist het veld item."),
        ({"op": "agenda.remove_item", "item": 5}, "Het veld item van de wijziging moet tekst"),
        ({"op": "agenda.move_item", "item": "i1", "index": 1.5}, "De positie moet een heel getal"),
        (
            {"op": "agenda.move_item", "item": "i1", "index": 7},
            "Kies een positie van 0 tot en met 0",
        ),
        ({"op": "record.summarise", "item": "i1", "finished": "ja"}, "finished moet true of false"),
        (
            {
                "op": "record.add_action",
                "description": "d",
                "owner": "manager",
                "due": "2027-02-30",
            },
            "De uiterste datum moet een datum zijn",
        ),
    ],
    ids=["no op", "unknown op", "missing", "not text", "index", "index range", "finished", "due"],
)
def test_a_change_a_host_could_not_have_sent_is_refused_in_dutch_too(
    api: Api, op: dict[str, object], dutch: str
) -> None:
    """An op out of date or out of shape says so in the reader's language, not in English."""
    ctx = api.plan()["context"]
    item = {"op": "agenda.add_item", "theme": "personal", "title": "Eerste"}
    ctx = api.ops(ADA, ctx, item).get_json()
    path = f"/api/series/{ctx['series']['id']}/occurrences/{ctx['occurrence']['key']}"
    raw = json.dumps({"event": ctx["event"]["id"], "ops": [op]})
    _refused_in_both_languages(api, "POST", path, raw, **{"If-Match": ctx["etag"]})
    answer = _raw(api, "POST", path, raw, "nl", **{"If-Match": ctx["etag"]}).get_json()
    assert answer["message"].startswith("Er is niets opgeslagen. " + dutch), answer["message"]


@pytest.mark.parametrize(
    ("change", "english"),
    [
        ({"every": "2"}, "every and duration must be whole numbers."),
        ({"duration": 60.5}, "every and duration must be whole numbers."),
        ({"earliest": "29:59"}, "Give earliest as a time of day such as 09:30."),
        ({"latest": 930}, "Give latest as a time of day such as 09:30."),
        ({"weekdays": "TU"}, 'Send the weekdays as a list such as ["TU", "TH"].'),
        ({"weekdays": ["SA"]}, "Unknown weekday 'SA': use MO, TU, WE, TH or FR."),
        ({"weekdays": ["TU", "SU"]}, "Unknown weekday 'SU': use MO, TU, WE, TH or FR."),
        ({"place": "p" * 201}, "place is longer than 200 characters."),
        ({"place": 5}, "place must be text."),
    ],
    ids=["every", "duration", "hour 29", "time number", "weekdays text", "SA", "SU", "place", "5"],
)
def test_preferences_that_cannot_be_used_say_what_to_change(
    api: Api, change: dict[str, object], english: str
) -> None:
    """Each says which preference is wrong in the reader's language; nothing is planned."""
    plan = {"partner": GRACE, "role": "employee", "request_id": "req-prefs-1"}
    raw = json.dumps({**plan, "preferences": {**PREFS, **change}})
    for path in ("/api/series/preview", "/api/series"):
        assert _refused_in_both_languages(api, "POST", path, raw) == english
    assert _series_count(api.app) == 0


def test_a_field_of_the_wrong_type_is_called_so_not_missing(api: Api) -> None:
    """partner 5 was sent: the sentence says it must be text, not that it is missing."""
    body = {"partner": 5, "role": "employee", "preferences": PREFS}
    english = _refused_in_both_languages(api, "POST", "/api/series/preview", json.dumps(body))
    assert english == "partner must be text."
    series = api.plan()["series"]["id"]
    patch = json.dumps({"place": ["Tuin"]})
    assert _refused_in_both_languages(api, "PATCH", f"/api/series/{series}", patch) == (
        "place must be text."
    )


@pytest.mark.parametrize(
    "op",
    [
        {"op": "record.summarise", "item": "i9", "text": "Goed", "finished": True},
        {"op": "record.add_agreement", "text": "Cursus", "item": "i9"},
        {"op": "record.add_action", "description": "Bellen", "owner": "manager", "item": "i9"},
    ],
    ids=["summary", "agreement", "action"],
)
def test_a_record_entry_about_an_item_not_on_the_agenda_is_refused(
    api: Api, op: dict[str, object]
) -> None:
    """A summary, agreement or action tied to an item the agenda lacks is not stored."""
    ctx = api.plan()["context"]
    ctx = api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "A"}).get_json()
    path = f"/api/series/{ctx['series']['id']}/occurrences/{ctx['occurrence']['key']}"
    raw = json.dumps({"event": ctx["event"]["id"], "ops": [op]})
    english = _refused_in_both_languages(api, "POST", path, raw, **{"If-Match": ctx["etag"]})
    assert "no longer exists" in english
    assert api.call("GET", f"/api/context?event={ctx['event']['id']}").get_json()["record"] is None


def test_the_manager_cannot_probe_the_employees_unshared_items(api: Api) -> None:
    """Acting on Ada's unshared item answers Grace as for an item that does not exist."""
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "Geheim"}
    ).get_json()
    grace = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    path = f"/api/series/{ctx['series']['id']}/occurrences/{ctx['occurrence']['key']}"
    for op in (
        {"op": "agenda.edit_item", "title": "x"},
        {"op": "agenda.move_item", "index": 0},
        {"op": "record.summarise", "text": "x", "finished": True},
    ):
        answers = {
            item: api.call(
                "POST",
                path,
                GRACE,
                body={"event": ctx["event"]["id"], "ops": [{**op, "item": item}]},
                headers={"If-Match": grace["etag"]},
            ).get_json()["message"]
            for item in ("i1", "i9")
        }
        assert answers["i1"] == answers["i9"], answers


@pytest.mark.parametrize(
    ("change", "english"),
    [
        ({"partner_name": "Zed\n\n## Afspraken"}, "partner_name must be one line."),
        ({"partner_name": "Z" * 201}, "partner_name is longer than 200 characters."),
        ({"preferences": {**PREFS, "place": "Kamer\r\nX-Evil: 1"}}, "place must be one line."),
    ],
    ids=["name lines", "name long", "place lines"],
)
def test_a_name_or_place_is_one_short_line(
    api: Api, change: dict[str, object], english: str
) -> None:
    """What ends up in the event, the turn and the export is one line of at most 200."""
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-line-1"}
    assert _refused_in_both_languages(
        api, "POST", "/api/series", json.dumps({**body, **change})
    ) == (english)
    assert _series_count(api.app) == 0
    series = api.plan()["series"]["id"]
    patch = json.dumps({"place": "Kamer\nX"})
    assert _refused_in_both_languages(api, "PATCH", f"/api/series/{series}", patch) == (
        "place must be one line."
    )


@pytest.mark.parametrize("online", ["no", "false", 0, None, [True]])
def test_online_that_is_not_true_or_false_is_refused(api: Api, online: object) -> None:
    """A plan or series change saying online "no" is refused, not read as online."""
    series = api.plan()["series"]["id"]
    raw = json.dumps({"online": online})
    assert "online" in _refused_in_both_languages(api, "PATCH", f"/api/series/{series}", raw)
    entry = api.app.extensions["goedgesprek.service"].registry.get(series)
    assert entry.online is False
    plan = {"partner": GRACE, "role": "employee", "request_id": "req-online-1"}
    raw = json.dumps({**plan, "preferences": {**PREFS, "online": online}})
    assert "online" in _refused_in_both_languages(api, "POST", "/api/series/preview", raw)


def test_an_unknown_template_is_refused_before_a_series_is_kept(api: Api) -> None:
    """No series is registered for a template that does not exist: the pair can plan again."""
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-tmpl-1"}
    english = _refused_in_both_languages(
        api, "POST", "/api/series", json.dumps({**body, "template": "nope"})
    )
    assert "three_themes" in english
    assert _series_count(api.app) == 0
    assert api.plan("req-tmpl-2")["series"]["template"] == "three_themes"


@pytest.mark.parametrize("key", ["99991231T230000Z", "99991231T235959Z", "00010101T000000Z"])
def test_an_occurrence_key_at_the_calendars_edge_is_not_found(api: Api, key: str) -> None:
    """Year 9999 (or 1) is no conversation of the series: 404 with a sentence, on every route."""
    ctx = api.plan()["context"]
    series, event = ctx["series"]["id"], ctx["event"]["id"]
    base = f"/api/series/{series}/occurrences/{key}"
    body = {"event": event, "ops": [{"op": "agenda.share"}]}
    for lang in ("nl", "en"):
        answers = [
            api.call("POST", base, body=body, lang=lang, headers={"If-Match": ""}),
            api.call("GET", f"{base}/export?format=md", lang=lang),
            api.call("GET", f"{base}/event-copy", lang=lang),
        ]
        for response in answers:
            assert response.status_code == 404, response.get_data(as_text=True)[:300]
            assert key in response.get_json()["message"]
    assert api.call("GET", f"/api/context?event={event}_{key}").status_code in {200, 404}


def _token_with_deep_json() -> str:
    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    return f"{part(_deep_array(5_000))}.{part('{}')}.AAAA"


def test_a_token_of_deeply_nested_json_is_unauthorized(api: Api) -> None:
    """A bearer token whose header is JSON nested thousands deep is a 401, not a crash."""
    response = api.client.get(
        "/api/context?event=x", headers={"Authorization": f"Bearer {_token_with_deep_json()}"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


# -- the Google card endpoints ---------------------------------------------------------------------


def _post_raw(panel: Panel, url: str, raw: str) -> Any:
    return panel.client.post(
        url,
        data=raw.encode("utf-8"),
        headers={"Authorization": f"Bearer {panel.sign(url)}", "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("raw", DEEP.values(), ids=DEEP.keys())
def test_cards_refuse_deeply_nested_json(app: Flask, raw: str) -> None:
    """Triggers and buttons answer 400 with a sentence in the request's language."""
    panel = Panel(app, ADA)
    messages = set()
    for path in ("/workspace/homepage", "/workspace/calendar/event-open", "/workspace/action/ops"):
        for lang in ("nl", "en"):
            url = f"{BASE}{path}?lang={lang}"
            response = _post_raw(panel, url, raw)
            assert response.status_code == 400, response.get_data(as_text=True)[:300]
            messages.add(response.get_json()["message"])
    assert len(messages) == 2
    assert any(f"more than {MAX_DEPTH} levels" in m for m in messages)


def test_cards_refuse_a_lone_surrogate_in_what_was_typed(app: Flask) -> None:
    """A typed agenda title or partner with one is a 400; the agenda stays empty."""
    ada, event_id = plan(app)
    ada.open(event_id)
    body = ada.event_object(f"{BASE}/workspace/action/agenda_add")
    body["commonEventObject"]["formInputs"] = {
        "item_title": {"stringInputs": {"value": ["Energie"]}}
    }
    raw = json.dumps(body).replace("Energie", f"Energie {SURROGATE}")
    response = _post_raw(ada, f"{BASE}/workspace/action/agenda_add", raw)
    assert response.status_code == 400
    assert (
        "not text" in response.get_json()["message"]
        or "geen tekst" in (response.get_json()["message"])
    )
    home = Panel(app, ADA)
    url = f"{BASE}/workspace/action/preview"
    body = home.event_object(url, inputs={"partner": {"stringInputs": {"value": ["g@x.org"]}}})
    response = _post_raw(home, url, json.dumps(body).replace("g@x.org", f"g{SURROGATE}@x.org"))
    assert response.status_code == 400
    assert _series_count(app) == 1
    ada.open(event_id)
    assert "Energie" not in json.dumps(ada.top)


@pytest.mark.parametrize(
    "ops",
    [
        _deep_array(10_000),
        json.dumps([{"op": "agenda.add_item", "theme": "personal", "title": "x"}]).replace(
            '"x"', f'"{SURROGATE}"'
        ),
    ],
    ids=["deep", "surrogate"],
)
def test_a_button_parameter_that_is_not_usable_json_is_out_of_date(app: Flask, ops: str) -> None:
    """A tampered ``ops`` parameter gets the card's "out of date" notification, not a crash."""
    ada, event_id = plan(app)
    ada.open(event_id)
    url = f"{BASE}/workspace/action/ops"
    parameters = {"series": "s", "occ": "o", "etag": "", "event": event_id, "ops": ops}
    answer = ada.post(url, ada.event_object(url, parameters=parameters))
    notification = answer["renderActions"]["action"]["notification"]["text"]
    assert notification == ada.t("This button is out of date: open the event again.")


def test_a_card_button_with_a_bad_owner_or_an_edge_key_says_why(app: Flask) -> None:
    """The service's refusals reach the card as a notification in the person's language."""
    ada, event_id = plan(app, lang="en")
    ada.open(event_id)
    url = f"{BASE}/workspace/action/ops"
    series, occ = _series_and_occurrence(ada.top)
    bad_owner = json.dumps([{"op": "record.add_action", "description": "x", "owner": "admin"}])
    cases = [
        (occ, bad_owner, "An action's owner must be employee or manager"),
        ("99991231T230000Z", json.dumps([{"op": "agenda.share"}]), "no conversation at"),
    ]
    for occ, ops, expected in cases:
        parameters = {"series": series, "occ": occ, "etag": "", "event": event_id, "ops": ops}
        answer = ada.post(url, ada.event_object(url, parameters=parameters))
        assert expected in answer["renderActions"]["action"]["notification"]["text"]


def _series_and_occurrence(card: dict[str, Any]) -> tuple[str, str]:
    """The series and occurrence a card's buttons name."""
    for button in buttons(card):
        params = {p["key"]: p["value"] for p in button["onClick"]["action"].get("parameters", [])}
        if params.get("series") and params.get("occ"):
            return params["series"], params["occ"]
    raise AssertionError("no button names the series and occurrence")


def test_cards_refuse_a_user_token_of_deeply_nested_json(app: Flask) -> None:
    """The user's ID token in the event object is parsed before it is verified: 401, not 500."""
    panel = Panel(app, ADA)
    url = f"{BASE}/workspace/homepage"
    body = panel.event_object(url, user_token=_token_with_deep_json())
    response = panel.client.post(
        url, json=body, headers={"Authorization": f"Bearer {panel.sign(url)}"}
    )
    assert response.status_code == 401
    system = panel.client.post(
        url, json=body, headers={"Authorization": f"Bearer {_token_with_deep_json()}"}
    )
    assert system.status_code == 401


@pytest.mark.parametrize("spell", [str.lower, lambda key: key[:-2] + "Z"])
def test_an_occurrence_key_in_another_spelling_is_refused(
    api: Api, spell: Callable[[str], str]
) -> None:
    """A key naming the real occurrence in another spelling is a 400, not a second document."""
    ctx = api.plan()["context"]
    series, event, key = ctx["series"]["id"], ctx["event"]["id"], ctx["occurrence"]["key"]
    spelled = spell(key)
    assert spelled != key and key.endswith("00Z")
    path = f"/api/series/{series}/occurrences/{spelled}"
    body = {"event": event, "ops": [{"op": "agenda.add_item", "theme": "personal", "title": "x"}]}
    response = api.call("POST", path, body=body, headers={"If-Match": ""}, lang="en")
    assert response.status_code == 400
    assert "not an occurrence key" in response.get_json()["message"]


def test_an_id_with_a_nul_character_is_not_found_on_every_store(api: Api) -> None:
    """No id holds NUL (PostgreSQL text cannot): as an event, a series hint or a series it is
    a 404 with a sentence, never a 500, whichever database keeps the registry."""
    series = api.plan()["context"]["series"]["id"]
    for path in (
        "/api/context?event=%00",
        f"/api/context?event=ab%00cd&series={series}%00",
        "/api/series/%00/occurrences/20270302T083000Z/export?format=md",
        f"/api/series/{series}%00/occurrences/20270302T083000Z/event-copy",
    ):
        response = api.call("GET", path)
        assert response.status_code == 404, (path, response.get_data(as_text=True)[:300])
        assert response.get_json()["message"]
