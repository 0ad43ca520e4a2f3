"""Shared fixtures: the hand-written tiny dataset, a fresh copy of it to break, and the HTTP
service running on it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.fixture
def tiny() -> Path:
    """The valid tiny dataset folder (read-only: copy it before changing anything)."""
    return TINY


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A private copy of the tiny dataset folder that a test may break."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


# -- the HTTP service ---------------------------------------------------------------------------
#: The API keys a test service hands out, by name: the key's role and (role firm) its firm.
SERVICE_KEYS: dict[str, tuple[str, str | None]] = {
    "staff": ("staff", None),
    "analyst": ("analyst", None),
    "firm_b1": ("firm", "B1"),
    "firm_s1": ("firm", "S1"),
}


@contextmanager
def _running_service(
    folder: Path,
    *,
    dataset: Path = TINY,
    keys: dict[str, tuple[str, str | None]] = SERVICE_KEYS,
    matcher: Any = None,
    **settings_given: Any,
) -> Iterator[dict[str, Any]]:
    """The service on a fresh SQLite database in ``folder`` loaded with ``dataset``.

    Yields ``client`` (a started TestClient), ``keys`` (name -> plaintext key), ``engine``,
    ``app`` and ``folder``. ``matcher`` is a fitted matcher to serve instead of fitting one at
    start-up; the other keyword arguments go to ``ServiceSettings`` (``evaluate=False`` ...).
    """
    # Imported here: most test modules never start the service.
    from fastapi.testclient import TestClient

    from ketnoi import graph
    from ketnoi.api import storage
    from ketnoi.api.service import ServiceSettings, create_app

    # The key secret lives in the folder: a KETNOI_SECRET of the environment must not leak in.
    mp = pytest.MonkeyPatch()
    mp.delenv("KETNOI_SECRET", raising=False)
    try:
        engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
        try:
            storage.upgrade(engine)
            storage.load_into(engine, graph.load_dataset(dataset))
            made = {name: storage.create_key(engine, *grant) for name, grant in keys.items()}
            settings = ServiceSettings(data_dir=folder, **settings_given)
            app = create_app(settings, engine=engine, matcher=matcher)
            with TestClient(app) as client:
                yield {
                    "client": client,
                    "keys": made,
                    "engine": engine,
                    "app": app,
                    "folder": folder,
                }
        finally:
            engine.dispose()
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def start_service() -> Callable[..., AbstractContextManager[dict[str, Any]]]:
    """Start a service of a test's own: ``with start_service(tmp_path, evaluate=False) as s``
    (the arguments of :func:`_running_service`)."""
    return _running_service


@pytest.fixture(scope="module")
def service_options() -> dict[str, Any]:
    """How the module's ``service`` is made (arguments of :func:`_running_service`): a test
    module overrides this fixture to change them."""
    return {}


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, service_options: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The service on the tiny dataset with a key per name of :data:`SERVICE_KEYS`, shared by
    the tests of a module."""
    with _running_service(tmp_path_factory.mktemp("service"), **service_options) as running:
        yield running
