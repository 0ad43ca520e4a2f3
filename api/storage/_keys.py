"""API keys: random, long, stored only as an HMAC-SHA256 hash; they expire and can be revoked.

A key is shown once, when it is made. The database holds ``HMAC-SHA256(secret, key)``, so a
copy of the database alone does not let anyone in. The secret is ``KETNOI_SECRET`` or, without
it, a random secret kept in the file ``secret`` of the data folder (made on first use,
readable by its owner only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from ketnoi.api.storage._audit import record
from ketnoi.api.storage._engine import StorageSettings, data_dir_of, transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._models import ApiKey, Firm, utcnow
from ketnoi.api.storage._web_sessions import WebSession

__all__ = [
    "KEY_PREFIX",
    "KEY_ROLES",
    "create_key",
    "hash_key",
    "revoke_key",
    "server_secret",
    "verify_key",
]

#: The roles a key may have: programme staff, analysts, and a firm (which sees its own data).
KEY_ROLES: tuple[str, ...] = ("staff", "analyst", "firm")

#: Every key starts with this, so that a leaked key is easy to recognise (and to search for).
KEY_PREFIX = "kn_"

_SECRET_FILE = "secret"


_SECRET_CACHE: dict[str, bytes] = {}


def server_secret(engine: Engine | None = None) -> bytes:
    """The HMAC secret: ``KETNOI_SECRET``, else the data folder's secret file (made if absent).

    Parameters
    ----------
    engine : Engine, optional
        Its data folder (see :func:`api.storage.make_engine`) holds the secret file; default
        ``KETNOI_DATA_DIR``.
    """
    settings = StorageSettings()
    if settings.secret is not None and settings.secret.get_secret_value():
        return settings.secret.get_secret_value().encode()
    folder = data_dir_of(engine) if engine is not None else settings.data_dir
    path = Path(folder) / _SECRET_FILE
    # Read once per process: this sits on the path of every authenticated request.
    cached = _SECRET_CACHE.get(str(path))
    if cached is not None and path.exists():
        return cached
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: of two processes making the secret at once, one wins and both read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"the secret file {path} is empty: delete it or set KETNOI_SECRET")
    _SECRET_CACHE[str(path)] = secret.encode()
    return secret.encode()


def hash_key(plaintext: str, secret: bytes) -> str:
    """The stored form of a key: hex HMAC-SHA256 under the server secret."""
    return hmac.new(secret, plaintext.encode(), hashlib.sha256).hexdigest()


def create_key(
    engine: Engine,
    role: str,
    firm_id: str | None = None,
    expires_days: float | None = None,
    label: str = "",
    *,
    actor: KeyInfo | str = "cli",
) -> str:
    """Make a key and return it in plain text: the only time it is ever shown.

    Parameters
    ----------
    engine : Engine
        The database.
    role : {"staff", "analyst", "firm"}
        What the key may do.
    firm_id : str, optional
        The key's firm: required for role ``firm`` (a firm in the database), refused otherwise.
    expires_days : float, optional
        Days until the key stops working; default never.
    label : str
        A note for people: whose key, what for.
    actor : KeyInfo or str
        Who makes the key, for the audit log.

    Returns
    -------
    str
        ``kn_`` followed by 43 random URL-safe characters (256 bits).
    """
    if role not in KEY_ROLES:
        raise ValueError(f"role '{role}' is not one of: {', '.join(KEY_ROLES)}")
    if (role == "firm") != (firm_id is not None):
        raise ValueError("a key has a firm_id exactly when its role is 'firm'")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    digest = hash_key(plaintext, server_secret(engine))
    now = utcnow()
    expires = now + dt.timedelta(days=expires_days) if expires_days is not None else None

    def work(session: Session) -> None:
        if firm_id is not None:
            live = select(Firm.id).where(Firm.firm_id == firm_id, Firm.deleted_at.is_(None))
            if session.scalar(live) is None:
                raise ValueError(f"firm '{firm_id}' is not in the database")
        key = ApiKey(
            key_hash=digest,
            role=role,
            firm_id=firm_id,
            label=label,
            created_at=now,
            expires_at=expires,
        )
        session.add(key)
        session.flush()
        detail = {"role": role, "firm_id": firm_id, "label": label}
        detail["expires_at"] = expires.isoformat() if expires else None
        record(session, actor, "create", "api_keys", str(key.id), detail)

    transaction(engine, work)
    return plaintext


def verify_key(engine: Engine, plaintext: str, *, now: dt.datetime | None = None) -> KeyInfo | None:
    """The key's rights, or None for an unknown, expired or revoked key.

    The key is looked up by its hash, so no stored hash is compared character by character with
    anything an attacker chose; the final comparison is constant-time all the same.
    """
    if not plaintext.startswith(KEY_PREFIX):
        return None
    digest = hash_key(plaintext, server_secret(engine))
    with Session(engine) as session:
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    now = now or utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    return KeyInfo(key.id, key.role, key.firm_id, key.label, key.created_at, key.expires_at)


def revoke_key(engine: Engine, key_id: int, *, actor: KeyInfo | str = "cli") -> bool:
    """Revoke a key for good. Returns False where there is no such key or it was revoked."""

    def work(session: Session) -> bool:
        key = session.get(ApiKey, key_id)
        if key is None or key.revoked_at is not None:
            return False
        key.revoked_at = utcnow()
        # Its workbench sessions end with it (a read refuses them anyway: this frees the rows).
        session.execute(delete(WebSession).where(WebSession.key_id == key_id))
        record(session, actor, "revoke", "api_keys", str(key_id))
        return True

    return transaction(engine, work)
