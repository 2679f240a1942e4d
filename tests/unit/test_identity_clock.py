"""Pane tokens and the demo clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from addin.demo.clock import CLOCK_FILE, DemoClock
from addin.identity import LocalIdentity
from addin.workspace.verify import LocalSigner, Unauthorized

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)


def test_a_token_names_its_user() -> None:
    identity = LocalIdentity(LocalSigner.generate())
    user = identity.verify(f"Bearer {identity.issue('Ada@Example.org', 'Ada')}")
    assert (user.email, user.name) == ("ada@example.org", "Ada")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer a.b.c"])
def test_missing_or_malformed_tokens_are_refused(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        LocalIdentity(LocalSigner.generate()).verify(header)


def test_tokens_from_another_key_or_expired_ones_are_refused() -> None:
    signer = LocalSigner.generate()
    other = LocalIdentity(LocalSigner.generate()).issue("ada@example.org")
    with pytest.raises(Unauthorized):
        LocalIdentity(signer).verify(f"Bearer {other}")
    old = LocalIdentity(signer, clock=lambda: T0 - timedelta(days=2)).issue("ada@example.org")
    with pytest.raises(Unauthorized):
        LocalIdentity(signer).verify(f"Bearer {old}")


def test_a_workspace_token_is_not_a_pane_token() -> None:
    signer = LocalSigner.generate()
    google_shaped = signer.sign(audience="https://example.org/workspace/homepage", now=T0)
    with pytest.raises(Unauthorized):
        LocalIdentity(signer).verify(f"Bearer {google_shaped}")


def test_the_demo_clock_moves_and_remembers(tmp_path: Path) -> None:
    clock = DemoClock(tmp_path, base=lambda: T0)
    assert clock() == T0
    clock.advance(timedelta(days=90))
    assert DemoClock(tmp_path, base=lambda: T0)() == T0 + timedelta(days=90)
    clock.set(T0 + timedelta(hours=3))
    assert clock.offset == timedelta(hours=3)
    assert clock.reset() == T0
    with pytest.raises(ValueError, match="three years"):
        clock.advance(timedelta(days=5000))
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2027, 1, 1))


def test_a_damaged_clock_file_means_real_time(tmp_path: Path) -> None:
    (tmp_path / CLOCK_FILE).write_text("{broken")
    assert DemoClock(tmp_path, base=lambda: T0)() == T0
