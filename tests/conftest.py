"""Shared fixtures: the hand-written tiny dataset, and a fresh copy of it to break."""

from __future__ import annotations

import shutil
from pathlib import Path

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
