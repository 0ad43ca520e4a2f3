"""Vietnamese names in the data: a park's ``name_vi`` and ``terms`` (sectors and processes).

Revision ID: 0006_vietnamese_names
Revises: 0005_jobs
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_vietnamese_names"
down_revision: str | None = "0005_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("parks") as batch:
        batch.add_column(sa.Column("name_vi", sa.String(), nullable=False, server_default=""))
    op.create_table(
        "terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name_vi", sa.String(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms")),
        sa.UniqueConstraint("term", name=op.f("uq_terms_term")),
    )


def downgrade() -> None:
    op.drop_table("terms")
    with op.batch_alter_table("parks") as batch:
        batch.drop_column("name_vi")
