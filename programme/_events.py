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
from ketnoi.programme._event_notes import EventNote
from ketnoi.programme._event_spec import (
    EventError,
    EventSpec,
    check_participants,
    meeting_language,
    participant_languages,
    spec_problems,
)
from ketnoi.programme._replan import (
    CHANGE_COLUMNS,
    PublishedMeeting,
    published_changes,
    published_pairs,
    stable_schedule,
)
from ketnoi.programme._report_language import report_in_language
from ketnoi.programme._schedule import InfeasibleLocks, MeetingInstance, ScheduleResult
from ketnoi.programme._schedule import greedy_schedule as _greedy
from ketnoi.programme._schedule import optimal_schedule as _optimal

if TYPE_CHECKING:
    from ketnoi.matcher import Matcher

__all__ = [
    "AGENDA_COLUMNS",
    "CHANGE_COLUMNS",
    "EventSchedule",
    "MEETING_COLUMNS",
    "NO_MEETING",
    "UNMET_COLUMNS",
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

#: Participants without a meeting: who, and why.
UNMET_COLUMNS = ["firm_id", "firm_name", "side", "reason"]

AGENDA_COLUMNS = [
    "firm_id",
    "firm_name",
    "side",
    "slot",
    "slot_label",
    "table",
    "counterpart_id",
    "counterpart_name",
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
    changes: pd.DataFrame | None = None
    unmet: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNMET_COLUMNS))

    def summary(self) -> dict[str, Any]:
        """The figures of the schedule as JSON (``moved``, ``cancelled`` and ``added`` count
        the changes to published meetings, where the schedule was re-planned)."""
        changed: dict[str, Any] = {}
        if self.changes is not None:
            counts = self.changes["change"].value_counts()
            changed = {k: int(counts.get(k, 0)) for k in ("moved", "cancelled", "added")}
        return {
            **changed,
            "without_meeting": len(self.unmet),
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

    def grid(self, lang: str = "en") -> pd.DataFrame:
        """The slot-by-table grid, firms by name."""
        return event_grid(self.spec, self.meetings, lang)

    def sheets(self, lang: str = "en") -> dict[str, pd.DataFrame]:
        """The tables to export: ``meetings``, ``agendas`` and ``grid`` (their words in
        ``lang``)."""
        agendas = report_in_language(self.agendas(), None, lang)
        return {"meetings": self.meetings, "agendas": agendas, "grid": self.grid(lang)}


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
                    "language": m["language"],
                    "interpreter": m["interpreter"],
                }
            )
        if mine.empty:
            empty = dict.fromkeys(AGENDA_COLUMNS, None)
            rows.append({**empty, "firm_id": p.firm_id, "side": p.side, "firm_name": name})
    return pd.DataFrame(rows, columns=AGENDA_COLUMNS).astype({"slot": "Int64", "table": "Int64"})


def event_grid(spec: EventSpec, meetings: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """One row per slot, one column per table: ``buyer name / supplier name`` in each cell
    held (the id where a name is missing), for the organisers."""
    cells = {t: [""] * spec.slots for t in range(1, spec.tables + 1)}
    interpreted = " (interpreter)" if lang == "en" else " (phiên dịch)"
    for m in meetings.to_dict("records"):
        buyer = m.get("buyer_name") or m["buyer_id"]
        supplier = m.get("supplier_name") or m["supplier_id"]
        text = f"{buyer} / {supplier}"
        if m["interpreter"]:
            text += interpreted
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
    notes: list[str] = []
    unknown = [b for b in buyers if b not in known_b] + [s for s in suppliers if s not in known_s]
    if unknown:
        shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        notes.append(EventNote("unknown_participants", count=len(unknown), shown=shown))
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
    why: dict[str, str]


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
    candidate = np.nan_to_num(scores, nan=-1.0) >= 0
    keep = candidate.copy()
    for b, s in excluded:
        if b in b_pos and s in s_pos:
            keep[b_pos[b], s_pos[s]] = False
            # A linked pair is no candidate for the matcher (it trades already), but for the
            # unmet report it is the reason: "trades with it already".
            candidate[b_pos[b], s_pos[s]] = True
    open_ = keep.copy()
    keep &= np.nan_to_num(scores, nan=-1.0) >= spec.min_score
    for bi, sj in lock_pairs:
        keep[bi, sj] = True
    why = _why_no_pair(spec, b_ids, s_ids, scores, candidate, open_, keep)
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
    return _Prepared(resolved, instance, b_ids, s_ids, language, {p for p, _ in locks}, notes, why)


#: Why a participant has no meeting, as the unmet report says it.
NO_MEETING = {
    "unknown": "the model does not know this firm (added since it was fitted): retrain",
    "no_candidate": "no firm on the other side is among its candidates (no category fit)",
    "closed": "every candidate on the other side trades with it already or declined",
    "weak": "every candidate pair scores below the event's minimum meeting score",
    "interpreter": (
        "each possible partner needs an interpreter, and the interpreters were taken by"
        " meetings that cover more suppliers or score higher"
    ),
    "full": (
        "its possible partners' days were full (caps, slots, tables), taken by meetings"
        " that cover more suppliers or score higher"
    ),
}


def _why_no_pair(
    spec: EventSpec,
    buyers: list[str],
    suppliers: list[str],
    scores: np.ndarray,
    candidate: np.ndarray,
    open_: np.ndarray,
    keep: np.ndarray,
) -> dict[str, str]:
    """For each firm without a pair that may meet: why (a key of :data:`NO_MEETING`)."""
    out = {}
    n_b, n_s = len(buyers), len(suppliers)
    for axis, firms in ((1, buyers), (0, suppliers)):
        n = n_b if axis == 1 else n_s
        if not (n_b and n_s):
            out.update(dict.fromkeys(firms, "no_candidate"))
            continue
        unknown = np.asarray(np.isnan(scores).all(axis=axis))
        any_keep = np.asarray(keep.any(axis=axis))
        any_candidate = np.asarray(candidate.any(axis=axis))
        any_open = np.asarray(open_.any(axis=axis))
        for i in range(n):
            if any_keep[i]:
                continue
            firm = firms[i]
            if unknown[i]:
                out[firm] = "unknown"
            elif not any_candidate[i]:
                out[firm] = "no_candidate"
            elif not any_open[i]:
                out[firm] = "closed"
            else:
                out[firm] = "weak"
    return out


def event_unmet(
    event_spec: EventSpec,
    meetings: pd.DataFrame,
    why: dict[str, str],
    interpreted_only: set[str],
    names: dict[str, str],
) -> pd.DataFrame:
    """Participants without a meeting, and why (:data:`UNMET_COLUMNS`)."""
    met = set(meetings["buyer_id"]) | set(meetings["supplier_id"])
    rows = []
    for p in event_spec.participants:
        if p.firm_id in met:
            continue
        code = why.get(p.firm_id) or ("interpreter" if p.firm_id in interpreted_only else "full")
        rows.append(
            {
                "firm_id": p.firm_id,
                "firm_name": names.get(p.firm_id, ""),
                "side": p.side,
                "reason": NO_MEETING[code],
            }
        )
    return pd.DataFrame(rows, columns=UNMET_COLUMNS)


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
    spec: EventSpec,
    event: _Prepared,
    result: ScheduleResult,
    dataset: graph.Dataset,
    tables: np.ndarray | None = None,
) -> pd.DataFrame:
    names = dict(zip(dataset.firms["firm_id"], dataset.firms["name"], strict=True))
    instance = event.instance
    buyers = instance.pair_buyer[result.pairs]
    if tables is None:
        tables = _tables(spec, buyers, result.slots, instance.n_buyers)
    else:
        tables = tables + 1
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
    published: pd.DataFrame | None = None,
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
    published : DataFrame, optional
        The meetings on agendas already handed out (``buyer_id``, ``supplier_id``, ``slot``,
        ``table``, as :data:`MEETING_COLUMNS`). Each stays in its slot and at its table unless
        the change forces it out (see :mod:`ketnoi.programme._replan`); ``changes`` of the
        answer lists what moved, was cancelled or was added. Optimiser only.

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
    if published is not None and method != "optimal":
        raise ValueError("re-planning around published meetings needs the optimiser")
    tables = None
    previous: list[tuple[PublishedMeeting | None, dict[str, Any]]] = []
    try:
        event.instance.check()
        if published is not None:
            previous = published_pairs(event.buyers, event.suppliers, event.instance, published)
            plan = stable_schedule(
                event.instance,
                [p for p, _ in previous if p is not None],
                time_limit=time_limit,
            )
            result, tables = plan.result, plan.tables
            result = dataclasses.replace(result, notes=plan.notes)
        elif method == "greedy":
            result = _greedy(event.instance)
        else:
            result = _optimal(event.instance, time_limit=time_limit)
    except InfeasibleLocks as exc:
        raise EventError.at(
            f"{where}.locks", None, f"the locks cannot all be honoured: {exc}"
        ) from None
    meetings = _meetings(event.spec, event, result, data, tables)
    changes = None
    if published is not None:
        changes = published_changes(previous, meetings)
        gone = int(changes["change"].isin(["moved", "cancelled"]).sum())
        kept_note = EventNote(
            "replanned_around", published=len(published), kept=len(published) - gone, gone=gone
        )
        result = dataclasses.replace(result, notes=(*result.notes, kept_note))
    gap = result.gap
    names = dict(zip(data.firms["firm_id"], data.firms["name"], strict=True))
    inst = event.instance
    interpreted_only = set()
    for firms, ids in ((inst.pair_buyer, event.buyers), (inst.pair_supplier, event.suppliers)):
        for i, firm in enumerate(ids):
            mine = firms == i
            if mine.any() and inst.pair_interpreter[mine].all():
                interpreted_only.add(firm)
    unmet = event_unmet(event.spec, meetings, event.why, interpreted_only, names)
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
        changes=changes,
        unmet=unmet,
    )
