"""Matchmaking events scheduled: which pairs may meet, and the schedule as tables.

:func:`schedule_event` scores every buyer-supplier pair of an event's participants
(:class:`~ketnoi.programme.EventSpec`, in :mod:`ketnoi.programme._event_spec`) with a fitted
:class:`~ketnoi.matcher.Matcher`, keeps the pairs that may meet, and hands the numeric instance
(:class:`~ketnoi.programme.MeetingInstance`) to :mod:`ketnoi.programme._schedule` (the optimiser
or the greedy baseline). :class:`EventSchedule` holds the result: the meetings, each firm's
agenda and the slot-by-table grid.

Which pairs may meet
--------------------
A pair is proposed when the supplier is among the buyer's candidates (a score >= 0 from
:meth:`Matcher.score_buyers`), and, by default, when the two firms have no active link (they
know each other already) and no ``declined`` outcome (one of them said no). Locked meetings are
held whatever the pair is (staff know something the data do not); a locked pair outside the
candidates counts with score 0.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.programme._event_spec import (
    EventError,
    EventSpec,
    check_participants,
    meeting_language,
    participant_languages,
    spec_problems,
)
from ketnoi.programme._schedule import InfeasibleLocks, MeetingInstance, ScheduleResult
from ketnoi.programme._schedule import greedy_schedule as _greedy
from ketnoi.programme._schedule import optimal_schedule as _optimal

if TYPE_CHECKING:
    from ketnoi.matcher import Matcher

__all__ = [
    "AGENDA_COLUMNS",
    "EventSchedule",
    "MEETING_COLUMNS",
    "event_agendas",
    "event_grid",
    "schedule_event",
]

#: Most seconds the optimiser may take by default (the time-indexed fallback stops there).
DEFAULT_TIME_LIMIT = 60.0


MEETING_COLUMNS = [
    "slot",
    "slot_label",
    "table",
    "buyer_id",
    "buyer_name",
    "supplier_id",
    "supplier_name",
    "score",
    "language",
    "interpreter",
    "locked",
]

AGENDA_COLUMNS = [
    "firm_id",
    "firm_name",
    "side",
    "slot",
    "slot_label",
    "table",
    "counterpart_id",
    "counterpart_name",
    "score",
    "language",
    "interpreter",
]


@dataclass(frozen=True)
class EventSchedule:
    """A scheduled event: its meetings, and how good the schedule is known to be.

    Attributes
    ----------
    spec : EventSpec
        The event, each participant's side filled in.
    meetings : DataFrame
        One row per meeting (:data:`MEETING_COLUMNS`), by slot then table.
    status : {"optimal", "feasible", "heuristic"}
    method : {"decomposition", "time-indexed", "greedy"}
    suppliers, covered : int
        Suppliers taking part; those with at least one meeting.
    score : float
        Total match score of the meetings.
    bound_covered, bound_score : int or float or None
        Upper bounds on the optimum (None for the greedy).
    seconds : float
        Wall time of the solve (scoring excluded).
    notes : tuple of str
        What the reader should know: the fallback ran, firms the model cannot score.
    names : dict
        Each participant's name.
    """

    spec: EventSpec
    meetings: pd.DataFrame
    status: str
    method: str
    suppliers: int
    covered: int
    score: float
    bound_covered: int | None = None
    bound_score: float | None = None
    gap: float | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())
    names: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The figures of the schedule as JSON."""
        return {
            "status": self.status,
            "method": self.method,
            "meetings": len(self.meetings),
            "suppliers": self.suppliers,
            "covered": self.covered,
            "score": round(self.score, 6),
            "bound_covered": self.bound_covered,
            "bound_score": None if self.bound_score is None else round(self.bound_score, 6),
            "gap": self.gap,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }

    def agendas(self) -> pd.DataFrame:
        """Each participant's meetings, by firm in registration order, then slot."""
        return event_agendas(self.spec, self.meetings, names=self.names)

    def grid(self) -> pd.DataFrame:
        """The slot-by-table grid."""
        return event_grid(self.spec, self.meetings)

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The tables to export: ``meetings``, ``agendas`` and ``grid``."""
        return {"meetings": self.meetings, "agendas": self.agendas(), "grid": self.grid()}


def event_agendas(
    spec: EventSpec,
    meetings: pd.DataFrame,
    firm_id: str | None = None,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Per-firm agendas (:data:`AGENDA_COLUMNS`) from a meeting table; one firm's if given.

    Every participant appears (``spec`` with its sides filled in, as :class:`EventSchedule`
    holds it); a firm without a meeting has one row with an empty slot. ``names`` gives the
    names of firms without a meeting.
    """
    rows = []
    for p in spec.participants:
        if firm_id is not None and p.firm_id != firm_id:
            continue
        own, other = ("buyer", "supplier") if p.side == "buyer" else ("supplier", "buyer")
        mine = meetings[meetings[f"{own}_id"] == p.firm_id].sort_values("slot")
        name = (names or {}).get(p.firm_id, "")
        for m in mine.to_dict("records"):
            name = m[f"{own}_name"]
            rows.append(
                {
                    "firm_id": p.firm_id,
                    "firm_name": name,
                    "side": p.side,
                    "slot": m["slot"],
                    "slot_label": m["slot_label"],
                    "table": m["table"],
                    "counterpart_id": m[f"{other}_id"],
                    "counterpart_name": m[f"{other}_name"],
                    "score": m["score"],
                    "language": m["language"],
                    "interpreter": m["interpreter"],
                }
            )
        if mine.empty:
            empty = dict.fromkeys(AGENDA_COLUMNS, None)
            rows.append({**empty, "firm_id": p.firm_id, "side": p.side, "firm_name": name})
    return pd.DataFrame(rows, columns=AGENDA_COLUMNS).astype({"slot": "Int64", "table": "Int64"})


def event_grid(spec: EventSpec, meetings: pd.DataFrame) -> pd.DataFrame:
    """One row per slot, one column per table: ``buyer_id / supplier_id`` in each cell held."""
    cells = {t: [""] * spec.slots for t in range(1, spec.tables + 1)}
    for m in meetings.to_dict("records"):
        text = f"{m['buyer_id']} / {m['supplier_id']}"
        if m["interpreter"]:
            text += " (interpreter)"
        cells[int(m["table"])][int(m["slot"]) - 1] = text
    frame = pd.DataFrame({"slot": [spec.label(t) for t in range(spec.slots)]})
    for t, column in cells.items():
        frame[f"table {t}"] = column
    return frame


def _excluded_pairs(dataset: graph.Dataset, spec: EventSpec) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    links = dataset.links
    if not spec.include_linked and len(links):
        active = links[links["status"] == "active"]
        out |= set(zip(active["buyer_id"], active["supplier_id"], strict=True))
    outcomes = dataset.outcomes
    if not spec.include_declined and len(outcomes):
        declined = outcomes[outcomes["outcome"] == "declined"]
        out |= set(zip(declined["buyer_id"], declined["supplier_id"], strict=True))
    return out


def _scores(m: Matcher, buyers: list[str], suppliers: list[str]) -> tuple[np.ndarray, list[str]]:
    """Scores (buyers x suppliers; NaN where the model cannot score) and notes."""
    out = np.full((len(buyers), len(suppliers)), np.nan)
    known_s = {s: i for i, s in enumerate(m.supplier_ids_)}
    known_b = set(m.index_.buyer_ids)
    rows = [i for i, b in enumerate(buyers) if b in known_b]
    cols = [j for j, s in enumerate(suppliers) if s in known_s]
    notes = []
    unknown = [b for b in buyers if b not in known_b] + [s for s in suppliers if s not in known_s]
    if unknown:
        shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        notes.append(f"the model does not know {len(unknown)} participant(s) ({shown}): retrain")
    if rows and cols:
        scored = m.score_buyers([buyers[i] for i in rows])
        block = scored[:, [known_s[suppliers[j]] for j in cols]]
        out[np.ix_(rows, cols)] = block
    return out, notes


@dataclass(frozen=True)
class _Prepared:
    """An event made ready for the scheduler: the spec with its sides filled in, the numeric
    instance, and what turns the instance's numbers back into firms and languages."""

    spec: EventSpec
    instance: MeetingInstance
    buyers: list[str]
    suppliers: list[str]
    language: list[str]
    locked: set[int]
    notes: list[str]


def _prepare(spec: EventSpec, m: Matcher, dataset: graph.Dataset, where: str) -> _Prepared:
    problems = spec_problems(spec, where)
    if problems:
        raise EventError(problems)
    participants = check_participants(spec.participants, dataset, where=f"{where}.participants")
    buyers = [p for p in participants if p.side == "buyer"]
    suppliers = [p for p in participants if p.side == "supplier"]
    firms = {r["firm_id"]: r for r in dataset.firms.to_dict("records")}
    langs = {p.firm_id: participant_languages(p, firms[p.firm_id]) for p in participants}
    b_ids, s_ids = [p.firm_id for p in buyers], [p.firm_id for p in suppliers]
    b_pos, s_pos = {b: i for i, b in enumerate(b_ids)}, {s: j for j, s in enumerate(s_ids)}

    lock_pairs: dict[tuple[int, int], int | None] = {}
    lock_problems = []
    for i, lock in enumerate(spec.locks):
        line = i + 1
        for column, value, pos, side in (
            ("buyer_id", lock.buyer_id, b_pos, "buyer"),
            ("supplier_id", lock.supplier_id, s_pos, "supplier"),
        ):
            if value not in pos:
                lock_problems.append(
                    graph.Problem(
                        f"{where}.locks", line, column, f"'{value}' is not a {side} at this event"
                    )
                )
        if lock.slot is not None and not 1 <= lock.slot <= spec.slots:
            lock_problems.append(
                graph.Problem(
                    f"{where}.locks",
                    line,
                    "slot",
                    f"slot {lock.slot} is not one of the event's slots 1-{spec.slots}",
                )
            )
        if lock.buyer_id in b_pos and lock.supplier_id in s_pos:
            key = (b_pos[lock.buyer_id], s_pos[lock.supplier_id])
            if key in lock_pairs:
                lock_problems.append(
                    graph.Problem(f"{where}.locks", line, None, "this pair is locked twice")
                )
            lock_pairs[key] = None if lock.slot is None else lock.slot - 1
    if lock_problems:
        raise EventError(lock_problems)

    scores, notes = _scores(m, b_ids, s_ids)
    excluded = _excluded_pairs(dataset, spec)
    keep = np.nan_to_num(scores, nan=-1.0) >= 0
    for b, s in excluded:
        if b in b_pos and s in s_pos:
            keep[b_pos[b], s_pos[s]] = False
    for bi, sj in lock_pairs:
        keep[bi, sj] = True
    pb, ps = np.nonzero(keep)
    score = np.clip(np.nan_to_num(scores[pb, ps], nan=0.0), 0.0, None)
    language = [
        meeting_language(langs[b_ids[b]], langs[s_ids[s]]) for b, s in zip(pb, ps, strict=True)
    ]
    pair_of = {(int(b), int(s)): k for k, (b, s) in enumerate(zip(pb, ps, strict=True))}
    locks = tuple((pair_of[key], slot) for key, slot in lock_pairs.items())
    # The greedy's queue: suppliers in registration order, each asking for its buyers best
    # first (a supplier asks for the meetings it wants most).
    requests = np.lexsort((-score, ps)) if len(ps) else np.zeros(0, dtype=np.int64)
    cap = spec.max_meetings
    instance = MeetingInstance(
        n_buyers=len(b_ids),
        n_suppliers=len(s_ids),
        pair_buyer=pb.astype(np.int64),
        pair_supplier=ps.astype(np.int64),
        pair_score=score,
        pair_interpreter=np.array([lang == "" for lang in language], dtype=bool),
        slots=spec.slots,
        tables=spec.tables,
        interpreters=spec.interpreters,
        buyer_cap=np.array([p.max_meetings or cap for p in buyers], dtype=np.int64),
        supplier_cap=np.array([p.max_meetings or cap for p in suppliers], dtype=np.int64),
        locks=locks,
        requests=requests,
        buyer_names=tuple(b_ids),
        supplier_names=tuple(s_ids),
    )
    resolved = dataclasses.replace(spec, participants=participants)
    return _Prepared(resolved, instance, b_ids, s_ids, language, {p for p, _ in locks}, notes)


def _tables(spec: EventSpec, buyers: np.ndarray, slots: np.ndarray, n_buyers: int) -> np.ndarray:
    """A table for each meeting: a buyer keeps one table all day where the tables allow."""
    home = np.arange(n_buyers) % spec.tables
    out = np.zeros(len(buyers), dtype=np.int64)
    for t in range(spec.slots):
        here = np.flatnonzero(slots == t)
        free = set(range(spec.tables))
        rest = []
        for k in here[np.argsort(buyers[here], kind="stable")]:
            if home[buyers[k]] in free:
                out[k] = home[buyers[k]]
                free.discard(out[k])
            else:
                rest.append(k)
        for k, table in zip(rest, sorted(free), strict=False):
            out[k] = table
    return out + 1


def _meetings(
    spec: EventSpec, event: _Prepared, result: ScheduleResult, dataset: graph.Dataset
) -> pd.DataFrame:
    names = dict(zip(dataset.firms["firm_id"], dataset.firms["name"], strict=True))
    instance = event.instance
    buyers = instance.pair_buyer[result.pairs]
    tables = _tables(spec, buyers, result.slots, instance.n_buyers)
    rows = []
    for k, (p, t) in enumerate(zip(result.pairs.tolist(), result.slots.tolist(), strict=True)):
        b, s = event.buyers[instance.pair_buyer[p]], event.suppliers[instance.pair_supplier[p]]
        rows.append(
            {
                "slot": t + 1,
                "slot_label": spec.label(t),
                "table": int(tables[k]),
                "buyer_id": b,
                "buyer_name": names.get(b, ""),
                "supplier_id": s,
                "supplier_name": names.get(s, ""),
                "score": round(float(instance.pair_score[p]), 6),
                "language": event.language[p],
                "interpreter": bool(instance.pair_interpreter[p]),
                "locked": p in event.locked,
            }
        )
    frame = pd.DataFrame(rows, columns=MEETING_COLUMNS)
    return frame.sort_values(["slot", "table"], ignore_index=True)


def schedule_event(
    spec: EventSpec,
    m: Matcher,
    dataset: graph.Dataset | None = None,
    *,
    method: str = "optimal",
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    where: str = "event",
) -> EventSchedule:
    """Choose an event's meetings and place them in slots and at tables.

    Parameters
    ----------
    spec : EventSpec
    m : Matcher
        A fitted matcher: the pairs' scores.
    dataset : graph.Dataset, optional
        The firms, links and outcomes to check the participants against (default: the one
        bound to ``m``).
    method : {"optimal", "greedy"}
        The optimiser (see :mod:`ketnoi.programme._schedule`) or the first-come baseline.
    time_limit : float or None
        Seconds the optimiser may take (reached only in the fallback).
    where : str
        How errors name the event (a file name, ``request``).

    Returns
    -------
    EventSchedule

    Raises
    ------
    EventError
        Bad limits, unknown or misplaced participants, locks that name firms not taking part
        or cannot all be held.
    """
    if method not in {"optimal", "greedy"}:
        raise ValueError(f"method must be optimal or greedy, not {method!r}")
    data = dataset if dataset is not None else m.dataset_
    event = _prepare(spec, m, data, where)
    try:
        event.instance.check()
        if method == "greedy":
            result = _greedy(event.instance)
        else:
            result = _optimal(event.instance, time_limit=time_limit)
    except InfeasibleLocks as exc:
        raise EventError.at(
            f"{where}.locks", None, f"the locks cannot all be honoured: {exc}"
        ) from None
    meetings = _meetings(event.spec, event, result, data)
    gap = result.gap
    names = dict(zip(data.firms["firm_id"], data.firms["name"], strict=True))
    return EventSchedule(
        spec=event.spec,
        meetings=meetings,
        status=result.status,
        method=result.method,
        suppliers=event.instance.n_suppliers,
        covered=result.covered,
        score=result.score,
        bound_covered=result.bound_covered,
        bound_score=result.bound_score,
        gap=None if gap is None or math.isnan(gap) else gap,
        seconds=result.seconds,
        notes=tuple(event.notes) + result.notes,
        names={p.firm_id: str(names.get(p.firm_id, "")) for p in event.spec.participants},
    )
