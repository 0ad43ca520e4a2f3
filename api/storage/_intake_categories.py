"""The categories a person confirmed for an intake list's products, kept with its rows.

The suggestions and the choices file are :mod:`ketnoi.graph._category_choices`'s; here the
register's categories are read for the suggester, and a confirmed choice is attached to the row
it was made for.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api.storage._models import Capability, Category
from ketnoi.api.storage._resolution_models import SourceRecord

__all__ = ["add_confirmed_capabilities", "confirmed_fields", "register_categories"]

#: How many firm ids one ``IN (...)`` query asks for.
_CHUNK = 500


def confirmed_fields(
    item: graph.SourceRecord, confirmed: Mapping[tuple[str, int], Mapping[str, str]]
) -> dict[str, str]:
    """The category and HS code a person confirmed for the row, if its products still read
    as they did then (a list edited since does not inherit a stale choice)."""
    chosen = confirmed.get((item.sheet, item.line))
    if not chosen or chosen.get("products", "") != str(item.fields.get("products", "")):
        return {}
    return {k: chosen[k] for k in ("category_id", "hs_code") if chosen.get(k)}


def register_categories(engine: Engine) -> pd.DataFrame:
    """The register's live categories (``category_id``, ``name``, ``name_vi``, ``hs_code``):
    what the category suggester chooses among."""
    columns = ["category_id", "name", "name_vi", "hs_code"]
    query = select(*(getattr(Category, c) for c in columns)).where(Category.deleted_at.is_(None))
    with Session(engine) as session:
        return pd.DataFrame([tuple(r) for r in session.execute(query)], columns=columns)


def add_confirmed_capabilities(session: Session, stored: list[SourceRecord]) -> int:
    """Add a capability for each category a person confirmed for a row's products, to the
    firm the row was matched to or made: confirming "makes wire harnesses" is what lets the
    matcher suggest the firm for it. A firm's existing row for the category (live or deleted:
    a deleted one was removed on purpose) is left as it is. Returns how many were added."""
    wanted = {
        (str(rec.firm_id), str(rec.fields["category_id"]))
        for rec in stored
        if rec.firm_id and rec.status in ("matched", "created", "branch")
        if rec.fields.get("category_id")
    }
    if not wanted:
        return 0
    firms = sorted({f for f, _ in wanted})
    have: set[tuple[str, str]] = set()
    for start in range(0, len(firms), _CHUNK):
        chunk = firms[start : start + _CHUNK]
        query = select(Capability.firm_id, Capability.category_id)
        have |= {(f, c) for f, c in session.execute(query.where(Capability.firm_id.in_(chunk)))}
    added = sorted(wanted - have)
    session.add_all(Capability(firm_id=f, category_id=c) for f, c in added)
    return len(added)
