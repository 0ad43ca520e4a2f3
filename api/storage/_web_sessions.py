"""Workbench sessions kept in the database, so that every worker of the service knows them.

A browser holds a random session id in a cookie; the table ``web_sessions`` holds only its
SHA-256 hash (a copy of the database lets nobody in), with the API key it signed in with (its
id, role and firm, never the key), its language, a message for the next page, and when it began
and was last seen. A session is live while it is younger than its lifetime, was seen within its
idle time, and its key is neither revoked nor expired: every read checks all of it against the
key's own row, so signing out or revoking a key on one worker ends the session on all of them
at once.

Session writes are not counted in the write generation (:func:`~._engine.transaction` with
``counted=False``): signing in retires no cached answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Delete,
    Engine,
    ForeignKey,
    String,
    Text,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._models import ApiKey, Base, utcnow

__all__ = [
    "WebSession",
    "WebSessionRow",
    "clean_web_sessions",
    "end_web_sessions",
    "find_web_session",
    "open_web_session",
    "session_hash",
    "update_web_session",
]


class WebSession(Base):
    """A signed-in workbench session: the hash of its id, its key, language and times."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    firm_id: Mapped[str | None] = mapped_column(String, default=None)
    lang: Mapped[str] = mapped_column(String(8), default="")
    flash: Mapped[str] = mapped_column(Text, default="")
    """A message for the next page shown (what a form did), shown once."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


@dataclass(frozen=True)
class WebSessionRow:
    """A live session as read: its key's rights, language, message and times."""

    key: KeyInfo
    lang: str
    flash: str
    created_at: dt.datetime
    seen_at: dt.datetime


def session_hash(session_id: str) -> str:
    """The stored form of a session id: hex SHA-256 (the id is 256 random bits, so no secret
    is needed to make its hash useless to a reader of the database)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _deleted(session: Session, statement: Delete) -> int:
    """Run a DELETE; how many rows it removed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)


def _dead(idle: float, lifetime: float, now: dt.datetime) -> ColumnElement[bool]:
    """The condition of sessions past their idle time or lifetime."""
    return or_(
        WebSession.seen_at < now - dt.timedelta(seconds=idle),
        WebSession.created_at < now - dt.timedelta(seconds=lifetime),
    )


def open_web_session(
    engine: Engine,
    session_id: str,
    key: KeyInfo,
    *,
    lang: str = "",
    replaces: str | None = None,
    idle: float,
    lifetime: float,
    max_sessions: int,
) -> None:
    """Store a session signed in with ``key``, ending the one it ``replaces``.

    Sessions past their time go at the same moment, and then the least recently seen ones
    beyond ``max_sessions``, so the table stays bounded without a cleaning process.
    """
    now = utcnow()

    def work(session: Session) -> None:
        if replaces is not None:
            session.execute(delete(WebSession).where(WebSession.id_hash == session_hash(replaces)))
        _clean(session, idle, lifetime, max_sessions - 1, now)
        session.add(
            WebSession(
                id_hash=session_hash(session_id),
                key_id=key.id,
                role=key.role,
                firm_id=key.firm_id,
                lang=lang,
                created_at=now,
                seen_at=now,
            )
        )

    transaction(engine, work, counted=False)


def find_web_session(
    engine: Engine, session_id: str, *, idle: float, lifetime: float
) -> WebSessionRow | None:
    """The live session ``session_id`` (None: unknown, timed out, signed out, or its key
    revoked or expired)."""
    now = utcnow()
    # Columns, not ORM objects: this runs on every page request.
    query = (
        select(
            WebSession.lang,
            WebSession.flash,
            WebSession.created_at,
            WebSession.seen_at,
            ApiKey.id,
            ApiKey.role,
            ApiKey.firm_id,
            ApiKey.label,
            ApiKey.created_at,
            ApiKey.expires_at,
            ApiKey.revoked_at,
        )
        .join(ApiKey, ApiKey.id == WebSession.key_id)
        .where(WebSession.id_hash == session_hash(session_id))
    )
    with engine.connect() as connection:
        found = connection.execute(query).first()
    if found is None:
        return None
    lang, flash, created, seen, key_id, role, firm_id, label, key_made, expires, revoked = found
    if (
        now - seen > dt.timedelta(seconds=idle)
        or now - created > dt.timedelta(seconds=lifetime)
        or revoked is not None
        or (expires is not None and expires <= now)
    ):
        return None
    info = KeyInfo(key_id, role, firm_id, label, key_made, expires)
    return WebSessionRow(info, lang, flash, created, seen)


def update_web_session(
    engine: Engine,
    session_id: str,
    *,
    lang: str | None = None,
    flash: str | None = None,
    seen: bool = False,
    wait: float | None = None,
) -> None:
    """Change a stored session's language or message, or note that it was seen now."""
    values: dict[str, object] = {}
    if lang is not None:
        values["lang"] = lang
    if flash is not None:
        values["flash"] = flash
    if seen:
        values["seen_at"] = utcnow()
    if not values:
        return

    def work(session: Session) -> None:
        session.execute(
            update(WebSession).where(WebSession.id_hash == session_hash(session_id)).values(values)
        )

    transaction(engine, work, wait=wait, counted=False)


def end_web_sessions(
    engine: Engine, session_id: str | None = None, *, key_id: int | None = None
) -> int:
    """End the session ``session_id``, or every session of the key ``key_id``; returns how
    many ended."""
    if (session_id is None) == (key_id is None):
        raise ValueError("end one session (session_id) or a key's sessions (key_id)")
    if session_id is not None:
        condition = WebSession.id_hash == session_hash(session_id)
    else:
        condition = WebSession.key_id == key_id

    def work(session: Session) -> int:
        return _deleted(session, delete(WebSession).where(condition))

    return transaction(engine, work, counted=False)


def _clean(session: Session, idle: float, lifetime: float, keep: int, now: dt.datetime) -> int:
    gone = _deleted(session, delete(WebSession).where(_dead(idle, lifetime, now)))
    # Sessions of revoked or expired keys can never be used again.
    dead_keys = select(ApiKey.id).where(
        or_(ApiKey.revoked_at.is_not(None), ApiKey.expires_at <= now)
    )
    gone += _deleted(session, delete(WebSession).where(WebSession.key_id.in_(dead_keys)))
    count = session.scalar(select(func.count()).select_from(WebSession)) or 0
    if count > keep:
        oldest = (
            select(WebSession.id)
            .order_by(WebSession.seen_at, WebSession.id)
            .limit(count - max(keep, 0))
        )
        ids = list(session.scalars(oldest))
        gone += _deleted(session, delete(WebSession).where(WebSession.id.in_(ids)))
    return gone


def clean_web_sessions(engine: Engine, *, idle: float, lifetime: float, max_sessions: int) -> int:
    """Delete the sessions past their time or whose key is revoked or expired, then the least
    recently seen beyond ``max_sessions``; returns how many went."""
    now = utcnow()
    return transaction(
        engine, lambda session: _clean(session, idle, lifetime, max_sessions, now), counted=False
    )
