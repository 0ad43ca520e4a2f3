"""Bodies of recommendations: pairs with reasons, a buyer's tiered chain, a pair explained."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "Chain",
    "ChainLink",
    "Contribution",
    "Explanation",
    "Recommendation",
    "Recommendations",
]


class Recommendation(BaseModel):
    """One recommended pair, with the reasons to read out (for a firm key, a pair resting on
    another firm's confidential demand has neither buyer nor rank nor score)."""

    buyer_id: str | None
    supplier_id: str
    category_id: str
    tier: int | None
    rank: int | None
    score: float | None
    reasons: list[str]
    buyer_name: str | None = None
    supplier_name: str | None = None
    supplier_park: str | None = None
    reference: str | None = Field(
        None,
        description="On a masked confidential demand only: send it to POST /v1/introductions "
        "to ask staff for an introduction to the buyer (who stays hidden).",
    )


class Recommendations(BaseModel):
    """Recommendations and the model version that made them."""

    model_version: str
    items: list[Recommendation]


class ChainLink(BaseModel):
    """A firm of a buyer's tiered chain: an existing supplier or a recommended one."""

    supplier_id: str
    supplier_name: str | None
    parent_id: str
    parent_name: str | None
    tier: int
    existing: bool
    category_id: str
    rank: int | None
    score: float | None
    reasons: list[str]


class Chain(BaseModel):
    """The chain upstream of a buyer, tier by tier."""

    model_version: str
    buyer_id: str
    depth: int
    items: list[ChainLink]


class Contribution(BaseModel):
    """One feature's value and its contribution to the pair's log-odds (for a firm key, a
    private feature's value is a band or null and its contribution null)."""

    feature: str
    value: Any
    contribution: float | None


class Explanation(BaseModel):
    """Why (or why not yet) a supplier-buyer pair."""

    model_version: str
    buyer_id: str
    supplier_id: str
    score: float
    mode: str
    category_id: str
    existing_link: bool
    candidate: bool
    reasons: list[str]
    blockers: list[str]
    contributions: list[Contribution]
