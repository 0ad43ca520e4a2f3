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
    evaluate : bool
        ``KETNOI_EVALUATE``: after each fit, hold out links, refit and measure the model against
        two baselines (``ketnoi evaluate`` with one seed); the figures show on ``/v1/model``.
    """

    model_config = SettingsConfigDict(env_prefix="KETNOI_", extra="ignore")

    data_dir: Path = Path(".ketnoi")
    database_url: str | None = None
    precompute: bool = True
    evaluate: bool = True
