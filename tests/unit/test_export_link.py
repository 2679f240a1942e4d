"""Signed export links for the Google cards: only what was signed, and only until it expires."""

from __future__ import annotations

import base64
import json

import pytest

from addin.signed import LinkRefused
from addin.workspace.export_link import LIFETIME, Grant, grant_for, sign, verify

KEY = b"k" * 32
NOW = 1_800_000_000.0
WHAT = {"series": "s1", "occ": "20270112T090000Z", "fmt": "html"}


def token(**changes: object) -> str:
    """A link for Ada's HTML export, made at NOW."""
    values: dict[str, object] = {**WHAT, "email": "ada@example.org", "locale": "en", "now": NOW}
    values.update(changes)
    return grant_for(KEY, **values)  # type: ignore[arg-type]


def test_a_fresh_link_grants_its_export() -> None:
    """The link made for this export, read back within its lifetime, names the user."""
    grant = verify(KEY, token(), now=NOW + LIFETIME - 1, **WHAT)
    assert grant == Grant(
        "s1", "20270112T090000Z", "html", "ada@example.org", "en", int(NOW) + LIFETIME
    )


def test_an_expired_link_is_refused_as_expired() -> None:
    """Past its lifetime the link is refused, and says it expired."""
    with pytest.raises(LinkRefused) as refused:
        verify(KEY, token(), now=NOW + LIFETIME, **WHAT)
    assert refused.value.expired
    assert refused.value.locale == "en"  # an authentic link says why in its own language


@pytest.mark.parametrize(
    "other",
    [
        {"series": "s2"},
        {"occ": "20270413T080000Z"},
        {"fmt": "md"},
    ],
)
def test_a_link_for_another_series_occurrence_or_format_is_refused(other: dict[str, str]) -> None:
    """A valid link opens only the export it was made for."""
    with pytest.raises(LinkRefused) as refused:
        verify(KEY, token(), now=NOW, **{**WHAT, **other})
    assert not refused.value.expired


def _payload(tok: str) -> dict[str, object]:
    body = tok.split(".", maxsplit=1)[0]
    data: dict[str, object] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return data


def _with_payload(tok: str, data: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{body}.{tok.split('.')[1]}"


@pytest.mark.parametrize(
    "field,value",
    [("u", "grace@example.org"), ("e", int(NOW) + 10 * LIFETIME), ("s", "s2"), ("l", "nl")],
)
def test_an_altered_link_is_refused(field: str, value: object) -> None:
    """Changing the user, the expiry, the series or the language breaks the signature."""
    data = _payload(token())
    data[field] = value
    forged = _with_payload(token(), data)
    with pytest.raises(LinkRefused, match="signature"):
        verify(KEY, forged, now=NOW, **{**WHAT, "series": str(data["s"])})


def test_a_link_signed_with_another_key_is_refused() -> None:
    """Only the app's own key makes links it accepts."""
    grant = Grant("s1", "20270112T090000Z", "html", "ada@example.org", "en", int(NOW) + 60)
    other = sign(b"x" * 32, grant)
    with pytest.raises(LinkRefused, match="signature"):
        verify(KEY, other, now=NOW, **WHAT)


@pytest.mark.parametrize("garbage", ["", ".", "a.b.c", "abc", "é.é", "x" * 3000, token() + "x"])
def test_garbage_is_refused_without_an_error(garbage: str) -> None:
    """Anything that is not one of our tokens is a refusal, never a crash."""
    with pytest.raises(LinkRefused):
        verify(KEY, garbage, now=NOW, **WHAT)
