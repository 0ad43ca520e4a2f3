"""Matchmaking events: participants, slots, the schedule, locks and exports."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/v1/events", tags=["events"])
