"""Settings, engines, write transactions that survive a busy SQLite, and Alembic migrations.

SQLite (a file in the data folder) is the embedded default; PostgreSQL is used where
``KETNOI_DATABASE_URL`` says so (``postgresql+psycopg://user@host:port/db``).

On SQLite every connection runs in WAL mode (readers never wait for the writer) with a busy
timeout, and write transactions start with ``BEGIN IMMEDIATE``: a writer waits for the write lock
up front instead of failing midway when another writer got there first. :func:`transaction`
retries the few that still find the database locked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS_DIR",
    "StorageSettings",
    "alembic_config",
    "data_dir_of",
    "is_locked",
    "make_engine",
    "transaction",
    "upgrade",
]

T = TypeVar("T")

#: How long an SQLite connection waits for a lock before giving up, in milliseconds.
BUSY_TIMEOUT_MS = 5000

#: The Alembic environment and revisions, shipped inside the package.
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

_DATA_DIR_OPTION = "ketnoi_data_dir"
_WRITE_OPTION = "ketnoi_write"


class StorageSettings(BaseSettings):
    """Storage settings, read from ``KETNOI_*`` environment variables.

    The base of the settings family: the service's settings
    (:class:`ketnoi.api.service.ServiceSettings`) extend these, so both read each variable the
    same way.

    Attributes
    ----------
    data_dir : Path
        ``KETNOI_DATA_DIR``: the folder of the SQLite database and the key secret file.
    database_url : str or None
        ``KETNOI_DATABASE_URL``: a SQLAlchemy URL that replaces the SQLite default.
    secret : SecretStr or None
        ``KETNOI_SECRET``: the HMAC secret for API keys; without it a secret file is made in
        ``data_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="KETNOI_", extra="ignore")

    data_dir: Path = Path(".ketnoi")
    database_url: str | None = None
    secret: SecretStr | None = None


def make_engine(url: str | None = None, data_dir: str | Path | None = None) -> Engine:
    """An engine for the ketnoi database.

    Parameters
    ----------
    url : str, optional
        A SQLAlchemy URL. Default: ``KETNOI_DATABASE_URL``, else
        ``sqlite:///<data_dir>/ketnoi.db``.
    data_dir : str or Path, optional
        The data folder (created where needed). Default: ``KETNOI_DATA_DIR``, else ``./.ketnoi``.

    Returns
    -------
    Engine
        On SQLite: WAL, a busy timeout and foreign keys on every connection. The data folder
        travels with the engine (see :func:`data_dir_of`).

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> engine.dialect.name
    'sqlite'
    """
    settings = StorageSettings()
    folder = Path(data_dir) if data_dir is not None else settings.data_dir
    url = url or settings.database_url
    if not url:
        url = f"sqlite:///{(folder / 'ketnoi.db').resolve()}"
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        _configure_sqlite(engine)
    return engine.execution_options(**{_DATA_DIR_OPTION: str(folder)})


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below), so pysqlite must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def data_dir_of(engine: Engine) -> Path:
    """The data folder an engine was made with (``KETNOI_DATA_DIR`` for a foreign engine)."""
    folder = engine.get_execution_options().get(_DATA_DIR_OPTION)
    return Path(folder) if folder else StorageSettings().data_dir


def is_locked(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (or busy): worth retrying, not a real failure."""
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, OperationalError) and ("locked" in text or "busy" in text)


_generation = 0


def write_generation() -> int:
    """How many write transactions this process has committed: caches of database reads key on
    it, so a write made here is seen at once (writes by other processes: after the cache's
    time limit)."""
    return _generation


def transaction(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    attempts: int = 5,
    backoff: float = 0.1,
) -> T:
    """Run ``work(session)`` in one write transaction, retrying while SQLite is locked.

    The transaction commits when ``work`` returns and rolls back when it raises, so ``work``
    may run more than once: it must do nothing outside the session.

    Parameters
    ----------
    engine : Engine
        From :func:`make_engine`.
    work : callable
        Takes the session, returns the result.
    attempts : int
        Tries before the lock error is raised.
    backoff : float
        Seconds before the second try; doubled after each further failure.
    """
    bind = engine.execution_options(**{_WRITE_OPTION: True})
    for attempt in range(attempts):
        try:
            with Session(bind) as session, session.begin():
                result = work(session)
            global _generation
            _generation += 1
            return result
        except OperationalError as exc:
            if not is_locked(exc) or attempt == attempts - 1:
                raise
            time.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def alembic_config() -> Config:
    """An Alembic configuration for the migrations shipped in ``api/storage/migrations``.

    Make a new revision after changing the tables with::

        python -c "from alembic import command; from ketnoi.api.storage import alembic_config; \\
            command.revision(alembic_config(), 'what changed', autogenerate=True)"

    (``KETNOI_DATABASE_URL`` or ``KETNOI_DATA_DIR`` name the database compared against.)
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest) with Alembic."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
