"""Introduction requests: a supplier asks staff to meet the buyer behind a masked demand.

Revision ID: 0008_introductions
Revises: 0007_resolution
Create Date: 2026-11-29 12:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_introductions"
down_revision: str | None = "0007_resolution"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "introduction_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.String(), nullable=False),
        sa.Column("buyer_id", sa.String(), nullable=False),
        sa.Column("category_id", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_introduction_requests")),
        sa.UniqueConstraint(
            "supplier_id",
            "buyer_id",
            "category_id",
            name=op.f("uq_introduction_requests_supplier_id_buyer_id_category_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("introduction_requests")
