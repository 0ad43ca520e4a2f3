"""Programme reports: localisation gaps, near-miss suppliers, concentration, indicators."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/v1/programme", tags=["programme"])
