"""The data contract: which files a dataset holds, their columns and what each column may hold.

The contract is data, not code: every loader, validator, exporter and the documentation in
``docs/data-contract.md`` read it from here, so there is one place to change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Column",
    "FileSpec",
    "CONTRACT",
    "FILE_ORDER",
    "LOCAL_OWNERSHIPS",
    "INTERNATIONAL_CERTIFICATIONS",
    "ROLES",
    "SUPPLIER_ROLES",
    "BUYER_ROLES",
    "OUTCOMES",
    "TERM_KINDS",
]

#: Ownership kinds that count as a *local* firm everywhere in ketnoi (localisation rates,
#: programme indicators, "local supplier" filters). Joint ventures count as local because the
#: programme counts them among its supporting-industry firms; FDI firms do not.
LOCAL_OWNERSHIPS: frozenset[str] = frozenset({"domestic", "soe", "jv"})

ROLES: tuple[str, ...] = ("supplier", "buyer", "both")
SUPPLIER_ROLES: frozenset[str] = frozenset({"supplier", "both"})
BUYER_ROLES: frozenset[str] = frozenset({"buyer", "both"})
#: What a term of ``terms.csv`` names: a firm's sector or a process.
TERM_KINDS: tuple[str, ...] = ("sector", "process")
OUTCOMES: tuple[str, ...] = ("contacted", "met", "negotiating", "contracted", "declined")

#: Certifications that count as *international standards* for the programme's 40% target.
#: Names are in the canonical form produced by :func:`graph.normalise_certification`.
INTERNATIONAL_CERTIFICATIONS: frozenset[str] = frozenset(
    {
        "ISO 9001",
        "ISO 14001",
        "ISO 45001",
        "ISO 13485",
        "ISO 22000",
        "ISO 50001",
        "ISO/IEC 27001",
        "IATF 16949",
        "AS9100",
        "IPC-A-610",
        "IPC-J-STD-001",
        "OEKO-TEX",
        "GOTS",
        "BSCI",
        "WRAP",
        "GMP",
        "HACCP",
        "FSSC 22000",
        "RBA",
        "SA8000",
        "UL",
        "CE",
        "ROHS",
        "REACH",
        "QC080000",
    }
)


@dataclass(frozen=True)
class Column:
    """One column of a contract file.

    Parameters
    ----------
    name : str
        Column header.
    kind : str
        ``id`` (non-empty text key), ``text``, ``int``, ``float``, ``bool``, ``year``,
        ``list`` (``;``-separated text), ``certs`` (``;``-separated certifications, normalised),
        ``choice`` (one of ``choices``), ``country`` (ISO 3166 alpha-2), ``lat``, ``lon``, ``date``.
    required : bool
        A required column must be present and non-empty on every row.
    choices : tuple of str
        Allowed values for ``choice`` columns (compared case-insensitively, stored lower case).
    minimum : float or None
        Smallest allowed value for numeric columns.
    default : object
        Value used where an optional column is missing or empty.
    doc : str
        One line for the documentation.
    """

    name: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    default: object = None
    doc: str = ""


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset: its columns and the key that re-loading updates by."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = False
    doc: str = ""
    references: tuple[tuple[str, str, str], ...] = field(default=())
    """(column, referenced file, referenced column) pairs checked for referential integrity."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


CONTRACT: dict[str, FileSpec] = {
    "firms": FileSpec(
        "firms",
        (
            Column("firm_id", "id", True, doc="Unique firm key."),
            Column("name", "text", True, doc="Registered name (Vietnamese, with diacritics)."),
            Column("role", "choice", True, ROLES, doc="supplier, buyer or both."),
            Column("name_en", "text", doc="English name."),
            Column("tax_code", "text", doc="Vietnamese enterprise/tax code."),
            Column(
                "ownership",
                "choice",
                choices=("domestic", "soe", "jv", "fdi"),
                doc="domestic, soe, jv (local) or fdi.",
            ),
            Column("country_of_origin", "country", doc="ISO 3166 alpha-2 of the parent firm."),
            Column("sector", "text", doc="Programme sector."),
            Column("lat", "lat", doc="WGS84 latitude."),
            Column("lon", "lon", doc="WGS84 longitude."),
            Column("park", "text", doc="park_id where parks.csv exists, else a free-text name."),
            Column("employees", "int", minimum=0, doc="Head count."),
            Column("founded", "year", doc="Year founded."),
            Column("certifications", "certs", default=(), doc="`;`-separated certifications."),
            Column("processes", "list", default=(), doc="`;`-separated processes."),
            Column("languages", "list", default=(), doc="`;`-separated ISO 639-1 codes."),
            Column("listed", "bool", default=True, doc="false = never recommended to others."),
            Column("description", "text", doc="Free text about what the firm makes."),
            # Contact fields are private: staff and the firm itself read them, another firm's
            # key only where the firm opted in with contact_public (docs/service.md).
            Column("address", "text", doc="Postal address (private)."),
            Column("phone", "text", doc="Telephone (private)."),
            Column("email", "text", doc="E-mail address (private)."),
            Column("website", "text", doc="Website (private)."),
            Column("contact_person", "text", doc="Person to contact (private)."),
            Column(
                "contact_public",
                "bool",
                default=False,
                doc="true = other firms may read the contact fields.",
            ),
        ),
        key=("firm_id",),
        required=True,
        doc="Every firm: suppliers, buyers and firms that are both.",
        references=(("park", "parks", "park_id"),),
    ),
    "parks": FileSpec(
        "parks",
        (
            Column("park_id", "id", True),
            Column("name", "text", True),
            Column("name_vi", "text", doc="Vietnamese name, where name is not Vietnamese."),
            Column("lat", "lat"),
            Column("lon", "lon"),
            Column("kind", "text", doc="industrial park, cluster, hi-tech park."),
        ),
        key=("park_id",),
        doc="Industrial parks and clusters.",
    ),
    "terms": FileSpec(
        "terms",
        (
            Column(
                "term", "id", True, doc="A sector or process as firms.csv and demands.csv spell it."
            ),
            Column("kind", "choice", True, TERM_KINDS, doc="sector or process."),
            Column("name_vi", "text", True, doc="Its Vietnamese name."),
        ),
        key=("term",),
        doc="Vietnamese names of the sectors and processes that firms and demands name.",
    ),
    "categories": FileSpec(
        "categories",
        (
            Column("category_id", "id", True),
            Column("name", "text", True),
            Column("name_vi", "text"),
            Column("parent_id", "text", doc="A category_id; the taxonomy is a forest."),
            Column("hs_code", "text", doc="HS 2022 code (as text: leading zeros matter)."),
        ),
        key=("category_id",),
        doc="Product categories, a tree through parent_id.",
        references=(("parent_id", "categories", "category_id"),),
    ),
    "category_inputs": FileSpec(
        "category_inputs",
        (
            Column("input_category_id", "id", True),
            Column("output_category_id", "id", True),
        ),
        key=("input_category_id", "output_category_id"),
        doc="Bill of materials: the input category goes into making the output category.",
        references=(
            ("input_category_id", "categories", "category_id"),
            ("output_category_id", "categories", "category_id"),
        ),
    ),
    "capabilities": FileSpec(
        "capabilities",
        (
            Column("firm_id", "id", True),
            Column("category_id", "id", True),
            Column("capacity", "float", minimum=0, doc="Units per year."),
        ),
        key=("firm_id", "category_id"),
        doc="What a firm can make.",
        references=(("firm_id", "firms", "firm_id"), ("category_id", "categories", "category_id")),
    ),
    "demands": FileSpec(
        "demands",
        (
            Column("firm_id", "id", True),
            Column("category_id", "id", True),
            Column("volume", "float", minimum=0, doc="Units per year."),
            Column("required_certifications", "certs", default=()),
            Column("required_processes", "list", default=()),
            Column("confidential", "bool", default=False),
        ),
        key=("firm_id", "category_id"),
        doc="What a firm buys or wants to buy.",
        references=(("firm_id", "firms", "firm_id"), ("category_id", "categories", "category_id")),
    ),
    "links": FileSpec(
        "links",
        (
            Column("supplier_id", "id", True),
            Column("buyer_id", "id", True),
            Column("category_id", "text", default=""),
            Column("since", "year", doc="Year the link started."),
            Column(
                "status",
                "choice",
                choices=("active", "ended"),
                default="active",
                doc="active/ended.",
            ),
        ),
        key=("supplier_id", "buyer_id", "category_id"),
        required=True,
        doc="Observed supplier-buyer relationships.",
        references=(
            ("supplier_id", "firms", "firm_id"),
            ("buyer_id", "firms", "firm_id"),
            ("category_id", "categories", "category_id"),
        ),
    ),
    "outcomes": FileSpec(
        "outcomes",
        (
            Column("supplier_id", "id", True),
            Column("buyer_id", "id", True),
            Column("outcome", "choice", True, OUTCOMES),
            Column("date", "date"),
            Column("event_id", "text"),
            Column("reason", "text"),
        ),
        key=(),  # outcomes are appended, never updated
        doc="What came of a recommended or met pair.",
        references=(("supplier_id", "firms", "firm_id"), ("buyer_id", "firms", "firm_id")),
    ),
}

#: Load order: referenced files before the files that reference them.
FILE_ORDER: tuple[str, ...] = (
    "terms",
    "parks",
    "categories",
    "category_inputs",
    "firms",
    "capabilities",
    "demands",
    "links",
    "outcomes",
)
