"""Matchmaking events as data: the event, who takes part, the meetings staff locked, the files.

An event (:class:`EventSpec`) lists its participants (buyers and suppliers, in registration
order), its time slots, tables, the cap on meetings per firm, the interpreters per slot, and
meetings staff have locked. :func:`read_participants` and :func:`read_locks` read them from the
files staff keep; :func:`~ketnoi.programme.schedule_event` (in :mod:`ketnoi.programme._events`)
schedules the event.

Languages
---------
A meeting needs a language both firms work in, or an interpreter. A participant's languages
are, first found: the participant list's ``languages``, the firm's ``languages`` in the
dataset, else :func:`default_languages` from its ownership and country of origin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ketnoi import graph

__all__ = [
    "COUNTRY_LANGUAGES",
    "EVENT_LIMITS",
    "EventError",
    "EventLimits",
    "EventSpec",
    "MeetingLock",
    "Participant",
    "check_participants",
    "default_languages",
    "parse_lock",
    "read_locks",
    "read_participants",
]

SIDES = ("buyer", "supplier")


@dataclass(frozen=True)
class EventLimits:
    """The largest event ketnoi schedules, whichever door asks (the CLI, the HTTP routes).

    Past these the optimiser's model outgrows any machine (``--slots 100000 --tables 100000``
    grew to 17 GB before the kernel killed it), so :func:`spec_problems` refuses them up front.
    """

    participants: int = 1000
    slots: int = 48
    tables: int = 1000
    locks: int = 1000
    interpreters: int = 1000


#: The limits every event is held to.
EVENT_LIMITS = EventLimits()

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


class EventError(ValueError):
    """An event that cannot be scheduled as given; ``problems`` names each place and reason."""

    def __init__(self, problems: Iterable[graph.Problem]):
        self.problems = list(problems)
        shown = "\n".join(str(p) for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n... and {more} more"
        super().__init__(shown)

    @classmethod
    def at(cls, where: str, column: str | None, reason: str, line: int | None = None) -> EventError:
        """The error of one problem: in ``where`` (a file, ``request``), ``line``, ``column``."""
        return cls([graph.Problem(where, line, column, reason)])


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


def participant_languages(p: Participant, firm: dict[str, Any]) -> tuple[str, ...]:
    """The languages of a participant: its own list, else the firm's, else the defaults.

    ``firm`` is the firm's row of ``dataset.firms`` as a dict.
    """
    if p.languages:
        return p.languages
    own = tuple(firm.get("languages") or ())
    if own:
        return own
    return default_languages(
        str(firm.get("ownership") or ""), str(firm.get("country_of_origin") or "")
    )


def meeting_language(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    """The language two firms meet in: Vietnamese, then English, then any they share; "" for
    none (the meeting needs an interpreter).

    Examples
    --------
    >>> meeting_language(("ja", "en"), ("vi", "en")), meeting_language(("ja",), ("vi",))
    ('en', '')
    """
    both = set(a) & set(b)
    for code in _PREFERRED:
        if code in both:
            return code
    return sorted(both)[0] if both else ""


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
    lunch_after : int or None
        The lunch break comes after this many slots (None: no break on the agendas).
    lunch_label : str
        What the agendas say of the break's time (``"12:00-13:00"``).
    min_score : float
        Pairs scoring below it are not proposed (a buyer's day is not filled with meetings
        worth 0.02); locked pairs are held whatever they score.
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
    lunch_after: int | None = None
    lunch_label: str = ""
    min_score: float = 0.0

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


def spec_problems(spec: EventSpec, where: str) -> list[graph.Problem]:
    """What is wrong with the event's limits and slot labels, each problem in ``where``."""
    problems = []
    limits = EVENT_LIMITS
    for name, most in (
        ("slots", limits.slots),
        ("tables", limits.tables),
        ("max_meetings", limits.slots),
    ):
        value = getattr(spec, name)
        if not isinstance(value, int) or value < 1:
            problems.append(graph.Problem(where, None, name, f"must be at least 1, not {value}"))
        elif value > most:
            problems.append(
                graph.Problem(where, None, name, f"must be at most {most}, not {value}")
            )
    if not isinstance(spec.interpreters, int) or spec.interpreters < 0:
        problems.append(
            graph.Problem(
                where, None, "interpreters", f"must be 0 or more, not {spec.interpreters}"
            )
        )
    elif spec.interpreters > limits.interpreters:
        problems.append(
            graph.Problem(
                where,
                None,
                "interpreters",
                f"must be at most {limits.interpreters}, not {spec.interpreters}",
            )
        )
    for name, items, most in (
        ("participants", spec.participants, limits.participants),
        ("locks", spec.locks, limits.locks),
    ):
        if len(items) > most:
            problems.append(
                graph.Problem(where, None, name, f"at most {most} allowed, not {len(items)}")
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
    if not isinstance(spec.min_score, int | float) or not 0 <= spec.min_score <= 1:
        problems.append(
            graph.Problem(where, None, "min_score", f"must be in [0, 1], not {spec.min_score}")
        )
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
            raise EventError.at(path.name, None, "must be a .csv or .xlsx file")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, EventError):
            raise
        raise EventError.at(path.name, None, f"cannot be read: {exc}") from None
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
        raise EventError.at(path.name, "firm_id", "the participant list needs a firm_id column", 1)
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
        raise EventError.at(
            path.name, missing[0], "the lock file needs buyer_id and supplier_id", 1
        )
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
