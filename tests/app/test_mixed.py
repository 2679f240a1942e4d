"""Mixed organisations: an employee on Google Workspace with a manager on Microsoft 365, and the
reverse, in one installation (``BACKEND=mixed``), through the real SDKs and both served emulators.

The two emulators mail each other invitations (`emulators.relay`), as Google and Exchange do. Each
pair gets one series in the employee's calendar, the manager's copy in their own calendar under
the same UID, the planner reads each partner's free/busy at their own provider, and the one
record is sealed in the employee's drive, where both partners' panels read and write it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from test_provider_backends import NOW, PREFS, Provider, _call, served  # noqa: F401
from test_rollout import kill_halfway, series_count

from addin.app import create_app
from addin.wiring import build
from connectors.models import NewEvent
from emulators import relay

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

ADA = "ada@fabrikam.nl"  # Google, employee
GRACE = "grace@contoso.nl"  # Microsoft 365, her manager
BO = "bo@contoso.nl"  # Microsoft 365, employee
HAL = "hal@fabrikam.nl"  # Google, his manager
DOMAINS = "contoso.nl=graph fabrikam.nl=google"
AMS = "Europe/Amsterdam"
YEAR = (NOW - timedelta(days=1), NOW + timedelta(days=400))
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mixed(served: dict[str, Provider]) -> Iterator[tuple[Provider, Provider]]:  # noqa: F811
    graph, google = served["graph"], served["google"]
    for provider in (graph, google):
        provider.network.faults = None
        provider.network.reset_stats()
        provider.emulator.reset()
    graph.emulator.add_user(GRACE, "Grace")
    graph.emulator.add_user(BO, "Bo")
    google.emulator.add_user(ADA, "Ada")
    google.emulator.add_user(HAL, "Hal")
    link = relay.link(graph.emulator, google.emulator)
    try:
        yield graph, google
    finally:
        link.unlink()
    assert not link.undelivered


def _settings(
    graph: Provider,
    google: Provider,
    data_dir: Path,
    lines: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    lines = lines or [(ADA, GRACE), (BO, HAL)]
    people = {p for line in lines for p in line}
    graph_tokens, google_tokens = data_dir / "graph-tokens.json", data_dir / "google-tokens.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    graph_tokens.write_text(
        json.dumps({p: graph.emulator.token(p) for p in people if p.endswith("contoso.nl")})
    )
    google_tokens.write_text(
        json.dumps({p: google.emulator.token(p) for p in people if p.endswith("fabrikam.nl")})
    )
    directory = data_dir / "reporting-lines.csv"
    directory.write_text("employee,manager\n" + "".join(f"{e},{m}\n" for e, m in lines))
    return {
        "TESTING": True,
        "DATA_DIR": str(data_dir),
        "BACKEND": "mixed",
        "PROVIDER_DOMAINS": DOMAINS,
        "GRAPH_URL": f"{graph.server.url}/v1.0",
        "GRAPH_TOKENS": str(graph_tokens),
        "GOOGLE_ROOT_URL": f"{google.server.url}/",
        "GOOGLE_TOKENS": str(google_tokens),
        "DIRECTORY": f"csv:{directory}",
        "PROVIDER_RETRY_ATTEMPTS": 4,
        "PROVIDER_RETRY_SECONDS": 10,
    }


def _plan(app: Flask, employee: str, manager: str) -> dict[str, Any]:
    body = {
        "partner": manager,
        "role": "employee",
        "preferences": PREFS,
        "request_id": "req-" + employee.replace("@", "-").replace(".", "-"),
    }
    response = _call(app, "POST", "/api/series", employee, json=body)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


@pytest.mark.parametrize(("employee", "manager"), [(ADA, GRACE), (BO, HAL)])
def test_a_pair_across_providers_gets_one_series_both_calendars_one_record(
    mixed: tuple[Provider, Provider], tmp_path: Path, employee: str, manager: str
) -> None:
    graph, google = mixed
    app = create_app(_settings(graph, google, tmp_path), clock=lambda: NOW)
    calendar = app.extensions["goedgesprek.ports"]["calendar"]
    # The manager is busy when the planner would first choose: it reads her own calendar,
    # at her own provider, and plans around it.
    body = {"partner": manager, "role": "employee", "preferences": PREFS}
    preview = _call(app, "POST", "/api/series/preview", employee, json=body)
    assert preview.status_code == 200, preview.get_json()
    chosen = datetime.fromisoformat(preview.get_json()["occurrences"][0])
    calendar(manager).create_event(
        NewEvent("Busy", chosen - timedelta(hours=2), chosen + timedelta(hours=3), AMS, manager),
        idempotency_key="busy",
    )
    planned = _plan(app, employee, manager)
    assert _plan(app, employee, manager)["series"]["id"] == planned["series"]["id"]
    series = planned["series"]["id"]
    first_start = datetime.fromisoformat(planned["context"]["occurrence"]["start"])
    assert not (chosen - timedelta(hours=3) < first_start < chosen + timedelta(hours=3))
    # One series, organised in the employee's calendar; the manager's copy under the same UID.
    masters = [e for e in calendar(employee).events(*YEAR) if e.series_id]
    assert len({e.ical_uid for e in masters}) == 1
    uid = masters[0].ical_uid
    copy = calendar(manager).find_event(uid)
    assert copy is not None and copy.organizer == employee
    first = planned["context"]["occurrence"]
    copies = [
        e
        for e in calendar(manager).events(*YEAR)
        if e.start == datetime.fromisoformat(first["start"])
    ]
    assert len(copies) == 1
    # The manager opens her own copy: the same series and occurrence, as the manager.
    opened = _call(app, "GET", f"/api/context?event={copies[0].id}", manager)
    assert opened.status_code == 200, opened.get_json()
    context = opened.get_json()
    assert (context["series"]["id"], context["occurrence"]["key"]) == (series, first["key"])
    assert context["user"]["role"] == "manager"
    # She adds an item; the employee sees it: one record, in the employee's drive only.
    added = _call(
        app,
        "POST",
        f"/api/series/{series}/occurrences/{first['key']}",
        manager,
        json={
            "event": copies[0].id,
            "ops": [{"op": "agenda.add_item", "theme": "role", "title": "Planning Q1"}],
        },
        headers={"If-Match": context["etag"]} if context["etag"] else {},
    )
    assert added.status_code == 200, added.get_json()
    event = planned["context"]["event"]["id"]
    seen = _call(app, "GET", f"/api/context?event={event}", employee).get_json()
    assert "Planning Q1" in [i["title"] for i in seen["agenda"]["items"]]
    drive = app.extensions["goedgesprek.ports"]["drive"]
    assert f"occ-{first['key']}.json" in {f.name for f in drive(employee).list(series)}
    assert drive(manager).list(series) == []


def test_an_ended_mixed_series_leaves_the_managers_calendar_too(
    mixed: tuple[Provider, Provider], tmp_path: Path
) -> None:
    graph, google = mixed
    app = create_app(_settings(graph, google, tmp_path), clock=lambda: NOW)
    planned = _plan(app, ADA, GRACE)
    calendar = app.extensions["goedgesprek.ports"]["calendar"]
    uid = next(e.ical_uid for e in calendar(ADA).events(*YEAR) if e.series_id)
    assert calendar(GRACE).find_event(uid) is not None
    ended = _call(app, "POST", f"/api/series/{planned['series']['id']}/end", GRACE)
    assert ended.status_code == 200, ended.get_json()
    # Nothing held yet: the whole series is deleted, and Google mails the cancellation.
    assert calendar(GRACE).find_event(uid) is None
    assert [e for e in calendar(GRACE).events(*YEAR) if not e.cancelled] == []


def test_an_address_of_no_listed_domain_is_refused_with_a_sentence(
    mixed: tuple[Provider, Provider], tmp_path: Path
) -> None:
    graph, google = mixed
    settings = _settings(graph, google, tmp_path, [(ADA, GRACE), ("cy@example.org", GRACE)])
    app = create_app(settings, clock=lambda: NOW)
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-cy-1"}
    response = _call(app, "POST", "/api/series", "cy@example.org", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["message"].startswith("cy@example.org")
    assert (
        "administrator"
        in _call(app, "POST", "/api/series?lang=en", "cy@example.org", json=body).get_json()[
            "message"
        ]
    )


# -- a roll-out across both, killed halfway ------------------------------------------------------

PAIRS = 60


def _org(graph: Provider, google: Provider) -> list[tuple[str, str]]:
    """Managers on both sides; every other employee reports across the providers."""
    pairs = []
    for n in range(PAIRS // 10):
        graph.emulator.add_user(f"m{n}@contoso.nl", f"Manager {n}")
        google.emulator.add_user(f"m{n}@fabrikam.nl", f"Manager {n}")
    for n in range(PAIRS):
        domain = ("contoso.nl", "fabrikam.nl")[n % 2]
        other = ("fabrikam.nl", "contoso.nl")[n % 2] if n % 4 < 2 else domain
        employee = f"e{n:03d}@{domain}"
        (graph if domain == "contoso.nl" else google).emulator.add_user(employee, f"E {n}")
        pairs.append((employee, f"m{n % (PAIRS // 10)}@{other}"))
    return pairs


def test_a_mixed_rollout_killed_halfway_finishes_on_the_rerun_without_duplicates(
    mixed: tuple[Provider, Provider], tmp_path: Path
) -> None:
    graph, google = mixed
    pairs = _org(graph, google)
    assert sum(e.split("@")[1] != m.split("@")[1] for e, m in pairs) == PAIRS // 2
    settings = _settings(graph, google, tmp_path, pairs)
    build(settings, create_keyring=True).close()
    path = tmp_path / "pairs.csv"
    path.write_text("employee,manager\n" + "".join(f"{e},{m}\n" for e, m in pairs))
    env = {f"GOEDGESPREK_{k}": str(v) for k, v in settings.items() if k != "TESTING"}
    kill_halfway(str(path), env, tmp_path, PAIRS)
    assert PAIRS // 2 <= series_count(tmp_path) < PAIRS
    again = subprocess.run(
        [sys.executable, "-m", "addin.cli", "rollout", str(path)],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert series_count(tmp_path) == PAIRS
    services = build(settings)
    try:
        start = datetime.now(UTC) - timedelta(days=1)
        for employee, manager in pairs:
            events = services.calendar(employee).events(start, start + timedelta(days=130))
            uids = {e.ical_uid for e in events if e.series_id}
            assert len(uids) == 1, (employee, uids)
            assert services.calendar(manager).find_event(uids.pop()) is not None, manager
    finally:
        services.close()
