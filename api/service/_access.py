"""Who may see and change what: the role checks and the disclosure rules, in one place.

Staff may do anything; analysts may read anything and change nothing; a firm key acts for its
own firm only. What a firm key sees of another firm is its public side: not its private fields,
not its capacities, and its confidential demands only as "a buyer in sector S needs category C".
Routes, exports and (later) pages all ask here, so that they can never disagree.
"""

from __future__ import annotations

from fastapi import HTTPException, status

from ketnoi.api.storage import KeyInfo

__all__ = ["ensure_own_firm", "is_reader", "masked_demand", "sees_private_data"]


def is_reader(key: KeyInfo) -> bool:
    """Staff and analysts read everything."""
    return key.role in {"staff", "analyst"}


def sees_private_data(key: KeyInfo, firm_id: str | None) -> bool:
    """Whether ``key`` sees all of a firm's data: every field, its capacities and its
    confidential demands (staff, analysts and the firm itself)."""
    return is_reader(key) or (firm_id is not None and key.firm_id == firm_id)


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
