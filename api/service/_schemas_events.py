"""Request and response bodies of the matchmaking-event routes.

Every field is bounded, as in :mod:`api.service._schemas`: an event can never ask for
unbounded work (at most :data:`MAX_PARTICIPANTS` firms, :data:`MAX_SLOTS` slots).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from ketnoi import programme
from ketnoi.api.service._schemas import Id, RequestBody, Text

__all__ = [
    "AgendaItem",
    "AgendaPublic",
    "EventCreate",
    "EventLocks",
    "EventPublic",
    "EventSummary",
    "LockIn",
    "MAX_PARTICIPANTS",
    "MAX_SLOTS",
    "Meeting",
    "ParticipantIn",
    "ScheduleSummary",
]

# One place for the limits: the CLI's ``ketnoi schedule`` is held to the same.
MAX_PARTICIPANTS = programme.EVENT_LIMITS.participants
MAX_SLOTS = programme.EVENT_LIMITS.slots
MAX_TABLES = programme.EVENT_LIMITS.tables
MAX_LOCKS = programme.EVENT_LIMITS.locks
MAX_INTERPRETERS = programme.EVENT_LIMITS.interpreters

LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
SlotNumber = Annotated[int, Field(ge=1, le=MAX_SLOTS)]


class ParticipantIn(RequestBody):
    """A firm taking part; ``side`` may be left empty for a firm that is only a buyer or only
    a supplier. ``languages``: those of the people attending (empty: the firm's)."""

    firm_id: Id
    side: Literal["", "buyer", "supplier"] = ""
    languages: Annotated[list[LanguageCode], Field(max_length=10)] = []
    max_meetings: Annotated[int | None, Field(ge=1, le=MAX_SLOTS)] = None


class LockIn(RequestBody):
    """A meeting to hold: the pair, and optionally its slot (1-based)."""

    buyer_id: Id
    supplier_id: Id
    slot: SlotNumber | None = None


class PairIn(RequestBody):
    """A buyer-supplier pair."""

    buyer_id: Id
    supplier_id: Id


class EventCreate(RequestBody):
    """A matchmaking event to schedule and save (staff only).

    ``participants`` in registration order; a firm has at most one meeting per slot and at
    most ``max_meetings`` in all; at most ``tables`` meetings run at once, and at most
    ``interpreters`` of those without a shared language.
    """

    name: Text = ""
    participants: Annotated[list[ParticipantIn], Field(min_length=1, max_length=MAX_PARTICIPANTS)]
    slots: SlotNumber
    tables: Annotated[int, Field(ge=1, le=MAX_TABLES)]
    max_meetings: SlotNumber
    interpreters: Annotated[int, Field(ge=0, le=MAX_INTERPRETERS)] = 0
    locks: Annotated[list[LockIn], Field(max_length=MAX_LOCKS)] = []
    slot_labels: Annotated[
        list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]],
        Field(max_length=MAX_SLOTS),
    ] = []
    include_linked: bool = False
    include_declined: bool = False
    method: Literal["optimal", "greedy"] = "optimal"
    #: Pairs scoring below it are not proposed (locks are held whatever they score).
    min_score: Annotated[float, Field(ge=0, le=1)] = 0.0
    #: The lunch break on the agendas: after this many slots, and its time ("12:00-13:00").
    lunch_after: Annotated[int | None, Field(ge=1, le=MAX_SLOTS)] = None
    lunch_label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""


class EventLocks(RequestBody):
    """Meetings to lock (``add``; a pair locked again takes its new slot) and to unlock."""

    add: Annotated[list[LockIn], Field(max_length=MAX_LOCKS)] = []
    remove: Annotated[list[PairIn], Field(max_length=MAX_LOCKS)] = []


class Meeting(BaseModel):
    """One meeting: when, where, who, and what it is worth."""

    slot: int
    slot_label: str
    table: int
    buyer_id: str
    buyer_name: str
    supplier_id: str
    supplier_name: str
    score: float
    language: str
    interpreter: bool
    locked: bool


class ScheduleSummary(BaseModel):
    """How good the schedule is and is known to be (see docs/events.md)."""

    status: str
    method: str
    meetings: int
    suppliers: int
    covered: int
    score: float
    bound_covered: int | None
    bound_score: float | None
    gap: float | None
    seconds: float
    notes: list[str]
    #: Re-planned around published meetings: how many moved, were cancelled, were added.
    moved: int | None = None
    cancelled: int | None = None
    added: int | None = None
    #: Participants left without a meeting (each with the reason, in ``unmet``).
    without_meeting: int | None = None


class MeetingChange(BaseModel):
    """What re-planning did to a published meeting (``moved``, ``cancelled``), or a meeting it
    ``added``: the slot and table before and after."""

    change: str
    buyer_id: str
    buyer_name: str
    supplier_id: str
    supplier_name: str
    slot_before: int | None
    table_before: int | None
    slot_after: int | None
    table_after: int | None


class EventSummary(BaseModel):
    """A saved event without its meetings."""

    id: int
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    model_version: str
    data_fingerprint: str
    summary: ScheduleSummary


class EventPublic(EventSummary):
    """A saved event: its spec (participants with their sides, limits, locks) and meetings."""

    spec: dict[str, Any]
    meetings: list[Meeting]
    changes: list[MeetingChange] = []
    unmet: list[dict[str, Any]] = []


class AgendaItem(BaseModel):
    """One meeting on a firm's agenda (``slot`` empty: the firm has no meeting)."""

    firm_id: str
    firm_name: str
    side: str
    slot: int | None
    slot_label: str | None
    table: int | None
    counterpart_id: str | None
    counterpart_name: str | None
    language: str | None
    interpreter: bool | None


class AgendaPublic(BaseModel):
    """One firm's agenda at an event."""

    event_id: int
    firm_id: str
    items: list[AgendaItem]
