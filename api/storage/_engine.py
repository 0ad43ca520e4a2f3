"""Settings, engines, write transactions that survive a busy SQLite, and Alembic migrations.

SQLite (a file in the data folder) is the embedded default; PostgreSQL is used where
``KETNOI_DATABASE_URL`` says so (``postgresql+psycopg://user@host:port/db``).

On SQLite every connection runs in WAL mode (readers never wait for the writer) with a busy
timeout, and write transactions start with ``BEGIN IMMEDIATE``: a writer waits for the write lock
up front instead of failing midway when another writer got there first. :func:`transaction`
retries the few that still find the database locked, for at most ``KETNOI_WRITE_WAIT`` seconds
in all (on PostgreSQL: its ``lock_timeout``), and then raises :class:`Busy` (the service answers
503 with ``Retry-After``): a long import makes other writers wait, never fail with a lock error.

Every write transaction adds one to the database's write generation (the one-row table
``write_generation``) in the same transaction, so every process can tell that the rows changed,
whoever wrote them (:func:`write_generation`): caches of database reads key on it.

A new SQLite database file is created readable by its owner only (0600; SQLite gives its WAL
and shared-memory files the same mode), in a data folder made 0700.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

__all__ = [
    "BUSY_TIMEOUT_MS",
    "Busy",
    "GENERATION_POLL_SECONDS",
    "MIGRATIONS_DIR",
    "StorageSettings",
    "alembic_config",
    "data_dir_of",
    "is_locked",
    "make_engine",
    "transaction",
    "upgrade",
    "write_generation",
]

T = TypeVar("T")

#: How long an SQLite connection waits for a lock before giving up, in milliseconds.
BUSY_TIMEOUT_MS = 5000

#: The Alembic environment and revisions, shipped inside the package.
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

_DATA_DIR_OPTION = "ketnoi_data_dir"
_WRITE_OPTION = "ketnoi_write"
_WAIT_OPTION = "ketnoi_write_wait"
#: PostgreSQL's SQLSTATEs for a lock not had in time and a deadlock: worth waiting and retrying.
_PG_BUSY = {"55P03", "40P01"}


class Busy(RuntimeError):
    """The database stayed locked by another writer (a long import, say) for longer than the
    write may wait; ``retry_after`` is the seconds worth waiting before trying again."""

    def __init__(self, waited: float, retry_after: int = 5):
        super().__init__(
            f"the database is busy with another write (waited {waited:.1f} s); try again in"
            f" {retry_after} s"
        )
        self.retry_after = retry_after


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
    write_wait : float
        ``KETNOI_WRITE_WAIT``: the most seconds a write waits for another writer's lock before
        it gives up with :class:`Busy` (the service: 503 with ``Retry-After``).
    """

    model_config = SettingsConfigDict(env_prefix="KETNOI_", extra="ignore")

    data_dir: Path = Path(".ketnoi")
    database_url: str | None = None
    secret: SecretStr | None = None
    write_wait: float = 30.0


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
    wait = max(float(settings.write_wait), 0.0)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_file(Path(database))
        _configure_sqlite(engine, busy_ms=min(BUSY_TIMEOUT_MS, int(wait * 1000)))
    return engine.execution_options(**{_DATA_DIR_OPTION: str(folder), _WAIT_OPTION: wait})


def _private_file(path: Path) -> None:
    """Create the database file 0600 (in a 0700 folder) before SQLite does, with the umask's
    0644; an existing file of ours readable by others is made private too."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        status = path.stat()
        if status.st_mode & 0o077 and status.st_uid == os.getuid():
            path.chmod(status.st_mode & 0o700)
    else:
        os.close(fd)


def _configure_sqlite(engine: Engine, busy_ms: int = BUSY_TIMEOUT_MS) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below), so pysqlite must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
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
    """True for SQLite's "database is locked" (or busy) and PostgreSQL's lock timeout or
    deadlock: worth retrying, not a real failure."""
    if not isinstance(exc, OperationalError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _PG_BUSY:
        return True
    message = str(getattr(exc, "orig", exc)).lower()
    return "locked" in message or "busy" in message


#: The most seconds a process reuses the database's write generation before reading it again:
#: a write committed by another process (a worker, the CLI) is seen at the latest this long after.
GENERATION_POLL_SECONDS = 0.25

_COUNT = text("UPDATE write_generation SET value = value + 1 WHERE id = 1 RETURNING value")
_READ = text("SELECT value FROM write_generation WHERE id = 1")


class _Generation:
    """What one process knows of one database's write generation, and when it last read it."""

    def __init__(self) -> None:
        self.value = -1
        self.read_at = -float("inf")


# By the engine's pool, which every execution_options() copy of an engine shares; a disposed
# engine's new pool starts afresh (and the old entry goes with the old pool).
_generations: weakref.WeakKeyDictionary[Any, _Generation] = weakref.WeakKeyDictionary()
_generations_lock = threading.Lock()


def _known(engine: Engine) -> _Generation:
    with _generations_lock:
        known = _generations.get(engine.pool)
        if known is None:
            known = _generations[engine.pool] = _Generation()
        return known


def _learnt(engine: Engine, value: int, at: float) -> None:
    known = _known(engine)
    with _generations_lock:
        # Two threads may read at once: the counter only grows, so the larger is the newer.
        if value >= known.value:
            known.value, known.read_at = value, max(known.read_at, at)


def write_generation(engine: Engine) -> int:
    """How many counted write transactions the database has committed, whichever process made
    them: caches of database reads key on it.

    Every :func:`transaction` adds one to the one-row table ``write_generation`` in the same
    transaction as its writes, so the count moves exactly when the data do. A write committed
    through this process is seen at once; one by another process (another worker of
    ``ketnoi serve --workers``, the CLI) at the latest :data:`GENERATION_POLL_SECONDS` after it
    committed: the count is read again after that long.

    Parameters
    ----------
    engine : Engine
        The database (a migrated one: the table comes with revision ``0009``).
    """
    known = _known(engine)
    now = time.monotonic()
    if now - known.read_at < GENERATION_POLL_SECONDS:
        return known.value
    with engine.connect() as connection:
        value = connection.execute(_READ).scalar()
    # Read before the rows a cache is about to read, so a write committed in between is
    # counted against that cache (rebuilt once more), never hidden from it.
    _learnt(engine, int(value or 0), now)
    return _known(engine).value


def _count(session: Session) -> int:
    """Add this transaction to the database's write generation; returns the new count."""
    value = session.execute(_COUNT).scalar()
    if value is None:  # a database whose row was removed: start it again
        session.execute(text("INSERT INTO write_generation (id, value) VALUES (1, 1)"))
        value = 1
    return int(value)


def transaction(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    wait: float | None = None,
    attempts: int | None = None,
    backoff: float = 0.1,
    counted: bool = True,
) -> T:
    """Run ``work(session)`` in one write transaction, retrying while the database is locked.

    The transaction commits when ``work`` returns and rolls back when it raises, so ``work``
    may run more than once: it must do nothing outside the session.

    Parameters
    ----------
    engine : Engine
        From :func:`make_engine`.
    work : callable
        Takes the session, returns the result.
    wait : float, optional
        The most seconds to wait for other writers' locks, retries included. Default: the
        engine's ``KETNOI_WRITE_WAIT`` (30 s).
    attempts : int, optional
        At most this many tries, within ``wait``. Default: as many as ``wait`` allows.
    backoff : float
        Seconds before the second try; doubled after each further failure (at most 1 s).
    counted : bool
        Whether the write moves the database's :func:`write_generation` (default). Writes that
        no cache reads (job heartbeats, workbench sessions) pass False, so that they neither
        retire every cached answer nor queue behind other writers for the counter's row.

    Raises
    ------
    Busy
        The database stayed locked for ``wait`` seconds.
    """
    if wait is None:
        wait = float(engine.get_execution_options().get(_WAIT_OPTION, 30.0))
    bind = engine.execution_options(**{_WRITE_OPTION: True})
    postgres = engine.dialect.name == "postgresql"
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            with Session(bind) as session, session.begin():
                if postgres:  # a row lock held by a long import: wait for it, but not forever
                    timeout = max(int(1000 * (wait - (time.monotonic() - started))), 1)
                    session.execute(text(f"SET LOCAL lock_timeout = {timeout}"))
                result = work(session)
                # Last, just before the commit: on PostgreSQL the counter's row stays locked
                # until then, so writers queue on it only for the commit itself.
                generation = _count(session) if counted else None
            if generation is not None:
                _learnt(engine, generation, time.monotonic())
            return result
        except OperationalError as exc:
            if not is_locked(exc):
                raise
            pause = min(backoff * 2**attempt, 1.0)
            waited = time.monotonic() - started
            if waited + pause > wait or (attempts is not None and attempt + 1 >= attempts):
                raise Busy(waited) from exc
            time.sleep(pause)
            attempt += 1


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
