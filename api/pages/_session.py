"""Sessions of the workbench: an API key signed in once, a CSRF token per session.

The browser holds only a random session id in an HttpOnly, SameSite=Lax cookie (Secure over
HTTPS). A signed-in session is a row of the database's ``web_sessions`` table
(:func:`ketnoi.api.storage.open_web_session`), under the SHA-256 hash of its id, with the key's
id, role and firm (never the key itself): every worker of ``ketnoi serve --workers`` reads the
same rows, so a browser may land on any of them. Each page request reads its session's row
joined with its key's, with no cache in between: signing out, or revoking or expiring the key,
ends the session on every worker at once.

Every visitor gets a session id, signed in or not, so that the sign-in form carries a CSRF
token too; a visitor not signed in has no row (a visit costs the database nothing), and the
token is an HMAC of the session id under the server's secret, which any worker can check.
Signing in replaces the session id (no session fixation); signing out deletes the row. A
session ends :data:`IDLE_SECONDS` after its last request and :data:`LIFETIME_SECONDS` after it
began, whichever comes first; its last request is written at most every
:data:`SEEN_EVERY_SECONDS`, after the answer is sent. Rows past their time, and the least
recently seen beyond :data:`MAX_SESSIONS`, are deleted whenever someone signs in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import Engine

from ketnoi.api.storage import (
    Busy,
    KeyInfo,
    data_dir_of,
    end_web_sessions,
    find_web_session,
    open_web_session,
    server_secret,
    update_web_session,
    utcnow,
)

__all__ = [
    "COOKIE",
    "IDLE_SECONDS",
    "LANG_COOKIE",
    "LIFETIME_SECONDS",
    "MAX_SESSIONS",
    "SEEN_EVERY_SECONDS",
    "Session",
    "SessionStore",
]

#: The session cookie's name.
COOKIE = "ketnoi_session"
#: The cookie that remembers the language across sessions (not a secret).
LANG_COOKIE = "ketnoi_lang"
#: A session ends this long after its last request...
IDLE_SECONDS = 2 * 3600
#: ...and at the latest this long after it began.
LIFETIME_SECONDS = 12 * 3600
#: Sessions kept at once; the least recently used go first.
MAX_SESSIONS = 20_000
#: A session's last request is written to the database at most this often (the idle time is
#: counted from the last write, so a session may end up to this much earlier than idle says).
SEEN_EVERY_SECONDS = 60

# secrets.token_urlsafe(32): what this module hands out, and all a cookie may carry.
_ID = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass
class Session:
    """One browser's session: its id, CSRF token, language and (signed in) key."""

    id: str
    csrf: str = field(repr=False)
    lang: str | None = None
    key: KeyInfo | None = None
    #: A message for the next page shown (what a form did), shown once.
    flash: str = ""
    #: When the database last noted a request (None: not signed in, so no row).
    seen_at: dt.datetime | None = None
    #: The language and message as stored, to write back only what changed.
    stored: tuple[str, str] | None = field(default=None, repr=False)

    def csrf_matches(self, token: str | None) -> bool:
        """Whether ``token`` is this session's CSRF token (compared in constant time)."""
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())

    @property
    def changed(self) -> bool:
        """Whether a stored session's language or message changed since it was read."""
        return self.stored is not None and self.stored != (self.lang or "", self.flash)


class SessionStore:
    """The sessions of one app, in its database: bounded and expiring.

    Parameters
    ----------
    max_sessions : int
        The most signed-in sessions kept (the least recently seen go first).
    """

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self._secrets: dict[str, bytes] = {}

    def _csrf(self, engine: Engine, session_id: str) -> str:
        # The secret kept per data folder: reading the settings again costs about 0.8 ms, more
        # than the session's own database read, on every page request.
        folder = str(data_dir_of(engine))
        secret = self._secrets.get(folder)
        if secret is None:
            secret = self._secrets[folder] = server_secret(engine)
        return hmac.new(secret, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()

    def new(self, engine: Engine, *, lang: str | None = None) -> Session:
        """A fresh session, not signed in, with its own id and CSRF token (nothing stored)."""
        session_id = secrets.token_urlsafe(32)
        return Session(session_id, self._csrf(engine, session_id), lang)

    def get(self, engine: Engine, session_id: str | None) -> Session | None:
        """The session with this id: signed in while its row is live, else not signed in
        (None: no id, or one this module never makes)."""
        if not session_id or not _ID.fullmatch(session_id):
            return None
        session = Session(session_id, self._csrf(engine, session_id))
        row = find_web_session(engine, session_id, idle=IDLE_SECONDS, lifetime=LIFETIME_SECONDS)
        if row is not None:
            session.key, session.lang, session.flash = row.key, row.lang or None, row.flash
            session.seen_at, session.stored = row.seen_at, (row.lang, row.flash)
        return session

    def sign_in(self, engine: Engine, old: Session | None, key: KeyInfo) -> Session:
        """A new session (new id, new CSRF token) signed in with ``key``; ``old`` ends."""
        lang = old.lang if old is not None else None
        session = self.new(engine, lang=lang)
        open_web_session(
            engine,
            session.id,
            key,
            lang=lang or "",
            replaces=old.id if old is not None and old.key is not None else None,
            idle=IDLE_SECONDS,
            lifetime=LIFETIME_SECONDS,
            max_sessions=self.max_sessions,
        )
        session.key, session.seen_at, session.stored = key, utcnow(), (lang or "", "")
        return session

    def drop(self, engine: Engine, session: Session) -> None:
        """End a session (sign out)."""
        if session.key is not None:
            end_web_sessions(engine, session.id)
        session.key, session.seen_at, session.stored = None, None, None

    def save(self, engine: Engine, session: Session) -> None:
        """Write a stored session's changed language or message (before the answer goes, so
        the next request finds it on whichever worker it lands)."""
        if session.changed:
            update_web_session(engine, session.id, lang=session.lang or "", flash=session.flash)
            session.stored = (session.lang or "", session.flash)

    @staticmethod
    def seen_due(session: Session) -> bool:
        """Whether a stored session's last request should be written now."""
        if session.seen_at is None:
            return False
        return (utcnow() - session.seen_at).total_seconds() >= SEEN_EVERY_SECONDS

    @staticmethod
    def seen(engine: Engine, session_id: str) -> None:
        """Note a request of the session now: run after the answer is sent, and given up
        after a second of waiting for another writer (the next request notes it again)."""
        with contextlib.suppress(Busy):
            update_web_session(engine, session_id, seen=True, wait=1.0)
