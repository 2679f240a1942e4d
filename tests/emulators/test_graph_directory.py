"""The Graph emulator's reporting lines and mailbox settings, read by `GraphDirectory` through
the real msgraph SDK session, and their raw shapes as Graph documents them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import time
from typing import Any

import pytest

from connectors.directory_graph import GraphDirectory, person_from_mailbox_settings
from connectors.graph import GraphAccount
from connectors.ports import DirectoryHours
from emulators.graph import GraphEmulator
from emulators.serve import Server

ADA = "ada@example.org"
GRACE = "grace@example.org"


@pytest.fixture
def graph() -> Iterator[tuple[GraphEmulator, str, GraphDirectory]]:
    """An emulator on 127.0.0.1 and a directory reading it with each user's own token."""
    emulator = GraphEmulator()
    emulator.add_user(ADA, "Ada", "Europe/Amsterdam")
    emulator.add_user(GRACE, "Grace Hopper", "Europe/London")
    with Server(emulator) as server:

        def credential(email: str) -> Any:
            from connectors.graph import StaticToken

            return StaticToken(emulator.token(email))

        account = GraphAccount(credential, base_url=f"{server.url}/v1.0")
        try:
            yield emulator, server.url, account.directory()
        finally:
            account.close()


def _get(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_manager_is_read_and_none_is_graphs_404(
    graph: tuple[GraphEmulator, str, GraphDirectory],
) -> None:
    """No manager is Graph's 404 Request_ResourceNotFound (None to us); a set one is read."""
    emulator, url, directory = graph
    status, body = _get(f"{url}/v1.0/me/manager", emulator.token(ADA))
    assert status == 404 and body["error"]["code"] == "Request_ResourceNotFound"
    assert directory.manager_of(ADA) is None
    emulator.set_manager(ADA, GRACE)
    assert directory.manager_of(ADA.upper()) == GRACE
    status, body = _get(f"{url}/v1.0/me/manager?$select=mail", emulator.token(ADA))
    assert status == 200
    assert body["mail"] == GRACE and "displayName" not in body
    assert body["@odata.type"] == "#microsoft.graph.user"
    emulator.set_manager(ADA, None)
    assert directory.manager_of(ADA) is None


def test_mailbox_settings_give_zone_and_working_hours(
    graph: tuple[GraphEmulator, str, GraphDirectory],
) -> None:
    """Exchange's default hours, then part-time hours; Windows zone names become IANA ones."""
    emulator, url, directory = graph
    status, body = _get(f"{url}/v1.0/me/mailboxSettings", emulator.token(ADA))
    assert status == 200
    assert body["timeZone"] == "W. Europe Standard Time"
    assert body["workingHours"]["startTime"] == "08:00:00.0000000"
    person = directory.person(ADA)
    # CLDR's default zone for the Windows name (same offsets as Amsterdam all year).
    assert person is not None and person.tz == "Europe/Berlin"
    assert person.hours == DirectoryHours(("MO", "TU", "WE", "TH", "FR"), time(8), time(17))
    emulator.set_working_hours(GRACE, ("MO", "TH"), time(9, 30), time(14))
    emulator.set_manager(ADA, GRACE)
    assert directory.manager_of(ADA) == GRACE
    grace = directory.person(GRACE)
    assert grace is not None and grace.tz == "Europe/London"
    assert grace.name == "Grace Hopper"  # from Ada's /manager answer
    assert grace.hours == DirectoryHours(("MO", "TH"), time(9, 30), time(14))


@pytest.mark.parametrize(
    ("mutate", "has_hours"),
    [
        (lambda b: b["workingHours"].update(daysOfWeek=[]), False),
        (lambda b: b["workingHours"].update(startTime="18:00:00.0000000"), False),
        (lambda b: b["workingHours"].update(startTime="nonsense"), False),
        (lambda b: b.pop("workingHours"), False),
        (lambda b: b["workingHours"].update(daysOfWeek=["monday", "funday"]), True),
    ],
    ids=["no-days", "end-first", "bad-time", "none", "unknown-day"],
)
def test_odd_mailbox_settings_give_no_hours(
    mutate: Callable[[dict[str, Any]], Any], has_hours: bool
) -> None:
    """Hours that cannot be worked are left out rather than guessed."""
    body: dict[str, Any] = {
        "timeZone": "Mars Standard Time",
        "workingHours": {
            "daysOfWeek": ["monday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": "W. Europe Standard Time"},
        },
    }
    mutate(body)
    person = person_from_mailbox_settings(ADA, body)
    assert (person.hours is not None) is has_hours
    assert person.tz == ("Europe/Berlin" if has_hours else "")


# -- the whole directory: GET /users?$expand=manager -------------------------------------------


def test_listing_users_pages_by_skiptoken_and_expands_each_manager(
    graph: tuple[GraphEmulator, str, GraphDirectory],
) -> None:
    emulator, url, _directory = graph
    for n in range(5):
        emulator.set_manager(f"e{n}@example.org", GRACE)
    token = emulator.token(ADA)
    query = "$select=mail,userPrincipalName&$expand=manager($select=mail)&$top=3"
    status, first = _get(f"{url}/v1.0/users?{query}", token)
    assert status == 200 and len(first["value"]) == 3
    assert first["@odata.context"].endswith("$metadata#users")
    assert set(first["value"][0]) <= {"@odata.type", "id", "mail", "userPrincipalName", "manager"}
    link = first["@odata.nextLink"]
    assert "$skiptoken=" in link and "$expand=manager" in link
    seen = list(first["value"])
    for _ in range(5):
        status, more = _get(link, token)
        assert status == 200
        seen += more["value"]
        if "@odata.nextLink" not in more:
            break
        link = more["@odata.nextLink"]
    assert len(seen) == 7  # Ada, Grace and five reports
    managers = {u["mail"]: (u.get("manager") or {}).get("mail") for u in seen}
    assert managers["e3@example.org"] == GRACE
    assert managers[GRACE] is None  # no manager: no property


@pytest.mark.parametrize(
    "query,status,code",
    [
        ("$top=0", 400, "Request_UnsupportedQuery"),
        ("$top=1000", 400, "Request_UnsupportedQuery"),
        ("$top=x", 400, "Request_BadRequest"),
        ("$skiptoken=nonsense", 400, "Request_UnsupportedQuery"),
        ("$expand=directReports", 400, "Request_BadRequest"),
    ],
)
def test_listing_users_refuses_what_graph_refuses(
    graph: tuple[GraphEmulator, str, GraphDirectory], query: str, status: int, code: str
) -> None:
    emulator, url, _directory = graph
    got, body = _get(f"{url}/v1.0/users?{query}", emulator.token(ADA))
    assert got == status and body["error"]["code"] == code


def test_the_directory_lists_every_reporting_line_over_several_pages(
    graph: tuple[GraphEmulator, str, GraphDirectory], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, _url, directory = graph
    monkeypatch.setattr("connectors.directory_graph.USERS_PAGE", 2)
    emulator.set_manager(ADA, GRACE)
    for n in range(4):
        emulator.set_manager(f"e{n}@example.org", ADA)
    lines = directory.reporting_lines(GRACE)
    assert lines == sorted([(ADA, GRACE), *((f"e{n}@example.org", ADA) for n in range(4))])
