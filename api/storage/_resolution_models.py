"""The tables of entity resolution: source records, decisions, aliases and undoable merges.

Source records are kept apart from canonical firms (the pattern Open Supply Hub uses): every row
of every list an officer brings in is a :class:`SourceRecord`, with its list, sheet, row, raw
cells and parsed fields, and the firm it was resolved to. Firms are the register; a firm id
never changes, and a firm merged into another keeps resolving through :class:`FirmAlias`.

A :class:`ResolutionDecision` is one pair (a source record and a firm) with what was decided,
by whom, from which score, under which thresholds and method version. Its ``pair_key`` is a hash
of both sides' content (not of row numbers nor ids), so the same pair met again in a re-upload
finds the earlier decision and is not asked twice.

A :class:`FirmMerge` and its :class:`MergeMove` rows record exactly which rows a merge changed
(table, surrogate id, column, old and new value), so unmerge can put back those rows and only
those, leaving every later write in place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketnoi.api.storage._models import Base, utcnow

__all__ = [
    "DECISIONS",
    "RESOLUTION_HISTORY_TABLES",
    "FirmAlias",
    "FirmMerge",
    "MergeMove",
    "ResolutionDecision",
    "SourceRecord",
]

#: What a decision can say: ``match`` (the record is that firm), ``distinct`` (it is not),
#: ``review`` (people must say), ``branch_of`` (a branch of that firm: a firm of its own, linked).
DECISIONS = ("match", "review", "distinct", "branch_of")

#: Tables that record history rather than state: a merge followed by its unmerge leaves a row
#: in each (what was done and undone), as the audit log does.
RESOLUTION_HISTORY_TABLES = ("firm_merges", "firm_merge_moves")


class SourceRecord(Base):
    """One row of a list as it arrived, and the firm it resolved to.

    ``status``: ``matched`` (to an existing firm), ``created`` (it made a new firm),
    ``proposed`` (waiting in the review queue), ``branch`` (a new firm, a branch of another).
    ``content_key`` hashes the parsed fields (not the list, sheet nor row), so the same firm
    written the same way in another list, or the same list again, has the same key.
    """

    __tablename__ = "source_records"
    __table_args__ = (Index("ix_source_records_source_line", "source", "sheet", "line"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String)
    file: Mapped[str] = mapped_column(String, default="")
    sheet: Mapped[str] = mapped_column(String, default="")
    line: Mapped[int]
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_key: Mapped[str] = mapped_column(String(64), index=True)
    firm_id: Mapped[str] = mapped_column(String, default="", index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String, default="")


class ResolutionDecision(Base):
    """A pair (a source record, a firm) and what was decided about it.

    ``decided_by`` is ``auto`` for the thresholds' decisions, else the person's actor name;
    an open review has ``decision == "review"`` and ``decided_at`` NULL. ``accept``,
    ``review`` and ``method_version`` are the settings the score was judged under.
    """

    __tablename__ = "resolution_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    pair_key: Mapped[str] = mapped_column(String(64), index=True)
    record_key: Mapped[str] = mapped_column(String(64))
    firm_key: Mapped[str] = mapped_column(String(64))
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id"), index=True)
    source_record: Mapped[SourceRecord] = relationship()
    firm_id: Mapped[str] = mapped_column(String)
    decision: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String, default="")
    match_probability: Mapped[float | None]
    match_weight: Mapped[float | None]
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    accept: Mapped[float | None]
    review: Mapped[float | None]
    method_version: Mapped[str] = mapped_column(String, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str] = mapped_column(String, default="")


class FirmAlias(Base):
    """A merged firm's id, which keeps resolving to the firm it was merged into."""

    __tablename__ = "firm_aliases"
    id: Mapped[int] = mapped_column(primary_key=True)
    alias_id: Mapped[str] = mapped_column(String, unique=True)
    firm_id: Mapped[str] = mapped_column(String, index=True)
    merge_id: Mapped[int] = mapped_column(ForeignKey("firm_merges.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FirmMerge(Base):
    """A merge of ``absorbed_id`` into ``survivor_id``; ``undone_at`` set once unmerged."""

    __tablename__ = "firm_merges"
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[str] = mapped_column(String, index=True)
    absorbed_id: Mapped[str] = mapped_column(String, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String, default="")
    undone_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    undone_by: Mapped[str] = mapped_column(String, default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class MergeMove(Base):
    """One value a merge changed: ``table``'s row ``row_id``, ``column`` from ``old`` to ``new``.

    Values are kept as JSON (times as ISO text). ``old_updated_at`` and ``new_updated_at``
    are the row's ``updated_at`` before and after the merge: unmerge puts the old one back only
    where nobody has written the row since.
    """

    __tablename__ = "firm_merge_moves"
    id: Mapped[int] = mapped_column(primary_key=True)
    merge_id: Mapped[int] = mapped_column(ForeignKey("firm_merges.id"), index=True)
    table_name: Mapped[str] = mapped_column(String)
    row_id: Mapped[int]
    column: Mapped[str] = mapped_column(String)
    old: Mapped[Any] = mapped_column(JSON, nullable=True)
    new: Mapped[Any] = mapped_column(JSON, nullable=True)
    old_updated_at: Mapped[str] = mapped_column(String, default="")
    new_updated_at: Mapped[str] = mapped_column(String, default="")
