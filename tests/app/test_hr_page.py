"""The HR cadence report in the browser: only for the people named as HR, behind a link signed
for them, counts and dates only."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_api import ADA, Api, seeded_api

from addin import signed
from addin.background.service import build_sweep
from addin.hr_page import _PURPOSE, COOKIE

HR = "hr@example.org"
MARKER = "ZZ-GEHEIM-43"


@pytest.fixture
def api(tmp_path: Path) -> Api:
    found = seeded_api(tmp_path)
    found.app.config["HR"] = f"{HR}, someone@example.org"
    identity = found.app.extensions["goedgesprek.identity"]
    found.tokens[HR] = identity.issue(HR, "HR")
    return found


def _held(api: Api) -> None:
    """A planned pair with marker text everywhere, past its first conversation, swept."""
    planned = api.plan()
    context = api.ops(
        ADA, planned["context"], {"op": "agenda.add_item", "theme": "role", "title": MARKER}
    ).get_json()
    start = context["occurrence"]["start"]
    from datetime import datetime

    api.clock.set(datetime.fromisoformat(start) + timedelta(minutes=75))
    services = api.app.extensions["goedgesprek.services"]
    build_sweep(services, api.app.config).run()


def _open(api: Api, who: str = HR) -> Any:
    answer = api.call("POST", "/api/hr/report-link", who)
    assert answer.status_code == 200, answer.get_json()
    url = answer.get_json()["url"]
    client = api.app.test_client()
    first = client.get(url)
    assert first.status_code == 303 and "HttpOnly" in first.headers["Set-Cookie"]
    assert "Path=/hr" in first.headers["Set-Cookie"]
    return client, client.get(first.headers["Location"])


def test_hr_opens_the_report_from_the_panel_and_sees_counts_only(api: Api) -> None:
    _held(api)
    assert api.call("GET", "/api/me/hr", HR).get_json() == {"hr": True}
    assert api.call("GET", "/api/me/hr", ADA).get_json() == {"hr": False}
    client, page = _open(api)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ritmerapport" in html
    assert MARKER not in html and ADA not in html
    assert "De rest van de organisatie" in html  # a team of one is not shown on its own
    csv = client.get("/hr/cadence?format=csv")
    assert csv.status_code == 200 and MARKER not in csv.get_data(as_text=True)
    english = client.get("/hr/cadence?lang=en").get_data(as_text=True)
    assert "Cadence report" in english and "Held per quarter" in english


def test_the_attacks_on_the_report_are_refused(api: Api) -> None:
    _held(api)
    # 1. Someone who is not HR asks for a link: refused with a sentence.
    refused = api.call("POST", "/api/hr/report-link", ADA)
    assert refused.status_code == 403 and refused.get_json()["message"]
    # 2. No cookie, or a forged one.
    assert api.app.test_client().get("/hr/cadence").status_code == 403
    forger = api.app.test_client()
    forger.set_cookie(COOKIE, "abc.def", path="/hr")
    assert forger.get("/hr/cadence").status_code == 403
    # 3. A token signed with another key, or for another purpose (a record link).
    claims = {"u": HR, "l": "nl", "e": int(time.time()) + 600}
    for token in (
        signed.seal(b"x" * 32, _PURPOSE, claims),
        signed.seal(api.app.secret_key, b"goedgesprek.record-link.v1", claims),
    ):
        assert api.app.test_client().get(f"/hr/r/{token}").status_code == 403
    # 4. An expired token.
    old = signed.seal(api.app.secret_key, _PURPOSE, {**claims, "e": int(time.time()) - 1})
    assert api.app.test_client().get(f"/hr/r/{old}").status_code == 403
    # 5. A valid token for someone no longer HR: refused at once, and the open page too.
    client, page = _open(api)
    assert page.status_code == 200
    api.app.config["HR"] = "someone@example.org"
    assert client.get("/hr/cadence").status_code == 403
    # 6. A token naming a non-HR person, signed properly.
    ada = signed.seal(api.app.secret_key, _PURPOSE, {**claims, "u": ADA})
    assert api.app.test_client().get(f"/hr/r/{ada}").status_code == 403
