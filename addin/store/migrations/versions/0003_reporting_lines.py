"""Reporting lines: each series' manager history (hand-overs) and people's own working hours.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "series_manager_history",
        sa.Column("series_id", sa.String(64), primary_key=True),
        sa.Column("manager_email", sa.String(320), primary_key=True),
        sa.Column("since", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("successor_email", sa.String(320), nullable=False),
    )
    op.create_table(
        "person_hours",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("days", sa.String(32), nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("person_hours")
    op.drop_table("series_manager_history")
