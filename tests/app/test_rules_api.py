"""Who may do what, as the API says it: ``can`` lists from the domain, the draft the employee owns,
the turn said to its reader, a decline shown to the partner, and refusals said by code."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_api import ADA, GRACE, Api, seeded_api


@pytest.fixture
def api(tmp_path: Path) -> Api:
    """The API on a seeded local store, at NOW."""
    return seeded_api(tmp_path)


def context(api: Api, who: str, ctx: dict[str, Any], lang: str = "nl") -> dict[str, Any]:
    """The context of the same event as `who` reads it."""
    response = api.call("GET", f"/api/context?event={ctx['event']['id']}", who, lang=lang)
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def ended_with_agreement(api: Api) -> dict[str, Any]:
    """A planned, agreed and ended conversation with one agreement Ada proposed (as Ada)."""
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "personal", "title": "Energie"},
        {"op": "agenda.share"},
        {"op": "agenda.agree"},
    ).get_json()
    ctx = api.ops(GRACE, context(api, GRACE, ctx), {"op": "agenda.agree"}).get_json()
    api.clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(minutes=10))
    ctx = context(api, ADA, ctx)
    result: dict[str, Any] = api.ops(
        ADA,
        ctx,
        {"op": "record.add_agreement", "text": "Ada volgt de cursus"},
        {"op": "record.propose", "agreement": "*"},
    ).get_json()
    return result


def test_the_manager_does_not_see_the_employees_draft_agenda(api: Api) -> None:
    """Until Ada shares it, Grace sees that a draft is being prepared, not its items."""
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "Privé zorgen"}
    ).get_json()
    grace = context(api, GRACE, ctx, "en")
    assert grace["agenda"]["state"] == "draft"
    assert grace["agenda"]["items"] == []
    assert "Ada is preparing the agenda" in grace["turn"]["message"]
    assert grace["can"]["agenda"] == ["propose_item"]
    # Her own proposal she sees; Ada's item stays hidden until it is shared.
    grace = api.ops(
        GRACE, grace, {"op": "agenda.add_item", "theme": "role", "title": "Planning"}
    ).get_json()
    assert [i["title"] for i in grace["agenda"]["items"]] == ["Planning"]
    ada = context(api, ADA, ctx)
    assert [i["title"] for i in ada["agenda"]["items"]] == ["Privé zorgen", "Planning"]
    api.ops(ADA, ada, {"op": "agenda.share"})
    grace = context(api, GRACE, ctx)
    assert [i["title"] for i in grace["agenda"]["items"]] == ["Privé zorgen", "Planning"]


def test_the_draft_stays_out_of_the_managers_event_copy(api: Api) -> None:
    """The compose-mode copy of a draft agenda holds none of the employee's items for Grace."""
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "Privé zorgen"}
    ).get_json()
    path = f"/api/series/{ctx['series']['id']}/occurrences/{ctx['occurrence']['key']}/event-copy"
    response = api.client.get(f"{path}?lang=en", headers=api.headers(GRACE))
    assert response.status_code == 200
    assert "Privé zorgen" not in response.get_json()["html"]


def test_the_turn_speaks_to_its_reader(api: Api) -> None:
    """Ada is never told she waits for Ada: the sentence says "you" and names only Grace."""
    ctx = ended_with_agreement(api)
    assert ctx["turn"]["message"] == "Wacht op akkoord van jou en Grace op de afspraken."
    ctx = api.ops(ADA, ctx, {"op": "record.accept", "agreement": "*"}).get_json()
    assert "Ada" not in ctx["turn"]["message"]
    assert ctx["turn"]["message"] == "Wacht op akkoord van Grace op de afspraken."
    grace = context(api, GRACE, ctx, "en")
    assert grace["turn"]["message"] == (
        "Your turn: accept the agreements, or decline one to talk about it again."
    )


def test_the_employee_is_asked_to_write_the_agenda(api: Api) -> None:
    """Before sharing, Ada reads what to do herself; she is not named in the third person."""
    ada = context(api, ADA, api.plan()["context"], "en")
    assert ada["turn"]["message"] == "Write the agenda and share it with Grace."


def test_can_lists_follow_the_role_and_state(api: Api) -> None:
    """The context says what each partner may do now, per agenda, item, agreement and action."""
    ctx = api.plan()["context"]
    assert ctx["can"] == {
        "agenda": ["add_item", "share"],
        "record": ["add_agreement", "add_action"],
        "series": ["change_event_copy", "change_place", "end"],
    }
    ctx = ended_with_agreement(api)
    assert ctx["agenda"]["items"][0]["can"] == ["edit", "remove"]
    assert ctx["record"]["agreements"][0]["can"] == ["edit", "remove", "accept", "decline"]
    assert ctx["can"]["record"] == ["summarise", "add_agreement", "accept_all", "add_action"]
    grace = context(api, GRACE, ctx)
    assert grace["agenda"]["items"][0]["can"] == []
    assert grace["can"]["series"] == ["change_event_copy", "end"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "record.accept", "agreement": "*"},
        {"op": "record.add_action", "description": "Cursus zoeken", "owner": "employee"},
    ).get_json()
    assert ctx["record"]["agreements"][0]["can"] == ["edit"]
    assert ctx["record"]["actions"][0]["can"] == ["edit", "mark_done", "drop"]


def test_a_decline_shows_who_declined_why_and_when(api: Api) -> None:
    """Ada proposed; Grace declines with a reason: Ada's context says who, why and when."""
    ctx = ended_with_agreement(api)
    agreement = ctx["record"]["agreements"][0]["id"]
    grace = context(api, GRACE, ctx)
    api.ops(
        GRACE,
        grace,
        {"op": "record.decline", "agreement": agreement, "reason": "Eerst budget checken"},
    )
    ada = context(api, ADA, ctx)
    declined = ada["record"]["agreements"][0]["declined"]
    assert declined["role"] == "manager"
    assert declined["name"] == "Grace"
    assert declined["reason"] == "Eerst budget checken"
    assert datetime.fromisoformat(declined["at"]) == api.clock()
    assert ada["record"]["agreements"][0]["state"] == "draft"
    # Proposed again, the old decline is history.
    ada = api.ops(ADA, ada, {"op": "record.propose", "agreement": agreement}).get_json()
    assert ada["record"]["agreements"][0]["declined"] is None


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("en", "An accepted agreement is not removed: change its text to propose it again."),
        (
            "nl",
            "Een geaccepteerde afspraak verwijder je niet: pas de tekst aan om hem opnieuw "
            "voor te stellen.",
        ),
    ],
)
def test_removing_an_accepted_agreement_says_why_in_the_readers_language(
    api: Api, lang: str, sentence: str
) -> None:
    """The refusal names what was refused and why, not "Change 1 (...) was refused"."""
    ctx = ended_with_agreement(api)
    ctx = api.ops(ADA, ctx, {"op": "record.accept", "agreement": "*"}).get_json()
    agreement = ctx["record"]["agreements"][0]["id"]
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    response = api.call(
        "POST",
        f"/api/series/{series}/occurrences/{occ}",
        ADA,
        body={"ops": [{"op": "record.remove_agreement", "agreement": agreement}]},
        headers={"If-Match": ctx["etag"]},
        lang=lang,
    )
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert sentence in message
    assert "record.remove_agreement" not in message


def test_the_openapi_document_describes_the_can_lists() -> None:
    """Clients read `can` from the described Context: per agenda, record, series and per thing."""
    from addin.openapi import spec

    schemas = spec()["components"]["schemas"]
    can = schemas["Context"]["properties"]["can"]
    assert can["required"] == ["agenda", "record", "series"]
    assert can["properties"]["agenda"]["items"]["enum"] == [
        "add_item",
        "propose_item",
        "share",
        "agree",
    ]
    item = schemas["Agenda"]["properties"]["items"]["items"]
    assert item["properties"]["can"]["items"]["enum"] == ["edit", "remove", "move"]
    agreement = schemas["Agreement"]["properties"]
    assert "decline" in agreement["can"]["items"]["enum"]
    assert "declined" in agreement
    assert "mark_done" in schemas["Action"]["properties"]["can"]["items"]["enum"]
