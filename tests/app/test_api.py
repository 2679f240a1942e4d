"""The side-panel JSON API through Flask's test client, on the local store, with a manual clock."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from addin.app import create_app
from addin.demo import seed
from addin.openapi import spec
from connectors.local import LocalStore
from connectors.testing import ManualClock

ADA = "ada@example.org"
GRACE = "grace@example.org"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PREFS = {
    "weekdays": ["TU", "WE", "TH"],
    "earliest": "09:30",
    "latest": "12:00",
    "duration": 60,
    "place": "Koffiebar",
}


class Api:
    """A small client that speaks as Ada or Grace and checks every answer against the spec."""

    def __init__(self, app: Flask, clock: ManualClock) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.clock = clock
        identity = app.extensions["goedgesprek.identity"]
        self.tokens = {
            ADA: identity.issue(ADA, "Ada"),
            GRACE: identity.issue(GRACE, "Grace"),
            "eve@example.org": identity.issue("eve@example.org", "Eve"),
        }
        self.document = spec()
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource("urn:spec", resource)

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def call(
        self,
        method: str,
        path: str,
        who: str = ADA,
        *,
        body: Any = None,
        lang: str = "nl",
        headers: dict[str, str] | None = None,
    ) -> Any:
        sep = "&" if "?" in path else "?"
        response = self.client.open(
            f"{path}{sep}lang={lang}",
            method=method,
            json=body,
            headers={**self.headers(who), **(headers or {})},
        )
        self.check(method, path, response.status_code, response.get_json(silent=True))
        return response

    def check(self, method: str, path: str, status: int, data: Any) -> None:
        """The answer matches the OpenAPI response schema of its route and status."""
        template = _template(self.document, path.split("?", maxsplit=1)[0])
        operation = self.document["paths"][template][method.lower()]
        responses = operation["responses"]
        assert str(status) in responses, f"{method} {template} answered {status}: {data}"
        content = responses[str(status)].get("content", {}).get("application/json")
        if content is None or data is None:
            return
        validator = Draft202012Validator(_rooted(content["schema"]), registry=self.registry)
        errors = sorted(validator.iter_errors(data), key=lambda e: e.path)
        assert not errors, f"{method} {template} {status}: {errors[0].message} at {errors[0].path}"

    # -- flows

    def kennismaking(self) -> str:
        """A one-off event with Ada and Grace to plan from."""
        from connectors.models import Attendee, NewEvent

        start = NOW + timedelta(days=2)
        event = (
            self.app.extensions["goedgesprek.store"]
            .calendar(ADA)
            .create_event(
                NewEvent(
                    subject="Kennismaking",
                    start=start,
                    end=start + timedelta(minutes=30),
                    tz="Europe/Amsterdam",
                    organizer=ADA,
                    attendees=(Attendee(GRACE, "Grace"),),
                ),
                idempotency_key="kennismaking",
            )
        )
        return event.id

    def plan(self, request_id: str = "req-0001") -> dict[str, Any]:
        body = {
            "partner": GRACE,
            "role": "employee",
            "preferences": PREFS,
            "request_id": request_id,
        }
        response = self.call("POST", "/api/series", body=body)
        assert response.status_code == 201, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    def ops(
        self,
        who: str,
        context: dict[str, Any],
        *ops: dict[str, Any],
        etag: str | None = "ctx",
        change_id: str | None = None,
    ) -> Any:
        series, occ = context["series"]["id"], context["occurrence"]["key"]
        headers = {}
        tag = context["etag"] if etag == "ctx" else etag
        if tag:
            headers["If-Match"] = tag
        body: dict[str, Any] = {"event": context["event"]["id"], "ops": list(ops)}
        if change_id is not None:
            body["change_id"] = change_id
        return self.call(
            "POST", f"/api/series/{series}/occurrences/{occ}", who, body=body, headers=headers
        )


def _rooted(schema: dict[str, Any]) -> dict[str, Any]:
    """Point the schema's local refs at the registered spec."""
    text = json.dumps(schema).replace('"#/components', '"urn:spec#/components')
    result: dict[str, Any] = json.loads(text)
    return result


def _template(document: dict[str, Any], path: str) -> str:
    for template in document["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return str(template)
    raise AssertionError(f"{path} is not in the OpenAPI document")


def seeded_api(tmp_path: Path) -> Api:
    """The API on a seeded local store, at NOW."""
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)
    seed(store, NOW)
    return Api(app, clock)


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return seeded_api(tmp_path)


# -- identity and bad input ----------------------------------------------------------------------


def test_every_call_needs_a_valid_token(api: Api) -> None:
    event = api.kennismaking()
    for header in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic x"}):
        response = api.client.get(f"/api/context?event={event}", headers=header)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_from_another_key_is_refused(api: Api, tmp_path: Path) -> None:
    from addin.identity import LocalIdentity
    from addin.workspace.verify import LocalSigner

    forged = LocalIdentity(LocalSigner.generate()).issue(ADA, "Ada")
    response = api.client.post(
        "/api/series",
        json={"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "x" * 10},
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert response.status_code == 401
    assert api.app.extensions["goedgesprek.service"].registry.for_person(ADA) == []


def test_malformed_oversized_and_non_json_bodies_get_clear_errors(api: Api) -> None:
    headers = api.headers(ADA)
    bad = api.client.post(
        "/api/series/preview?lang=en",
        data="{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert "not valid JSON" in bad.get_json()["message"]
    plain = api.client.post("/api/series/preview?lang=en", data="x", headers=headers)
    assert plain.status_code == 415
    big = api.client.post(
        "/api/series/preview?lang=en",
        data=json.dumps({"partner": "x" * 70_000}),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert big.status_code == 413
    assert "KB" in big.get_json()["message"]
    array = api.call("POST", "/api/series/preview", body=[1, 2], lang="en")
    assert array.status_code == 400


def test_refused_preferences_say_why_in_the_callers_language(api: Api) -> None:
    body = {"partner": GRACE, "role": "employee", "preferences": {**PREFS, "duration": 15}}
    en = api.call("POST", "/api/series/preview", body=body, lang="en")
    assert en.status_code == 400
    assert "15" in en.get_json()["message"]
    nl = api.call("POST", "/api/series/preview", body=body, lang="nl")
    assert nl.status_code == 400
    assert nl.get_json()["message"] != en.get_json()["message"]


def test_an_unknown_event_is_404(api: Api) -> None:
    response = api.call("GET", "/api/context?event=nope")
    assert response.status_code == 404


# -- flows ----------------------------------------------------------------------------------------


def test_an_event_outside_a_series_offers_to_plan_with_the_other_attendee(api: Api) -> None:
    event = api.kennismaking()
    context = api.call("GET", f"/api/context?event={event}").get_json()
    assert context["state"] == "not_series"
    assert context["partner"] == {"email": GRACE, "name": "Grace"}
    assert context["turn"]["what"] == "plan"


def test_preview_then_plan_creates_one_series_even_when_repeated(api: Api) -> None:
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS}
    proposal = api.call("POST", "/api/series/preview", body=body).get_json()
    assert proposal["fits"] is True
    assert len(proposal["occurrences"]) == 4
    first = api.plan("req-twice-1")
    again = api.plan("req-twice-1")
    assert first["series"]["id"] == again["series"]["id"]
    assert first["first_event"] == again["first_event"]
    calendar = api.app.extensions["goedgesprek.store"].calendar(GRACE)
    masters = {e.series_id for e in calendar.events(NOW, NOW + timedelta(days=400)) if e.series_id}
    assert len(masters) == 1
    context = first["context"]
    assert context["state"] == "upcoming"
    assert context["occurrence"]["number"] == 1
    assert context["turn"]["what"] == "write_agenda"
    assert "Grace" in context["turn"]["message"]


def test_the_whole_conversation_from_agenda_to_carried_over_actions(api: Api) -> None:
    planned = api.plan()
    ctx = planned["context"]
    # The employee writes the agenda; the manager proposes an item.
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "personal", "title": "Energie"},
        {"op": "agenda.add_item", "theme": "growth", "title": "Cursus"},
        {"op": "agenda.share"},
    ).get_json()
    grace_ctx = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    assert grace_ctx["user"]["role"] == "manager"
    ctx = api.ops(
        GRACE, grace_ctx, {"op": "agenda.add_item", "theme": "role", "title": "Planning Q1"}
    ).get_json()
    ctx = api.ops(GRACE, ctx, {"op": "agenda.agree"}).get_json()
    ctx = api.ops(ADA, ctx, {"op": "agenda.agree"}).get_json()
    assert ctx["agenda"]["state"] == "agreed"
    assert ctx["turn"]["what"] == "prepare"
    # The agreed agenda is in the event body and attached.
    calendar = api.app.extensions["goedgesprek.store"].calendar(ADA)
    event = calendar.get_event(ctx["event"]["id"])
    assert "[Goed Gesprek: agenda]" in event.body_html
    assert "Planning Q1" in event.body_html
    assert [a.name for a in event.attachments] == [f"agenda-{ctx['occurrence']['start'][:10]}.html"]

    # The meeting ends.
    api.clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(minutes=10))
    ctx = api.call("GET", f"/api/context?event={ctx['event']['id']}").get_json()
    assert ctx["state"] == "ended"
    assert ctx["turn"]["what"] == "write_record"
    items = {i["title"]: i["id"] for i in ctx["agenda"]["items"]}
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "record.summarise", "item": items["Energie"], "text": "Goed", "finished": True},
        {
            "op": "record.summarise",
            "item": items["Cursus"],
            "text": "Nog uitzoeken",
            "finished": False,
        },
        {"op": "record.add_agreement", "text": "Ada volgt de cursus"},
        {
            "op": "record.add_action",
            "description": "Cursus zoeken",
            "owner": "employee",
            "due": "2027-01-15",
        },
        {"op": "record.propose", "agreement": "*"},
    ).get_json()
    assert ctx["turn"]["what"] == "accept"
    ctx = api.ops(ADA, ctx, {"op": "record.accept", "agreement": "*"}).get_json()
    assert ctx["turn"]["who"] == ["manager"]
    grace_ctx = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    ctx = api.ops(GRACE, grace_ctx, {"op": "record.accept", "agreement": "*"}).get_json()
    assert ctx["record"]["final"] is True
    assert ctx["turn"]["what"] == "done"
    # The record says what the next agenda will take, as the domain's carry-over decides.
    carries = ctx["record"]["carries"]
    assert sorted(i["title"] for i in carries["items"]) == ["Cursus", "Planning Q1"]
    assert [a["description"] for a in carries["actions"]] == ["Cursus zoeken"]

    # The next conversation carries over the unfinished item, and the open action as an action.
    next_event = _next_occurrence(api, ctx)
    nxt = api.call("GET", f"/api/context?event={next_event}").get_json()
    assert nxt["occurrence"]["number"] == 2
    carried = {i["title"]: i["carried_from"]["origin"] for i in nxt["agenda"]["items"]}
    assert carried == {"Cursus": "item", "Planning Q1": "item"}
    assert [a["description"] for a in nxt["agenda"]["actions"]] == ["Cursus zoeken"]
    assert [a["description"] for a in nxt["open_actions"]] == ["Cursus zoeken"]
    assert nxt["previous"]["final"] is True


def _next_occurrence(api: Api, ctx: dict[str, Any]) -> str:
    store = api.app.extensions["goedgesprek.store"]
    master = store.calendar(ADA).get_event(ctx["event"]["id"]).series_id
    start = datetime.fromisoformat(ctx["occurrence"]["end"])
    return str(store.calendar(ADA).instances(master, start, start + timedelta(days=200))[0].id)


def _instances(api: Api, ctx: dict[str, Any], count: int) -> list[str]:
    """The ids of the series' first `count` occurrences in Ada's calendar, from `ctx`'s on."""
    store = api.app.extensions["goedgesprek.store"]
    master = store.calendar(ADA).get_event(ctx["event"]["id"]).series_id
    start = datetime.fromisoformat(ctx["occurrence"]["start"]) - timedelta(minutes=1)
    found = store.calendar(ADA).instances(master, start, start + timedelta(days=400))
    return [e.id for e in found[:count]]


def _first_conversation_held(api: Api) -> dict[str, Any]:
    """Conversation 1 is held: one item left unfinished, one open action for Grace with a date."""
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "growth", "title": "Loopbaanpad"},
        {"op": "agenda.share"},
        {"op": "agenda.agree"},
    ).get_json()
    grace = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    ctx = api.ops(GRACE, grace, {"op": "agenda.agree"}).get_json()
    api.clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(minutes=10))
    item = ctx["agenda"]["items"][0]["id"]
    return dict(
        api.ops(
            ADA,
            ctx,
            {"op": "record.summarise", "item": item, "text": "Half", "finished": False},
            {
                "op": "record.add_action",
                "description": "Opleidingsbudget aanvragen",
                "owner": "manager",
                "due": "2027-02-15",
            },
        ).get_json()
    )


def test_after_a_skipped_conversation_everything_open_reaches_the_next(api: Api) -> None:
    """1 leaves an item and an action open, 2 is never opened: 3 has both, the action intact."""
    first = _first_conversation_held(api)
    _one, _two, third_event = _instances(api, first, 3)
    third = api.call("GET", f"/api/context?event={third_event}", GRACE).get_json()
    assert third["occurrence"]["number"] == 3
    assert third["previous"]["occurrence"] == first["occurrence"]["start"]
    grace_sees = [a for a in third["agenda"]["actions"] if a["description"].startswith("Opleiding")]
    assert len(grace_sees) == 1
    action = grace_sees[0]
    assert (action["owner"], action["due"], action["status"]) == ("manager", "2027-02-15", "open")
    origin = datetime.fromisoformat(action["carried_from"]["occurrence"])
    assert origin == datetime.fromisoformat(first["occurrence"]["start"])
    assert [a["id"] for a in third["open_actions"]] == [action["id"]]
    ada = api.call("GET", f"/api/context?event={third_event}").get_json()
    assert [i["title"] for i in ada["agenda"]["items"]] == ["Loopbaanpad"]

    # Grace marks it done in conversation 3; it is done there and goes no further.
    done = api.ops(
        GRACE,
        third,
        {"op": "agenda.set_action_status", "action": action["id"], "status": "done"},
    ).get_json()
    assert [(a["id"], a["status"]) for a in done["agenda"]["actions"]] == [(action["id"], "done")]
    assert done["open_actions"] == []
    fourth = _instances(api, first, 4)[3]
    assert api.call("GET", f"/api/context?event={fourth}").get_json()["agenda"]["actions"] == []


def test_after_two_skipped_conversations_everything_open_reaches_the_next(api: Api) -> None:
    """2 and 3 are never opened: 4 has 1's unfinished item and open action, and looks back at 1."""
    first = _first_conversation_held(api)
    fourth_event = _instances(api, first, 4)[3]
    fourth = api.call("GET", f"/api/context?event={fourth_event}", GRACE).get_json()
    assert fourth["occurrence"]["number"] == 4
    assert fourth["previous"]["occurrence"] == first["occurrence"]["start"]
    action = fourth["agenda"]["actions"][0]
    assert (action["description"], action["owner"], action["due"], action["status"]) == (
        "Opleidingsbudget aanvragen",
        "manager",
        "2027-02-15",
        "open",
    )
    ada = api.call("GET", f"/api/context?event={fourth_event}").get_json()
    assert [i["title"] for i in ada["agenda"]["items"]] == ["Loopbaanpad"]


def test_after_a_skipped_conversation_a_saved_agenda_still_shows_last_times_record(
    api: Api,
) -> None:
    """Once 3's document is saved (2 was skipped), 3 still looks back at 1, not at nothing."""
    first = _first_conversation_held(api)
    _one, _two, third_event = _instances(api, first, 3)
    third = api.call("GET", f"/api/context?event={third_event}").get_json()
    saved = api.ops(
        ADA, third, {"op": "agenda.add_item", "theme": "personal", "title": "Verhuizing"}
    ).get_json()
    for ctx in (saved, api.call("GET", f"/api/context?event={third_event}", GRACE).get_json()):
        assert ctx["previous"] is not None
        assert ctx["previous"]["occurrence"] == first["occurrence"]["start"]


def test_an_action_carried_into_a_saved_agenda_and_left_open_carries_on(api: Api) -> None:
    """1's action reaches 2's saved document; nobody closes it, so 3 has it, still from 1."""
    first = _first_conversation_held(api)
    _one, second_event, third_event = _instances(api, first, 3)
    second = api.call("GET", f"/api/context?event={second_event}").get_json()
    api.ops(ADA, second, {"op": "agenda.add_item", "theme": "personal", "title": "Verhuizing"})
    third = api.call("GET", f"/api/context?event={third_event}").get_json()
    assert [a["description"] for a in third["agenda"]["actions"]] == ["Opleidingsbudget aanvragen"]
    origin = third["agenda"]["actions"][0]["carried_from"]["occurrence"]
    assert datetime.fromisoformat(origin) == datetime.fromisoformat(first["occurrence"]["start"])
    assert {i["title"] for i in third["agenda"]["items"]} == {"Loopbaanpad", "Verhuizing"}


def test_a_change_sent_again_after_a_lost_answer_is_applied_once(api: Api) -> None:
    """The same change id with the etag read before that write: 200, the item is there once."""
    ctx = api.plan()["context"]
    ctx = api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "A"}).get_json()
    change = {"op": "agenda.add_item", "theme": "role", "title": "Eenmaal"}
    saved = api.ops(ADA, ctx, change, change_id="chg-lost-answer-1")
    assert saved.status_code == 200
    # The answer never arrived: the pane sends the same change again with the etag it had.
    again = api.ops(ADA, ctx, change, change_id="chg-lost-answer-1")
    assert again.status_code == 200, again.get_json()
    titles = [i["title"] for i in again.get_json()["agenda"]["items"]]
    assert titles == ["A", "Eenmaal"]
    assert again.get_json()["etag"] == saved.get_json()["etag"]
    # Another change on that old etag is still a conflict; sent with its own id on the
    # current version ("apply mine again") it is applied.
    other = {"op": "agenda.add_item", "theme": "role", "title": "Ander"}
    conflict = api.ops(ADA, ctx, other, change_id="chg-other-0001")
    assert conflict.status_code == 409
    applied = api.ops(ADA, conflict.get_json()["current"], other, change_id="chg-other-0001")
    assert [i["title"] for i in applied.get_json()["agenda"]["items"]] == ["A", "Eenmaal", "Ander"]


def test_a_change_id_sent_with_other_ops_or_by_the_other_partner_is_refused(api: Api) -> None:
    """An id names one change: other ops, or Grace, under Ada's id get a 400, nothing saved."""
    ctx = api.plan()["context"]
    change = {"op": "agenda.add_item", "theme": "personal", "title": "Eenmaal"}
    saved = api.ops(ADA, ctx, change, change_id="chg-one-change-1").get_json()
    other = {"op": "agenda.add_item", "theme": "personal", "title": "Iets anders"}
    for who, ops in ((ADA, other), (GRACE, change)):
        refused = api.ops(who, saved, ops, change_id="chg-one-change-1")
        assert refused.status_code == 400, refused.get_json()
        assert "change_id" in refused.get_json()["message"]
    shown = api.call("GET", f"/api/context?event={ctx['event']['id']}").get_json()
    assert [i["title"] for i in shown["agenda"]["items"]] == ["Eenmaal"]
    assert shown["etag"] == saved["etag"]


def test_a_change_sent_twice_at_once_is_applied_once_and_both_answered(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resend read the document before the first send saved it: 200 with it, not a 409."""
    ctx = api.plan()["context"]
    ctx = api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "A"}).get_json()
    service = api.app.extensions["goedgesprek.service"]
    entry = service.registry.get(ctx["series"]["id"])
    stale = service._docs_around(entry, service._occurrence(entry, ctx["occurrence"]["key"]))
    change = {"op": "agenda.add_item", "theme": "role", "title": "Eenmaal"}
    first = api.ops(ADA, ctx, change, change_id="chg-twice-at-once")
    reads = iter([stale])
    real = service._docs_around
    monkeypatch.setattr(service, "_docs_around", lambda e, o: next(reads, None) or real(e, o))
    second = api.ops(ADA, ctx, change, change_id="chg-twice-at-once")
    assert second.status_code == 200, second.get_json()
    assert [i["title"] for i in second.get_json()["agenda"]["items"]] == ["A", "Eenmaal"]
    assert second.get_json()["etag"] == first.get_json()["etag"]


def test_a_document_written_before_fingerprints_still_knows_its_change_ids() -> None:
    """An id stored alone (older documents) is still recognised, its ops unknown."""
    from addin.conversations.document import Change, Doc, fingerprint

    doc = Doc.from_bytes(_older_document(changes=["chg-older-0001"]), "e1")
    assert doc.applied("chg-older-0001") == Change("chg-older-0001", "")
    again = Doc.from_bytes(
        doc.with_change(Change("chg-new-0001", fingerprint(ADA, []))).to_bytes(), "e2"
    )
    assert [c.id for c in again.changes] == ["chg-older-0001", "chg-new-0001"]


def _older_document(*, changes: list[str]) -> bytes:
    from addin.conversations.document import DOC_SCHEMA
    from cadence.conversation import Agenda, Theme

    agenda = Agenda("s1", NOW, (Theme("personal", "Persoonlijk"),))
    data = {"schema": DOC_SCHEMA, "agenda": agenda.to_dict(), "record": None, "changes": changes}
    return json.dumps(data).encode()


def test_a_document_remembers_only_the_last_changes(api: Api) -> None:
    """The ids kept are bounded: after 50 newer changes the oldest id is forgotten."""
    from addin.conversations.document import CHANGES_KEPT, Doc

    ctx = api.plan()["context"]
    ctx = api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "t"}).get_json()
    item = ctx["agenda"]["items"][0]["id"]
    for n in range(CHANGES_KEPT + 1):
        ctx = api.ops(
            ADA,
            ctx,
            {"op": "agenda.edit_item", "item": item, "title": f"t{n}"},
            change_id=f"chg-bound-{n:04d}",
        ).get_json()
    service = api.app.extensions["goedgesprek.service"]
    entry = service.registry.get(ctx["series"]["id"])
    doc, _previous = service._docs_around(
        entry, service._occurrence(entry, ctx["occurrence"]["key"])
    )
    assert isinstance(doc, Doc)
    assert len(doc.changes) == CHANGES_KEPT
    assert doc.changes[0].id == "chg-bound-0001"
    assert doc.changes[-1].id == f"chg-bound-{CHANGES_KEPT:04d}"


def test_a_malformed_change_id_is_refused_with_a_sentence(api: Api) -> None:
    """A change id that is not 8-64 letters, digits, - or _ is a 400 naming the field."""
    ctx = api.plan()["context"]
    response = api.ops(ADA, ctx, {"op": "agenda.share"}, change_id="x")
    assert response.status_code == 400
    assert "change_id" in response.get_json()["message"]


def test_opening_a_known_conversation_never_waits_on_its_own_reads(api: Api) -> None:
    """The reads of one open are not queued behind each other: with one worker it still answers."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    ctx = api.plan()["context"]
    path = f"/api/context?event={_next_occurrence(api, ctx)}"
    assert api.call("GET", path).status_code == 200  # known from now on, with a conversation before
    service = api.app.extensions["goedgesprek.service"]
    service.close()
    service._pool = ThreadPoolExecutor(max_workers=1)
    answers: list[Any] = []
    opened = threading.Thread(target=lambda: answers.append(api.call("GET", path)), daemon=True)
    opened.start()
    opened.join(timeout=30)
    assert answers, "the open waited for a worker its own reads held"
    assert answers[0].status_code == 200


def test_a_second_series_with_the_same_partner_is_refused(api: Api) -> None:
    """Once planned, another plan with Grace (either role) is a 409 naming the existing series."""
    first = api.plan("req-first-1")
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-second"}
    second = api.call("POST", "/api/series", body=body, lang="en")
    assert second.status_code == 409
    data = second.get_json()
    assert data["error"] == "series_exists"
    assert "Grace" in data["message"]
    assert data["existing"]["series"]["id"] == first["series"]["id"]
    assert data["existing"]["next"] == first["context"]["occurrence"]["start"]
    # The preview says so already, before any proposal is shown.
    previewed = api.call("POST", "/api/series/preview", body=body, lang="en")
    assert previewed.status_code == 409
    assert previewed.get_json()["existing"]["series"]["id"] == first["series"]["id"]
    # An address in other capitals is the same person.
    shouting = {**body, "partner": GRACE.upper(), "request_id": "req-shout"}
    assert api.call("POST", "/api/series", body=shouting, lang="en").status_code == 409
    reverse = {**body, "partner": ADA, "role": "manager", "request_id": "req-reverse"}
    assert api.call("POST", "/api/series", GRACE, body=reverse).status_code == 409
    # The first request again is the same series, not a refusal.
    assert api.plan("req-first-1")["series"]["id"] == first["series"]["id"]
    registry = api.app.extensions["goedgesprek.service"].registry
    assert len(registry.for_person(ADA)) == 1


def test_a_request_id_sent_again_for_another_plan_is_refused(api: Api) -> None:
    """The id of Ada's plan with Grace, sent for a plan with Eve or as manager: 400, not 201."""
    first = api.plan("req-first-1")
    for changed in ({"partner": "eve@example.org"}, {"role": "manager"}):
        body = {"partner": GRACE, "role": "employee", "preferences": PREFS, **changed}
        again = api.call("POST", "/api/series", body={**body, "request_id": "req-first-1"})
        assert again.status_code == 400, again.get_json()
        assert "request_id" in again.get_json()["message"]
    assert api.plan("req-first-1")["series"]["id"] == first["series"]["id"]
    registry = api.app.extensions["goedgesprek.service"].registry
    assert len(registry.for_person(ADA)) == 1


def test_two_plans_racing_for_the_same_pair_make_one_series(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan whose check ran before the other's insert is still refused, by the database."""
    first = api.plan("req-first-1")
    service = api.app.extensions["goedgesprek.service"]
    # The second request looked before the first was stored: its own check finds nothing.
    monkeypatch.setattr(service, "_ongoing_series", lambda one, other: None)
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-racer"}
    second = api.call("POST", "/api/series", body=body, lang="en")
    assert second.status_code == 409
    assert second.get_json()["existing"]["series"]["id"] == first["series"]["id"]
    assert [s.id for s in service.registry.for_person(ADA)] == [first["series"]["id"]]


def test_a_plan_losing_the_race_for_a_pair_whose_series_ended_is_a_409(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pair's ended series gives way, but another plan took the pair first: 409, not 500."""
    from types import SimpleNamespace

    from addin.registry import PairTaken

    first = api.plan("req-first-1")
    service = api.app.extensions["goedgesprek.service"]
    racer = service.registry.get(first["series"]["id"])
    ended = SimpleNamespace(id="ended", rule=SimpleNamespace(next_after=lambda _now: None))
    taken = iter([PairTaken(ended), PairTaken(racer)])

    def add(_series: object) -> None:
        raise next(taken)

    monkeypatch.setattr(service, "_ongoing_series", lambda one, other: None)
    monkeypatch.setattr(service.registry, "add", add)
    monkeypatch.setattr(service.registry, "release_pair", lambda _id: None)
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-late"}
    late = api.call("POST", "/api/series", body=body, lang="en")
    assert late.status_code == 409, late.get_data(as_text=True)[:300]
    assert late.get_json()["existing"]["series"]["id"] == racer.id


def test_an_event_with_a_partner_of_a_series_shows_that_series(api: Api) -> None:
    """An appointment with Grace after planning shows the series instead of the plan form."""
    event = api.kennismaking()
    before = api.call("GET", f"/api/context?event={event}").get_json()
    assert before["existing"] is None
    first = api.plan()
    context = api.call("GET", f"/api/context?event={event}").get_json()
    assert context["state"] == "not_series"
    assert context["existing"]["series"]["id"] == first["series"]["id"]
    assert context["existing"]["partner"] == {"email": GRACE, "name": "Grace"}
    assert context["existing"]["next"] == first["context"]["occurrence"]["start"]


def test_a_save_racing_the_other_partners_save_keeps_both(api: Api) -> None:
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "personal", "title": "Eerst"},
        {"op": "agenda.share"},
    ).get_json()
    stale = dict(ctx)
    api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "Ada's tweede"})
    mine = {"op": "agenda.add_item", "theme": "role", "title": "Grace's voorstel"}
    conflict = api.ops(GRACE, stale, mine)
    assert conflict.status_code == 409
    data = conflict.get_json()
    assert data["error"] == "conflict"
    assert data["yours"]["ops"] == [mine]
    titles = [i["title"] for i in data["current"]["agenda"]["items"]]
    assert titles == ["Eerst", "Ada's tweede"]
    # Applying mine again on the current version keeps both.
    again = api.ops(GRACE, data["current"], mine).get_json()
    assert [i["title"] for i in again["agenda"]["items"]] == [
        "Eerst",
        "Ada's tweede",
        mine["title"],
    ]


def test_a_save_without_if_match_over_a_saved_document_is_refused(api: Api) -> None:
    ctx = api.plan()["context"]
    ctx = api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "A"}).get_json()
    response = api.ops(ADA, ctx, {"op": "agenda.share"}, etag=None)
    assert response.status_code == 428
    assert response.get_json()["current"]["etag"] == ctx["etag"]
    assert response.get_json()["yours"]["ops"] == [{"op": "agenda.share"}]


def test_a_refused_op_changes_nothing(api: Api) -> None:
    ctx = api.plan()["context"]
    response = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "personal", "title": "Blijft niet"},
        {"op": "agenda.add_item", "theme": "nope", "title": "X"},
    )
    assert response.status_code == 400
    assert "2" in response.get_json()["message"]
    again = api.call("GET", f"/api/context?event={ctx['event']['id']}").get_json()
    assert again["agenda"]["items"] == []
    assert again["etag"] is None


def test_outsiders_and_wrong_roles_are_refused(api: Api) -> None:
    ctx = api.plan()["context"]
    eve = api.call("GET", f"/api/context?event={ctx['event']['id']}", "eve@example.org")
    assert eve.status_code == 404  # not in Eve's calendar at all
    series = ctx["series"]["id"]
    response = api.call(
        "PATCH", f"/api/series/{series}", "eve@example.org", body={"event_copy": "titles"}
    )
    assert response.status_code == 403
    response = api.call("PATCH", f"/api/series/{series}", GRACE, body={"duration": 45})
    assert response.status_code == 403
    response = api.call("PATCH", f"/api/series/{series}", GRACE, body={"event_copy": "titles"})
    assert response.status_code == 200
    assert response.get_json()["series"]["event_copy"] == "titles"


class _RacedCalendar:
    """A calendar whose updates lose a race with another writer once `raced` holds anything."""

    def __init__(self, inner: Any, raced: list[bool]) -> None:
        self._inner, self._raced = inner, raced

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def update_event(self, *args: Any, **kwargs: Any) -> Any:
        if self._raced:
            from connectors.errors import Conflict

            raise Conflict("the event changed meanwhile")
        return self._inner.update_event(*args, **kwargs)


def test_a_series_change_that_loses_a_race_is_a_described_409(tmp_path: Path) -> None:
    """The calendar event changing under PATCH is a 409 the description names."""
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    raced: list[bool] = []
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path)},
        store=store,
        calendar=lambda email: _RacedCalendar(store.calendar(email), raced),
        clock=clock,
    )
    seed(store, NOW)
    api = Api(app, clock)
    series = api.plan()["context"]["series"]["id"]
    raced.append(True)
    response = api.call("PATCH", f"/api/series/{series}", ADA, body={"place": "Tuin"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"
    # Refused by the calendar, so not kept either: the series still says what the event shows.
    kept = app.extensions["goedgesprek.service"].registry.get(series)
    assert kept.place == "Koffiebar"


@pytest.mark.parametrize("fault", ["conflict", "unavailable"])
def test_an_agreed_agenda_is_saved_even_when_the_event_cannot_take_its_copy(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    """The last agree is stored and answered 200; the event copy that failed is logged."""
    from connectors.errors import Conflict, Unavailable

    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "growth", "title": "Pad"},
        {"op": "agenda.share"},
    ).get_json()
    ctx = api.ops(ADA, ctx, {"op": "agenda.agree"}).get_json()
    calendar = type(api.app.extensions["goedgesprek.store"].calendar(ADA))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise Conflict("changed") if fault == "conflict" else Unavailable("away")

    monkeypatch.setattr(calendar, "update_event", refuse)
    grace = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    with caplog.at_level(logging.WARNING):
        answer = api.ops(GRACE, grace, {"op": "agenda.agree"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["agenda"]["state"] == "agreed"
    again = api.call("GET", f"/api/context?event={ctx['event']['id']}").get_json()
    assert again["agenda"]["state"] == "agreed"
    assert any("event copy" in r.getMessage() for r in caplog.records)


def test_html_in_every_field_is_text_in_exports_and_the_event(api: Api) -> None:
    script = "<script>alert(1)</script><b>x</b>"
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "personal", "title": script, "notes": script},
        {"op": "agenda.share"},
    ).get_json()
    ctx = api.ops(ADA, ctx, {"op": "agenda.agree"}).get_json()
    grace_ctx = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    ctx = api.ops(GRACE, grace_ctx, {"op": "agenda.agree"}).get_json()
    api.clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(minutes=1))
    item = ctx["agenda"]["items"][0]["id"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "record.summarise", "item": item, "text": script, "finished": True},
        {"op": "record.add_agreement", "text": script},
    ).get_json()
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    html = api.call("GET", f"/api/series/{series}/occurrences/{occ}/export?format=html")
    assert html.status_code == 200
    assert "<script>" not in html.get_data(as_text=True)
    assert "&lt;script&gt;" in html.get_data(as_text=True)
    assert html.headers["Content-Disposition"].startswith("attachment;")
    md = api.call("GET", f"/api/series/{series}/occurrences/{occ}/export?format=md")
    assert "<script>" not in md.get_data(as_text=True)
    copy = api.call("GET", f"/api/series/{series}/occurrences/{occ}/event-copy").get_json()
    assert "<script>" not in copy["html"]
    event = api.app.extensions["goedgesprek.store"].calendar(ADA).get_event(ctx["event"]["id"])
    assert "<script>" not in event.body_html


def test_titles_only_keeps_item_text_out_of_the_event(api: Api) -> None:
    ctx = api.plan()["context"]
    series = ctx["series"]["id"]
    api.call("PATCH", f"/api/series/{series}", body={"event_copy": "titles"})
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "personal", "title": "Mijn gezondheid"},
        {"op": "agenda.share"},
        {"op": "agenda.agree"},
    ).get_json()
    grace_ctx = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    api.ops(GRACE, grace_ctx, {"op": "agenda.agree"})
    event = api.app.extensions["goedgesprek.store"].calendar(GRACE).get_event(ctx["event"]["id"])
    assert "[Goed Gesprek: agenda]" in event.body_html
    assert "Mijn gezondheid" not in event.body_html


def test_the_record_lands_sealed_in_the_employees_drive(api: Api) -> None:
    ctx = api.plan()["context"]
    api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "Vertrouwelijk"})
    drive = api.app.extensions["goedgesprek.store"].drive(ADA)
    folder = ctx["series"]["id"]
    names = [f.name for f in drive.list(folder)]
    assert f"occ-{ctx['occurrence']['key']}.json" in names
    raw = drive.get(folder, f"occ-{ctx['occurrence']['key']}.json").content
    assert b"Vertrouwelijk" not in raw


# -- the description -------------------------------------------------------------------------------


def test_openapi_describes_exactly_the_api_routes(api: Api) -> None:
    documented = {
        (re.sub(r"\{[^}]+\}", "<>", path), method.upper())
        for path, operations in api.document["paths"].items()
        for method in operations
    }
    served = {
        (re.sub(r"<[^>]+>", "<>", rule.rule), method)
        for rule in api.app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    assert documented == served
    served_doc = api.client.get("/api/openapi.json").get_json()
    assert served_doc["openapi"] == "3.1.0"
    for schema in api.document["components"]["schemas"].values():
        Draft202012Validator.check_schema(_rooted(schema))


def test_a_full_agenda_says_so_and_stops_offering_more(api: Api) -> None:
    """The 31st item is refused in the reader's language; the context offers no add_item then."""
    ctx = api.plan()["context"]
    items = [{"op": "agenda.add_item", "theme": "personal", "title": f"P{n}"} for n in range(30)]
    ctx = api.ops(ADA, ctx, *items).get_json()
    assert "add_item" not in ctx["can"]["agenda"]
    one_more = {"op": "agenda.add_item", "theme": "personal", "title": "Te veel"}
    for lang, words in (("nl", "heeft al 30 punten"), ("en", "has 30 items already")):
        response = api.call(
            "POST",
            f"/api/series/{ctx['series']['id']}/occurrences/{ctx['occurrence']['key']}",
            body={"event": ctx["event"]["id"], "ops": [one_more]},
            headers={"If-Match": ctx["etag"]},
            lang=lang,
        )
        assert response.status_code == 400
        assert words in response.get_json()["message"]
