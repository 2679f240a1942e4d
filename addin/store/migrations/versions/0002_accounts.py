"""Accounts (one person at one identity provider) and their sealed secrets (token caches).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("parked", sa.Text, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_accounts_provider_email", "accounts", ["provider", "email"])
    op.create_table(
        "account_secrets",
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider", "subject"],
            ["accounts.provider", "accounts.subject"],
            name="fk_account_secrets_account",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("account_secrets")
    op.drop_table("accounts")
