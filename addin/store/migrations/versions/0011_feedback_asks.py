"""Who was asked for feedback, as a keyed hash of their address: so a colleague's own calendar
add-in can show the requests waiting for them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_asks",
        sa.Column("series_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(8), primary_key=True),
        sa.Column("colleague", sa.String(64), nullable=False),
        sa.Column("expires", sa.Date, nullable=False),
    )
    op.create_index("ix_feedback_asks_colleague", "feedback_asks", ["colleague"])


def downgrade() -> None:
    op.drop_index("ix_feedback_asks_colleague", "feedback_asks")
    op.drop_table("feedback_asks")
