"""The service's settings, read from ``KETNOI_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """Settings of the HTTP service.

    Attributes
    ----------
    data_dir : Path
        ``KETNOI_DATA_DIR``: the folder of the SQLite database and the key secret file.
    database_url : str or None
        ``KETNOI_DATABASE_URL``: a SQLAlchemy URL that replaces the SQLite default.
    precompute : bool
        ``KETNOI_PRECOMPUTE``: rank every active buyer once after fitting, so that requests
        answer from memory.
    """

    model_config = SettingsConfigDict(env_prefix="KETNOI_", extra="ignore")

    data_dir: Path = Path(".ketnoi")
    database_url: str | None = None
    precompute: bool = True
