"""The database tables: one per contract file, plus keys, the audit log, match lists and models.

Storage choices, the same on SQLite and PostgreSQL:

- Every table has an integer surrogate ``id``; the contract's re-load key
  (``graph.CONTRACT[name].key``) is a unique constraint. In ``links`` an empty ``category_id``
  is stored as ``""``, a value like any other, so the key stays unique.
- Missing text is ``""``; missing numbers, years and dates are NULL.
- List columns (``certifications``, ``processes``, ``languages``, ``required_certifications``,
  ``required_processes``) are stored as the contract writes them: ``;``-joined text.
- Unknown extra columns of a file are kept per row in ``extra`` (JSON, column -> text), so a
  dump writes them back.
- Times are timezone-aware UTC (:class:`UtcDateTime`).
- ``deleted_at`` marks a soft-deleted row (firms, parks, categories, capabilities, demands,
  links); outcomes are only ever appended.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Capability",
    "Category",
    "CategoryInput",
    "CONTRACT_MODELS",
    "Demand",
    "Event",
    "Firm",
    "Link",
    "MatchList",
    "MatchListRow",
    "ModelRecord",
    "Outcome",
    "Park",
    "Term",
    "UtcDateTime",
    "WriteGeneration",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every database.

    SQLite has no time zones: the value is stored as naive UTC there and made aware again on
    the way out, so comparisons with :func:`utcnow` work alike on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware time")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Named constraints make migrations reproducible (and SQLite's batch mode able to drop them).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every ketnoi table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: UtcDateTime,
    }


class _Stamped:
    """Created and updated times (set by the application, in UTC)."""

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class _Row(_Stamped):
    """A row of a contract file: extra columns and soft delete."""

    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)


# -- contract files -------------------------------------------------------------------------------
class Park(_Row, Base):
    """``parks.csv``: industrial parks and clusters."""

    __tablename__ = "parks"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[str] = mapped_column(String, unique=True)
    name: Mapped[str] = mapped_column(String)
    name_vi: Mapped[str] = mapped_column(String, default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    kind: Mapped[str] = mapped_column(String, default="")


class Term(_Row, Base):
    """``terms.csv``: Vietnamese names of the sectors and processes firms and demands name."""

    __tablename__ = "terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String, unique=True)
    kind: Mapped[str] = mapped_column(String)
    name_vi: Mapped[str] = mapped_column(String)


class Category(_Row, Base):
    """``categories.csv``: product categories, a forest through ``parent_id``."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[str] = mapped_column(String, unique=True)
    name: Mapped[str] = mapped_column(String)
    name_vi: Mapped[str] = mapped_column(String, default="")
    parent_id: Mapped[str] = mapped_column(String, default="")
    hs_code: Mapped[str] = mapped_column(String, default="")


class CategoryInput(_Row, Base):
    """``category_inputs.csv``: the input category goes into making the output category."""

    __tablename__ = "category_inputs"
    __table_args__ = (UniqueConstraint("input_category_id", "output_category_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    input_category_id: Mapped[str] = mapped_column(ForeignKey("categories.category_id"))
    output_category_id: Mapped[str] = mapped_column(ForeignKey("categories.category_id"))


class Firm(_Row, Base):
    """``firms.csv``: suppliers, buyers and firms that are both.

    ``name_folded`` is ``graph.fold(name)``: the accent- and case-insensitive form that name
    search compares against.
    """

    __tablename__ = "firms"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[str] = mapped_column(String, unique=True)
    name: Mapped[str] = mapped_column(String)
    name_folded: Mapped[str] = mapped_column(String, index=True)
    role: Mapped[str] = mapped_column(String)
    name_en: Mapped[str] = mapped_column(String, default="")
    tax_code: Mapped[str] = mapped_column(String, default="")
    ownership: Mapped[str] = mapped_column(String, default="")
    country_of_origin: Mapped[str] = mapped_column(String, default="")
    sector: Mapped[str] = mapped_column(String, default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    park: Mapped[str] = mapped_column(String, default="")
    employees: Mapped[int | None]
    founded: Mapped[int | None]
    certifications: Mapped[str] = mapped_column(String, default="")
    processes: Mapped[str] = mapped_column(String, default="")
    languages: Mapped[str] = mapped_column(String, default="")
    listed: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String, default="")
    phone: Mapped[str] = mapped_column(String, default="")
    email: Mapped[str] = mapped_column(String, default="")
    website: Mapped[str] = mapped_column(String, default="")
    contact_person: Mapped[str] = mapped_column(String, default="")
    contact_public: Mapped[bool] = mapped_column(default=False)


class Capability(_Row, Base):
    """``capabilities.csv``: what a firm can make."""

    __tablename__ = "capabilities"
    __table_args__ = (UniqueConstraint("firm_id", "category_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[str] = mapped_column(ForeignKey("firms.firm_id"))
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.category_id"))
    capacity: Mapped[float | None]


class Demand(_Row, Base):
    """``demands.csv``: what a firm buys or wants to buy."""

    __tablename__ = "demands"
    __table_args__ = (UniqueConstraint("firm_id", "category_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[str] = mapped_column(ForeignKey("firms.firm_id"))
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.category_id"))
    volume: Mapped[float | None]
    required_certifications: Mapped[str] = mapped_column(String, default="")
    required_processes: Mapped[str] = mapped_column(String, default="")
    confidential: Mapped[bool] = mapped_column(default=False)


class Link(_Row, Base):
    """``links.csv``: observed supplier-buyer relationships (``category_id`` ``""`` for none)."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("supplier_id", "buyer_id", "category_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("firms.firm_id"))
    buyer_id: Mapped[str] = mapped_column(ForeignKey("firms.firm_id"))
    category_id: Mapped[str] = mapped_column(String, default="")
    since: Mapped[int | None]
    status: Mapped[str] = mapped_column(String, default="active")


class Outcome(_Stamped, Base):
    """``outcomes.csv``: what came of a pair. Appended, never updated nor deleted."""

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("firms.firm_id"))
    buyer_id: Mapped[str] = mapped_column(ForeignKey("firms.firm_id"))
    outcome: Mapped[str] = mapped_column(String)
    date: Mapped[dt.date | None]
    event_id: Mapped[str] = mapped_column(String, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


#: The table of each contract file, by file name.
CONTRACT_MODELS: dict[str, type[Base]] = {
    "terms": Term,
    "parks": Park,
    "categories": Category,
    "category_inputs": CategoryInput,
    "firms": Firm,
    "capabilities": Capability,
    "demands": Demand,
    "links": Link,
    "outcomes": Outcome,
}


# -- access, audit, matching ----------------------------------------------------------------------
class ApiKey(Base):
    """An API key: only its HMAC-SHA256 hash is stored, never the key itself."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    firm_id: Mapped[str | None] = mapped_column(String, default=None)
    label: Mapped[str] = mapped_column(String, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class WriteGeneration(Base):
    """The database's write generation: one row (``id`` 1) whose ``value`` every counted write
    transaction adds one to, in that transaction (:func:`~._engine.write_generation`)."""

    __tablename__ = "write_generation"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditEntry(Base):
    """One write: who (key id and role, or a name such as ``cli``), when, what."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String)
    actor_key_id: Mapped[int | None] = mapped_column(default=None)
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(String)
    entity: Mapped[str] = mapped_column(String)
    entity_key: Mapped[str] = mapped_column(String, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ModelRecord(Base):
    """A trained matcher: its version, when, on which data, how good, and where its file is."""

    __tablename__ = "models"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String, unique=True)
    trained_at: Mapped[dt.datetime]
    fingerprint: Mapped[str] = mapped_column(String)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    path: Mapped[str] = mapped_column(String, default="")


class MatchList(Base):
    """A saved match list, with the model version and data fingerprint that made it."""

    __tablename__ = "match_lists"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String, default="")
    label: Mapped[str] = mapped_column(String, default="")
    model_version: Mapped[str] = mapped_column(String)
    data_fingerprint: Mapped[str] = mapped_column(String)
    k: Mapped[int | None]
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The request the list was derived from (service match lists; ``{}`` otherwise)."""
    rows: Mapped[list[MatchListRow]] = relationship(
        back_populates="match_list", cascade="all, delete-orphan", order_by="MatchListRow.id"
    )


class MatchListRow(Base):
    """One recommendation of a match list (the columns of ``matcher.RECOMMENDATION_COLUMNS``)."""

    __tablename__ = "match_list_rows"
    __table_args__ = (Index("ix_match_list_rows_list_buyer", "match_list_id", "buyer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    match_list_id: Mapped[int] = mapped_column(ForeignKey("match_lists.id", ondelete="CASCADE"))
    buyer_id: Mapped[str] = mapped_column(String)
    supplier_id: Mapped[str] = mapped_column(String)
    category_id: Mapped[str] = mapped_column(String, default="")
    tier: Mapped[int | None]
    rank: Mapped[int]
    score: Mapped[float]
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    pinned: Mapped[bool] = mapped_column(default=False)
    side: Mapped[str] = mapped_column(String, default="buyer")
    """``buyer``: a supplier for the buyer; ``supplier``: a buyer for the supplier."""
    match_list: Mapped[MatchList] = relationship(back_populates="rows")


class Event(Base):
    """A matchmaking event: its spec (participants, slots, tables, caps, locks) and the schedule
    last made for it, with the model version and data fingerprint that made it.

    ``spec`` is ``programme.EventSpec.to_dict()``; ``schedule`` holds the summary figures and the
    meetings (``matcher`` meeting rows), so an event reads back without solving again.
    """

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String, default="")
    model_version: Mapped[str] = mapped_column(String, default="")
    data_fingerprint: Mapped[str] = mapped_column(String, default="")
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    schedule: Mapped[dict[str, Any]] = mapped_column(default=dict)
