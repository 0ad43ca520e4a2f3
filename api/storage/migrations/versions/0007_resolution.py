"""Entity resolution: source records, decisions (the review queue), firm aliases and undoable
merges with every value they moved.

Revision ID: 0007_resolution
Revises: 0006_vietnamese_names
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_resolution"
down_revision: str | None = "0006_vietnamese_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("file", sa.String(), nullable=False),
        sa.Column("sheet", sa.String(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("content_key", sa.String(length=64), nullable=False),
        sa.Column("firm_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_records")),
    )
    with op.batch_alter_table("source_records") as batch:
        batch.create_index(
            "ix_source_records_source_line", ["source", "sheet", "line"], unique=False
        )
        batch.create_index(batch.f("ix_source_records_content_key"), ["content_key"], unique=False)
        batch.create_index(batch.f("ix_source_records_firm_id"), ["firm_id"], unique=False)
    op.create_table(
        "firm_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.String(), nullable=False),
        sa.Column("absorbed_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firm_merges")),
    )
    with op.batch_alter_table("firm_merges") as batch:
        batch.create_index(batch.f("ix_firm_merges_survivor_id"), ["survivor_id"], unique=False)
        batch.create_index(batch.f("ix_firm_merges_absorbed_id"), ["absorbed_id"], unique=False)
    op.create_table(
        "resolution_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_key", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("firm_key", sa.String(length=64), nullable=False),
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.String(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("match_probability", sa.Double(), nullable=True),
        sa.Column("match_weight", sa.Double(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("accept", sa.Double(), nullable=True),
        sa.Column("review", sa.Double(), nullable=True),
        sa.Column("method_version", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_records.id"],
            name=op.f("fk_resolution_decisions_source_record_id_source_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_decisions")),
    )
    with op.batch_alter_table("resolution_decisions") as batch:
        batch.create_index(batch.f("ix_resolution_decisions_pair_key"), ["pair_key"], unique=False)
        batch.create_index(
            batch.f("ix_resolution_decisions_source_record_id"), ["source_record_id"], unique=False
        )
    op.create_table(
        "firm_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias_id", sa.String(), nullable=False),
        sa.Column("firm_id", sa.String(), nullable=False),
        sa.Column("merge_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merge_id"], ["firm_merges.id"], name=op.f("fk_firm_aliases_merge_id_firm_merges")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firm_aliases")),
        sa.UniqueConstraint("alias_id", name=op.f("uq_firm_aliases_alias_id")),
    )
    with op.batch_alter_table("firm_aliases") as batch:
        batch.create_index(batch.f("ix_firm_aliases_firm_id"), ["firm_id"], unique=False)
    op.create_table(
        "firm_merge_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merge_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("old_updated_at", sa.String(), nullable=False),
        sa.Column("new_updated_at", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merge_id"],
            ["firm_merges.id"],
            name=op.f("fk_firm_merge_moves_merge_id_firm_merges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firm_merge_moves")),
    )
    with op.batch_alter_table("firm_merge_moves") as batch:
        batch.create_index(batch.f("ix_firm_merge_moves_merge_id"), ["merge_id"], unique=False)


def downgrade() -> None:
    op.drop_table("firm_merge_moves")
    op.drop_table("firm_aliases")
    op.drop_table("resolution_decisions")
    op.drop_table("firm_merges")
    op.drop_table("source_records")
