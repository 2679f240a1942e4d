"""HR from a directory group (``HR_GROUP``): the members of the group see the cadence report,
asked of the provider's directory on Microsoft Graph and Google through the real SDKs and the
served emulators, on every request.

Attacks listed here, each refused with a sentence (403 from the API, the refusal page on
``/hr``), never a 500:
- someone who is not in the group asks for the report, or follows a link signed for them;
- a member of another group of the directory does the same;
- ``HR_GROUP`` names a group the directory does not have;
- the directory cannot be reached (a member is then refused too, and the log says why);
- someone taken out of the group keeps the page open: the next request is refused.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_provider_backends import HR, Provider, served  # noqa: F401

from addin import signed
from addin.app import create_app
from addin.hr_page import _PURPOSE
from emulators.faults import Faults

ADA = "ada@example.org"
GRACE = "grace@example.org"
EVE = "eve@example.org"
HR_GROUP = "hr-team@example.org"
FINANCE = "finance@example.org"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _settings(provider: Provider, data_dir: Path, **extra: Any) -> dict[str, Any]:
    """The provider's settings with ``HR_GROUP``, one try per call (the outage test)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return provider.settings(data_dir) | {
        "HR_GROUP": HR_GROUP,
        "PROVIDER_RETRY_ATTEMPTS": 1,
        "PROVIDER_RETRY_SECONDS": 5,
        **extra,
    }


@pytest.fixture(params=["graph", "google"])
def provider(request: pytest.FixtureRequest, served: dict[str, Provider]) -> Provider:  # noqa: F811
    """Each provider in turn: Grace in the HR group, Eve in Finance, Ada in neither."""
    chosen = served[request.param]
    chosen.network.faults = None
    chosen.emulator.reset()
    for who, name in ((ADA, "Ada"), (GRACE, "Grace"), (EVE, "Eve")):
        chosen.emulator.add_user(who, name)
    chosen.emulator.set_manager(ADA, GRACE)
    chosen.emulator.add_group(HR_GROUP, "HR", [GRACE])
    chosen.emulator.add_group(FINANCE, "Finance", [EVE])
    if request.param == "google":
        chosen.emulator.add_admin(HR)
    return chosen


def _app(provider: Provider, data_dir: Path, **extra: Any) -> Flask:
    return create_app(_settings(provider, data_dir, **extra), clock=lambda: NOW)


def _call(app: Flask, method: str, path: str, who: str) -> Any:
    token = app.extensions["goedgesprek.identity"].issue(who, who.split("@", maxsplit=1)[0].title())
    return app.test_client().open(path, method=method, headers={"Authorization": f"Bearer {token}"})


def _is_hr(app: Flask, who: str) -> bool:
    answer = _call(app, "GET", "/api/me/hr", who)
    assert answer.status_code == 200
    hr: bool = answer.get_json()["hr"]
    return hr


def _refused(app: Flask, who: str) -> None:
    """`who` is not offered the report, gets no link, and a link signed for them opens nothing."""
    assert not _is_hr(app, who)
    answer = _call(app, "POST", "/api/hr/report-link", who)
    assert answer.status_code == 403 and answer.get_json()["message"]
    claims = {"u": who, "l": "nl", "e": int(time.time()) + 600}
    forged = signed.seal(app.secret_key, _PURPOSE, claims)
    page = app.test_client().get(f"/hr/r/{forged}")
    assert page.status_code == 403 and "<h1" in page.get_data(as_text=True)


def _open(app: Flask, who: str) -> tuple[FlaskClient, Any]:
    answer = _call(app, "POST", "/api/hr/report-link", who)
    assert answer.status_code == 200, answer.get_json()
    client = app.test_client()
    first = client.get(answer.get_json()["url"])
    assert first.status_code == 303
    return client, client.get(first.headers["Location"])


def test_a_member_of_the_group_sees_the_report(provider: Provider, tmp_path: Path) -> None:
    app = _app(provider, tmp_path)
    assert _is_hr(app, GRACE)
    _client, page = _open(app, GRACE)
    assert page.status_code == 200 and "Ritmerapport" in page.get_data(as_text=True)


def test_the_attacks_through_the_group_are_refused(
    provider: Provider, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(provider, tmp_path)
    # 1. Not in the group. 2. In another group of the directory.
    _refused(app, ADA)
    _refused(app, EVE)
    # 3. A group the directory does not have: its members of old are no one's now.
    app.config["HR_GROUP"] = "ghosts@example.org"
    _refused(app, GRACE)
    app.config["HR_GROUP"] = HR_GROUP
    # 4. The directory cannot be reached: no one is HR through the group meanwhile, and the
    # operator's log says why. Someone HR names by address still is.
    fresh = _app(provider, tmp_path / "down", DIRECTORY_CACHE_SECONDS=0, HR=ADA)
    client, page = _open(fresh, GRACE)
    assert page.status_code == 200
    provider.network.faults = Faults.from_data(
        {"errors": [{"request": {"url": "/*"}, "responses": [{"statusCode": 503}]}]}
    )
    with caplog.at_level(logging.WARNING, logger="addin.hr_page"):
        _refused(fresh, GRACE)
        assert client.get("/hr/cadence").status_code == 403
    assert any("HR group" in r.getMessage() for r in caplog.records)
    assert _is_hr(fresh, ADA)
    provider.network.faults = None
    assert _is_hr(fresh, GRACE)


def test_taken_out_of_the_group_the_next_request_is_refused(
    provider: Provider, tmp_path: Path
) -> None:
    """Asked of the directory on every request (no time kept here): the open page closes."""
    app = _app(provider, tmp_path, DIRECTORY_CACHE_SECONDS=0)
    client, page = _open(app, GRACE)
    assert page.status_code == 200
    provider.emulator.remove_member(HR_GROUP, GRACE)
    assert client.get("/hr/cadence").status_code == 403
    assert not _is_hr(app, GRACE)


def test_the_directorys_answer_is_kept_for_its_time(provider: Provider, tmp_path: Path) -> None:
    """Every request asks, so the answer is kept as long as the directory's others; a removal
    shows once ``DIRECTORY_CACHE_SECONDS`` have passed."""
    app = _app(provider, tmp_path)
    directory = app.extensions["goedgesprek.directory"]
    now = [1000.0]
    directory.clock = lambda: now[0]
    client, page = _open(app, GRACE)
    assert page.status_code == 200
    provider.emulator.remove_member(HR_GROUP, GRACE)
    assert client.get("/hr/cadence").status_code == 200  # the kept answer still stands
    now[0] += 300
    assert client.get("/hr/cadence").status_code == 403


def test_without_the_providers_directory_the_group_names_no_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The embedded store and an HR file have no groups: start-up says so, and no one is HR
    through the group."""
    with caplog.at_level(logging.WARNING, logger="addin.hr_page"):
        app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "HR_GROUP": HR_GROUP})
    assert any("DIRECTORY=provider" in r.getMessage() for r in caplog.records)
    assert not _is_hr(app, GRACE)
