"""What ``ketnoi serve --demo`` needs besides the server: one staff key for the demo, kept.

The demo used to mint and print a new staff key that never expired at every start, so each
start left one more master key behind. Now the demo's key lives in a file readable by its owner
only (``<data folder>/demo-staff-key``, 0600) and is reused while it is valid; a new one
expires after :data:`DEMO_KEY_DAYS` days, and making it revokes every earlier demo key.
"""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.service import ServiceSettings, create_app
from ketnoi.api.service._holder import fit_served_model

__all__ = ["DEMO_KEY_DAYS", "DEMO_KEY_FILE", "DEMO_KEY_LABEL", "demo_key", "serve_workers"]

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


def serve_workers(settings: ServiceSettings, host: str, port: int, workers: int) -> None:
    """Serve with ``workers`` processes that share one model, fitted here before they fork.

    gunicorn forks its uvicorn workers from this process (uvicorn's own ``--workers`` spawns
    fresh interpreters, each fitting a model of its own): the model's arrays are shared
    copy-on-write, a new worker starts serving at once, and every worker answers with the same
    model version. Without gunicorn (``pip install 'ketnoi[workers]'``; not on Windows) uvicorn
    spawns the workers and each fits its own model, as before.

    Parameters
    ----------
    settings : ServiceSettings
        The service's settings (each worker opens its own database connections).
    host, port : str, int
        Where to listen.
    workers : int
        Worker processes.
    """
    import uvicorn

    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        uvicorn.run(
            "ketnoi.api.service:create_app", factory=True, host=host, port=port, workers=workers
        )
        return
    with warnings.catch_warnings():
        # uvicorn.workers is deprecated for the uvicorn-worker package, which is the same
        # class; the one shipped with uvicorn spares a dependency.
        warnings.simplefilter("ignore", DeprecationWarning)
        from uvicorn.workers import UvicornWorker

    class QuietWorker(UvicornWorker):  # type: ignore[misc]
        CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "access_log": False}

    engine = storage.make_engine(settings.database_url, settings.data_dir)
    storage.upgrade(engine)
    try:
        served = fit_served_model(
            engine, precompute=settings.precompute, evaluate=settings.evaluate
        )
    except (graph.DatasetError, ValueError):
        served = None  # an empty database: the workers fit nothing either until a retrain
    engine.dispose()  # connections must not cross the fork: each worker opens its own
    app = create_app(settings, served=served)
    # Frozen, the model's objects are never traversed by a worker's garbage collector, which
    # would otherwise write to (and so copy) every page holding one.
    gc.collect()
    gc.freeze()
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": QuietWorker,
        "preload_app": True,
        "backlog": 1024,
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 25.1+: no socket in ~
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return app

    Server().run()
