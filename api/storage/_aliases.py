"""Firm aliases: the id of a firm merged into another keeps naming the firm it became."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ketnoi.api.storage._models import Firm
from ketnoi.api.storage._resolution_models import FirmAlias

__all__ = ["firm_aliases", "resolve_firm_id"]

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


def firm_aliases(engine: Engine) -> dict[str, str]:
    """Every merged-away firm id and the firm it names now, chains followed to their end.

    An id that names a live firm again is left out: the live firm is what it names, as
    :func:`resolve_firm_id`'s callers read a firm (its own row first). One query, so that the
    service can hold the whole table in memory and map ids in requests without a query each.
    """
    with Session(engine) as session:
        rows = session.execute(select(FirmAlias.alias_id, FirmAlias.firm_id))
        pairs: dict[str, str] = {alias: firm for alias, firm in rows}
        if not pairs:
            return {}
        live = set(
            session.scalars(
                select(Firm.firm_id).where(Firm.firm_id.in_(pairs), Firm.deleted_at.is_(None))
            )
        )
    resolved: dict[str, str] = {}
    for alias in pairs.keys() - live:
        seen = alias
        for _ in range(_MAX_HOPS):
            if seen not in pairs:
                break
            seen = pairs[seen]
        resolved[alias] = seen
    return resolved
