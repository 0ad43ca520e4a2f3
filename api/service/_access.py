"""Who may see and change what: the role checks and the disclosure rules, in one place.

Staff may do anything; analysts may read anything and change nothing; a firm key acts for its
own firm only. What a firm key sees of another firm is its public side: not its private fields,
not its capacities, and its confidential demands only as "a buyer in sector S needs category C".
Routes, exports and (later) pages all ask here, so that they can never disagree.

The rule (docs/service.md, "What a firm key may learn"): nothing a firm key receives lets it
tell whether another firm has a confidential demand, or learn another firm's private fields.
Other firms' confidential demands are left out of what it lists and of what the model answers
it (:mod:`._views`); what is hidden answers 404 as what is absent does; capacities and distances
in reasons and explanations come in bands (:func:`disclosure_for`).
"""

from __future__ import annotations

from fastapi import HTTPException, status

from ketnoi import matcher
from ketnoi.api.storage import KeyInfo

__all__ = [
    "demands_visible_to",
    "disclosure_for",
    "ensure_own_firm",
    "is_reader",
    "masked_demand",
    "sees_private_data",
]


def is_reader(key: KeyInfo) -> bool:
    """Staff and analysts read everything."""
    return key.role in {"staff", "analyst"}


def sees_private_data(key: KeyInfo, firm_id: str | None) -> bool:
    """Whether ``key`` sees all of a firm's data: every field, its capacities and its
    confidential demands (staff, analysts and the firm itself)."""
    return is_reader(key) or (firm_id is not None and key.firm_id == firm_id)


def disclosure_for(key: KeyInfo, supplier_id: str | None) -> matcher.Disclosure:
    """How exactly ``key`` reads the reasons and explanation of a pair with this supplier:
    staff and analysts exactly, the supplier its own capacity, any other firm in bands."""
    if is_reader(key):
        return "exact"
    return "supplier" if supplier_id is not None and key.firm_id == supplier_id else "public"


def demands_visible_to(key: KeyInfo) -> str | None:
    """The firm whose view of the demands ``key`` has (None: every demand): a firm key sees
    its own demands and other listed firms' demands that are not confidential."""
    return None if is_reader(key) else (key.firm_id or "")


def ensure_own_firm(key: KeyInfo, *firm_ids: str | None, write: bool = False) -> None:
    """403 unless the key may act for one of ``firm_ids``.

    Staff may do anything; analysts may read anything and change nothing; a firm key may act
    only for its own firm.
    """
    if key.role == "staff" or (key.role == "analyst" and not write):
        return
    if key.role == "analyst":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "an analyst key cannot change anything")
    if key.firm_id is None or key.firm_id not in firm_ids:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a firm key may only see or change its own firm's data"
        )


def masked_demand(sector: str, category_id: str, category_name: str = "", lang: str = "en") -> str:
    """What another firm's key is told of a confidential demand: the buyer's sector and the
    category, never the buyer.

    Examples
    --------
    >>> masked_demand("electronics", "pcb", "Printed circuit boards")
    'a buyer in sector electronics needs Printed circuit boards (pcb)'
    >>> masked_demand("", "pcb", lang="vi")
    'một bên mua trong ngành khác cần pcb'
    """
    category = f"{category_name} ({category_id})" if category_name else category_id
    if lang == "vi":
        return f"một bên mua trong ngành {sector or 'khác'} cần {category}"
    return f"a buyer in sector {sector or 'unknown'} needs {category}"
