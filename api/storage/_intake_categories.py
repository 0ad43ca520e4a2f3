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
from ketnoi.api.storage._models import Category

__all__ = ["confirmed_fields", "register_categories"]


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
