"""Request and response bodies, split by purpose: ``...Create``, ``...Update``, ``...Public``.

Every field is bounded (lengths, ranges, list sizes), so bad input is a 422 with a message
rather than a failure deeper down.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from ketnoi import graph

__all__ = [
    "MAX_DEPTH",
    "MAX_K",
    "MAX_PAGE_SIZE",
]

#: The status of a request the service understood but cannot accept (bad values).
UNPROCESSABLE = 422

#: Bounds of every query parameter: a request can never ask for unbounded work.
MAX_K = 100
MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000
MAX_DEPTH = 5
MAX_ID = 64
MAX_TEXT = 300
MAX_ROW_ID = 2**31 - 1


def stored_text(value: str) -> str:
    """Text as the data contract stores it: NFC, runs of white space (control separators
    such as U+001F included) made one space, trimmed."""
    return " ".join(graph.nfc(value).split())


def _required_text(value: str) -> str:
    # Checked in the stored form: a value the contract would read as empty is refused here,
    # or the database would stop reading back as a valid dataset.
    stored = stored_text(value)
    if not stored:
        raise ValueError("must not be empty, white space or control characters only")
    return stored


def _plain_id(value: str) -> str:
    if stored_text(value) != value or not value.isprintable():
        raise ValueError("an id may not hold white space or control characters")
    return value


Id = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_ID, pattern=r"^[^;\s/]+$"
    ),
    AfterValidator(_plain_id),
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT), AfterValidator(stored_text)
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
    AfterValidator(_required_text),
]
Item = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^;]+$"),
    AfterValidator(_required_text),
]
Items = Annotated[list[Item], Field(max_length=50)]
Role = Literal["supplier", "buyer", "both"]
Ownership = Literal["", "domestic", "soe", "jv", "fdi"]
Country = Annotated[str, StringConstraints(pattern=r"^([A-Z]{2})?$")]
Lang = Literal["en", "vi"]


def _split(value: Any) -> list[str]:
    return list(graph.split_list(value)) if isinstance(value, str) else value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- firms ------------------------------------------------------------------------------------
class _FirmFields(_Body):
    name_en: Text = ""
    tax_code: Annotated[str, StringConstraints(max_length=20)] = ""
    ownership: Ownership = ""
    country_of_origin: Country = ""
    sector: Text = ""
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    park: Annotated[str, StringConstraints(max_length=MAX_ID)] = ""
    employees: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    founded: Annotated[int | None, Field(ge=1900, le=dt.date.today().year)] = None
    certifications: Items = []
    processes: Items = []
    languages: Items = []
    listed: bool = True
    description: Annotated[str, StringConstraints(max_length=5000)] = ""


class FirmCreate(_FirmFields):
    """A new firm (staff only)."""

    firm_id: Id
    name: Name
    role: Role


class FirmUpdate(_Body):
    """Changes to a firm: only the fields given are changed."""

    name: Name | None = None
    role: Role | None = None
    name_en: Text | None = None
    tax_code: Annotated[str | None, StringConstraints(max_length=20)] = None
    ownership: Ownership | None = None
    country_of_origin: Country | None = None
    sector: Text | None = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    park: Annotated[str | None, StringConstraints(max_length=MAX_ID)] = None
    employees: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    founded: Annotated[int | None, Field(ge=1900, le=dt.date.today().year)] = None
    certifications: Items | None = None
    processes: Items | None = None
    languages: Items | None = None
    listed: bool | None = None
    description: Annotated[str | None, StringConstraints(max_length=5000)] = None


class FirmSummary(BaseModel):
    """What any key holder may see of a firm: its public fields."""

    firm_id: str
    name: str
    name_en: str
    role: str
    sector: str
    park: str
    certifications: list[str]
    processes: list[str]
    capabilities: list[str]
    country_of_origin: str
    ownership: str

    _split_lists = field_validator("certifications", "processes", mode="before")(_split)


class FirmPublic(FirmSummary):
    """Every field of a firm: for staff, analysts and the firm itself."""

    tax_code: str
    lat: float | None
    lon: float | None
    employees: int | None
    founded: int | None
    languages: list[str]
    listed: bool
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime

    _split_more = field_validator("languages", mode="before")(_split)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, and how many items there are over all pages."""

    items: list[T]
    total: int
    page: int
    page_size: int


# -- parks and categories ---------------------------------------------------------------------
class ParkCreate(_Body):
    """A new industrial park or cluster."""

    park_id: Id
    name: Name
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    kind: Text = ""


class ParkUpdate(_Body):
    """Changes to a park."""

    name: Name | None = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    kind: Text | None = None


class ParkPublic(BaseModel):
    """An industrial park or cluster."""

    park_id: str
    name: str
    lat: float | None
    lon: float | None
    kind: str


class CategoryPublic(BaseModel):
    """A product category."""

    category_id: str
    name: str
    name_vi: str
    parent_id: str
    hs_code: str


class CategoryNode(CategoryPublic):
    """A category with its sub-categories."""

    children: list[CategoryNode] = []


# -- capabilities, demands, links ---------------------------------------------------------------
class CapabilityCreate(_Body):
    """What a firm can make (``firm_id`` defaults to the caller's firm)."""

    firm_id: Id | None = None
    category_id: Id
    capacity: Annotated[float | None, Field(ge=0, le=1e15)] = None


class CapabilityUpdate(_Body):
    """Changes to a capability."""

    capacity: Annotated[float | None, Field(ge=0, le=1e15)] = None


class CapabilityPublic(BaseModel):
    """What a firm can make, and how much a year."""

    firm_id: str
    category_id: str
    capacity: float | None


class DemandCreate(_Body):
    """What a firm buys or wants to buy (``firm_id`` defaults to the caller's firm)."""

    firm_id: Id | None = None
    category_id: Id
    volume: Annotated[float | None, Field(ge=0, le=1e15)] = None
    required_certifications: Items = []
    required_processes: Items = []
    confidential: bool = False


class DemandUpdate(_Body):
    """Changes to a demand."""

    volume: Annotated[float | None, Field(ge=0, le=1e15)] = None
    required_certifications: Items | None = None
    required_processes: Items | None = None
    confidential: bool | None = None


class DemandPublic(BaseModel):
    """A demand. A confidential demand of another firm is masked: only ``masked``,
    ``summary``, ``sector`` and ``category_id`` are filled ("a buyer in sector S needs C")."""

    masked: bool = False
    summary: str = ""
    firm_id: str | None = None
    sector: str = ""
    category_id: str
    volume: float | None = None
    required_certifications: list[str] = []
    required_processes: list[str] = []
    confidential: bool | None = None

    _split_lists = field_validator("required_certifications", "required_processes", mode="before")(
        _split
    )


class LinkCreate(_Body):
    """An observed supplier-buyer relationship."""

    supplier_id: Id
    buyer_id: Id
    category_id: Annotated[str, StringConstraints(max_length=MAX_ID, pattern=r"^[^;\s/]*$")] = ""
    since: Annotated[int | None, Field(ge=1900, le=dt.date.today().year)] = None
    status: Literal["active", "ended"] = "active"


class LinkUpdate(_Body):
    """Changes to a link."""

    since: Annotated[int | None, Field(ge=1900, le=dt.date.today().year)] = None
    status: Literal["active", "ended"] | None = None


class LinkPublic(BaseModel):
    """A supplier-buyer relationship."""

    supplier_id: str
    buyer_id: str
    category_id: str
    since: int | None
    status: str


# -- recommendations and the model --------------------------------------------------------------
class Recommendation(BaseModel):
    """One recommended pair, with the reasons to read out."""

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
    """One feature's value and its contribution to the pair's log-odds."""

    feature: str
    value: Any
    contribution: float


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


class ModelInfo(BaseModel):
    """The served model."""

    version: str | None
    trained_at: str | None
    mode: str | None
    training_fingerprint: str | None
    metrics: dict[str, Any]
    retraining: bool
    last_error: str | None


class Health(BaseModel):
    """The service is up (and whether a model serves)."""

    status: str
    model_loaded: bool
    model_version: str | None


class AuditPublic(BaseModel):
    """One audit entry: who, when, what."""

    id: int
    at: dt.datetime
    actor: str
    actor_role: str
    action: str
    entity: str
    entity_key: str
    detail: dict[str, Any]


class Error(BaseModel):
    """Every error: a message for people."""

    detail: str


# -- category writes and outcomes ---------------------------------------------------------------
OptionalId = Annotated[str, StringConstraints(max_length=MAX_ID, pattern=r"^[^;\s/]*$")]
HsCode = Annotated[str, StringConstraints(max_length=20, pattern=r"^[0-9.]*$")]
OutcomeKind = Literal["contacted", "met", "negotiating", "contracted", "declined"]
MAX_REASON = 2000


class CategoryCreate(_Body):
    """A new product category (``parent_id`` an existing category, or ``""`` for a root)."""

    category_id: Id
    name: Name
    name_vi: Text = ""
    parent_id: OptionalId = ""
    hs_code: HsCode = ""


class CategoryUpdate(_Body):
    """Changes to a category: only the fields given are changed."""

    name: Name | None = None
    name_vi: Text | None = None
    parent_id: OptionalId | None = None
    hs_code: HsCode | None = None


def _not_future(value: dt.date | None) -> dt.date | None:
    if value is not None and value.year > dt.date.today().year:
        raise ValueError(f"{value.isoformat()} is in a future year")
    return value


class OutcomeCreate(_Body):
    """What came of a supplier-buyer pair: appended, never overwritten."""

    supplier_id: Id
    buyer_id: Id
    outcome: OutcomeKind
    date: Annotated[dt.date | None, Field(ge=dt.date(1900, 1, 1))] = None
    event_id: OptionalId = ""
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=MAX_REASON),
        Field(validate_default=True),
    ] = ""

    _date_not_future = field_validator("date")(_not_future)

    @field_validator("reason")
    @classmethod
    def _declined_has_reason(cls, value: str, info: Any) -> str:
        if info.data.get("outcome") == "declined" and not value:
            raise ValueError("a declined outcome needs a reason")
        return value


class OutcomePublic(BaseModel):
    """One recorded outcome, with who recorded it and when."""

    id: int
    supplier_id: str
    buyer_id: str
    outcome: str
    date: dt.date | None
    event_id: str
    reason: str
    recorded_by: str
    recorded_at: dt.datetime


# -- match lists --------------------------------------------------------------------------------
#: Bounds of a match list request: firms, rows per firm, pinned or blocked pairs.
MAX_LIST_FIRMS = 200
MAX_LIST_K = 50
MAX_LIST_PAIRS = 500


def _pair(value: Any) -> Any:
    # A pair may also come as a two-item list: ["B1", "S3"] (buyer first).
    if isinstance(value, list | tuple) and len(value) == 2:
        return {"buyer_id": value[0], "supplier_id": value[1]}
    return value


def _pairs_of(value: Any) -> Any:
    return [_pair(v) for v in value] if isinstance(value, list) else value


class FirmPair(_Body):
    """A buyer-supplier pair (or ``[buyer_id, supplier_id]``)."""

    buyer_id: Id
    supplier_id: Id


Pairs = Annotated[list[FirmPair], Field(max_length=MAX_LIST_PAIRS)]
ListFirms = Annotated[list[Id], Field(max_length=MAX_LIST_FIRMS)]


class MatchListCreate(_Body):
    """A match list to derive and save (staff only).

    ``buyer_ids`` get their top-``k`` new suppliers (filtered by ``category``, ``park``,
    ``certification``; no supplier more than ``max_per_supplier`` times over all buyers);
    ``supplier_ids`` get their top-``k`` buyers. Pairs declined in an outcome and ``blocks``
    are left out; ``pins`` come first, marked pinned.
    """

    label: Text = ""
    buyer_ids: ListFirms = []
    supplier_ids: ListFirms = []
    k: Annotated[int, Field(ge=1, le=MAX_LIST_K, description="Rows per firm.")] = 10
    category: Id | None = None
    park: Id | None = None
    certification: Item | None = None
    max_per_supplier: Annotated[int | None, Field(ge=1, le=MAX_LIST_FIRMS * MAX_LIST_K)] = None
    lang: Lang = "en"
    pins: Pairs = []
    blocks: Pairs = []

    _pairs = field_validator("pins", "blocks", mode="before")(_pairs_of)


class MatchListPairs(_Body):
    """Pairs to add to (and take off) a match list's pins or blocks."""

    add: Pairs = []
    remove: Pairs = []

    _pairs = field_validator("add", "remove", mode="before")(_pairs_of)


class MatchListItem(BaseModel):
    """One pair of a match list: on the buyer's list (``side`` buyer) or the supplier's."""

    side: str
    buyer_id: str
    buyer_name: str | None
    supplier_id: str
    supplier_name: str | None
    category_id: str
    category_name: str | None
    tier: int | None
    rank: int
    score: float
    pinned: bool
    reasons: list[str]


class MatchListSummary(BaseModel):
    """A saved match list without its rows, and the model and data that made it."""

    id: int
    label: str
    created_at: dt.datetime
    created_by: str
    model_version: str
    data_fingerprint: str
    k: int | None
    rows: int


class MatchListPublic(MatchListSummary):
    """A saved match list: how it was asked for (``params``) and its rows."""

    params: dict[str, Any]
    items: list[MatchListItem]


# -- imports ------------------------------------------------------------------------------------
class ImportProblem(BaseModel):
    """One problem of an upload, as ``ketnoi validate --json`` reports it."""

    file: str
    line: int | None
    column: str | None
    reason: str
    severity: str


class ImportRefused(BaseModel):
    """An upload that was not loaded, with every problem found (the database is unchanged)."""

    detail: str
    ok: bool
    problems: list[ImportProblem]


class ImportResult(BaseModel):
    """A loaded upload: rows per contract file, and the warnings that did not block it."""

    source: str
    replace: bool
    fingerprint: str
    counts: dict[str, dict[str, int]]
    warnings: list[ImportProblem]
