"""What a valid API key may do: the caller every write and every audit entry is made by.

Its own module, below both the keys (which make and verify keys) and the audit log (which
records who wrote), so that neither has to import the other for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["KeyInfo"]


@dataclass(frozen=True)
class KeyInfo:
    """What a valid key is allowed to be: its id, role and (for role ``firm``) its firm."""

    id: int
    role: str
    firm_id: str | None
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
