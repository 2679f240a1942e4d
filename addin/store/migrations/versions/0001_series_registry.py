"""The series registry as it was before migrations: series (one active series per pair) and
event_alias. A database made before Alembic already has these tables and is stamped here.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("employee_email", sa.String(320), nullable=False),
        sa.Column("employee_name", sa.String(200), nullable=False),
        sa.Column("employee_tz", sa.String(64), nullable=False),
        sa.Column("employee_locale", sa.String(8), nullable=False),
        sa.Column("manager_email", sa.String(320), nullable=False),
        sa.Column("manager_name", sa.String(200), nullable=False),
        sa.Column("manager_tz", sa.String(64), nullable=False),
        sa.Column("manager_locale", sa.String(8), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("duration", sa.Integer, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("event_copy", sa.String(16), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("master_event_id", sa.String(512), nullable=True),
        sa.Column("ical_uid", sa.String(512), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_pair", sa.String(641), nullable=True),
    )
    op.create_index("ix_series_employee_email", "series", ["employee_email"])
    op.create_index("ix_series_manager_email", "series", ["manager_email"])
    op.create_index("ix_series_ical_uid", "series", ["ical_uid"])
    op.create_index("ix_series_active_pair", "series", ["active_pair"], unique=True)
    op.create_table(
        "event_alias",
        sa.Column("user_email", sa.String(320), primary_key=True),
        sa.Column("event_id", sa.String(512), primary_key=True),
        sa.Column("series_id", sa.String(64), nullable=False),
        sa.Column("occurrence", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("event_alias")
    op.drop_table("series")
