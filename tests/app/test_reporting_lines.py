"""Reporting lines decide the pairs: the directory, not the caller, says who is whose manager.

Attacks listed here, each refused with 403 and nothing written anywhere:
- a third user plans a series with someone who does not report to them (or names a stranger as
  their manager);
- a third user reads someone's free/busy through the preview;
- a former manager, after a change of manager, opens, changes or exports the series;
- a third user ends a pair's series.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_api import ADA, GRACE, NOW, PREFS, Api, seeded_api

from addin.registry import Registry

EVE = "eve@example.org"


@pytest.fixture
def api(tmp_path: Path) -> Api:
    """The API on a seeded local store (Grace is Ada's manager), at NOW."""
    return seeded_api(tmp_path)


def _store(api: Api) -> Any:
    return api.app.extensions["goedgesprek.store"]


def _registry(api: Api) -> Registry:
    registry: Registry = api.app.extensions["goedgesprek.service"].registry
    return registry


def _events(api: Api, who: str) -> list[Any]:
    return list(_store(api).calendar(who).events(NOW, NOW + timedelta(days=400)))


def _snapshot(api: Api) -> tuple[Any, ...]:
    """Everything a refused request must leave alone: calendars, drives, registry."""
    return (
        [(e.id, e.etag) for who in (ADA, GRACE, EVE) for e in _events(api, who)],
        _store(api).drive_owners(),
        [s.id for who in (ADA, GRACE, EVE) for s in _registry(api).for_person(who)],
    )


def _plan_body(partner: str, role: str, request_id: str) -> dict[str, Any]:
    return {"partner": partner, "role": role, "preferences": PREFS, "request_id": request_id}


def test_a_third_user_cannot_plan_a_series_with_someone_who_does_not_report_to_them(
    api: Api,
) -> None:
    """Eve claiming to be Ada's manager, or Ada's employee, gets 403 and nothing is written."""
    before = _snapshot(api)
    for role, request_id in (("manager", "eve-as-boss"), ("employee", "eve-as-report")):
        response = api.call("POST", "/api/series", EVE, body=_plan_body(ADA, role, request_id))
        assert response.status_code == 403
        assert response.get_json()["error"] == "not_reporting_line"
    assert _snapshot(api) == before


def test_an_employee_cannot_name_a_stranger_as_manager(api: Api) -> None:
    """Ada naming Eve as her manager is refused: the directory names Grace."""
    before = _snapshot(api)
    response = api.call("POST", "/api/series", ADA, body=_plan_body(EVE, "employee", "ada-eve-1"))
    assert response.status_code == 403
    assert _snapshot(api) == before


def test_the_refusal_is_a_sentence_in_both_languages(api: Api) -> None:
    """The 403 says what is wrong and what to do, in Dutch and in English."""
    body = _plan_body(ADA, "manager", "eve-lang-1")
    nl = api.call("POST", "/api/series", EVE, body=body, lang="nl").get_json()["message"]
    en = api.call("POST", "/api/series", EVE, body=body, lang="en").get_json()["message"]
    assert "adresboek" in nl and "HR" in nl
    assert "directory" in en and nl != en


def test_a_third_user_cannot_read_free_busy_through_the_preview(api: Api) -> None:
    """Eve previewing a plan with Ada or Grace gets 403, not their busy dates."""
    for partner, role in ((ADA, "manager"), (GRACE, "employee"), (ADA, "employee")):
        body = {"partner": partner, "role": role, "preferences": PREFS}
        response = api.call("POST", "/api/series/preview", EVE, body=body)
        assert response.status_code == 403, partner
        data = response.get_json()
        assert "occurrences" not in data and "clashes" not in data


def test_the_pair_the_directory_names_plans_in_either_role(api: Api) -> None:
    """Ada as employee and Grace as manager may both preview their own pair."""
    as_ada = api.call("POST", "/api/series/preview", ADA, body=_plan_body(GRACE, "employee", "x"))
    as_grace = api.call("POST", "/api/series/preview", GRACE, body=_plan_body(ADA, "manager", "x"))
    assert as_ada.status_code == as_grace.status_code == 200


def _handed_over(api: Api) -> dict[str, Any]:
    """Ada's series with Grace, then the directory names Eve as Ada's manager."""
    planned = api.plan("req-handover")
    _store(api).set_manager(ADA, EVE)
    return planned


def test_a_former_manager_loses_access_after_a_change_of_manager(api: Api) -> None:
    """Grace, no longer Ada's manager, gets 403 on context, apply and export."""
    planned = _handed_over(api)
    ctx = planned["context"]
    series, occ, event = ctx["series"]["id"], ctx["occurrence"]["key"], ctx["event"]["id"]
    opened = api.call("GET", f"/api/context?event={event}", GRACE)
    assert opened.status_code == 403
    assert opened.get_json()["error"] == "handed_over"
    op = {"op": "agenda.add_item", "theme": "role", "title": "Nog van mij"}
    applied = api.call(
        "POST",
        f"/api/series/{series}/occurrences/{occ}",
        GRACE,
        body={"event": event, "ops": [op]},
    )
    assert applied.status_code == 403
    exported = api.call("GET", f"/api/series/{series}/occurrences/{occ}/export?format=md", GRACE)
    assert exported.status_code == 403
    ended = api.call("POST", f"/api/series/{series}/end", GRACE)
    assert ended.status_code == 403


def test_the_new_manager_sees_the_series_from_now_on(api: Api) -> None:
    """Eve opens the series as its manager; the master event invites her instead of Grace."""
    planned = _handed_over(api)
    series, occ = planned["series"]["id"], planned["context"]["occurrence"]["key"]
    exported = api.call("GET", f"/api/series/{series}/occurrences/{occ}/export?format=md", EVE)
    assert exported.status_code == 200
    entry = _registry(api).get(series)
    assert entry is not None and entry.pair.manager.email == EVE
    assert entry.master_event_id is not None
    master = _store(api).calendar(ADA).get_event(entry.master_event_id)
    assert [a.email for a in master.attendees] == [EVE]
    history = _registry(api).former_managers(series)
    assert [(who, until) for who, _since, until in history] == [(GRACE, NOW)]
    # Ada, the employee, keeps her series.
    ada = api.call("GET", f"/api/context?event={planned['first_event']}", ADA)
    assert ada.status_code == 200 and ada.get_json()["partner"]["email"] == EVE


def test_the_hand_over_is_done_once(api: Api) -> None:
    """`reconcile_reporting_line` hands over once; called again it changes nothing."""
    planned = api.plan("req-once-only")
    service = api.app.extensions["goedgesprek.service"]
    assert service.reconcile_reporting_line(ADA) == []
    _store(api).set_manager(ADA, EVE)
    assert service.reconcile_reporting_line(ADA.upper()) == [planned["series"]["id"]]
    assert service.reconcile_reporting_line(ADA) == []
    assert len(_registry(api).former_managers(planned["series"]["id"])) == 1


def test_a_directory_naming_no_manager_hands_nothing_over(api: Api) -> None:
    """Without a manager in the directory, the series stays with Grace."""
    planned = api.plan("req-nobody")
    _store(api).set_manager(ADA, None)
    ctx = api.call("GET", f"/api/context?event={planned['first_event']}", GRACE)
    assert ctx.status_code == 200


def test_ending_a_series(api: Api) -> None:
    """A third user gets 403; Ada ends it; ending again answers the same; no occurrence left."""
    planned = api.plan("req-ending")
    series = planned["series"]["id"]
    before = _snapshot(api)
    assert api.call("POST", f"/api/series/{series}/end", EVE).status_code == 403
    assert _snapshot(api) == before
    first = api.call("POST", f"/api/series/{series}/end", ADA)
    again = api.call("POST", f"/api/series/{series}/end", GRACE)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == {**again.get_json(), "series": first.get_json()["series"]}
    assert first.get_json()["series"]["description"] == again.get_json()["series"]["description"]
    assert not [e for e in _events(api, ADA) if e.series_id]
    from addin.conversations import Caller

    service = api.app.extensions["goedgesprek.service"]
    assert service.my_series(Caller(ADA, "Ada"))["series"] == []
    # The pair may plan anew.
    assert api.plan("req-after-end")["series"]["id"] != series


def test_ending_an_unknown_series_is_404(api: Api) -> None:
    """A series id that names nothing is 404."""
    assert api.call("POST", "/api/series/nothing-here/end", ADA).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"days": [], "start": "09:00", "end": "17:00", "tz": "Europe/Amsterdam"},
        {"days": ["XX"], "start": "09:00", "end": "17:00", "tz": "Europe/Amsterdam"},
        {"days": ["MO", "MO"], "start": "09:00", "end": "17:00", "tz": "Europe/Amsterdam"},
        {"days": ["MO"], "start": "17:00", "end": "09:00", "tz": "Europe/Amsterdam"},
        {"days": ["MO"], "start": "9", "end": "17:00", "tz": "Europe/Amsterdam"},
        {"days": ["MO"], "start": "25:00", "end": "26:00", "tz": "Europe/Amsterdam"},
        {"days": ["MO"], "start": "09:00", "end": "17:00", "tz": "Mars/Olympus"},
        {"days": "MO", "start": "09:00", "end": "17:00", "tz": "Europe/Amsterdam"},
        {"days": ["MO"], "start": "09:00", "end": "17:00"},
    ],
    ids=["no-day", "bad-day", "twice", "order", "short", "hour", "zone", "string", "no-zone"],
)
def test_working_hours_that_cannot_be_worked_are_refused(api: Api, body: dict[str, Any]) -> None:
    """Each bad setting is 400 with a sentence, and nothing is kept."""
    response = api.call("PUT", "/api/me/working-hours", ADA, body=body)
    assert response.status_code == 400
    assert response.get_json()["message"]
    kept = api.call("GET", "/api/me/working-hours", ADA).get_json()
    assert kept["source"] == "default"


def test_own_working_hours_drive_the_planner(api: Api) -> None:
    """Ada works Thursdays only: the proposal falls on a Thursday within her hours."""
    default = api.call("GET", "/api/me/working-hours", ADA).get_json()
    assert default == {
        "working_hours": {
            "days": ["MO", "TU", "WE", "TH", "FR"],
            "start": "09:00",
            "end": "17:00",
            "tz": "Europe/Amsterdam",
        },
        "source": "default",
    }
    hours = {"days": ["TH"], "start": "10:00", "end": "14:00", "tz": "Europe/Amsterdam"}
    kept = api.call("PUT", "/api/me/working-hours", ADA, body=hours)
    assert kept.status_code == 200
    assert kept.get_json() == {"working_hours": hours, "source": "own"}
    proposal = api.call("POST", "/api/series/preview", ADA, body=_plan_body(GRACE, "employee", "x"))
    assert proposal.status_code == 200
    from datetime import datetime

    for when in proposal.get_json()["occurrences"]:
        start = datetime.fromisoformat(when)
        assert start.isoweekday() == 4, when
        assert "10:00" <= f"{start:%H:%M}" <= "13:00", when


def test_hr_ends_a_series_from_the_command_line(api: Api, tmp_path: Path) -> None:
    """`goedgesprek series end ID` ends it for the pair; again it says the same; unknown is 1."""
    from click.testing import CliRunner

    from addin.cli import cli

    series = api.plan("req-hr-ends")["series"]["id"]
    env = {"GOEDGESPREK_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    first = runner.invoke(cli, ["series", "end", series], env=env)
    assert first.exit_code == 0, first.output
    assert f"{ADA} with {GRACE} has ended" in first.output
    assert not _registry(api).is_active(series)
    again = runner.invoke(cli, ["series", "end", series], env=env)
    assert again.exit_code == 0 and again.output == first.output
    unknown = runner.invoke(cli, ["series", "end", "no-such-series"], env=env)
    assert unknown.exit_code == 1


def test_ending_keeps_the_conversations_already_held(api: Api) -> None:
    """A year on, ending cancels what is still ahead; the held conversations stay in the
    calendar and their records in Ada's drive."""
    planned = api.plan("req-held-ones")
    series = planned["series"]["id"]
    first_key = planned["context"]["occurrence"]["key"]
    export = f"/api/series/{series}/occurrences/{first_key}/export?format=md"
    api.clock.advance(timedelta(days=200))
    later = api.clock()
    ended = api.call("POST", f"/api/series/{series}/end", GRACE)
    assert ended.status_code == 200
    window = (NOW, later + timedelta(days=400))
    kept = [e for e in _store(api).calendar(ADA).events(*window) if e.series_id and not e.cancelled]
    assert kept and all(e.start < later for e in kept)
    assert api.call("GET", export, ADA).status_code == 200


def test_a_new_manager_planning_finds_the_handed_over_series(api: Api) -> None:
    """After the change, Eve planning with Ada is told of the series she has taken over."""
    _handed_over(api)
    response = api.call("POST", "/api/series", EVE, body=_plan_body(ADA, "manager", "eve-plans"))
    assert response.status_code == 409
    assert response.get_json()["error"] == "series_exists"
    assert len(_registry(api).for_person(ADA)) == 1


def test_a_second_series_with_the_new_manager_ends_the_old_one_for_the_former(api: Api) -> None:
    """Ada already has a series with Eve (a race): Grace's series ends, goes to Eve, and Grace
    is refused; Eve's own series stands."""
    from dataclasses import replace

    planned = api.plan("req-raced-one")
    registry = _registry(api)
    old = registry.get(planned["series"]["id"])
    assert old is not None
    eve = replace(old.pair.manager, id=EVE, email=EVE, name="Eve")
    raced = registry.add(
        replace(
            old, id="raced-series", request_id="raced-request", pair=replace(old.pair, manager=eve)
        )
    )
    _store(api).set_manager(ADA, EVE)
    service = api.app.extensions["goedgesprek.service"]
    assert service.reconcile_reporting_line(ADA) == [old.id]
    assert not registry.is_active(old.id) and registry.is_active(raced.id)
    moved = registry.get(old.id)
    assert moved is not None and moved.pair.manager.email == EVE
    key = planned["context"]["occurrence"]["key"]
    export = f"/api/series/{old.id}/occurrences/{key}/export?format=md"
    refused = api.call("GET", export, GRACE)
    assert refused.status_code == 403 and refused.get_json()["error"] == "handed_over"


def test_an_hr_file_decides_the_pairs(tmp_path: Path) -> None:
    """With DIRECTORY=csv:<path> the file, not the store, says who is whose manager."""
    from addin.app import close_app, create_app
    from addin.demo import seed
    from connectors.local import LocalStore
    from connectors.testing import ManualClock

    lines = tmp_path / "lines.csv"
    lines.write_text("employee,manager\nada@example.org,eve@example.org\n")
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path / "data", clock=clock)
    seed(store, NOW)  # the store says Grace; the file says Eve
    config = {"TESTING": True, "DATA_DIR": str(tmp_path / "data"), "DIRECTORY": f"csv:{lines}"}
    app = create_app(config, store=store, clock=clock)
    try:
        hr = Api(app, clock)
        with_grace = hr.call(
            "POST", "/api/series/preview", ADA, body=_plan_body(GRACE, "employee", "x")
        )
        with_eve = hr.call(
            "POST", "/api/series/preview", ADA, body=_plan_body(EVE, "employee", "x")
        )
        assert (with_grace.status_code, with_eve.status_code) == (403, 200)
    finally:
        close_app(app)
        store.close()


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("ldap", "DIRECTORY must be provider, csv:<path> or local"),
        ("csv:/nonexistent/lines.csv", "cannot read it"),
        ("provider", "needs BACKEND graph or google"),
    ],
)
def test_a_directory_setting_that_cannot_work_stops_start_up(
    setting: str, said: str, tmp_path: Path
) -> None:
    """Said at start-up with what to change, not later to every person who plans."""
    from addin.app import create_app
    from addin.wiring import DirectoryError

    with pytest.raises(DirectoryError, match=said):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "DIRECTORY": setting})
