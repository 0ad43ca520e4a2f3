"""The audit log: every write, with who made it, when, and what it was."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._models import AuditEntry

__all__ = ["record"]


def record(
    session: Session,
    actor: KeyInfo | str,
    action: str,
    entity: str,
    key: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to ``session``; it is written with (and only with) the same commit.

    Parameters
    ----------
    session : Session
        The session of the write being recorded.
    actor : KeyInfo or str
        The API key that made the write, or a name for other writers (``"cli"``).
    action : str
        What was done: ``load``, ``create``, ``update``, ``delete``, ``revoke`` ...
    entity : str
        What it was done to: a table (``firms``, ``api_keys``) or ``dataset``.
    key : str
        Which row: its key as text (``"hn-s0001"``; parts of a composite key joined by ``/``).
    detail : dict, optional
        Anything else worth keeping, as JSON (counts, changed values).
    """
    if isinstance(actor, str):
        entry = AuditEntry(actor=actor, actor_key_id=None, actor_role="")
    else:
        entry = AuditEntry(actor=f"key:{actor.id}", actor_key_id=actor.id, actor_role=actor.role)
    entry.action = action
    entry.entity = entity
    entry.entity_key = key
    entry.detail = dict(detail or {})
    session.add(entry)
    return entry
