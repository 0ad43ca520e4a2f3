"""Introductions: a supplier asks staff to introduce it to the buyer behind a masked demand.

A supplier's key learns of another firm's confidential demand only as "a buyer in sector S
needs category C" (``api.service._recommendations``): no buyer, rank or score. So that this
is not a dead end, each such line carries a *reference*, an HMAC of (supplier, buyer,
category) under the server's secret: it names the demand to the server and to nobody else
(it cannot be turned back into the buyer, and differs for every supplier). The supplier sends
it back to ask for an introduction; the request is recorded for staff, with the buyer, and
audited; the supplier reads back its request without the buyer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ketnoi.api.storage._audit import record
from ketnoi.api.storage._crud import live
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._keys import server_secret
from ketnoi.api.storage._models import Base, Demand, Firm, utcnow

__all__ = [
    "REFERENCE_PREFIX",
    "IntroductionRequest",
    "Introductions",
    "introduction_reference",
    "list_introductions",
    "request_introduction",
    "requested_references",
]

#: What every reference starts with (the rest: 32 hex digits).
REFERENCE_PREFIX = "intro_"


class IntroductionRequest(Base):
    """A supplier's request to be introduced to the buyer of a confidential demand."""

    __tablename__ = "introduction_requests"
    __table_args__ = (UniqueConstraint("supplier_id", "buyer_id", "category_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(String)
    buyer_id: Mapped[str] = mapped_column(String)
    category_id: Mapped[str] = mapped_column(String)
    message: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def introduction_reference(secret: bytes, supplier_id: str, buyer_id: str, category_id: str) -> str:
    """The reference a supplier is given for one masked demand.

    Examples
    --------
    >>> ref = introduction_reference(b"s", "S1", "B2", "screw")
    >>> ref.startswith("intro_"), len(ref), ref == introduction_reference(b"s", "S2", "B2", "screw")
    (True, 38, False)
    """
    message = "\x1f".join((supplier_id, buyer_id, category_id)).encode()
    return REFERENCE_PREFIX + hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def _row(request: IntroductionRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "supplier_id": request.supplier_id,
        "buyer_id": request.buyer_id,
        "category_id": request.category_id,
        "message": request.message,
        "requested_by": request.requested_by,
        "created_at": request.created_at,
    }


def _buyer_behind(
    session: Session, secret: bytes, supplier_id: str, category_id: str, reference: str
) -> str | None:
    """The live, listed buyer whose confidential demand for ``category_id`` ``reference``
    names for this supplier; None where it names none."""
    query = (
        select(Demand.firm_id)
        .join(Firm, Firm.firm_id == Demand.firm_id)
        .where(
            live(Demand),
            live(Firm),
            Demand.category_id == category_id,
            Demand.confidential.is_(True),
            Firm.listed.is_(True),
        )
    )
    for buyer_id in session.scalars(query):
        expected = introduction_reference(secret, supplier_id, buyer_id, category_id)
        if hmac.compare_digest(expected, reference):
            return str(buyer_id)
    return None


@dataclass(frozen=True)
class Introductions:
    """A page of requests and how many there are in all."""

    rows: list[dict[str, Any]]
    total: int


def request_introduction(
    engine: Engine,
    actor: KeyInfo,
    supplier_id: str,
    category_id: str,
    reference: str,
    message: str = "",
) -> tuple[dict[str, Any], bool] | None:
    """Record ``supplier_id``'s request to meet the buyer of the masked demand ``reference``.

    Returns
    -------
    (dict, bool) or None
        The request (with ``buyer_id``: the caller decides who may read it) and whether it is
        new (a second request for the same demand returns the first); None where the reference
        names no live confidential demand for this supplier and category.
    """
    secret = server_secret(engine)

    def work(session: Session) -> tuple[dict[str, Any], bool] | None:
        buyer_id = _buyer_behind(session, secret, supplier_id, category_id, reference)
        if buyer_id is None:
            return None
        existing = session.scalar(
            select(IntroductionRequest).where(
                IntroductionRequest.supplier_id == supplier_id,
                IntroductionRequest.buyer_id == buyer_id,
                IntroductionRequest.category_id == category_id,
            )
        )
        if existing is not None:
            return _row(existing), False
        request = IntroductionRequest(
            supplier_id=supplier_id,
            buyer_id=buyer_id,
            category_id=category_id,
            message=message,
            requested_by=f"key:{actor.id}/{actor.role}",
        )
        session.add(request)
        session.flush()
        detail = {"supplier_id": supplier_id, "buyer_id": buyer_id, "category_id": category_id}
        record(session, actor, "request", "introduction", str(request.id), detail)
        return _row(request), True

    return transaction(engine, work)


def list_introductions(engine: Engine, page: int = 1, page_size: int = 50) -> Introductions:
    """Every request, the newest first, with the firms' names (for staff)."""
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(IntroductionRequest)) or 0
        query = (
            select(IntroductionRequest)
            .order_by(IntroductionRequest.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        rows = [_row(r) for r in session.scalars(query)]
        ids = {r["supplier_id"] for r in rows} | {r["buyer_id"] for r in rows}
        found = session.execute(select(Firm.firm_id, Firm.name).where(Firm.firm_id.in_(ids)))
        names = {firm_id: name for firm_id, name in found.tuples()}
    for row in rows:
        row["supplier_name"] = names.get(row["supplier_id"], "")
        row["buyer_name"] = names.get(row["buyer_id"], "")
    return Introductions(rows, int(total))


def requested_references(engine: Engine, supplier_id: str) -> frozenset[str]:
    """The references of the masked demands ``supplier_id`` has asked about: its page marks
    those rows "request sent" (a reference names the demand to this supplier and to the server
    only, so the set says nothing the page does not already carry)."""
    secret = server_secret(engine)
    with Session(engine) as session:
        asked = session.execute(
            select(IntroductionRequest.buyer_id, IntroductionRequest.category_id).where(
                IntroductionRequest.supplier_id == supplier_id
            )
        )
        return frozenset(
            introduction_reference(secret, supplier_id, row.buyer_id, row.category_id)
            for row in asked
        )
