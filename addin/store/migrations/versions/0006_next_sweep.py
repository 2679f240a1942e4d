"""When the sweep next needs to read each series (empty: at the next sweep).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A registry adopted at 0001 may have been made from today's table definitions already.
    found = sa.inspect(op.get_bind())
    if "next_sweep" not in {c["name"] for c in found.get_columns("series")}:
        with op.batch_alter_table("series") as batch:
            batch.add_column(sa.Column("next_sweep", sa.DateTime(timezone=True), nullable=True))
    if "ix_series_next_sweep" not in {i["name"] for i in found.get_indexes("series")}:
        op.create_index("ix_series_next_sweep", "series", ["next_sweep"])


def downgrade() -> None:
    op.drop_index("ix_series_next_sweep", table_name="series")
    with op.batch_alter_table("series") as batch:
        batch.drop_column("next_sweep")
