"""Mixed organisations: PROVIDER_DOMAINS read and checked, each address routed to its provider."""

from __future__ import annotations

from typing import Any

import pytest

from addin.backends import Ports
from addin.routing import RoutedDirectory, Router, RoutingError, mixed_ports, provider_domains
from connectors.errors import InvalidRequest

DOMAINS = "contoso.nl=graph, fabrikam.nl=google"


def test_provider_domains_are_read_in_any_case_and_separator() -> None:
    assert provider_domains({"PROVIDER_DOMAINS": " Contoso.NL=Graph  @fabrikam.nl=google,"}) == {
        "contoso.nl": "graph",
        "fabrikam.nl": "google",
    }


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "needs PROVIDER_DOMAINS"),
        ("contoso.nl", "not domain=provider"),
        ("contoso.nl=exchange", "'exchange'"),
        ("not a domain=graph", "not domain=provider"),
        ("contoso.nl=graph contoso.nl=google", "twice"),
    ],
)
def test_unusable_provider_domains_say_why(value: str, words: str) -> None:
    with pytest.raises(RoutingError, match=words):
        provider_domains({"PROVIDER_DOMAINS": value})


class _Ports:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False
        self.lent: list[str] = []

    def ports(self, directory: Any = None) -> Ports:
        return Ports(
            lambda email: (self.name, "calendar", email),  # type: ignore[arg-type,return-value]
            lambda email: (self.name, "drive", email),  # type: ignore[arg-type,return-value]
            lambda email: (self.name, "mailer", email),  # type: ignore[arg-type,return-value]
            self.close,
            self.lend if self.name == "google" else None,  # type: ignore[arg-type]
            directory=directory,
        )

    def close(self) -> None:
        self.closed = True

    def lend(self, email: str, token: str) -> Any:
        import contextlib

        self.lent.append(email)
        return contextlib.nullcontext()


def test_each_address_reaches_its_own_providers_ports() -> None:
    graph, google = _Ports("graph"), _Ports("google")
    ports = mixed_ports({"PROVIDER_DOMAINS": DOMAINS}, graph.ports(), google.ports())
    assert ports.calendar("ada@contoso.nl") == ("graph", "calendar", "ada@contoso.nl")
    assert ports.drive("grace@fabrikam.nl") == ("google", "drive", "grace@fabrikam.nl")
    assert ports.mailer("Grace@Fabrikam.NL") == ("google", "mailer", "Grace@Fabrikam.NL")
    assert ports.provider_of is not None
    assert ports.provider_of("ada@contoso.nl") == "graph"
    with pytest.raises(InvalidRequest, match="which PROVIDER_DOMAINS"):
        ports.calendar("eve@example.org")
    # A card's own token is lent to Google's people only.
    assert ports.lend is not None
    with ports.lend("grace@fabrikam.nl", "t"), ports.lend("ada@contoso.nl", "t"):
        pass
    assert google.lent == ["grace@fabrikam.nl"]
    ports.close()
    assert graph.closed and google.closed


class _Directory:
    def __init__(self, lines: dict[str, str]) -> None:
        self.lines = lines
        self.readers: list[str] = []

    def manager_of(self, email: str) -> str | None:
        return self.lines.get(email)

    def person(self, email: str) -> None:
        return None

    def is_member(self, email: str, group: str) -> bool:
        return group == "hr"

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        self.readers.append(reader)
        return sorted(self.lines.items())


def test_the_directory_asks_each_persons_own_provider() -> None:
    graph = _Directory({"ada@contoso.nl": "grace@fabrikam.nl"})
    google = _Directory({"bo@fabrikam.nl": "ada@contoso.nl"})
    router = Router(provider_domains({"PROVIDER_DOMAINS": DOMAINS}))
    directory = RoutedDirectory(router, {"graph": graph, "google": google})
    assert directory.manager_of("ada@contoso.nl") == "grace@fabrikam.nl"
    assert directory.manager_of("bo@fabrikam.nl") == "ada@contoso.nl"
    assert directory.is_member("bo@fabrikam.nl", "hr")
    assert directory.reporting_lines("ada@contoso.nl") == [
        ("ada@contoso.nl", "grace@fabrikam.nl"),
        ("bo@fabrikam.nl", "ada@contoso.nl"),
    ]
    assert graph.readers == ["ada@contoso.nl"] and google.readers == [""]
    only_graph = RoutedDirectory(router, {"graph": graph})
    with pytest.raises(InvalidRequest, match="google settings"):
        only_graph.manager_of("bo@fabrikam.nl")
