"""`SqlTokenVault`: the token vault (`addin.signin.vault.TokenVault`) in the server database.

Accounts and their sealed secrets live in two tables (`accounts`, `account_secrets`); the secret
is sealed with the keyring's active KEK before it is written, bound to its provider and subject,
so the database holds no token in the clear and a blob copied onto another account's row does
not open. Addresses are kept in lower case: `find` matches any case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from addin.signin.vault import Account, open_secret, seal_secret
from addin.store.tables import account_secrets_table, accounts_table
from connectors.keyring import Keyring

PARKED_DEFAULT = "sign in again"


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for what was written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _account(row: Any) -> Account:
    m = row._mapping
    return Account(
        provider=m["provider"],
        subject=m["subject"],
        email=m["email"],
        tenant=m["tenant"],
        parked=m["parked"],
        updated=_utc(m["updated"]),
    )


def _kek_id(sealed: bytes) -> str:
    # `seal_secret`'s header: version byte, key id length, key id.
    return sealed[2 : 2 + sealed[1]].decode(errors="replace")


class SqlTokenVault:
    """A `TokenVault` on the server store's engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self._engine = engine
        self._keyring = keyring

    def _upsert(self, conn: Connection, table: Any, values: dict[str, Any]) -> None:
        """Insert the row, or replace the one with the same key: one statement, no race."""
        insert: Any = sqlite_insert
        if conn.dialect.name == "postgresql":
            # Imported only here: the PostgreSQL dialect costs SQLite start-ups about 0.04 s.
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            insert = pg_insert
        statement = insert(table).values(**values)
        keys = ("provider", "subject")
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=list(keys),
                set_={k: statement.excluded[k] for k in values if k not in keys},
            )
        )

    def save(
        self, provider: str, subject: str, email: str, secret: bytes, *, tenant: str = ""
    ) -> Account:
        """Store (or replace) the account's secret and address; clears a parked reason."""
        sealed = seal_secret(self._keyring, provider, subject, secret)
        now = datetime.now(UTC)
        account = Account(provider, subject, email.strip().lower(), tenant, "", now)
        with self._engine.begin() as conn:
            self._upsert(
                conn,
                accounts_table,
                {
                    "provider": provider,
                    "subject": subject,
                    "email": account.email,
                    "tenant": tenant,
                    "parked": "",
                    "updated": now,
                },
            )
            self._upsert(
                conn,
                account_secrets_table,
                {
                    "provider": provider,
                    "subject": subject,
                    "sealed": sealed,
                    "kek_id": _kek_id(sealed),
                    "updated": now,
                },
            )
        return account

    def secret(self, provider: str, subject: str) -> bytes | None:
        """The account's opened secret, or None; `VaultError` when it does not open."""
        t = account_secrets_table
        with self._engine.connect() as conn:
            sealed = conn.execute(
                select(t.c.sealed).where((t.c.provider == provider) & (t.c.subject == subject))
            ).scalar()
        if sealed is None:
            return None
        return open_secret(self._keyring, provider, subject, bytes(sealed))

    def account(self, provider: str, subject: str) -> Account | None:
        """The account, or None."""
        t = accounts_table
        with self._engine.connect() as conn:
            row = conn.execute(
                select(t).where((t.c.provider == provider) & (t.c.subject == subject))
            ).first()
        return _account(row) if row else None

    def find(self, provider: str, email: str) -> Account | None:
        """The account of this address at this provider (any case), newest first, or None."""
        t = accounts_table
        with self._engine.connect() as conn:
            row = conn.execute(
                select(t)
                .where((t.c.provider == provider) & (t.c.email == email.strip().lower()))
                .order_by(t.c.updated.desc(), t.c.subject)
                .limit(1)
            ).first()
        return _account(row) if row else None

    def park(self, provider: str, subject: str, reason: str) -> None:
        """Stop acting for the account until its person signs in again; `reason` says why."""
        t = accounts_table
        with self._engine.begin() as conn:
            conn.execute(
                update(t)
                .where((t.c.provider == provider) & (t.c.subject == subject))
                .values(parked=reason or PARKED_DEFAULT)
            )

    def forget(self, provider: str, subject: str) -> None:
        """Remove the account and its secret (sign-out, erasure)."""
        with self._engine.begin() as conn:
            for t in (account_secrets_table, accounts_table):
                conn.execute(delete(t).where((t.c.provider == provider) & (t.c.subject == subject)))
