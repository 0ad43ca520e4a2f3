"""Match lists remember how they were made (``params``) and mark pinned rows and their side.

``match_lists.params`` holds the request a list was derived from (firms, filters, cap, pins,
blocks), so that pinning or blocking a pair later derives the list again the same way.
``match_list_rows.pinned`` marks pairs staff pinned; ``match_list_rows.side`` says whose list a
row is on: ``buyer`` (a supplier recommended to the buyer) or ``supplier`` (a buyer suggested
to the supplier).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00.000000
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
    with op.batch_alter_table("match_lists") as batch:
        batch.add_column(sa.Column("params", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("match_list_rows") as batch:
        batch.add_column(
            sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("side", sa.String(), nullable=False, server_default="buyer"))


def downgrade() -> None:
    with op.batch_alter_table("match_list_rows") as batch:
        batch.drop_column("side")
        batch.drop_column("pinned")
    with op.batch_alter_table("match_lists") as batch:
        batch.drop_column("params")
