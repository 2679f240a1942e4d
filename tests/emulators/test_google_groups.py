"""The Google emulator's Admin SDK members.hasMember as Google documents it, and
`GoogleDirectory.is_member` reading it through googleapiclient as the administrator."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from google.oauth2.credentials import Credentials

from connectors.directory_google import GoogleDirectory
from connectors.errors import InvalidRequest
from connectors.google import GoogleAccount
from emulators.google import GoogleEmulator
from emulators.serve import Server

ADA = "ada@example.org"
GRACE = "grace@example.org"
EVE = "eve@example.org"
ADMIN = "admin@example.org"
HR_GROUP = "hr-team@example.org"
PEOPLE = "people-ops@example.org"
PARTNER = "consultant@partner.example"


@pytest.fixture
def google() -> Iterator[tuple[GoogleEmulator, str, GoogleAccount]]:
    """An emulator on 127.0.0.1: Grace in the HR group, Eve in it through People Ops."""
    emulator = GoogleEmulator()
    emulator.add_admin(ADMIN)
    emulator.add_user(ADA, "Ada Lovelace")
    emulator.add_group(PEOPLE, "People Ops", [EVE, PARTNER])
    emulator.add_group(HR_GROUP, "HR", [GRACE, PEOPLE])
    with Server(emulator) as server:
        account = GoogleAccount(
            lambda email: Credentials(emulator.token(email)),  # type: ignore[no-untyped-call]
            root_url=f"{server.url}/",
        )
        try:
            yield emulator, server.url, account
        finally:
            account.close()


def _get(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _has(url: str, group: str, member: str) -> str:
    return f"{url}/admin/directory/v1/groups/{group}/hasMember/{member}"


# -- the emulator, over HTTP -------------------------------------------------------------------


def test_has_member_answers_direct_and_nested_membership(
    google: tuple[GoogleEmulator, str, GoogleAccount],
) -> None:
    emulator, url, _account = google
    admin = emulator.token(ADMIN)
    assert _get(_has(url, HR_GROUP, GRACE), admin) == (200, {"isMember": True})
    assert _get(_has(url, HR_GROUP, EVE), admin) == (200, {"isMember": True})
    assert _get(_has(url, HR_GROUP.upper(), ADA), admin) == (200, {"isMember": False})
    assert _get(_has(url, PEOPLE, PARTNER), admin) == (200, {"isMember": True})
    emulator.remove_member(HR_GROUP, GRACE)
    assert _get(_has(url, HR_GROUP, GRACE), admin) == (200, {"isMember": False})


def test_has_member_refuses_as_the_admin_sdk_does(
    google: tuple[GoogleEmulator, str, GoogleAccount],
) -> None:
    """An unknown group 404; a member key that is no user (unknown, a group) or a nested
    membership across domains 400 "Invalid Input"; a caller who is no administrator 403."""
    emulator, url, _account = google
    admin = emulator.token(ADMIN)
    status, missing = _get(_has(url, "ghosts@example.org", GRACE), admin)
    assert status == 404
    assert missing["error"]["code"] == 404
    assert missing["error"]["message"] == "Resource Not Found: groupKey"
    assert missing["error"]["errors"][0]["reason"] == "notFound"
    for member in ("nobody@example.org", PEOPLE):
        status, invalid = _get(_has(url, HR_GROUP, member), admin)
        assert status == 400 and invalid["error"]["message"] == "Invalid Input: memberKey"
    status, across = _get(_has(url, HR_GROUP, PARTNER), admin)
    assert status == 400 and across["error"]["errors"][0]["reason"] == "invalid"
    status, refused = _get(_has(url, HR_GROUP, GRACE), emulator.token(GRACE))
    assert status == 403 and refused["error"]["errors"][0]["reason"] == "forbidden"


# -- GoogleDirectory.is_member, through googleapiclient ------------------------------------------


def test_membership_is_read_as_the_administrator(
    google: tuple[GoogleEmulator, str, GoogleAccount],
) -> None:
    emulator, _url, account = google
    directory: GoogleDirectory = account.directory(ADMIN)
    assert directory.is_member(GRACE.upper(), HR_GROUP)
    assert directory.is_member(EVE, HR_GROUP)
    assert not directory.is_member(ADA, HR_GROUP)
    emulator.remove_member(HR_GROUP, GRACE)
    assert not directory.is_member(GRACE, HR_GROUP)


def test_an_unknown_group_or_person_is_no_and_said_once(
    google: tuple[GoogleEmulator, str, GoogleAccount], caplog: pytest.LogCaptureFixture
) -> None:
    _emulator, _url, account = google
    directory = account.directory(ADMIN)
    with caplog.at_level(logging.INFO, logger="connectors.directory_google"):
        for _ in range(3):
            assert not directory.is_member(GRACE, "ghosts@example.org")
            assert not directory.is_member("nobody@example.org", HR_GROUP)
            assert not directory.is_member(PARTNER, HR_GROUP)  # nested, another domain
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "ghosts@example.org" in m]) == 1
    assert len([m for m in messages if "nobody@example.org" in m]) == 1
    assert all(r.levelno == logging.INFO for r in caplog.records)


def test_a_reader_who_is_no_administrator_is_an_error_not_a_no(
    google: tuple[GoogleEmulator, str, GoogleAccount],
) -> None:
    """A 403 is the operator's to fix (GOOGLE_DIRECTORY_ADMIN): it is raised, not hidden."""
    _emulator, _url, account = google
    with pytest.raises(InvalidRequest, match="403"):
        account.directory(GRACE).is_member(GRACE, HR_GROUP)
