"""Re-planning an event whose agendas are out: keep every published meeting that can stay.

Once agendas are handed out, a new lock or a new participant must not reshuffle the day.
:func:`stable_schedule` keeps each published meeting in its slot and at its table unless the
change makes that impossible, and schedules what is new around them:

1. **Forced moves.** A lock in slot ``t`` forces out the published meetings of slot ``t`` that
   share a firm with the locked pair, or the table the locked meeting takes (a free table of
   the slot where there is one, so that nothing moves for it), and the locked pair's own
   meeting in another slot. Where the locks leave a slot with more interpreted meetings than
   interpreters, or a firm with more meetings than its cap, the weakest published meetings
   involved go too. Published meetings whose pair can no longer meet (a firm left the event, a
   link was made) are cancelled.
2. **The rest stays.** Every other published meeting is fixed in its slot (a slot lock), and
   the optimiser (:func:`~ketnoi.programme._schedule.optimal_schedule`, coverage then score)
   adds meetings in the room left: moved meetings, new participants' meetings.
3. **Tables.** A kept meeting keeps its table; the others take the free tables of their slot,
   the buyer's own table first.

Should the fixed meetings still not fit (a case the forced moves do not foresee), the event is
planned afresh and a note says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ketnoi.programme._event_notes import EventNote
from ketnoi.programme._schedule import (
    InfeasibleLocks,
    MeetingInstance,
    ScheduleResult,
    optimal_schedule,
)

__all__ = [
    "CHANGE_COLUMNS",
    "PublishedMeeting",
    "StablePlan",
    "published_changes",
    "published_pairs",
    "stable_schedule",
]

#: What re-planning did to the published meetings (and what it added), one row each.
CHANGE_COLUMNS = [
    "change",
    "buyer_id",
    "buyer_name",
    "supplier_id",
    "supplier_name",
    "slot_before",
    "table_before",
    "slot_after",
    "table_after",
]


@dataclass(frozen=True)
class PublishedMeeting:
    """A meeting on agendas already handed out: pair index, slot and table (0-based)."""

    pair: int
    slot: int
    table: int


@dataclass(frozen=True)
class StablePlan:
    """The new schedule, each meeting's table, and what happened to the published ones.

    ``forced`` are the published meetings (indices into the ``published`` argument) that had
    to leave their place; ``kept`` those that stayed.
    """

    result: ScheduleResult
    tables: np.ndarray
    kept: tuple[int, ...]
    forced: tuple[int, ...]
    notes: tuple[str, ...] = ()


def _lock_tables(
    instance: MeetingInstance, published: Sequence[PublishedMeeting]
) -> dict[int, int]:
    """The table each slot-locked pair takes: where it sits already, else a free table of its
    slot, else its buyer's own (whose meeting then moves)."""
    taken: dict[int, set[int]] = {}
    for m in published:
        taken.setdefault(m.slot, set()).add(m.table)
    where = {(m.pair, m.slot): m.table for m in published}
    out: dict[int, int] = {}
    for p, t in instance.locks:
        if t is None:
            continue
        if (p, t) in where:
            out[p] = where[(p, t)]
            continue
        used = taken.setdefault(t, set())
        free = [k for k in range(instance.tables) if k not in used]
        home = int(instance.pair_buyer[p]) % instance.tables
        out[p] = home if home in free or not free else free[0]
        used.add(out[p])
    return out


def _forced(
    instance: MeetingInstance, published: Sequence[PublishedMeeting], lock_table: dict[int, int]
) -> set[int]:
    """Indices of the published meetings the locks force out of their place."""
    out: set[int] = set()
    slot_of = dict(instance.locks)
    for i, m in enumerate(published):
        if m.pair in slot_of and slot_of[m.pair] is not None and slot_of[m.pair] != m.slot:
            out.add(i)  # the locked pair itself, published in another slot
    for p, t in instance.locks:
        if t is None:
            continue
        b, s = instance.pair_buyer[p], instance.pair_supplier[p]
        for i, m in enumerate(published):
            if m.slot != t or m.pair == p:
                continue
            same_firm = instance.pair_buyer[m.pair] == b or instance.pair_supplier[m.pair] == s
            if same_firm or m.table == lock_table[p]:
                out.add(i)
    locked = {p for p, _ in instance.locks}
    # Interpreters per slot and caps per firm: the weakest published meetings give way.
    for t in range(instance.slots):
        need = [
            i
            for i, m in enumerate(published)
            if m.slot == t and i not in out and instance.pair_interpreter[m.pair]
        ]
        need_locked = sum(
            bool(instance.pair_interpreter[p]) for p, slot in instance.locks if slot == t
        )
        need = [i for i in need if published[i].pair not in locked]
        spare = instance.interpreters - need_locked
        need.sort(key=lambda i: instance.pair_score[published[i].pair])
        out.update(need[: max(0, len(need) - max(spare, 0))])
    for firms, caps in (
        (instance.pair_buyer, instance.buyer_cap),
        (instance.pair_supplier, instance.supplier_cap),
    ):
        for f in np.unique(firms[[m.pair for m in published]] if published else []):
            own = [i for i, m in enumerate(published) if firms[m.pair] == f and i not in out]
            n_locked = sum(firms[p] == f for p in locked)
            free = [i for i in own if published[i].pair not in locked]
            room = min(int(caps[f]), instance.slots) - n_locked
            free.sort(key=lambda i: instance.pair_score[published[i].pair])
            out.update(free[: max(0, len(free) - max(room, 0))])
    return out


def _tables(
    instance: MeetingInstance,
    pairs: np.ndarray,
    slots: np.ndarray,
    fixed: dict[tuple[int, int], int],
) -> np.ndarray:
    """A table for each meeting: its fixed one, else a free one, the buyer's own first."""
    out = np.full(len(pairs), -1, dtype=np.int64)
    for t in range(instance.slots):
        here = np.flatnonzero(slots == t)
        free = set(range(instance.tables))
        for k in here:
            table = fixed.get((int(pairs[k]), t))
            if table is not None and table in free:
                out[k] = table
                free.discard(table)
        rest = [k for k in here if out[k] < 0]
        rest.sort(key=lambda k: int(instance.pair_buyer[pairs[k]]))
        for k in rest:
            home = int(instance.pair_buyer[pairs[k]]) % instance.tables
            out[k] = home if home in free else min(free)
            free.discard(int(out[k]))
    return out


def stable_schedule(
    instance: MeetingInstance,
    published: Sequence[PublishedMeeting],
    *,
    time_limit: float | None = 60.0,
) -> StablePlan:
    """Schedule ``instance`` keeping the ``published`` meetings in place wherever possible.

    Parameters
    ----------
    instance : MeetingInstance
        The event as it is now (its locks included).
    published : sequence of PublishedMeeting
        The meetings on the agendas handed out, as pairs of ``instance`` (a meeting whose pair
        can no longer meet is the caller's to cancel).
    time_limit : float or None
        Seconds for the optimiser.

    Returns
    -------
    StablePlan

    Raises
    ------
    InfeasibleLocks
        Locks that cannot all be held, whatever moves.
    """
    instance.check()
    lock_table = _lock_tables(instance, published)
    forced = _forced(instance, published, lock_table)
    kept = [i for i in range(len(published)) if i not in forced]
    slot_locks = dict(instance.locks)
    for i in kept:
        slot_locks[published[i].pair] = published[i].slot
    pinned = dataclasses.replace(instance, locks=tuple(slot_locks.items()))
    notes: tuple[str, ...] = ()
    try:
        result = optimal_schedule(pinned, time_limit=time_limit)
    except InfeasibleLocks:
        result = optimal_schedule(instance, time_limit=time_limit)
        kept = []
        forced = set(range(len(published)))
        notes = (EventNote("replanned_afresh"),)
    fixed = {(published[i].pair, published[i].slot): published[i].table for i in kept}
    fixed.update({(p, t): lock_table[p] for p, t in instance.locks if t is not None})
    tables = _tables(instance, result.pairs, result.slots, fixed)
    return StablePlan(
        result=result,
        tables=tables,
        kept=tuple(kept),
        forced=tuple(sorted(forced)),
        notes=notes + result.notes,
    )


def published_pairs(
    buyers: Sequence[str], suppliers: Sequence[str], inst: MeetingInstance, published: pd.DataFrame
) -> list[tuple[PublishedMeeting | None, dict[str, Any]]]:
    """Each published meeting (a row of a meeting table) as a pair of the new instance (None:
    the pair can no longer meet, or its slot or table is gone), with its row."""
    b_pos = {b: i for i, b in enumerate(buyers)}
    s_pos = {s: j for j, s in enumerate(suppliers)}
    pair_of = {
        (int(b), int(s)): k
        for k, (b, s) in enumerate(zip(inst.pair_buyer, inst.pair_supplier, strict=True))
    }
    out: list[tuple[PublishedMeeting | None, dict[str, Any]]] = []
    for row in published.to_dict("records"):
        key = (b_pos.get(row["buyer_id"], -1), s_pos.get(row["supplier_id"], -1))
        slot, table = int(row["slot"]) - 1, int(row["table"]) - 1
        fits = 0 <= slot < inst.slots and 0 <= table < inst.tables
        pair = pair_of.get(key)
        meeting = PublishedMeeting(pair, slot, table) if pair is not None and fits else None
        out.append((meeting, row))
    return out


def published_changes(
    previous: list[tuple[PublishedMeeting | None, dict[str, Any]]], meetings: pd.DataFrame
) -> pd.DataFrame:
    """Published meetings that moved or were cancelled, and the meetings added, one row each
    (:data:`CHANGE_COLUMNS`)."""
    now = {(m["buyer_id"], m["supplier_id"]): m for m in meetings.to_dict("records")}
    before = set()
    rows = []
    for _, row in previous:
        pair = (row["buyer_id"], row["supplier_id"])
        before.add(pair)
        after = now.get(pair)
        same = after is not None and (after["slot"], after["table"]) == (
            int(row["slot"]),
            int(row["table"]),
        )
        if same:  # in place (a kept meeting, or one the optimiser put back where it was)
            continue
        rows.append(
            {
                "change": "cancelled" if after is None else "moved",
                "buyer_id": pair[0],
                "buyer_name": row.get("buyer_name", ""),
                "supplier_id": pair[1],
                "supplier_name": row.get("supplier_name", ""),
                "slot_before": int(row["slot"]),
                "table_before": int(row["table"]),
                "slot_after": None if after is None else after["slot"],
                "table_after": None if after is None else after["table"],
            }
        )
    for pair, m in now.items():
        if pair not in before:
            rows.append(
                {
                    "change": "added",
                    "buyer_id": pair[0],
                    "buyer_name": m["buyer_name"],
                    "supplier_id": pair[1],
                    "supplier_name": m["supplier_name"],
                    "slot_before": None,
                    "table_before": None,
                    "slot_after": m["slot"],
                    "table_after": m["table"],
                }
            )
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    return frame.astype({c: "Int64" for c in CHANGE_COLUMNS if c.startswith(("slot", "table"))})
