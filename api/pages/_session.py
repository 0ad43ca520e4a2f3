"""Server-side sessions of the workbench: an API key signed in once, a CSRF token per session.

The browser holds only a random session id in an HttpOnly, SameSite=Lax cookie (Secure over
HTTPS); the key it signed in with stays in this process's memory and is checked again on every
request exactly as an API request's key is (:func:`ketnoi.api.service._deps.current_key`), so a
revoked or expired key ends its sessions within the API's own key-cache time.

Every visitor gets a session, signed in or not, so that the sign-in form carries a CSRF token
too; signing in replaces the session id (no session fixation), signing out drops the session.
A session ends :data:`IDLE_SECONDS` after its last request and :data:`LIFETIME_SECONDS` after
it began, whichever comes first. Sessions live in the serving process: with ``--workers`` above
one, a browser must be kept on one worker (or sign in again).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = [
    "COOKIE",
    "IDLE_SECONDS",
    "LANG_COOKIE",
    "LIFETIME_SECONDS",
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


@dataclass
class Session:
    """One browser's session: its id, CSRF token, language and (signed in) API key."""

    id: str
    csrf: str
    lang: str | None = None
    api_key: str | None = field(default=None, repr=False)
    #: A message for the next page shown (what a form did), shown once.
    flash: str = ""
    started: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)

    def csrf_matches(self, token: str | None) -> bool:
        """Whether ``token`` is this session's CSRF token (compared in constant time)."""
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())


class SessionStore:
    """The sessions of one app, in memory, bounded and expiring."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_sessions

    def new(self, *, lang: str | None = None, api_key: str | None = None) -> Session:
        """A fresh session with its own id and CSRF token."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), lang, api_key)
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (None: unknown or expired, which is then dropped)."""
        if not session_id or len(session_id) > 100:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.seen > IDLE_SECONDS or now - session.started > LIFETIME_SECONDS:
                del self._sessions[session_id]
                return None
            session.seen = now
            self._sessions.move_to_end(session_id)
            return session

    def sign_in(self, old: Session | None, api_key: str) -> Session:
        """A new session (new id, new CSRF token) holding ``api_key``; ``old`` is dropped."""
        lang = old.lang if old is not None else None
        if old is not None:
            self.drop(old.id)
        return self.new(lang=lang, api_key=api_key)

    def drop(self, session_id: str) -> None:
        """End a session."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)
