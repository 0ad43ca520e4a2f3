"""Workbench sessions and the write generation in the database, for more than one worker.

``web_sessions``: signed-in workbench sessions (the hash of the id, never the id), so that every
worker of ``ketnoi serve --workers`` knows them. ``write_generation``: one row counting the
committed writes, which caches of database reads in every process key on.

Revision ID: 0009_web_sessions
Revises: 0008_introductions
Create Date: 2026-11-29 15:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_web_sessions"
down_revision: str | None = "0008_introductions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("firm_id", sa.String(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("flash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
            name=op.f("fk_web_sessions_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_web_sessions_id_hash")),
    )
    with op.batch_alter_table("web_sessions") as batch:
        batch.create_index(batch.f("ix_web_sessions_key_id"), ["key_id"], unique=False)
        batch.create_index(batch.f("ix_web_sessions_seen_at"), ["seen_at"], unique=False)
    generation = op.create_table(
        "write_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_generation")),
    )
    op.bulk_insert(generation, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("write_generation")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_index(batch.f("ix_web_sessions_seen_at"))
        batch.drop_index(batch.f("ix_web_sessions_key_id"))
    op.drop_table("web_sessions")
