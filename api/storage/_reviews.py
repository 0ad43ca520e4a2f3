"""The review queue: pairs waiting for a person, with the evidence side by side, and the
person's answer, remembered by the pair's content so that a re-upload never asks again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ketnoi.api.storage._aliases import resolve_firm_id
from ketnoi.api.storage._audit import record
from ketnoi.api.storage._crud import Conflict, Invalid, NotFound
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._load import dataset_in
from ketnoi.api.storage._merges import actor_name
from ketnoi.api.storage._models import Firm, utcnow
from ketnoi.api.storage._resolution import FIRM_KEY_FIELDS, Register, firm_as_dict
from ketnoi.api.storage._resolution_models import ResolutionDecision, SourceRecord

__all__ = ["decide_review", "get_review", "review_queue"]


def review_queue(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    """Open reviews, oldest first: each with the record and the firm side by side, the score,
    its evidence, and the thresholds and method it was judged under."""
    open_ = (ResolutionDecision.decision == "review", ResolutionDecision.decided_at.is_(None))
    return _reviews(engine, open_, limit)


def get_review(engine: Engine, review_id: int) -> dict[str, Any]:
    """One review, open or decided (``decision``, ``decided_at``, ``decided_by`` say which);
    :class:`NotFound` otherwise."""
    found = _reviews(engine, (ResolutionDecision.id == review_id,), 1)
    if not found:
        raise NotFound(f"no review {review_id}")
    return found[0]


def _reviews(engine: Engine, where: tuple[Any, ...], limit: int) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = session.execute(
            select(ResolutionDecision, SourceRecord)
            .join(SourceRecord, SourceRecord.id == ResolutionDecision.source_record_id)
            .where(*where)
            .order_by(ResolutionDecision.id)
            .limit(limit)
        ).all()
        firm_ids = {d.firm_id for d, _ in rows}
        firms = {
            f.firm_id: f for f in session.scalars(select(Firm).where(Firm.firm_id.in_(firm_ids)))
        }
        out = []
        for d, rec in rows:
            firm = firms.get(d.firm_id)
            out.append(
                {
                    "id": d.id,
                    "record": {
                        "source": rec.source,
                        "file": rec.file,
                        "sheet": rec.sheet,
                        "line": rec.line,
                        **{k: str(rec.fields.get(k, "")) for k in FIRM_KEY_FIELDS},
                        "products": str(rec.fields.get("products", "")),
                    },
                    "firm": {"firm_id": d.firm_id, **firm_as_dict(firm)} if firm else {},
                    "match_probability": d.match_probability,
                    "match_weight": d.match_weight,
                    "rule": d.rule,
                    "evidence": d.evidence,
                    "accept": d.accept,
                    "review": d.review,
                    "method_version": d.method_version,
                    "created_at": d.created_at,
                    "decision": d.decision,
                    "decided_at": d.decided_at,
                    "decided_by": d.decided_by,
                }
            )
        return out


def decide_review(
    engine: Engine, review_id: int, decision: str, actor: KeyInfo | str, role: str = "supplier"
) -> dict[str, Any]:
    """A person's answer to an open review: ``match`` or ``distinct``; remembered for good.

    ``match`` attaches the waiting records (every record with that content) to the firm and
    closes the record's other questions; ``distinct`` leaves them waiting while other
    questions are open, and makes them a new firm (of ``role``) once none is.

    Returns
    -------
    dict
        ``id``, ``decision``, ``firm_id`` (the firm the records now belong to, or ``""``),
        ``records`` (how many were resolved) and ``created`` (True for a new firm).

    Raises
    ------
    NotFound
        No such review.
    Conflict
        It was decided already, or its firm is gone.
    """
    if decision not in ("match", "distinct"):
        raise Invalid(f"decision {decision!r} is not match or distinct")
    who = actor_name(actor)

    def work(session: Session) -> dict[str, Any]:
        d = session.get(ResolutionDecision, review_id)
        if d is None or d.decision not in ("review", "match", "distinct"):
            raise NotFound(f"no review {review_id}")
        if d.decided_at is not None or d.decision != "review":
            raise Conflict(f"review {review_id} was decided already ({d.decision})")
        now = utcnow()
        d.decision, d.decided_at, d.decided_by = decision, now, who
        waiting = list(
            session.scalars(
                select(SourceRecord).where(
                    SourceRecord.content_key == d.record_key, SourceRecord.status == "proposed"
                )
            )
        )
        others = list(
            session.scalars(
                select(ResolutionDecision).where(
                    ResolutionDecision.record_key == d.record_key,
                    ResolutionDecision.decision == "review",
                    ResolutionDecision.decided_at.is_(None),
                    ResolutionDecision.id != d.id,
                )
            )
        )
        firm_id, created = "", False
        if decision == "match":
            firm_id = resolve_firm_id(session, d.firm_id)
            live = session.scalar(
                select(Firm.id).where(Firm.firm_id == firm_id, Firm.deleted_at.is_(None))
            )
            if live is None:
                raise Conflict(f"firm '{d.firm_id}' is no longer in the register")
            for other in others:  # one firm per record: the other candidates are closed
                other.decision, other.decided_at, other.decided_by = "distinct", now, who
                other.rule = f"{other.rule}; closed: matched to {firm_id}"
            for rec in waiting:
                rec.firm_id, rec.status = firm_id, "matched"
        elif not others and waiting:
            firm_id = Register(session, role, who).create(waiting[0])
            created = True
            for rec in waiting:
                rec.firm_id, rec.status = firm_id, "created"
        session.flush()
        if created:
            dataset_in(session.connection())
        detail = {"decision": decision, "firm_id": d.firm_id, "records": len(waiting)}
        if created:
            detail["created"] = firm_id
        record(session, actor, "decide", "resolution_decisions", str(review_id), detail)
        return {
            "id": review_id,
            "decision": decision,
            "firm_id": firm_id,
            "records": len(waiting) if firm_id else 0,
            "created": created,
        }

    return transaction(engine, work)
