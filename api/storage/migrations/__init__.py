"""Alembic migrations of the ketnoi database (run them with :func:`api.storage.upgrade`)."""
