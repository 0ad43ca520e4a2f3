"""Firm aliases: the id of a firm merged into another keeps naming the firm it became."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketnoi.api.storage._resolution_models import FirmAlias

__all__ = ["resolve_firm_id"]

#: Aliases chain (a firm merged into one merged later); a loop cannot arise, but is bounded.
_MAX_HOPS = 64


def resolve_firm_id(session: Session, firm_id: str) -> str:
    """The firm ``firm_id`` names now: itself, or the survivor its merges lead to."""
    seen = firm_id
    for _ in range(_MAX_HOPS):
        target = session.scalar(select(FirmAlias.firm_id).where(FirmAlias.alias_id == seen))
        if target is None:
            return seen
        seen = target
    return seen
