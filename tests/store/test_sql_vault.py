"""`SqlTokenVault`: sealed secrets per account in the server database (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine

from addin.signin.vault import Account, TokenVault, VaultError
from addin.store.tables import account_secrets_table, accounts_table
from addin.store.vault import SqlTokenVault
from connectors.keyring import Keyring

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ADA = f"{TENANT}.0c5e0b2a-aaaa-4b8e-9d1b-1c2d3e4f5a6b"
GRACE = f"{TENANT}.7d1f2e3a-bbbb-4c9f-8e2a-2d3e4f5a6b7c"
CACHE = b'{"RefreshToken": {"secret": "0.AXkA-plaintext-refresh-token"}}'


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring.init(tmp_path / "keyring.json")


@pytest.fixture
def vault(engine: Engine, keyring: Keyring) -> SqlTokenVault:
    return SqlTokenVault(engine, keyring)


def test_it_is_a_token_vault(vault: SqlTokenVault) -> None:
    """The SQL vault satisfies the port the sign-in code is written against."""
    port: TokenVault = vault
    assert port.account("entra", ADA) is None
    assert port.secret("entra", ADA) is None


def test_a_saved_secret_opens_and_the_database_holds_no_plaintext(
    vault: SqlTokenVault, engine: Engine, keyring: Keyring
) -> None:
    """What is written is sealed under the active KEK; only the vault opens it again."""
    saved = vault.save("entra", ADA, "Ada@Example.org", CACHE, tenant=TENANT)
    assert saved == Account("entra", ADA, "ada@example.org", TENANT, "", saved.updated)
    assert vault.secret("entra", ADA) == CACHE
    with engine.connect() as conn:
        row = conn.execute(select(account_secrets_table)).one()
        dumped = b"".join(
            str(v).encode() if not isinstance(v, bytes | memoryview) else bytes(v)
            for v in conn.execute(select(accounts_table)).one()
        )
    sealed = bytes(row.sealed)
    assert b"plaintext-refresh-token" not in sealed
    assert b"RefreshToken" not in sealed
    assert b"plaintext" not in dumped
    assert row.kek_id == keyring.active_id
    assert vault.account("entra", ADA) == saved


def test_a_blob_moved_to_another_account_does_not_open(
    vault: SqlTokenVault, engine: Engine
) -> None:
    """Copying Ada's sealed cache onto Grace's row gives an error, never Ada's tokens."""
    vault.save("entra", ADA, "ada@example.org", CACHE, tenant=TENANT)
    vault.save("entra", GRACE, "grace@example.org", b"grace's cache", tenant=TENANT)
    t = account_secrets_table
    with engine.begin() as conn:
        ada_blob = conn.execute(select(t.c.sealed).where(t.c.subject == ADA)).scalar_one()
        conn.execute(update(t).where(t.c.subject == GRACE).values(sealed=ada_blob))
    with pytest.raises(VaultError, match="does not open"):
        vault.secret("entra", GRACE)
    # Nor under another provider with the same subject.
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (provider, subject, email, tenant, parked, updated) "
                "VALUES ('google', :s, 'ada@example.org', '', '', :u)"
            ),
            {"s": ADA, "u": datetime.now(UTC)},
        )
        conn.execute(
            t.insert().values(
                provider="google",
                subject=ADA,
                sealed=ada_blob,
                kek_id="x",
                updated=datetime.now(UTC),
            )
        )
    with pytest.raises(VaultError):
        vault.secret("google", ADA)
    assert vault.secret("entra", ADA) == CACHE


def test_a_secret_sealed_by_another_keyring_is_refused(
    vault: SqlTokenVault, engine: Engine, tmp_path: Path
) -> None:
    """A database restored beside the wrong keyring says so instead of handing out garbage."""
    vault.save("entra", ADA, "ada@example.org", CACHE)
    stranger = SqlTokenVault(engine, Keyring.init(tmp_path / "other" / "keyring.json"))
    with pytest.raises(VaultError):
        stranger.secret("entra", ADA)


def test_park_keeps_the_secret_and_a_new_sign_in_clears_it(vault: SqlTokenVault) -> None:
    """A revoked grant parks the account (reason kept); saving again resumes it."""
    vault.save("entra", ADA, "ada@example.org", CACHE, tenant=TENANT)
    vault.park("entra", ADA, "invalid_grant: the refresh token was revoked")
    parked = vault.account("entra", ADA)
    assert parked is not None
    assert parked.parked == "invalid_grant: the refresh token was revoked"
    assert vault.secret("entra", ADA) == CACHE
    vault.park("entra", ADA, "")
    assert vault.account("entra", ADA).parked  # type: ignore[union-attr]
    vault.park("entra", GRACE, "nobody")  # an unknown account: nothing happens
    assert vault.account("entra", GRACE) is None
    vault.save("entra", ADA, "ada@example.org", b"new cache", tenant=TENANT)
    resumed = vault.account("entra", ADA)
    assert resumed is not None and resumed.parked == ""
    assert vault.secret("entra", ADA) == b"new cache"


def test_forget_removes_the_account_and_its_secret(vault: SqlTokenVault, engine: Engine) -> None:
    """Sign-out or erasure leaves no row behind; the other accounts stay."""
    vault.save("entra", ADA, "ada@example.org", CACHE)
    vault.save("entra", GRACE, "grace@example.org", b"grace")
    vault.forget("entra", ADA)
    vault.forget("entra", ADA)  # twice is fine
    assert vault.account("entra", ADA) is None
    assert vault.secret("entra", ADA) is None
    assert vault.find("entra", "ada@example.org") is None
    with engine.connect() as conn:
        subjects = conn.execute(select(account_secrets_table.c.subject)).scalars().all()
    assert subjects == [GRACE]
    assert vault.secret("entra", GRACE) == b"grace"


def test_find_gives_the_newest_account_of_an_address_in_any_case(vault: SqlTokenVault) -> None:
    """An address known under two subjects (a moved mailbox) finds the one saved last."""
    vault.save("entra", ADA, "ADA@example.org", b"old")
    newer = vault.save("entra", GRACE, " ada@EXAMPLE.org ", b"new")
    found = vault.find("entra", "Ada@Example.Org")
    assert found is not None and found.subject == newer.subject
    assert vault.find("google", "ada@example.org") is None
    vault.save("entra", ADA, "ada@example.org", b"again")
    assert vault.find("entra", "ada@example.org").subject == ADA  # type: ignore[union-attr]


def test_a_second_save_replaces_the_secret_and_the_address(vault: SqlTokenVault) -> None:
    """Signing in again overwrites, never duplicates, the account's row."""
    vault.save("google", "1234567890", "ada@example.org", b"first")
    vault.save("google", "1234567890", "ada.lovelace@example.org", b"second")
    account = vault.account("google", "1234567890")
    assert account is not None and account.email == "ada.lovelace@example.org"
    assert vault.secret("google", "1234567890") == b"second"
    assert vault.find("google", "ada@example.org") is None
