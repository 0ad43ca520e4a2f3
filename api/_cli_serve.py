"""What ``ketnoi serve --demo`` needs besides the server: one staff key for the demo, kept.

The demo used to mint and print a new staff key that never expired at every start, so each
start left one more master key behind. Now the demo's key lives in a file readable by its owner
only (``<data folder>/demo-staff-key``, 0600) and is reused while it is valid; a new one
expires after :data:`DEMO_KEY_DAYS` days, and making it revokes every earlier demo key.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ketnoi.api import storage

__all__ = ["DEMO_KEY_DAYS", "DEMO_KEY_FILE", "DEMO_KEY_LABEL", "demo_key"]

#: Days a demo staff key is valid.
DEMO_KEY_DAYS = 7.0
#: The label of demo keys (how earlier ones are found to be revoked).
DEMO_KEY_LABEL = "serve --demo"
#: The file in the data folder that keeps the demo's key.
DEMO_KEY_FILE = "demo-staff-key"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    os.replace(partial, path)


def demo_key(engine: Engine, data_dir: Path) -> tuple[str, bool]:
    """The demo's staff key, and whether it is the one kept from an earlier start.

    Parameters
    ----------
    engine : Engine
        The served database.
    data_dir : Path
        The data folder, where the key is kept (0600).
    """
    path = Path(data_dir) / DEMO_KEY_FILE
    try:
        kept = path.read_text().strip()
    except OSError:
        kept = ""
    if kept:
        info = storage.verify_key(engine, kept)
        if info is not None and info.role == "staff" and info.label == DEMO_KEY_LABEL:
            return kept, True
    with Session(engine) as session:
        earlier = session.scalars(
            select(storage.ApiKey.id).where(
                storage.ApiKey.label == DEMO_KEY_LABEL, storage.ApiKey.revoked_at.is_(None)
            )
        ).all()
    for key_id in earlier:
        storage.revoke_key(engine, key_id, actor="cli")
    key = storage.create_key(
        engine, "staff", expires_days=DEMO_KEY_DAYS, label=DEMO_KEY_LABEL, actor="cli"
    )
    _write_private(path, key)
    return key, False
