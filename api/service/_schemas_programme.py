"""Response bodies of the programme reports: localisation, near misses, concentration and
indicators. The definitions behind each field are in ``docs/programme.md``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "CategoryConcentrationRow",
    "ConcentrationReport",
    "IndicatorRow",
    "IndicatorsReport",
    "LocalisationReport",
    "LocalisationRow",
    "NearMissPair",
    "NearMissPairsReport",
    "NearMissTarget",
    "NearMissTargetsReport",
    "SingleSourcedReport",
    "SingleSourcedRow",
    "SoleSupplierRow",
    "SoleSuppliersReport",
]

Grouping = Literal["category", "sector", "buyer", "origin", "all"]
Weighting = Literal["volume", "count"]
Share = float | None


class LocalisationRow(BaseModel):
    """One group of demands: its local suppliers and the share of it they cover. Only the key
    fields of the grouping are present (none for ``by=all``)."""

    category_id: str | None = None
    category_name: str | None = None
    buyer_id: str | None = None
    buyer_name: str | None = None
    country_of_origin: str | None = None
    sector: str | None = None
    demands: int
    demands_without_volume: int
    volume: float = Field(description="Sum of the known volumes.")
    weighting: Weighting = Field(description="How the rates are weighted in this group.")
    qualified_local_suppliers: int
    linked_local_suppliers: int
    demands_covered: int
    volume_covered: float
    localisation_rate: Share = Field(description="Share covered by a linked or qualified one.")
    demands_linked: int
    volume_linked: float
    linked_rate: Share = Field(description="Share a local supplier supplies today.")
    rate_if_near_misses_gained: Share
    gap_demands: int = Field(description="Demands with no qualified local supplier.")
    gap: bool = Field(description="No demand of the group has a qualified local supplier.")


class LocalisationReport(BaseModel):
    by: Grouping
    category: str | None
    items: list[LocalisationRow]


class NearMissTarget(BaseModel):
    """A certification or process that near-miss suppliers lack, and what gaining it unlocks."""

    lacking_kind: Literal["certification", "process"]
    lacking: str
    suppliers: int
    supplier_ids: list[str]
    demands: int
    volume: float
    demands_newly_covered: int
    weighting: Weighting
    localisation_rate: Share
    rate_if_gained: Share


class NearMissTargetsReport(BaseModel):
    category: str | None
    weighting: Weighting
    localisation_rate: Share
    rate_if_all_gained: Share = Field(
        description="If every near-miss supplier gained each item it is one short of."
    )
    items: list[NearMissTarget]


class NearMissPair(BaseModel):
    """A local supplier exactly one required item short of a demand."""

    lacking_kind: Literal["certification", "process"]
    lacking: str
    supplier_id: str
    supplier_name: str
    buyer_id: str
    category_id: str
    volume: float | None
    demand_covered: bool


class NearMissPairsReport(BaseModel):
    category: str | None
    items: list[NearMissPair]


class CategoryConcentrationRow(BaseModel):
    """How a category's active links spread over its suppliers."""

    category_id: str
    category_name: str
    links: int
    suppliers: int
    buyers: int
    hhi: float = Field(description="Herfindahl-Hirschman index, 0 to 1.")
    top_supplier_id: str
    top_supplier_name: str = ""
    top_share: float
    local_share: float
    single_sourced_buyers: int


class ConcentrationReport(BaseModel):
    items: list[CategoryConcentrationRow]


class SingleSourcedRow(BaseModel):
    """A buyer with exactly one active supplier for a category."""

    buyer_id: str
    buyer_name: str
    category_id: str
    category_name: str
    supplier_id: str
    supplier_name: str
    supplier_local: bool
    since: int | None


class SingleSourcedReport(BaseModel):
    items: list[SingleSourcedRow]


class SoleSupplierRow(BaseModel):
    """A supplier that buyers depend on as their only source of a category."""

    supplier_id: str
    supplier_name: str
    supplier_local: bool
    sole_source_pairs: int
    buyers: int
    categories: int
    active_links: int


class SoleSuppliersReport(BaseModel):
    items: list[SoleSupplierRow]


class IndicatorRow(BaseModel):
    """One indicator in one year, against the programme's target for that year."""

    year: int
    indicator: str
    basis: Literal["observed", "projected"]
    value: float | None
    target: float | None
    on_track: bool | None


class IndicatorsReport(BaseModel):
    items: list[IndicatorRow]
