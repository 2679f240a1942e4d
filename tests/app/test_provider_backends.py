"""The whole app on Microsoft Graph and Google, through the real SDKs and the served emulators.

Each test runs the side panel's API with ``BACKEND=graph`` or ``google`` pointed at an emulator on
127.0.0.1, the way a deployment is configured (a token file per user), and looks at what the
provider then holds: one series, the manager's own copy mapped back, the sealed record in the
employee's drive, and no duplicate after a crash between the create and the registry write.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from addin.app import create_app
from addin.backends import BackendError
from addin.wiring import DirectoryError
from emulators.faults import Faults
from emulators.google import GoogleEmulator
from emulators.graph import GraphEmulator
from emulators.network import Network
from emulators.serve import Server, behind_network

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

ADA = "ada@example.org"
GRACE = "grace@example.org"
HR = "hr@example.org"
"""The Workspace administrator the Admin SDK Directory is read as (Google)."""
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PREFS = {
    "weekdays": ["TU", "WE", "TH"],
    "earliest": "09:30",
    "latest": "12:00",
    "duration": 60,
    "place": "Koffiebar",
}
YEAR_AHEAD = (NOW, NOW + timedelta(days=400))


class Provider:
    """A served emulator behind the network middleware, and the settings pointing the app at it."""

    def __init__(self, name: str, emulator: Any, network: Network, server: Server) -> None:
        self.name = name
        self.emulator = emulator
        self.network = network
        self.server = server

    def fail(self, *errors: dict[str, Any]) -> None:
        """From now on, answer matching requests with these fault rules (Dev Proxy format)."""
        self.network.faults = Faults.from_data({"errors": list(errors)})

    def settings(self, data_dir: Path) -> dict[str, Any]:
        """App settings for this provider, with a token file for Ada and Grace."""
        tokens = data_dir / f"{self.name}-tokens.json"
        people = (ADA, GRACE, HR, "eve@example.org")
        tokens.write_text(json.dumps({e: self.emulator.token(e) for e in people}))
        base = {
            "TESTING": True,
            "DATA_DIR": str(data_dir),
            "BACKEND": self.name,
            "PROVIDER_RETRY_ATTEMPTS": 4,
            "PROVIDER_RETRY_SECONDS": 10,
        }
        if self.name == "graph":
            return {**base, "GRAPH_URL": f"{self.server.url}/v1.0", "GRAPH_TOKENS": str(tokens)}
        return {
            **base,
            "GOOGLE_ROOT_URL": f"{self.server.url}/",
            "GOOGLE_TOKENS": str(tokens),
            "GOOGLE_DIRECTORY_ADMIN": HR,
        }


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Provider]]:
    """Both emulators, served for the module."""
    graph, google = GraphEmulator(), GoogleEmulator()
    graph_net, google_net = behind_network(graph), behind_network(google)
    with Server(graph_net) as graph_server, Server(google_net) as google_server:
        yield {
            "graph": Provider("graph", graph, graph_net, graph_server),
            "google": Provider("google", google, google_net, google_server),
        }


@pytest.fixture(params=["graph", "google"])
def provider(request: pytest.FixtureRequest, served: dict[str, Provider]) -> Provider:
    """Each provider in turn, emptied, with Ada and Grace as users."""
    chosen = served[request.param]
    chosen.network.faults = None
    chosen.network.reset_stats()
    chosen.emulator.reset()
    chosen.emulator.add_user(ADA, "Ada")
    chosen.emulator.add_user(GRACE, "Grace")
    # The provider's own directory names Grace as Ada's manager.
    chosen.emulator.set_manager(ADA, GRACE)
    if request.param == "google":
        chosen.emulator.add_admin(HR)
    return chosen


def _app(provider: Provider, data_dir: Path) -> Flask:
    return create_app(provider.settings(data_dir), clock=lambda: NOW)


def _call(app: Flask, method: str, path: str, who: str, **kwargs: Any) -> Any:
    token = app.extensions["goedgesprek.identity"].issue(who, who.split("@", maxsplit=1)[0].title())
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return app.test_client().open(path, method=method, headers=headers, **kwargs)


def _plan(app: Flask, request_id: str = "req-provider-1") -> dict[str, Any]:
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": request_id}
    response = _call(app, "POST", "/api/series", ADA, json=body)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def _masters(app: Flask, who: str) -> set[str]:
    calendar = app.extensions["goedgesprek.ports"]["calendar"](who)
    return {e.ical_uid for e in calendar.events(*YEAR_AHEAD) if e.series_id}


def test_a_series_planned_through_the_api_lives_in_both_partners_calendars(
    provider: Provider, tmp_path: Path
) -> None:
    """Plan, then the manager opens her own copy: it maps to the same series and occurrence."""
    app = _app(provider, tmp_path)
    planned = _plan(app)
    again = _plan(app)
    assert again["series"]["id"] == planned["series"]["id"]
    assert len(_masters(app, ADA)) == 1
    assert _masters(app, GRACE) == _masters(app, ADA)

    first = planned["context"]["occurrence"]
    grace_calendar = app.extensions["goedgesprek.ports"]["calendar"](GRACE)
    copies = [
        e
        for e in grace_calendar.events(*YEAR_AHEAD)
        if e.start == datetime.fromisoformat(first["start"])
    ]
    assert len(copies) == 1
    response = _call(app, "GET", f"/api/context?event={copies[0].id}", GRACE)
    assert response.status_code == 200, response.get_json()
    context = response.get_json()
    assert context["series"]["id"] == planned["series"]["id"]
    assert context["occurrence"]["key"] == first["key"]
    assert context["user"]["role"] == "manager"


def test_a_change_of_manager_in_the_providers_directory_hands_the_series_over(
    provider: Provider, tmp_path: Path
) -> None:
    """The provider's directory names Eve: Grace is refused and the series invites Eve (the
    directory's answers are not kept here, so the change shows at once)."""
    eve = "eve@example.org"
    app = create_app(
        {**provider.settings(tmp_path), "DIRECTORY_CACHE_SECONDS": 0}, clock=lambda: NOW
    )
    planned = _plan(app)
    provider.emulator.set_manager(ADA, eve)
    series, occ = planned["series"]["id"], planned["context"]["occurrence"]["key"]
    export = f"/api/series/{series}/occurrences/{occ}/export?format=md"
    refused = _call(app, "GET", export, GRACE)
    assert refused.status_code == 403 and refused.get_json()["error"] == "handed_over"
    assert _call(app, "GET", export, ADA).status_code == 200
    master_id = app.extensions["goedgesprek.service"].registry.get(series).master_event_id
    master = app.extensions["goedgesprek.ports"]["calendar"](ADA).get_event(master_id)
    assert [a.email for a in master.attendees] == [eve]


def test_the_providers_directory_is_asked_once_per_person_and_a_change_shows_after_its_time(
    provider: Provider, tmp_path: Path
) -> None:
    """Context calls reuse the directory's answer (no directory request after the first); a
    change of manager shows once DIRECTORY_CACHE_SECONDS have passed, not before."""
    eve = "eve@example.org"
    app = _app(provider, tmp_path)
    directory = app.extensions["goedgesprek.directory"]
    now = [1000.0]
    directory.clock = lambda: now[0]
    planned = _plan(app)
    event = planned["context"]["event"]["id"]
    # Were the directory asked now, its request would fail (and be counted as a fault).
    provider.fail({"request": DIRECTORY_READ[provider.name], "responses": [{"statusCode": 403}]})
    for _ in range(3):
        assert _call(app, "GET", f"/api/context?event={event}", ADA).status_code == 200
    assert provider.network.stats.faults == {}
    provider.network.faults = None
    provider.emulator.set_manager(ADA, eve)
    series, occ = planned["series"]["id"], planned["context"]["occurrence"]["key"]
    export = f"/api/series/{series}/occurrences/{occ}/export?format=md"
    assert _call(app, "GET", export, GRACE).status_code == 200  # the kept answer still stands
    now[0] += 300
    refused = _call(app, "GET", export, GRACE)
    assert refused.status_code == 403 and refused.get_json()["error"] == "handed_over"


def test_a_directory_cache_time_that_is_not_a_number_of_seconds_stops_start_up(
    provider: Provider, tmp_path: Path
) -> None:
    for odd in ("soon", -1, 90_000):
        with pytest.raises(DirectoryError, match="DIRECTORY_CACHE_SECONDS"):
            create_app({**provider.settings(tmp_path), "DIRECTORY_CACHE_SECONDS": odd})


def test_an_agenda_saved_through_the_api_is_sealed_in_the_employees_drive(
    provider: Provider, tmp_path: Path
) -> None:
    """An agenda item is saved to the employee's drive, encrypted, and reads back in context."""
    app = _app(provider, tmp_path)
    context = _plan(app)["context"]
    series, key = context["series"]["id"], context["occurrence"]["key"]
    response = _call(
        app,
        "POST",
        f"/api/series/{series}/occurrences/{key}",
        ADA,
        json={
            "event": context["event"]["id"],
            "ops": [{"op": "agenda.add_item", "theme": "personal", "title": "Vertrouwelijk"}],
        },
    )
    assert response.status_code == 200, response.get_json()
    drive = app.extensions["goedgesprek.ports"]["drive"](ADA)
    stored = drive.get(series, f"occ-{key}.json")
    assert b"Vertrouwelijk" not in stored.content
    again = _call(app, "GET", f"/api/context?event={context['event']['id']}", ADA).get_json()
    assert [i["title"] for i in again["agenda"]["items"]][-1] == "Vertrouwelijk"


def test_consent_expired_becomes_a_message_to_sign_in_again(
    provider: Provider, tmp_path: Path
) -> None:
    """A revoked token at the provider answers 401 with a sentence a person can act on."""
    app = _app(provider, tmp_path)
    event = _plan(app)["context"]["event"]["id"]
    provider.emulator.revoke(ADA)
    response = _call(app, "GET", f"/api/context?event={event}&lang=en", ADA)
    assert response.status_code == 401
    assert "sign in" in response.get_json()["message"].lower()


def test_an_event_the_user_deleted_is_a_clear_404(provider: Provider, tmp_path: Path) -> None:
    """Opening a deleted event says it is gone, in the user's language."""
    app = _app(provider, tmp_path)
    event = _plan(app)["context"]["event"]["id"]
    app.extensions["goedgesprek.ports"]["calendar"](ADA).delete_event(event)
    response = _call(app, "GET", f"/api/context?event={event}&lang=en", ADA)
    assert response.status_code == 404
    assert response.get_json()["message"]


EVENT_CREATE = {
    "graph": {"url": "/v1.0/me/events", "method": "POST"},
    "google": {"url": "/calendar/v3/calendars/primary/events*", "method": "POST"},
}
EVENT_PATCH = {
    "graph": {"url": "/v1.0/me/events/*", "method": "PATCH"},
    "google": {"url": "/calendar/v3/calendars/primary/events/*", "method": "PATCH"},
}
DIRECTORY_READ = {
    "graph": {"url": "/v1.0/me/manager*", "method": "GET"},
    "google": {"url": "/admin/directory/v1/users/*", "method": "GET"},
}
EVENT_READ = {
    "graph": {"url": "/v1.0/me/events/*", "method": "GET"},
    "google": {"url": "/calendar/v3/calendars/primary/events/*", "method": "GET"},
}


def test_three_429s_then_success_make_one_series_after_the_waits_asked_for(
    provider: Provider, tmp_path: Path
) -> None:
    """The provider throttles the create three times with Retry-After: 1; one series results."""
    app = _app(provider, tmp_path)
    throttled = {"statusCode": 429, "headers": [{"name": "Retry-After", "value": "1"}]}
    provider.fail({"request": EVENT_CREATE[provider.name], "count": 3, "responses": [throttled]})
    started = time.monotonic()
    _plan(app)
    assert time.monotonic() - started >= 3
    assert provider.network.stats.faults == {"http": 3}
    assert len(_masters(app, ADA)) == 1


def test_an_answer_that_does_not_parse_is_a_try_again_message(
    provider: Provider, tmp_path: Path
) -> None:
    """Garbage from the provider, every time, ends in 503 with Retry-After and a sentence."""
    app = _app(provider, tmp_path)
    event = _plan(app)["context"]["event"]["id"]
    provider.fail({"request": EVENT_READ[provider.name], "responses": [{"fault": "garbage"}]})
    response = _call(app, "GET", f"/api/context?event={event}&lang=en", ADA)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "try again" in response.get_json()["message"]


def test_an_edit_racing_the_agenda_copy_is_read_again_and_kept(
    provider: Provider, tmp_path: Path
) -> None:
    """A 412 on the event write (someone edited it) makes the app re-read and splice again."""
    app = _app(provider, tmp_path)
    context = _plan(app)["context"]
    series, key = context["series"]["id"], context["occurrence"]["key"]

    etag = [context["etag"]]

    def ops(who: str, *changes: dict[str, Any]) -> dict[str, Any]:
        body = {"event": context["event"]["id"], "ops": list(changes)}
        headers = {"If-Match": etag[0]} if etag[0] else {}
        path = f"/api/series/{series}/occurrences/{key}"
        response = _call(app, "POST", path, who, json=body, headers=headers)
        assert response.status_code == 200, response.get_json()
        result: dict[str, Any] = response.get_json()
        etag[0] = result["etag"]
        return result

    ops(ADA, {"op": "agenda.add_item", "theme": "personal", "title": "Energie"})
    ops(ADA, {"op": "agenda.share"})
    ops(GRACE, {"op": "agenda.agree"})
    stale = {"statusCode": 412}
    provider.fail({"request": EVENT_PATCH[provider.name], "count": 1, "responses": [stale]})
    agreed = ops(ADA, {"op": "agenda.agree"})
    assert agreed["agenda"]["state"] == "agreed"
    assert provider.network.stats.faults == {"http": 1}
    calendar = app.extensions["goedgesprek.ports"]["calendar"](ADA)
    assert "Energie" in calendar.get_event(context["event"]["id"]).body_html


def test_a_refused_request_says_what_to_do_and_logs_the_providers_words(
    provider: Provider, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 400 from the provider is a Dutch sentence to act on; the provider's detail is logged."""
    app = _app(provider, tmp_path)
    provider.fail({"request": EVENT_CREATE[provider.name], "responses": [{"statusCode": 400}]})
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-refused"}
    with caplog.at_level("WARNING"):
        response = _call(app, "POST", "/api/series?lang=nl", ADA, json=body)
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert message.startswith("Je agenda of opslag weigerde deze wijziging")
    assert "400" not in message
    assert any("provider refused a request" in r.getMessage() for r in caplog.records)


CRASH_AFTER_CREATE = textwrap.dedent(
    """
    import json, os, sys
    from datetime import datetime
    from addin.app import create_app
    from addin.backends import provider_ports

    settings = json.loads(sys.argv[1])
    ports = provider_ports(settings)

    class CrashAfterCreate:
        def __init__(self, inner):
            self.inner = inner
        def __getattr__(self, name):
            return getattr(self.inner, name)
        def create_event(self, event, *, idempotency_key):
            self.inner.create_event(event, idempotency_key=idempotency_key)
            os._exit(17)  # the process dies before the registry hears of the event

    now = datetime.fromisoformat(sys.argv[2])
    app = create_app(
        settings,
        calendar=lambda email: CrashAfterCreate(ports.calendar(email)),
        drive=ports.drive,
        mailer=ports.mailer,
        clock=lambda: now,
    )
    token = app.extensions["goedgesprek.identity"].issue(sys.argv[3], "Ada")
    app.test_client().post(
        "/api/series", json=json.loads(sys.argv[4]), headers={"Authorization": "Bearer " + token}
    )
    sys.exit(0)  # not reached: the create crashes the process
    """
)


def test_a_crash_between_create_and_registry_write_then_a_rerun_makes_one_series(
    provider: Provider, tmp_path: Path
) -> None:
    """The process dies right after the provider created the series; the rerun finds it."""
    settings = provider.settings(tmp_path)
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-crash-1"}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASH_AFTER_CREATE,
            json.dumps(settings),
            NOW.isoformat(),
            ADA,
            json.dumps(body),
        ],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert crashed.returncode == 17, crashed.stderr.decode()[-2000:]
    app = create_app(settings, clock=lambda: NOW)
    assert len(_masters(app, ADA)) == 1  # created, but the registry has no master for it yet
    response = _call(app, "POST", "/api/series", ADA, json=body)
    assert response.status_code == 201, response.get_json()
    assert len(_masters(app, ADA)) == 1
    assert len(_masters(app, GRACE)) == 1


def test_unknown_backend_and_missing_credentials_stop_start_up(tmp_path: Path) -> None:
    """A wrong BACKEND or a provider without credentials is refused with what to set."""
    with pytest.raises(BackendError, match="BACKEND must be one of"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "BACKEND": "exchange"})
    with pytest.raises(BackendError, match="GRAPH_CLIENT_SECRET"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "BACKEND": "graph"})
    with pytest.raises(BackendError, match="GOOGLE_TOKENS"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "BACKEND": "google"})
    broken = tmp_path / "tokens.json"
    broken.write_text("[1, 2]")
    with pytest.raises(BackendError, match="email to token"):
        create_app(
            {
                "TESTING": True,
                "DATA_DIR": str(tmp_path),
                "BACKEND": "google",
                "GOOGLE_TOKENS": str(broken),
            }
        )


def test_the_default_graph_url_is_the_connectors() -> None:
    """The app's default Graph URL (kept apart so settings import no SDK) is the connector's."""
    from addin.backends import GRAPH_URL
    from connectors.graph import DEFAULT_BASE_URL

    assert GRAPH_URL == DEFAULT_BASE_URL


class LoseThenDown:
    """Once armed, the next drive write is done and its answer lost (503), and every request
    after it is refused (503) until `up()`: the check after the write can never succeed."""

    BODY = b'{"error": {"code": "serviceNotAvailable", "message": "unavailable"}}'

    def __init__(self, app: Any) -> None:
        """Pass everything to `app` until armed."""
        self.app = app
        self.armed = False
        self.down = False

    def up(self) -> None:
        """Answer normally again."""
        self.armed = self.down = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Lose the armed write's answer, refuse everything while down, else pass on."""
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        write = method in ("PUT", "PATCH") and ("/drive" in path or "/upload/" in path)
        if method == "POST" and path.endswith("/$batch"):
            # Graph's small uploads go in a $batch with the read of their versions.
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            environ["wsgi.input"] = io.BytesIO(body)
            items = json.loads(body or b"{}").get("requests") or []
            write = any(i["method"] == "PUT" and "/drive" in i["url"] for i in items)
        if self.armed and write:
            self.armed, self.down = False, True
            b"".join(self.app(environ, lambda *_args: lambda _data: None))
        if self.down:
            headers = [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(self.BODY))),
            ]
            start_response("503 Service Unavailable", headers)
            return [self.BODY]
        return self.app(environ, start_response)


@pytest.mark.parametrize("name", ["graph", "google"])
def test_a_save_stored_but_answered_503_is_not_applied_twice_when_sent_again(
    name: str, tmp_path: Path
) -> None:
    """The write lands, its answer is lost and the check fails: 503. The resend of that change
    (same change id, the etag read before) answers 200 and the item is there once."""
    emulator = GraphEmulator() if name == "graph" else GoogleEmulator()
    emulator.add_user(ADA, "Ada")
    emulator.add_user(GRACE, "Grace")
    emulator.set_manager(ADA, GRACE)
    if isinstance(emulator, GoogleEmulator):
        emulator.add_admin(HR)
    network = behind_network(emulator)
    lossy = LoseThenDown(network)
    with Server(lossy) as server:
        settings = Provider(name, emulator, network, server).settings(tmp_path)
        app = create_app({**settings, "PROVIDER_RETRY_SECONDS": 1}, clock=lambda: NOW)
        context = _plan(app)["context"]
        path = f"/api/series/{context['series']['id']}/occurrences/{context['occurrence']['key']}"

        def save(title: str, etag: str | None, change_id: str) -> Any:
            body = {
                "event": context["event"]["id"],
                "ops": [{"op": "agenda.add_item", "theme": "personal", "title": title}],
                "change_id": change_id,
            }
            headers = {"If-Match": etag} if etag else {}
            return _call(app, "POST", path, ADA, json=body, headers=headers)

        first = save("Eerst", None, "chg-provider-first")
        assert first.status_code == 200, first.get_json()
        etag = first.get_json()["etag"]
        lossy.armed = True
        lost = save("Eenmaal", etag, "chg-provider-lost")
        assert lost.status_code == 503, lost.get_json()
        lossy.up()
        again = save("Eenmaal", etag, "chg-provider-lost")
        assert again.status_code == 200, again.get_json()
        titles = [i["title"] for i in again.get_json()["agenda"]["items"]]
        assert titles == ["Eerst", "Eenmaal"]
