"""The sweep against Microsoft Graph and Google through the real SDKs, while the provider fails:
each message goes out at most once, with the emulator's sent items as the witness.

Two pairs (two employees, one manager) hold their first conversation; the clock moves past it
and the record prompt is due for four mailboxes. The emulators then answer 20% and 50% of requests
with 429 or 5xx, hold some connections and drop others; sweeps run (two consumers taking turns)
until nothing is left to send. The tokens hold the product's scopes: send only, no mailbox read.
Afterwards no prompt is in sent items twice; the ledger says sent for each, and each is in its
sender's sent items once, except those whose send got no answer (a 5xx, a reset, a held
connection): those are marked "uncertain" and never sent again, so they may be missing. Here the
faults strike before the emulator, so an uncertain one is always missing: the residual risk.
"""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_provider_backends import GRACE, NOW, PREFS, Provider, served  # noqa: F401

from addin.app import create_app
from addin.backends import GOOGLE_DELEGATED_SCOPES
from addin.background.ledger import Ledger, State
from addin.background.service import build_sweep
from addin.signin import GRAPH_PERMISSIONS
from addin.store.tables import deliveries_table
from connectors.testing import ManualClock
from emulators.faults import Faults

# Providers and hosts, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

EMPLOYEES = ("ada@example.org", "bo@example.org")
SEND = {
    "graph": {"url": "/v1.0/me/sendMail", "method": "POST"},
    "google": {"url": "/gmail/v1/users/*/messages/send*", "method": "POST"},
}
SWEEPS = 25
"""At most this many sweeps to get every message out (each one bounded by the retry policy)."""


@pytest.fixture(params=["graph", "google"])
def provider(request: pytest.FixtureRequest, served: dict[str, Provider]) -> Provider:  # noqa: F811
    chosen = served[request.param]
    chosen.network.faults = None
    chosen.network.reset_stats()
    chosen.emulator.reset()
    chosen.emulator.add_user(GRACE, "Grace")
    for person in EMPLOYEES:
        chosen.emulator.add_user(person, person.split("@")[0].title())
        chosen.emulator.set_manager(person, GRACE)
    if request.param == "google":
        chosen.emulator.add_admin("hr@example.org")
    return chosen


def _settings(provider: Provider, data_dir: Path) -> dict[str, Any]:
    # Calls give up sooner than a deployment's (the next sweep tries again): a shorter test.
    settings = {**provider.settings(data_dir), "PROVIDER_RETRY_SECONDS": 4}
    people = (GRACE, *EMPLOYEES, "hr@example.org")
    tokens = Path(settings["GRAPH_TOKENS" if provider.name == "graph" else "GOOGLE_TOKENS"])
    scopes = GRAPH_PERMISSIONS if provider.name == "graph" else GOOGLE_DELEGATED_SCOPES
    tokens.write_text(json.dumps({e: provider.emulator.token(e, scopes) for e in people}))
    return settings


def _sent(provider: Provider) -> Counter[tuple[str, str]]:
    """(sender, subject) of every mail in the emulator's sent items."""
    found: Counter[tuple[str, str]] = Counter()
    for message in provider.emulator.sent():
        if provider.name == "graph":
            sender = message["from"]["emailAddress"]["address"].lower()
            subject = message["subject"]
        else:
            raw = base64.urlsafe_b64decode(message["raw"] + "=" * (-len(message["raw"]) % 4))
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            sender = email.utils.parseaddr(str(parsed["From"]))[1].lower()
            subject = str(parsed["Subject"])
        found[(sender, subject)] += 1
    return found


@pytest.mark.parametrize("rate", [20, 50])
def test_every_due_prompt_goes_out_at_most_once_while_the_provider_fails(
    provider: Provider, tmp_path: Path, rate: int
) -> None:
    """Checked after the faults: no mail twice; every due prompt done in the ledger; each one
    the ledger calls sent in sent items once; the uncertain ones (at least the first send, reset
    for certain) never sent again. Prints how many were lost as uncertain."""
    clock = ManualClock(NOW)
    app = create_app(_settings(provider, tmp_path), clock=clock)
    identity = app.extensions["goedgesprek.identity"]
    client = app.test_client()
    starts = []
    for n, person in enumerate(EMPLOYEES):
        token = identity.issue(person, person.split("@")[0].title())
        body = {
            "partner": GRACE,
            "role": "employee",
            "preferences": PREFS,
            "request_id": f"faults-{n:04d}",
        }
        answer = client.post(
            "/api/series?lang=nl", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 201, answer.get_json()
        starts.append(datetime.fromisoformat(answer.get_json()["context"]["occurrence"]["start"]))
    clock.set(max(starts) + timedelta(minutes=60 + 11))
    services = app.extensions["goedgesprek.services"]
    due = {
        (p.recipient.email, p.delivery.key)
        for p in build_sweep(services, app.config, owner="look").run(dry_run=True).planned
        if p.trigger.kind == "record"
    }
    assert len(due) >= 2 * len(EMPLOYEES) - 1  # a first conversation may already be a week past

    # Seeded, so the same requests fail on every run (the order of the sweeps' threads aside).
    provider.network.faults = Faults.from_data(
        {
            "seed": 20261206 + rate,
            "errors": [
                # The first send of all is lost for certain; the rest fail at `rate`.
                {"request": SEND[provider.name], "count": 1, "responses": [{"fault": "reset"}]},
                {
                    "request": {"url": "*"},
                    "rate": rate,
                    "responses": [
                        {"statusCode": 429, "headers": [{"name": "Retry-After", "value": "1"}]},
                        {"statusCode": 503},
                        {"statusCode": 500},
                        {"fault": "reset"},
                        {"fault": "timeout", "seconds": 0.3},
                    ],
                },
            ],
        }
    )
    sweeps = [build_sweep(services, app.config, owner=f"consumer-{n}") for n in range(2)]
    for turn in range(SWEEPS):
        sweeps[turn % 2].run()
        ledger = Ledger(services.registry.engine, clock=clock)
        if ledger.counts().get("sent", 0) >= len(due):
            break
    provider.network.faults = None
    final = build_sweep(services, app.config, owner="after").run(everything=True)
    assert final.count("sent") + final.count("settled") >= len(due)

    sent = _sent(provider)
    doubled = {k: n for k, n in sent.items() if n > 1}
    assert not doubled, doubled
    t = deliveries_table
    with services.registry.engine.connect() as conn:
        rows = conn.execute(select(t.c.key, t.c.state, t.c.message_id)).all()
    done = {key: (State(state), message_id) for key, state, message_id in rows}
    uncertain = {key for key, (_, message_id) in done.items() if message_id == "uncertain"}
    delivered = {key for key, (state, _) in done.items() if state is State.SENT} - uncertain
    assert all(state is State.SENT for state, _ in done.values()), done
    # Every delivery the ledger calls sent is in sent items once; an uncertain one is not.
    assert len(sent) == len(delivered), (done, sent)
    senders = Counter(sender for sender, _ in sent)
    for person, key in due:
        assert done[key][0] is State.SENT, (key, done[key])
        assert key in uncertain or senders[person] >= 1, (person, sent)
    assert uncertain, "the first send was reset: it must be uncertain"
    lost = uncertain & {key for _, key in due}
    print(f"{provider.name} at {rate}%: {len(due)} prompts due, {len(lost)} lost as uncertain")
    assert provider.network.stats.faults, "no fault was injected"


DRIVE_WRITES = {
    "graph": {"url": "*/drive/*/content*", "method": "PUT"},
    "google": {"url": "/upload/drive/*"},
}


def _titles(app: Any, series_id: str, key: str) -> list[str]:
    """The agenda items of an occurrence's document as the drive holds it (none: [])."""
    from addin.conversations.document import Doc, doc_name

    conversations = app.extensions["goedgesprek.service"]
    entry = conversations.registry.get(series_id)
    sealed = conversations._sealed_drive(entry)
    names = {info.name for info in sealed.list(entry.id)}
    if doc_name(key) not in names:
        return []
    doc = Doc.from_bytes(sealed.get(entry.id, doc_name(key)).content, None)
    return [item.title for item in doc.agenda.items]


def test_saves_while_the_drive_fails_reach_it_once_each(provider: Provider, tmp_path: Path) -> None:
    """Writes to the drive fail outright, then everything fails at 30%: every save is answered
    (at once, or waiting on the server), sent again after a lost answer under its change id, and
    once the drive answers, the drive holds each item once and nothing waits."""
    clock = ManualClock(NOW)
    # A save gives up on the drive after a second (the pane's user waits no longer than that).
    app = create_app({**_settings(provider, tmp_path), "PROVIDER_RETRY_SECONDS": 1}, clock=clock)
    identity = app.extensions["goedgesprek.identity"]
    client = app.test_client()
    ada = EMPLOYEES[0]
    auth = {"Authorization": f"Bearer {identity.issue(ada, 'Ada')}"}
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "drive-0001"}
    planned = client.post("/api/series?lang=nl", json=body, headers=auth).get_json()
    context = planned["context"]
    series, key, event = (
        context["series"]["id"],
        context["occurrence"]["key"],
        context["event"]["id"],
    )
    services = app.extensions["goedgesprek.services"]
    conversations = app.extensions["goedgesprek.service"]

    def save(title: str, change: str, attempts: int = 60) -> dict[str, Any]:
        """Send one change until it is answered, as the pane does (same change id)."""
        nonlocal context
        for _attempt in range(attempts):
            headers = dict(auth)
            if context.get("etag"):
                headers["If-Match"] = context["etag"]
            answer = client.post(
                f"/api/series/{series}/occurrences/{key}?lang=nl",
                json={
                    "event": event,
                    "change_id": change,
                    "ops": [{"op": "agenda.add_item", "theme": "role", "title": title}],
                },
                headers=headers,
            )
            found = answer.get_json()
            if answer.status_code == 200:
                context = found
                return found
            assert answer.status_code in (409, 412, 428, 429, 502, 503, 504), found
            if answer.status_code in (409, 412, 428) and "current" in found:
                context = found["current"]
        raise AssertionError(f"{title} was not saved in {attempts} tries")

    # 1. The drive takes no writes: the saves wait on the server, and build on each other.
    provider.network.faults = Faults.from_data(
        {"errors": [{"request": DRIVE_WRITES[provider.name], "responses": [{"statusCode": 503}]}]}
    )
    assert save("Eerste punt", "drive-change-01")["pending"] is True
    assert save("Tweede punt", "drive-change-02")["pending"] is True
    assert build_sweep(services, app.config).run().documents["waiting"] == 1
    assert _titles(app, series, key) == []
    provider.network.faults = None
    assert build_sweep(services, app.config).run().documents["delivered"] == 1
    assert _titles(app, series, key) == ["Eerste punt", "Tweede punt"]
    assert conversations.pending.count() == 0

    # 2. Everything fails at 30%, answers are lost: each save still lands once.
    provider.network.faults = Faults.from_data(
        {
            "seed": 20261207,
            "errors": [
                {
                    "request": {"url": "*"},
                    "rate": 30,
                    "responses": [
                        {"statusCode": 429, "headers": [{"name": "Retry-After", "value": "1"}]},
                        {"statusCode": 503},
                        {"fault": "reset"},
                        {"fault": "timeout", "seconds": 0.3},
                    ],
                }
            ],
        }
    )
    titles = [f"Punt {n}" for n in range(3, 7)]
    for n, title in enumerate(titles):
        save(title, f"drive-change-{n + 3:02d}")
    for _turn in range(SWEEPS):
        if conversations.pending.count() == 0:
            break
        build_sweep(services, app.config).run()
    provider.network.faults = None
    build_sweep(services, app.config).run()
    assert conversations.pending.count() == 0
    held = _titles(app, series, key)
    assert held == ["Eerste punt", "Tweede punt", *titles], held
    assert provider.network.stats.faults, "no fault was injected"
