"""Alembic environment: migrate the connection :func:`api.storage.upgrade` hands over.

Run from the ``alembic`` command line instead (through :func:`api.storage.alembic_config`), it
migrates the database of :func:`api.storage.make_engine`: ``KETNOI_DATABASE_URL`` or the SQLite
file in ``KETNOI_DATA_DIR``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ketnoi.api.storage._engine import make_engine
from ketnoi.api.storage._models import Base


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters tables by copying them: batch mode does that for later revisions.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("ketnoi migrations run online only: give them a database")

_given = context.config.attributes.get("connection")
if _given is not None:
    _migrate(_given)
else:
    with make_engine().begin() as _connection:
        _migrate(_connection)
