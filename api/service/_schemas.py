"""Request and response bodies, split by purpose: ``...Create``, ``...Update``, ``...Public``.

This module holds what every purpose shares: the bounds of every parameter, the field types
(ids, texts, lists), the base of every request body, a page of a list, an error, and (for now)
the match lists. The bodies themselves are in ``_schemas_<purpose>.py``: firms (with parks and
categories), demands (with capabilities), links (with outcomes), recommendations, the service
(health, model, audit, imports), events and programme reports.

Every field is bounded (lengths, ranges, list sizes), so bad input is a 422 with a message
rather than a failure deeper down.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

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
    "ID_PATTERN",
    "MAX_DEPTH",
    "MAX_ID",
    "MAX_K",
    "MAX_LIST_FIRMS",
    "MAX_LIST_K",
    "MAX_LIST_PAIRS",
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "MAX_ROW_ID",
    "MAX_TEXT",
    "UNPROCESSABLE",
    "Country",
    "Error",
    "FirmPair",
    "Id",
    "Item",
    "Items",
    "Lang",
    "MatchListCreate",
    "MatchListItem",
    "MatchListPairs",
    "MatchListPublic",
    "MatchListSummary",
    "NO_NUL",
    "Name",
    "OptionalId",
    "Ownership",
    "Page",
    "RequestBody",
    "Role",
    "Text",
    "UpdateBody",
    "pattern_words",
    "split_items",
    "stored_text",
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


#: What an id may not hold, as a character class the schema publishes (so that generated
#: clients send valid ids): white space, ``;`` (the list separator), ``/`` (ids go in paths),
#: control and format characters (C0, C1, soft hyphen, zero-width and direction marks, the
#: byte-order mark), private use and non-characters.
_NOT_IN_ID = (
    r"\s;/\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f"
    r"\u2028-\u202e\u2060-\u206f\ue000-\uf8ff\ufeff\ufff0-\uffff"
)
ID_PATTERN = rf"^[^{_NOT_IN_ID}]+$"
#: Text without a NUL (refused at the door: PostgreSQL cannot store it).
NO_NUL = r"^[^\x00]*$"


def pattern_words(pattern: str) -> str | None:
    """What a pattern of these schemas asks, in words (for a 422's message), or None."""
    if pattern == ID_PATTERN:
        return "an id may not hold white space, ';', '/' or control characters"
    if pattern == NO_NUL:
        return "text may not hold a NUL character (U+0000)"
    if "[^\\s" in pattern or "[^;\\s" in pattern:
        return "must hold a letter, digit or sign (not only white space or control characters)"
    return None


def _plain_id(value: str) -> str:
    if stored_text(value) != value:
        raise ValueError("an id may not hold white space or control characters")
    return value


Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID, pattern=ID_PATTERN),
    AfterValidator(_plain_id),
]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TEXT, pattern=NO_NUL),
    AfterValidator(stored_text),
]
#: A required name: at least one letter, digit or sign besides white space and controls.
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=MAX_TEXT,
        pattern=r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$",
    ),
    AfterValidator(_required_text),
]
Item = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=100,
        pattern=r"^[^;\x00]*[^;\s\x00-\x1f\x7f-\x9f][^;\x00]*$",
    ),
    AfterValidator(_required_text),
]
Items = Annotated[list[Item], Field(max_length=50)]
Role = Literal["supplier", "buyer", "both"]
Ownership = Literal["", "domestic", "soe", "jv", "fdi"]
Country = Annotated[str, StringConstraints(pattern=r"^([A-Z]{2})?$")]
Lang = Literal["en", "vi"]
OptionalId = Annotated[str, StringConstraints(max_length=MAX_ID, pattern=rf"^[^{_NOT_IN_ID}]*$")]


def split_items(value: Any) -> Any:
    """A stored ``;``-joined list as a list of items (a validator of list fields)."""
    return list(graph.split_list(value)) if isinstance(value, str) else value


class RequestBody(BaseModel):
    """The base of every request body: unknown fields refused, text trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _update_schema(schema: dict[str, Any], cls: type) -> None:
    # What the update routes check, said in the schema: at least one field, and no null for
    # a field that cannot be emptied.
    schema["minProperties"] = 1
    for name in getattr(cls, "NOT_NULL", ()):
        field = schema.get("properties", {}).get(name, {})
        kinds = [k for k in field.pop("anyOf", []) if k.get("type") != "null"]
        if len(kinds) == 1:
            field.update(kinds[0])
        elif kinds:
            field["anyOf"] = kinds
        field.pop("default", None)


class UpdateBody(RequestBody):
    """The base of every ``...Update`` body: only the fields given are changed; at least one
    must be, and those in ``NOT_NULL`` may not be null."""

    model_config = ConfigDict(json_schema_extra=_update_schema)
    NOT_NULL: ClassVar[tuple[str, ...]] = ()


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, and how many items there are over all pages."""

    items: list[T]
    total: int
    page: int
    page_size: int


class Error(BaseModel):
    """Every error: a message for people."""

    detail: str


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


class FirmPair(RequestBody):
    """A buyer-supplier pair (or ``[buyer_id, supplier_id]``)."""

    buyer_id: Id
    supplier_id: Id


Pairs = Annotated[list[FirmPair], Field(max_length=MAX_LIST_PAIRS)]
ListFirms = Annotated[list[Id], Field(max_length=MAX_LIST_FIRMS)]


class MatchListCreate(RequestBody):
    """A match list to derive and save (staff only).

    ``buyer_ids`` get their top-``k`` new suppliers (filtered by ``category``, ``park``,
    ``certification``; no supplier more than ``max_per_supplier`` times over all buyers);
    ``supplier_ids`` get their top-``k`` buyers. Pairs declined in an outcome and ``blocks``
    are left out; ``pins`` come first, marked pinned.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["buyer_ids"], "properties": {"buyer_ids": {"minItems": 1}}},
                {"required": ["supplier_ids"], "properties": {"supplier_ids": {"minItems": 1}}},
            ]
        }
    )

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


class MatchListPairs(RequestBody):
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
