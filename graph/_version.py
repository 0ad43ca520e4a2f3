"""The installed ketnoi version: one answer for model files, the command line and the service."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["ketnoi_version"]


def ketnoi_version() -> str:
    """The installed distribution's version (or a placeholder in a bare source checkout).

    Model files record it and :func:`ketnoi.matcher.load_matcher` refuses a file from another
    version; ``ketnoi --version`` prints it.

    Examples
    --------
    >>> isinstance(ketnoi_version(), str)
    True
    """
    try:
        return version("ketnoi")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0+unknown"
