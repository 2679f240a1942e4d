"""The Graph emulator's groups (``GET /groups``, ``POST {user}/checkMemberGroups``) as Graph
documents them, and `GraphDirectory.is_member` reading them through the real msgraph session."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from connectors.directory_graph import GraphDirectory
from connectors.graph import GraphAccount, StaticToken
from emulators.graph import GraphEmulator
from emulators.serve import Server

ADA = "ada@example.org"
GRACE = "grace@example.org"
EVE = "eve@example.org"
HR_GROUP = "hr-team@example.org"
PEOPLE = "people-ops@example.org"


class Counted:
    """The emulator, counting each request's method and path."""

    def __init__(self, emulator: GraphEmulator) -> None:
        self.emulator = emulator
        self.seen: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return self.emulator(environ, start_response)


@pytest.fixture
def graph() -> Iterator[tuple[GraphEmulator, str, GraphDirectory, Counted]]:
    """An emulator on 127.0.0.1 with Grace in the HR group and Eve in it through People Ops,
    and a directory reading it with each user's own token."""
    emulator = GraphEmulator()
    emulator.add_user(ADA, "Ada")
    emulator.add_group(PEOPLE, "People Ops", [EVE])
    emulator.add_group(HR_GROUP, "HR", [GRACE, PEOPLE])
    counted = Counted(emulator)
    with Server(counted) as server:
        account = GraphAccount(
            lambda email: StaticToken(emulator.token(email)), base_url=f"{server.url}/v1.0"
        )
        try:
            yield emulator, server.url, account.directory(), counted
        finally:
            account.close()


def _send(url: str, token: str, body: Any = None, method: str = "GET") -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _group_id(url: str, token: str, mail: str) -> str:
    clause = quote(f"mail eq '{mail}'")
    status, body = _send(f"{url}/v1.0/groups?$filter={clause}&$select=id", token)
    assert status == 200 and len(body["value"]) == 1
    found: str = body["value"][0]["id"]
    return found


# -- the emulator, over HTTP -------------------------------------------------------------------


def test_groups_are_listed_and_filtered_by_mail_in_any_case(
    graph: tuple[GraphEmulator, str, GraphDirectory, Counted],
) -> None:
    emulator, url, _directory, _counted = graph
    token = emulator.token(ADA)
    status, everything = _send(f"{url}/v1.0/groups", token)
    assert status == 200 and everything["@odata.context"].endswith("$metadata#groups")
    assert {g["mail"] for g in everything["value"]} == {HR_GROUP, PEOPLE}
    hr = next(g for g in everything["value"] if g["mail"] == HR_GROUP)
    assert hr["displayName"] == "HR" and hr["securityEnabled"] is True
    clause = quote(f"mail eq '{HR_GROUP.upper()}'")
    status, found = _send(f"{url}/v1.0/groups?$filter={clause}&$select=id", token)
    assert status == 200 and found["@odata.context"].endswith("$metadata#groups(id)")
    assert found["value"] == [{"id": hr["id"]}]
    nobody, odd = quote("mail eq 'x@example.org'"), quote("jobTitle eq 'HR'")
    status, none = _send(f"{url}/v1.0/groups?$filter={nobody}", token)
    assert status == 200 and none["value"] == []
    status, refused = _send(f"{url}/v1.0/groups?$filter={odd}", token)
    assert status == 400 and refused["error"]["code"] == "Request_UnsupportedQuery"


def test_check_member_groups_is_transitive_and_answers_only_the_groups_asked(
    graph: tuple[GraphEmulator, str, GraphDirectory, Counted],
) -> None:
    """Grace directly, Eve through People Ops; Ada in neither. Asked as oneself or of another."""
    emulator, url, _directory, _counted = graph
    hr = _group_id(url, emulator.token(ADA), HR_GROUP)
    people = _group_id(url, emulator.token(ADA), PEOPLE)
    both = {"groupIds": [hr, people]}
    status, grace = _send(f"{url}/v1.0/me/checkMemberGroups", emulator.token(GRACE), both, "POST")
    assert status == 200 and grace["value"] == [hr]
    assert grace["@odata.context"].endswith("$metadata#Collection(Edm.String)")
    status, eve = _send(f"{url}/v1.0/me/checkMemberGroups", emulator.token(EVE), both, "POST")
    assert status == 200 and eve["value"] == [hr, people]
    status, ada = _send(
        f"{url}/v1.0/users/{ADA}/checkMemberGroups", emulator.token(GRACE), both, "POST"
    )
    assert status == 200 and ada["value"] == []
    emulator.remove_member(HR_GROUP, PEOPLE)
    status, eve = _send(f"{url}/v1.0/me/checkMemberGroups", emulator.token(EVE), both, "POST")
    assert eve["value"] == [people]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"groupIds": [f"00000000-0000-0000-0000-{n:012d}" for n in range(21)]}, 400),
        ({"groupIds": ["not-a-guid"]}, 400),
        ({"groupIds": "00000000-0000-0000-0000-000000000001"}, 400),
        ({}, 400),
        ([1, 2], 400),
    ],
    ids=["21-ids", "malformed-id", "not-a-list", "no-ids", "not-an-object"],
)
def test_check_member_groups_refuses_a_bad_body(
    graph: tuple[GraphEmulator, str, GraphDirectory, Counted], body: Any, code: int
) -> None:
    """More than the documented 20 ids, an id that is no GUID, or no list at all: 400."""
    emulator, url, _directory, _counted = graph
    status, answer = _send(f"{url}/v1.0/me/checkMemberGroups", emulator.token(ADA), body, "POST")
    assert status == code and answer["error"]["code"] in ("Request_BadRequest", "BadRequest")
    assert answer["error"]["message"]


def test_check_member_groups_of_an_unknown_user_is_404_and_get_is_not_allowed(
    graph: tuple[GraphEmulator, str, GraphDirectory, Counted],
) -> None:
    emulator, url, _directory, _counted = graph
    body = {"groupIds": [_group_id(url, emulator.token(ADA), HR_GROUP)]}
    status, missing = _send(
        f"{url}/v1.0/users/nobody@example.org/checkMemberGroups", emulator.token(ADA), body, "POST"
    )
    assert status == 404 and missing["error"]["code"] == "Request_ResourceNotFound"
    assert "nobody@example.org" in missing["error"]["message"]
    status, _answer = _send(f"{url}/v1.0/me/checkMemberGroups", emulator.token(ADA))
    assert status == 405


# -- GraphDirectory.is_member, through the SDK's session -----------------------------------------


def test_membership_by_address_or_id_direct_or_nested(
    graph: tuple[GraphEmulator, str, GraphDirectory, Counted],
) -> None:
    """The address is looked up once; the id needs no look-up; a removal shows at once."""
    emulator, url, directory, counted = graph
    assert directory.is_member(GRACE, HR_GROUP.upper())
    assert directory.is_member(EVE, HR_GROUP)  # through People Ops
    assert not directory.is_member(ADA, HR_GROUP)
    assert [s for s in counted.seen if s == "GET /v1.0/groups"] == ["GET /v1.0/groups"]
    hr = _group_id(url, emulator.token(ADA), HR_GROUP)
    assert directory.is_member(GRACE, hr.upper())
    emulator.remove_member(HR_GROUP, GRACE)
    assert not directory.is_member(GRACE, HR_GROUP)


def test_an_unknown_group_or_person_is_no_and_said_once(
    graph: tuple[GraphEmulator, str, GraphDirectory, Counted], caplog: pytest.LogCaptureFixture
) -> None:
    """No group with the address: no, logged once however often asked. Read app-only, a person
    Graph does not know (404) is no as well."""
    emulator, url, directory, _counted = graph
    with caplog.at_level(logging.INFO, logger="connectors.directory_graph"):
        for _ in range(3):
            assert not directory.is_member(GRACE, "ghosts@example.org")
            assert not directory.is_member(GRACE, "00000000-0000-0000-0000-000000000001")
    said = [r for r in caplog.records if "ghosts@example.org" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.INFO
    app_only = GraphAccount(StaticToken(emulator.token(ADA)), base_url=f"{url}/v1.0", app_only=True)
    try:
        reader = app_only.directory()
        assert reader.is_member(GRACE, HR_GROUP)
        with caplog.at_level(logging.INFO, logger="connectors.directory_graph"):
            assert not reader.is_member("nobody@example.org", HR_GROUP)
            assert not reader.is_member("nobody@example.org", HR_GROUP)
        said = [r for r in caplog.records if "nobody@example.org" in r.getMessage()]
        assert len(said) == 1
    finally:
        app_only.close()
