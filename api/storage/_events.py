"""Matchmaking events in the database: saved with their spec and schedule, every write audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ketnoi.api.storage._audit import record
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._models import Event

__all__ = [
    "EventRecord",
    "create_event",
    "get_event",
    "list_events",
    "scheduled_meetings",
    "update_event",
]


@dataclass(frozen=True)
class EventRecord:
    """An event as stored, detached from any session."""

    id: int
    name: str
    created_at: Any
    updated_at: Any
    created_by: str
    model_version: str
    data_fingerprint: str
    spec: dict[str, Any]
    schedule: dict[str, Any]


def _record(event: Event) -> EventRecord:
    return EventRecord(
        id=event.id,
        name=event.name,
        created_at=event.created_at,
        updated_at=event.updated_at,
        created_by=event.created_by,
        model_version=event.model_version,
        data_fingerprint=event.data_fingerprint,
        spec=dict(event.spec),
        schedule=dict(event.schedule),
    )


def _actor_name(actor: KeyInfo | str) -> str:
    return actor if isinstance(actor, str) else f"key:{actor.id}"


def _detail(schedule: dict[str, Any], model_version: str) -> dict[str, Any]:
    summary = schedule.get("summary") or {}
    keep = ("status", "meetings", "covered", "suppliers", "score")
    return {**{k: summary.get(k) for k in keep}, "model_version": model_version}


def create_event(
    engine: Engine,
    *,
    name: str,
    spec: dict[str, Any],
    schedule: dict[str, Any],
    model_version: str,
    data_fingerprint: str,
    actor: KeyInfo | str = "cli",
) -> int:
    """Save a scheduled event and audit it; returns its id."""

    def work(session: Session) -> int:
        event = Event(
            name=name,
            created_by=_actor_name(actor),
            model_version=model_version,
            data_fingerprint=data_fingerprint,
            spec=dict(spec),
            schedule=dict(schedule),
        )
        session.add(event)
        session.flush()
        record(session, actor, "create", "events", str(event.id), _detail(schedule, model_version))
        return event.id

    return transaction(engine, work)


def update_event(
    engine: Engine,
    event_id: int,
    *,
    spec: dict[str, Any],
    schedule: dict[str, Any],
    model_version: str,
    data_fingerprint: str,
    action: str = "reschedule",
    actor: KeyInfo | str = "cli",
) -> bool:
    """Replace an event's spec and schedule (after a lock or a re-run) and audit it; False when
    there is no such event."""

    def work(session: Session) -> bool:
        event = session.get(Event, event_id)
        if event is None:
            return False
        before = {"locks": len(event.spec.get("locks") or ())}
        event.spec = dict(spec)
        event.schedule = dict(schedule)
        event.model_version = model_version
        event.data_fingerprint = data_fingerprint
        session.flush()
        detail = {**_detail(schedule, model_version), "locks_before": before["locks"]}
        detail["locks"] = len(spec.get("locks") or ())
        record(session, actor, action, "events", str(event_id), detail)
        return True

    return transaction(engine, work)


def get_event(engine: Engine, event_id: int) -> EventRecord | None:
    """One event, or None."""
    with Session(engine) as session:
        event = session.get(Event, event_id)
        return None if event is None else _record(event)


def list_events(
    engine: Engine, page: int = 1, page_size: int = 50
) -> tuple[list[EventRecord], int]:
    """One page of events, newest first, and how many there are."""
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(Event)) or 0
        query = (
            select(Event).order_by(Event.id.desc()).offset((page - 1) * page_size).limit(page_size)
        )
        return [_record(e) for e in session.scalars(query)], int(total)


def scheduled_meetings(engine: Engine) -> pd.DataFrame:
    """Every meeting of every saved event's current schedule, with when it was last scheduled:
    the pairs the conversion report credits as scheduled by ketnoi.

    Returns
    -------
    DataFrame
        ``event``, ``buyer_id``, ``supplier_id``, ``as_of`` (UTC).
    """
    rows = []
    with Session(engine) as session:
        for event in session.scalars(select(Event)):
            for meeting in (event.schedule or {}).get("meetings") or ():
                rows.append(
                    (event.id, meeting["buyer_id"], meeting["supplier_id"], event.updated_at)
                )
    frame = pd.DataFrame(rows, columns=["event", "buyer_id", "supplier_id", "as_of"])
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True)
    return frame
