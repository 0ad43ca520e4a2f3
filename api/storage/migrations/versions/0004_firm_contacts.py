"""Firms' contact fields (private; other firms read them only where ``contact_public``).

Revision ID: 0004_firm_contacts
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_firm_contacts"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = ("address", "phone", "email", "website", "contact_person")


def upgrade() -> None:
    with op.batch_alter_table("firms") as batch:
        for name in _TEXT:
            batch.add_column(sa.Column(name, sa.String(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("contact_public", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("firms") as batch:
        for name in (*_TEXT, "contact_public"):
            batch.drop_column(name)
