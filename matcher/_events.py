"""Matchmaking events: who takes part, which pairs may meet, and the schedule as tables.

An event (:class:`EventSpec`) lists its participants (buyers and suppliers, in registration
order), its time slots, tables, the cap on meetings per firm, the interpreters per slot, and
meetings staff have locked. :func:`schedule_event` scores every buyer-supplier pair of the
participants with a fitted :class:`~matcher.Matcher`, keeps the pairs that may meet, and hands
the numeric instance to :mod:`matcher._schedule` (the optimiser or the greedy baseline).

Which pairs may meet
--------------------
A pair is proposed when the supplier is among the buyer's candidates (a score >= 0 from
:meth:`Matcher.score_buyers`), and, by default, when the two firms have no active link (they
know each other already) and no ``declined`` outcome (one of them said no). Locked meetings are
held whatever the pair is (staff know something the data do not); a locked pair outside the
candidates counts with score 0.

Languages
---------
A meeting needs a language both firms work in, or an interpreter. A participant's languages
are, first found: the participant list's ``languages``, the firm's ``languages`` in the
dataset, else :func:`default_languages` from its ownership and country of origin.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.matcher._schedule import EventProblem, InfeasibleLocks, ScheduleResult
from ketnoi.matcher._schedule import greedy_schedule as _greedy
from ketnoi.matcher._schedule import optimal_schedule as _optimal

if TYPE_CHECKING:
    from ketnoi.matcher._model import Matcher

__all__ = [
    "AGENDA_COLUMNS",
    "COUNTRY_LANGUAGES",
    "EventError",
    "EventSchedule",
    "EventSpec",
    "MEETING_COLUMNS",
    "MeetingLock",
    "Participant",
    "check_participants",
    "default_languages",
    "event_agendas",
    "event_grid",
    "parse_lock",
    "read_locks",
    "read_participants",
    "schedule_event",
]

SIDES = ("buyer", "supplier")

#: The working language of a foreign firm's delegation, by country of origin (ISO 639-1).
COUNTRY_LANGUAGES: dict[str, str] = {
    "VN": "vi",
    "JP": "ja",
    "KR": "ko",
    "CN": "zh",
    "TW": "zh",
    "HK": "zh",
    "TH": "th",
    "MY": "ms",
    "ID": "id",
    "DE": "de",
    "FR": "fr",
    "NL": "nl",
    "IT": "it",
    "ES": "es",
}

#: Languages tried, in this order, when a pair shares several: the one the meeting is held in.
_PREFERRED = ("vi", "en")

#: Most seconds the optimiser may take by default (the time-indexed fallback stops there).
DEFAULT_TIME_LIMIT = 60.0


class EventError(ValueError):
    """An event that cannot be scheduled as given; ``problems`` names each place and reason."""

    def __init__(self, problems: Iterable[graph.Problem]):
        self.problems = list(problems)
        shown = "\n".join(str(p) for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n... and {more} more"
        super().__init__(shown)


def _error(where: str, column: str | None, reason: str, line: int | None = None) -> EventError:
    return EventError([graph.Problem(where, line, column, reason)])


def default_languages(ownership: str, country_of_origin: str) -> tuple[str, ...]:
    """The languages a firm is taken to work in when its ``languages`` cell is empty.

    Vietnamese firms (domestic, state-owned, or with no country given) work in Vietnamese; a
    joint venture in Vietnamese and English; a foreign-invested firm in the language of its
    country of origin (:data:`COUNTRY_LANGUAGES`) and English, and is not assumed to speak
    Vietnamese, so that an interpreter is planned rather than missed.

    Examples
    --------
    >>> default_languages("fdi", "JP")
    ('ja', 'en')
    >>> default_languages("domestic", "VN"), default_languages("", "")
    (('vi',), ('vi',))
    >>> default_languages("jv", "VN")
    ('vi', 'en')
    """
    country = (country_of_origin or "").upper()
    if ownership == "fdi" or (country and country != "VN"):
        home = COUNTRY_LANGUAGES.get(country, "en")
        return (home,) if home == "en" else (home, "en")
    if ownership == "jv":
        return ("vi", "en")
    return ("vi",)


# -- the event --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Participant:
    """A firm taking part: its side at the event, and optional overrides.

    ``languages`` (empty: from the dataset) are those of the people the firm sends;
    ``max_meetings`` (None: the event's cap) lowers or raises this firm's cap.
    """

    firm_id: str
    side: str
    languages: tuple[str, ...] = ()
    max_meetings: int | None = None


@dataclass(frozen=True)
class MeetingLock:
    """A meeting staff fixed: the pair, and optionally its slot (1-based)."""

    buyer_id: str
    supplier_id: str
    slot: int | None = None


@dataclass(frozen=True)
class EventSpec:
    """A matchmaking event: data, no behaviour.

    Parameters
    ----------
    participants : tuple of Participant
        In registration order (the greedy baseline serves them first come, first served).
    slots : int
        Time slots; a firm has at most one meeting per slot.
    tables : int
        Meetings that can be held at once.
    max_meetings : int
        The most meetings a firm may have (unless its participant row says otherwise).
    interpreters : int
        Interpreters per slot: meetings without a shared language held at once.
    locks : tuple of MeetingLock
        Meetings that must be held.
    slot_labels : tuple of str
        What to call each slot (``"09:00"``); default ``"1"``, ``"2"``...
    include_linked, include_declined : bool
        Also propose pairs with an active link, or with a ``declined`` outcome.
    name : str
    """

    participants: tuple[Participant, ...]
    slots: int
    tables: int
    max_meetings: int
    interpreters: int = 0
    locks: tuple[MeetingLock, ...] = ()
    slot_labels: tuple[str, ...] = ()
    include_linked: bool = False
    include_declined: bool = False
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventSpec:
        """The spec :meth:`to_dict` wrote."""
        values = dict(data)
        values["participants"] = tuple(
            Participant(
                p["firm_id"], p["side"], tuple(p.get("languages") or ()), p.get("max_meetings")
            )
            for p in values.get("participants") or ()
        )
        values["locks"] = tuple(
            MeetingLock(lk["buyer_id"], lk["supplier_id"], lk.get("slot"))
            for lk in values.get("locks") or ()
        )
        values["slot_labels"] = tuple(values.get("slot_labels") or ())
        return cls(**values)

    def with_locks(
        self, add: Iterable[MeetingLock] = (), remove: Iterable[tuple[str, str]] = ()
    ) -> EventSpec:
        """The spec with locks added (a pair locked again takes its new slot) and removed."""
        added = list(add)
        gone = set(remove) | {(lk.buyer_id, lk.supplier_id) for lk in added}
        kept = [lk for lk in self.locks if (lk.buyer_id, lk.supplier_id) not in gone]
        return dataclasses.replace(self, locks=tuple(kept + added))

    def label(self, slot: int) -> str:
        """The label of 0-based ``slot``."""
        return self.slot_labels[slot] if slot < len(self.slot_labels) else str(slot + 1)


def _check_spec(spec: EventSpec, where: str) -> list[graph.Problem]:
    problems = []
    for name in ("slots", "tables", "max_meetings"):
        value = getattr(spec, name)
        if not isinstance(value, int) or value < 1:
            problems.append(graph.Problem(where, None, name, f"must be at least 1, not {value}"))
    if not isinstance(spec.interpreters, int) or spec.interpreters < 0:
        problems.append(
            graph.Problem(
                where, None, "interpreters", f"must be 0 or more, not {spec.interpreters}"
            )
        )
    if spec.slot_labels and len(spec.slot_labels) != spec.slots:
        problems.append(
            graph.Problem(
                where,
                None,
                "slot_labels",
                f"{len(spec.slot_labels)} labels for {spec.slots} slots",
            )
        )
    if not spec.participants:
        problems.append(graph.Problem(where, None, "participants", "no participants"))
    return problems


# -- reading files ----------------------------------------------------------------------------
def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        elif suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            raise _error(path.name, None, "must be a .csv or .xlsx file")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, EventError):
            raise
        raise _error(path.name, None, f"cannot be read: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.map(lambda v: str(v).strip())


def _languages(
    value: str, where: str, line: int | None, column: str
) -> tuple[tuple[str, ...], list[graph.Problem]]:
    codes = tuple(c.lower() for c in graph.split_list(value))
    bad = [c for c in codes if len(c) != 2 or not c.isascii() or not c.isalpha()]
    if bad:
        reason = f"'{bad[0]}' is not an ISO 639-1 code (two letters, such as vi, en, ja)"
        return (), [graph.Problem(where, line, column, reason)]
    return codes, []


def read_participants(path: str | Path, dataset: graph.Dataset) -> tuple[Participant, ...]:
    """Read a participant list (CSV or XLSX) and check it against ``dataset``.

    Columns: ``firm_id`` (required); ``side`` (``buyer`` or ``supplier``; may be left empty
    for a firm whose role is one of the two); ``languages`` (``;``-separated ISO 639-1 codes of
    the people attending; empty: the firm's); ``max_meetings`` (this firm's cap; empty: the
    event's). Rows are in registration order.

    Raises
    ------
    EventError
        Every problem at once, each naming the file, the row (as a spreadsheet numbers it), the
        column and the reason.
    """
    path = Path(path)
    frame = _read_table(path)
    if "firm_id" not in frame.columns:
        raise _error(path.name, "firm_id", "the participant list needs a firm_id column", 1)
    participants, problems = [], []
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        cap: int | None = None
        raw_cap = row.get("max_meetings", "")
        if raw_cap:
            try:
                cap = int(raw_cap)
            except ValueError:
                cap = -1
            if cap < 1 or str(cap) != raw_cap.lstrip("+").lstrip("0") or cap > 10_000:
                problems.append(
                    graph.Problem(
                        path.name, line, "max_meetings", f"'{raw_cap}' is not a whole number >= 1"
                    )
                )
                cap = None
        languages, bad = _languages(row.get("languages", ""), path.name, line, "languages")
        problems.extend(bad)
        side = row.get("side", "").lower()
        participants.append(Participant(row["firm_id"], side, languages, cap))
    if problems:
        raise EventError(problems)
    return check_participants(participants, dataset, where=path.name, first_line=2)


def check_participants(
    participants: Sequence[Participant],
    dataset: graph.Dataset,
    *,
    where: str = "participants",
    first_line: int = 1,
) -> tuple[Participant, ...]:
    """The participants with their sides filled in from the firms' roles.

    Raises
    ------
    EventError
        Unknown or repeated firms, a side the firm's role does not allow, a ``both`` firm
        without a side, a cap below 1; ``line`` counts from ``first_line``.
    """
    roles = dict(zip(dataset.firms["firm_id"], dataset.firms["role"], strict=True))
    problems: list[graph.Problem] = []
    out: list[Participant] = []
    seen: dict[str, int] = {}
    for i, p in enumerate(participants):
        line = first_line + i
        if not p.firm_id:
            problems.append(graph.Problem(where, line, "firm_id", "is empty"))
            continue
        role = roles.get(p.firm_id)
        if role is None:
            problems.append(
                graph.Problem(where, line, "firm_id", f"'{p.firm_id}' is not a firm in the data")
            )
            continue
        if p.firm_id in seen:
            problems.append(
                graph.Problem(
                    where,
                    line,
                    "firm_id",
                    f"'{p.firm_id}' is listed already (row {seen[p.firm_id]})",
                )
            )
            continue
        seen[p.firm_id] = line
        side = p.side or (role if role in SIDES else "")
        if side not in SIDES:
            reason = (
                f"'{p.firm_id}' is both a buyer and a supplier: say which side it takes here"
                if not p.side
                else f"'{p.side}' is not a side: buyer or supplier"
            )
            problems.append(graph.Problem(where, line, "side", reason))
            continue
        allowed = graph.BUYER_ROLES if side == "buyer" else graph.SUPPLIER_ROLES
        if role not in allowed:
            problems.append(
                graph.Problem(
                    where,
                    line,
                    "side",
                    f"'{p.firm_id}' is a {role} in the data and cannot take part as a {side}",
                )
            )
            continue
        if p.max_meetings is not None and p.max_meetings < 1:
            problems.append(graph.Problem(where, line, "max_meetings", "must be at least 1"))
            continue
        out.append(dataclasses.replace(p, side=side))
    if problems:
        raise EventError(problems)
    return tuple(out)


def parse_lock(text: str) -> MeetingLock:
    """``BUYER:SUPPLIER`` or ``BUYER:SUPPLIER@SLOT`` (slot 1-based) as a lock.

    Examples
    --------
    >>> parse_lock("B1:S2@3")
    MeetingLock(buyer_id='B1', supplier_id='S2', slot=3)
    """
    pair, _, slot = text.partition("@")
    buyer, sep, supplier = pair.partition(":")
    if not sep or not buyer.strip() or not supplier.strip():
        raise ValueError(f"lock '{text}': write BUYER:SUPPLIER or BUYER:SUPPLIER@SLOT")
    number: int | None = None
    if slot:
        if not slot.strip().isdigit() or int(slot) < 1:
            raise ValueError(f"lock '{text}': the slot must be a whole number from 1")
        number = int(slot)
    return MeetingLock(buyer.strip(), supplier.strip(), number)


def read_locks(path: str | Path) -> tuple[MeetingLock, ...]:
    """Read locked meetings from a CSV or XLSX file: ``buyer_id, supplier_id[, slot]``.

    Raises
    ------
    EventError
        A missing column, an empty id or a slot that is not a whole number from 1.
    """
    path = Path(path)
    frame = _read_table(path)
    missing = [c for c in ("buyer_id", "supplier_id") if c not in frame.columns]
    if missing:
        raise _error(path.name, missing[0], "the lock file needs buyer_id and supplier_id", 1)
    locks, problems = [], []
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        empty = [c for c in ("buyer_id", "supplier_id") if not row[c]]
        if empty:
            problems.append(graph.Problem(path.name, line, empty[0], "is empty"))
            continue
        slot = row.get("slot", "")
        if slot and (not slot.isdigit() or int(slot) < 1):
            problems.append(
                graph.Problem(path.name, line, "slot", f"'{slot}' is not a slot number from 1")
            )
            continue
        locks.append(MeetingLock(row["buyer_id"], row["supplier_id"], int(slot) if slot else None))
    if problems:
        raise EventError(problems)
    return tuple(locks)


# -- the schedule -----------------------------------------------------------------------------
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


def _firm_languages(p: Participant, firm: dict[str, Any]) -> tuple[str, ...]:
    if p.languages:
        return p.languages
    own = tuple(firm.get("languages") or ())
    if own:
        return own
    return default_languages(
        str(firm.get("ownership") or ""), str(firm.get("country_of_origin") or "")
    )


def _shared(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    both = set(a) & set(b)
    for code in _PREFERRED:
        if code in both:
            return code
    return sorted(both)[0] if both else ""


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
class _Instance:
    spec: EventSpec
    problem: EventProblem
    buyers: list[str]
    suppliers: list[str]
    language: list[str]
    locked: set[int]
    notes: list[str]


def _instance(spec: EventSpec, m: Matcher, dataset: graph.Dataset, where: str) -> _Instance:
    problems = _check_spec(spec, where)
    if problems:
        raise EventError(problems)
    participants = check_participants(spec.participants, dataset, where=f"{where}.participants")
    buyers = [p for p in participants if p.side == "buyer"]
    suppliers = [p for p in participants if p.side == "supplier"]
    firms = {r["firm_id"]: r for r in dataset.firms.to_dict("records")}
    langs = {p.firm_id: _firm_languages(p, firms[p.firm_id]) for p in participants}
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
    language = [_shared(langs[b_ids[b]], langs[s_ids[s]]) for b, s in zip(pb, ps, strict=True)]
    pair_of = {(int(b), int(s)): k for k, (b, s) in enumerate(zip(pb, ps, strict=True))}
    locks = tuple((pair_of[key], slot) for key, slot in lock_pairs.items())
    # The greedy's queue: suppliers in registration order, each asking for its buyers best
    # first (a supplier asks for the meetings it wants most).
    requests = np.lexsort((-score, ps)) if len(ps) else np.zeros(0, dtype=np.int64)
    cap = spec.max_meetings
    problem = EventProblem(
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
    return _Instance(resolved, problem, b_ids, s_ids, language, {p for p, _ in locks}, notes)


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
    spec: EventSpec, inst: _Instance, result: ScheduleResult, dataset: graph.Dataset
) -> pd.DataFrame:
    names = dict(zip(dataset.firms["firm_id"], dataset.firms["name"], strict=True))
    pr = inst.problem
    buyers = pr.pair_buyer[result.pairs]
    tables = _tables(spec, buyers, result.slots, pr.n_buyers)
    rows = []
    for k, (p, t) in enumerate(zip(result.pairs.tolist(), result.slots.tolist(), strict=True)):
        b, s = inst.buyers[pr.pair_buyer[p]], inst.suppliers[pr.pair_supplier[p]]
        rows.append(
            {
                "slot": t + 1,
                "slot_label": spec.label(t),
                "table": int(tables[k]),
                "buyer_id": b,
                "buyer_name": names.get(b, ""),
                "supplier_id": s,
                "supplier_name": names.get(s, ""),
                "score": round(float(pr.pair_score[p]), 6),
                "language": inst.language[p],
                "interpreter": bool(pr.pair_interpreter[p]),
                "locked": p in inst.locked,
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
        The optimiser (see :mod:`matcher._schedule`) or the first-come baseline.
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
    inst = _instance(spec, m, data, where)
    try:
        inst.problem.check()
        if method == "greedy":
            result = _greedy(inst.problem)
        else:
            result = _optimal(inst.problem, time_limit=time_limit)
    except InfeasibleLocks as exc:
        raise _error(f"{where}.locks", None, f"the locks cannot all be honoured: {exc}") from None
    meetings = _meetings(inst.spec, inst, result, data)
    gap = result.gap
    names = dict(zip(data.firms["firm_id"], data.firms["name"], strict=True))
    return EventSchedule(
        spec=inst.spec,
        meetings=meetings,
        status=result.status,
        method=result.method,
        suppliers=inst.problem.n_suppliers,
        covered=result.covered,
        score=result.score,
        bound_covered=result.bound_covered,
        bound_score=result.bound_score,
        gap=None if gap is None or math.isnan(gap) else gap,
        seconds=result.seconds,
        notes=tuple(inst.notes) + result.notes,
        names={p.firm_id: str(names.get(p.firm_id, "")) for p in inst.spec.participants},
    )
