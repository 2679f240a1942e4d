"""The Google emulator's Admin SDK Directory users.get and Calendar settings.get, read by
`GoogleDirectory` through googleapiclient (the shipped discovery documents, a custom rootUrl)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from google.oauth2.credentials import Credentials

from connectors.directory_google import GoogleDirectory, manager_from_user, zone_from_setting
from connectors.google import GoogleAccount
from emulators.google import GoogleEmulator
from emulators.serve import Server

ADA = "ada@example.org"
GRACE = "grace@example.org"
HR = "hr@example.org"


@pytest.fixture
def google() -> Iterator[tuple[GoogleEmulator, str, GoogleDirectory]]:
    """An emulator on 127.0.0.1; the directory reads as HR (an administrator)."""
    emulator = GoogleEmulator()
    emulator.add_user(ADA, "Ada Lovelace", "Europe/Amsterdam")
    emulator.add_user(GRACE, "Grace Hopper", "America/New_York")
    emulator.add_admin(HR)
    with Server(emulator) as server:
        account = GoogleAccount(
            lambda email: Credentials(emulator.token(email)),  # type: ignore[no-untyped-call]
            root_url=f"{server.url}/",
        )
        try:
            yield emulator, server.url, account.directory(HR)
        finally:
            account.close()


def _get(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_manager_relation_is_read_as_the_administrator(
    google: tuple[GoogleEmulator, str, GoogleDirectory],
) -> None:
    """No relation is None; a set manager is read; an unknown user is None."""
    emulator, _url, directory = google
    assert directory.manager_of(ADA) is None
    emulator.set_manager(ADA, GRACE)
    assert directory.manager_of(ADA.upper()) == GRACE
    assert directory.manager_of("nobody@example.org") is None


def test_users_get_shapes_and_refusals(
    google: tuple[GoogleEmulator, str, GoogleDirectory],
) -> None:
    """relations only with projection=full; a non-admin is 403; an unknown user 404."""
    emulator, url, _directory = google
    emulator.set_manager(ADA, GRACE)
    path = f"{url}/admin/directory/v1/users/{ADA}"
    status, full = _get(f"{path}?projection=full", emulator.token(HR))
    assert status == 200 and full["relations"] == [{"value": GRACE, "type": "manager"}]
    assert full["primaryEmail"] == ADA and full["kind"] == "admin#directory#user"
    status, basic = _get(path, emulator.token(HR))
    assert status == 200 and "relations" not in basic
    status, refused = _get(f"{path}?projection=full", emulator.token(ADA))
    assert status == 403 and refused["error"]["errors"][0]["reason"] == "forbidden"
    status, missing = _get(f"{url}/admin/directory/v1/users/x@example.org", emulator.token(HR))
    assert status == 404 and missing["error"]["message"] == "Resource Not Found: userKey"


def test_the_zone_is_each_persons_calendar_setting(
    google: tuple[GoogleEmulator, str, GoogleDirectory],
) -> None:
    """settings.get("timezone") with the person's own token; the name from the directory."""
    emulator, url, directory = google
    grace = directory.person(GRACE)
    assert grace is not None
    assert (grace.tz, grace.name, grace.hours) == ("America/New_York", "Grace Hopper", None)
    status, _body = _get(f"{url}/calendar/v3/users/me/settings/nothing", emulator.token(ADA))
    assert status == 404


def test_odd_answers_are_left_out() -> None:
    """A relation without an address, another type or a made-up zone gives nothing."""
    assert manager_from_user({"relations": [{"type": "manager", "value": "Grace"}]}) is None
    assert manager_from_user({"relations": [{"type": "spouse", "value": GRACE}]}) is None
    assert manager_from_user({"relations": "x"}) is None
    assert zone_from_setting({"value": "Mars/Olympus"}) == ""
    assert zone_from_setting(None) == ""


# -- the whole directory: users.list ---------------------------------------------------------------


def test_users_list_pages_and_is_for_administrators(
    google: tuple[GoogleEmulator, str, GoogleDirectory],
) -> None:
    emulator, url, _directory = google
    emulator.set_manager(ADA, GRACE)
    hr, ada = emulator.token(HR), emulator.token(ADA)
    base = f"{url}/admin/directory/v1/users"
    status, first = _get(f"{base}?customer=my_customer&projection=full&maxResults=2", hr)
    assert status == 200 and first["kind"] == "admin#directory#users"
    assert len(first["users"]) == 2 and first["nextPageToken"]
    status, rest = _get(
        f"{base}?customer=my_customer&projection=full&maxResults=2"
        f"&pageToken={first['nextPageToken']}",
        hr,
    )
    assert status == 200 and "nextPageToken" not in rest
    everyone = [u["primaryEmail"] for u in first["users"] + rest["users"]]
    assert everyone == sorted([ADA, GRACE, HR])
    ada_user = next(u for u in first["users"] + rest["users"] if u["primaryEmail"] == ADA)
    assert manager_from_user(ada_user) == GRACE
    assert _get(f"{base}?customer=my_customer", ada)[0] == 403  # not an administrator
    assert _get(base, hr)[0] == 400  # whose users: customer or domain
    assert _get(f"{base}?customer=my_customer&maxResults=501", hr)[0] == 400


def test_the_directory_lists_every_reporting_line_over_several_pages(
    google: tuple[GoogleEmulator, str, GoogleDirectory], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, _url, directory = google
    monkeypatch.setattr("connectors.directory_google.USERS_PAGE", 2)
    emulator.set_manager(ADA, GRACE)
    for n in range(3):
        emulator.set_manager(f"e{n}@example.org", ADA)
    assert directory.reporting_lines() == sorted(
        [(ADA, GRACE), *((f"e{n}@example.org", ADA) for n in range(3))]
    )
