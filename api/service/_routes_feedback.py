"""The feedback loop: the conversion report."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/v1/programme", tags=["feedback"])
