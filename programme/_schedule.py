"""The meeting scheduler of a matchmaking event: which pairs meet, and in which slot.

The instance is numeric (:class:`MeetingInstance`: firms are row numbers, pairs carry a score);
:mod:`ketnoi.programme._events` builds it from a participant list and a fitted matcher.

The objective is lexicographic: first as many suppliers as possible get at least one meeting,
then the total match score of the meetings is as high as possible. :func:`optimal_schedule`
solves it exactly with mixed-integer programmes (``scipy.optimize.milp``, which runs HiGHS):

1. **Pair selection** (a relaxation). Binary ``y[p]`` per eligible pair, ``z[s]`` per supplier;
   each firm's meetings at most ``min(cap, slots)``, all meetings at most ``tables * slots``,
   meetings needing an interpreter at most ``interpreters * slots``, ``z[s] <= sum y`` over the
   supplier's pairs, locked pairs fixed to 1. Solved twice: maximise ``sum z``; then, with
   ``sum z`` held at that optimum, maximise ``sum score * y``.
2. **Slot assignment**. Binary ``x[m, t]`` for each chosen meeting ``m`` and slot ``t``: each
   meeting in exactly one slot, each firm in at most one meeting per slot, at most ``tables``
   meetings and ``interpreters`` interpreted meetings per slot, locked slots fixed. A
   feasibility instance.

Step 1 drops only the per-slot detail of the constraints, so its optimum bounds the true one
from above; when step 2 places every chosen meeting, that bound is reached and the schedule is
optimal. Without interpreters and slot locks step 2 always succeeds (a bipartite graph of
degree at most ``slots`` has an edge colouring with ``slots`` colours whose classes differ in
size by at most one: König, de Werra). Otherwise it may fail, and then the full time-indexed
programme (``x[p, t]`` over every eligible pair) is solved, within a time limit, and its status
reported as it is: ``optimal`` or ``feasible`` with the remaining gap.

:func:`greedy_schedule` is the first-come baseline the optimiser is measured against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from ketnoi.programme._event_notes import EventNote

__all__ = [
    "InfeasibleLocks",
    "MeetingInstance",
    "ScheduleResult",
    "greedy_schedule",
    "optimal_schedule",
]

#: Relative gap at which HiGHS may stop: small enough that "optimal" means optimal to the
#: printed precision of a score (HiGHS' own default, 1e-4, would leave score on the table).
MIP_GAP = 1e-7


class InfeasibleLocks(ValueError):
    """The locked meetings cannot all be held within the event's limits."""


@dataclass(frozen=True)
class MeetingInstance:
    """A matchmaking event as numbers.

    Parameters
    ----------
    n_buyers, n_suppliers : int
        Buyers are ``0..n_buyers-1``, suppliers ``0..n_suppliers-1``.
    pair_buyer, pair_supplier : array of int
        The pairs that may meet (each at most once).
    pair_score : array of float
        Each pair's match score (>= 0): what a meeting is worth.
    pair_interpreter : array of bool
        True where the two firms share no language: the meeting needs an interpreter.
    slots, tables, interpreters : int
        Time slots; meetings held at once (tables); interpreted meetings at once.
    buyer_cap, supplier_cap : array of int
        The most meetings each firm may have.
    locks : tuple of (int, int or None)
        Meetings that must be held: a pair index, and a slot (0-based) or None for any slot.
    requests : array of int, optional
        Pair indices in the order firms asked for them (registration order): the greedy
        baseline's queue. Default: every pair in index order.
    buyer_names, supplier_names : tuple of str, optional
        Firm ids, for messages.
    """

    n_buyers: int
    n_suppliers: int
    pair_buyer: np.ndarray
    pair_supplier: np.ndarray
    pair_score: np.ndarray
    pair_interpreter: np.ndarray
    slots: int
    tables: int
    interpreters: int
    buyer_cap: np.ndarray
    supplier_cap: np.ndarray
    locks: tuple[tuple[int, int | None], ...] = ()
    requests: np.ndarray | None = None
    buyer_names: tuple[str, ...] = ()
    supplier_names: tuple[str, ...] = ()

    @property
    def n_pairs(self) -> int:
        return len(self.pair_buyer)

    def firm(self, side: str, i: int) -> str:
        """How messages name firm ``i`` of ``side``: its id where given, else its number."""
        names = self.buyer_names if side == "buyer" else self.supplier_names
        return f"{side} {names[i]}" if i < len(names) else f"{side} {i}"

    def pair(self, p: int) -> str:
        """How messages name pair ``p``."""
        b, s = int(self.pair_buyer[p]), int(self.pair_supplier[p])
        if b < len(self.buyer_names) and s < len(self.supplier_names):
            return f"({self.buyer_names[b]}, {self.supplier_names[s]})"
        return f"{p}"

    def check(self) -> None:
        """Raise ``ValueError`` for sizes that do not fit, :class:`InfeasibleLocks` for locks
        that clash with each other or with the limits (found without solving anything)."""
        n = self.n_pairs
        for name in ("pair_supplier", "pair_score", "pair_interpreter"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, not {n}")
        if self.slots < 1 or self.tables < 1:
            raise ValueError("an event needs at least one slot and one table")
        if self.interpreters < 0:
            raise ValueError("interpreters cannot be negative")
        if len(self.buyer_cap) != self.n_buyers or len(self.supplier_cap) != self.n_suppliers:
            raise ValueError("one cap per buyer and per supplier")
        if n and (np.asarray(self.pair_score) < 0).any():
            raise ValueError("pair scores must be >= 0")
        pairs = set(zip(self.pair_buyer.tolist(), self.pair_supplier.tolist(), strict=True))
        if len(pairs) != n:
            raise ValueError("a pair is listed twice")
        self._check_locks()

    def _check_locks(self) -> None:
        seen: dict[int, int | None] = {}
        per_firm: dict[tuple[str, int], int] = {}
        at: dict[tuple[str, int, int], int] = {}
        per_slot = np.zeros(self.slots, dtype=np.int64)
        interpreted = np.zeros(self.slots, dtype=np.int64)
        for p, slot in self.locks:
            if not 0 <= p < self.n_pairs:
                raise ValueError(f"lock on pair {p}: no such pair")
            if p in seen:
                raise InfeasibleLocks(f"pair {self.pair(p)} is locked twice")
            seen[p] = slot
            firms = (("buyer", int(self.pair_buyer[p])), ("supplier", int(self.pair_supplier[p])))
            for side, f in firms:
                per_firm[(side, f)] = per_firm.get((side, f), 0) + 1
                cap = (self.buyer_cap if side == "buyer" else self.supplier_cap)[f]
                if per_firm[(side, f)] > min(int(cap), self.slots):
                    raise InfeasibleLocks(
                        f"{self.firm(side, f)} has more locked meetings than its cap or the"
                        " slots allow"
                    )
            if slot is None:
                continue
            if not 0 <= slot < self.slots:
                raise InfeasibleLocks(
                    f"pair {self.pair(p)} is locked in slot {slot + 1} of {self.slots}"
                )
            for side, f in firms:
                if (side, f, slot) in at:
                    raise InfeasibleLocks(
                        f"{self.firm(side, f)} has two meetings locked in slot {slot + 1}"
                    )
                at[(side, f, slot)] = p
            per_slot[slot] += 1
            interpreted[slot] += bool(self.pair_interpreter[p])
            if per_slot[slot] > self.tables:
                raise InfeasibleLocks(f"more meetings locked in slot {slot + 1} than tables")
            if interpreted[slot] > self.interpreters:
                raise InfeasibleLocks(
                    f"more interpreted meetings locked in slot {slot + 1} than interpreters"
                )
        n_locked = len(self.locks)
        if n_locked > self.tables * self.slots:
            raise InfeasibleLocks("more locked meetings than tables times slots")
        need = sum(bool(self.pair_interpreter[p]) for p, _ in self.locks)
        if need > self.interpreters * self.slots:
            raise InfeasibleLocks("more locked meetings need an interpreter than can have one")


@dataclass(frozen=True)
class ScheduleResult:
    """Meetings placed in slots, and how good the placement is known to be.

    Attributes
    ----------
    pairs : array of int
        Pair index of each meeting.
    slots : array of int
        Its slot, 0-based.
    covered : int
        Suppliers with at least one meeting.
    score : float
        Total match score of the meetings.
    status : {"optimal", "feasible", "heuristic"}
        ``optimal``: proven lexicographically optimal; ``feasible``: the solver stopped at its
        time limit (see ``bound_covered``, ``bound_score``); ``heuristic``: the greedy baseline.
    method : {"decomposition", "time-indexed", "greedy"}
    bound_covered, bound_score : int or float or None
        Upper bounds on the optimum (None when unknown, as for the greedy).
    seconds : float
        Wall time of the solve.
    """

    pairs: np.ndarray
    slots: np.ndarray
    covered: int
    score: float
    status: str
    method: str
    bound_covered: int | None = None
    bound_score: float | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def gap(self) -> float | None:
        """Relative gap on the score at the optimal coverage (0 when optimal)."""
        if self.status == "optimal":
            return 0.0
        if self.bound_score is None or self.bound_covered != self.covered:
            return None
        return max(0.0, self.bound_score - self.score) / max(abs(self.bound_score), 1e-9)


def _summary(instance: MeetingInstance, pairs: np.ndarray) -> tuple[int, float]:
    covered = len(set(instance.pair_supplier[pairs].tolist()))
    return covered, float(instance.pair_score[pairs].sum())


# -- the greedy baseline ----------------------------------------------------------------------
def greedy_schedule(instance: MeetingInstance) -> ScheduleResult:
    """First come, first served: the baseline the optimiser is measured against.

    Locked meetings are placed first (in their slot, or the earliest one that fits); then each
    request of ``instance.requests``, in order, goes into the earliest slot where both firms are
    free, a table (and, where needed, an interpreter) is free and neither firm has reached its
    cap; a request that fits nowhere is dropped.

    Raises
    ------
    InfeasibleLocks
        A locked meeting that does not fit.
    """
    instance.check()
    start = time.perf_counter()
    T = instance.slots
    busy_b = np.zeros((instance.n_buyers, T), dtype=bool)
    busy_s = np.zeros((instance.n_suppliers, T), dtype=bool)
    used = np.zeros(T, dtype=np.int64)
    interp = np.zeros(T, dtype=np.int64)
    deg_b = np.zeros(instance.n_buyers, dtype=np.int64)
    deg_s = np.zeros(instance.n_suppliers, dtype=np.int64)
    placed: dict[int, int] = {}

    def fits(p: int, t: int) -> bool:
        b, s = instance.pair_buyer[p], instance.pair_supplier[p]
        return not (
            busy_b[b, t]
            or busy_s[s, t]
            or used[t] >= instance.tables
            or (instance.pair_interpreter[p] and interp[t] >= instance.interpreters)
        )

    def place(p: int, t: int) -> None:
        b, s = instance.pair_buyer[p], instance.pair_supplier[p]
        busy_b[b, t] = busy_s[s, t] = True
        used[t] += 1
        interp[t] += bool(instance.pair_interpreter[p])
        deg_b[b] += 1
        deg_s[s] += 1
        placed[p] = t

    fixed = sorted(instance.locks, key=lambda lock: lock[1] is None)
    for p, slot in fixed:
        options = range(T) if slot is None else [slot]
        t = next((t for t in options if fits(p, t)), None)
        if t is None:
            raise InfeasibleLocks(f"the greedy finds no slot for locked pair {instance.pair(p)}")
        place(p, t)
    queue = instance.requests if instance.requests is not None else np.arange(instance.n_pairs)
    for p in queue.tolist():
        b, s = instance.pair_buyer[p], instance.pair_supplier[p]
        if p in placed or deg_b[b] >= instance.buyer_cap[b] or deg_s[s] >= instance.supplier_cap[s]:
            continue
        t = next((t for t in range(T) if fits(p, t)), None)
        if t is not None:
            place(p, t)
    pairs = np.array(sorted(placed), dtype=np.int64)
    slots = np.array([placed[p] for p in pairs.tolist()], dtype=np.int64)
    covered, score = _summary(instance, pairs)
    return ScheduleResult(
        pairs, slots, covered, score, "heuristic", "greedy", seconds=time.perf_counter() - start
    )


# -- the optimiser ----------------------------------------------------------------------------
def _incidence(rows: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    cols = np.arange(len(rows))
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_cols))


def _solve(
    c: np.ndarray,
    constraints: list[LinearConstraint],
    lower: np.ndarray,
    upper: np.ndarray,
    time_limit: float | None,
) -> OptimizeResult:
    options: dict[str, float | bool] = {"mip_rel_gap": MIP_GAP, "disp": False}
    if time_limit is not None:
        options["time_limit"] = max(time_limit, 0.5)
    return milp(
        c,
        constraints=constraints,
        integrality=np.ones(len(c)),
        bounds=Bounds(lower, upper),
        options=options,
    )


def _lexicographic(
    instance: MeetingInstance,
    n_x: int,
    pair_of: np.ndarray,
    base: list[LinearConstraint],
    lower: np.ndarray,
    upper: np.ndarray,
    deadline: float | None,
) -> tuple[OptimizeResult | None, OptimizeResult | None, int]:
    """Maximise coverage, then score, over variables ``x`` (each a pair, ``pair_of``) plus one
    coverage variable per supplier with a pair. Returns both solves and the number of ``x``."""
    suppliers = np.unique(instance.pair_supplier)
    n_z = len(suppliers)
    row_of = np.searchsorted(suppliers, instance.pair_supplier[pair_of])
    # z[s] <= sum of the supplier's x: coverage counts only suppliers who really meet someone.
    cover = sp.hstack([-_incidence(row_of, n_z, n_x), sp.identity(n_z, format="csr")], format="csr")
    widen = [
        LinearConstraint(sp.hstack([con.A, sp.csr_matrix((con.A.shape[0], n_z))]), con.lb, con.ub)
        for con in base
    ]
    constraints = [*widen, LinearConstraint(cover, -np.inf, 0)]
    lo = np.r_[lower, np.zeros(n_z)]
    hi = np.r_[upper, np.ones(n_z)]

    def remaining() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    first = _solve(np.r_[np.zeros(n_x), -np.ones(n_z)], constraints, lo, hi, remaining())
    if first.x is None:
        return first, None, n_x
    reached = int(round(-first.fun))
    hold = LinearConstraint(np.r_[np.zeros(n_x), np.ones(n_z)][None, :], reached, np.inf)
    second = _solve(
        np.r_[-instance.pair_score[pair_of], np.zeros(n_z)],
        [*constraints, hold],
        lo,
        hi,
        remaining(),
    )
    return first, second, n_x


def _firm_rows(instance: MeetingInstance, pair_of: np.ndarray, n_x: int) -> sp.csr_matrix:
    return sp.vstack(
        [
            _incidence(instance.pair_buyer[pair_of], instance.n_buyers, n_x),
            _incidence(instance.pair_supplier[pair_of], instance.n_suppliers, n_x),
        ],
        format="csr",
    )


def _select_pairs(
    instance: MeetingInstance, deadline: float | None
) -> tuple[np.ndarray, int, float, bool]:
    """Step 1: the relaxation. Returns the chosen pairs, the coverage and score bounds, and
    whether the solver proved them optimal."""
    P = instance.n_pairs
    every = np.arange(P)
    caps = np.minimum(np.r_[instance.buyer_cap, instance.supplier_cap], instance.slots)
    T = instance.slots
    base = [
        LinearConstraint(_firm_rows(instance, every, P), -np.inf, caps),
        LinearConstraint(np.ones((1, P)), -np.inf, instance.tables * T),
        LinearConstraint(
            instance.pair_interpreter.astype(float)[None, :], -np.inf, instance.interpreters * T
        ),
    ]
    lower = np.zeros(P)
    for p, _ in instance.locks:
        lower[p] = 1.0
    first, second, _ = _lexicographic(instance, P, every, base, lower, np.ones(P), deadline)
    if first is None or first.x is None or second is None or second.x is None:
        raise InfeasibleLocks("the locked meetings cannot all be held within the event's limits")
    chosen = np.flatnonzero(second.x[:P] > 0.5)
    proven = first.status == 0 and second.status == 0
    bound_score = float(-second.mip_dual_bound) if second.status != 0 else float(-second.fun)
    return chosen, int(round(-first.fun)), bound_score, proven


def _place(
    instance: MeetingInstance, chosen: np.ndarray, deadline: float | None
) -> np.ndarray | None:
    """Step 2: a slot for each chosen meeting (None when there is none)."""
    T, M = instance.slots, len(chosen)
    if M == 0:
        return np.zeros(0, dtype=np.int64)
    n = M * T  # x[m, t] at m * T + t
    meeting = np.repeat(np.arange(M), T)
    slot = np.tile(np.arange(T), M)
    each = _incidence(meeting, M, n)
    buyer = instance.pair_buyer[chosen][meeting] * T + slot
    supplier = instance.pair_supplier[chosen][meeting] * T + slot
    per_slot = _incidence(slot, T, n)
    needs = instance.pair_interpreter[chosen][meeting].astype(float)
    interp = sp.csr_matrix((needs, (slot, np.arange(n))), shape=(T, n))
    constraints = [
        LinearConstraint(each, 1, 1),
        LinearConstraint(_incidence(buyer, instance.n_buyers * T, n), -np.inf, 1),
        LinearConstraint(_incidence(supplier, instance.n_suppliers * T, n), -np.inf, 1),
        LinearConstraint(per_slot, -np.inf, instance.tables),
        LinearConstraint(interp, -np.inf, instance.interpreters),
    ]
    lower, upper = np.zeros(n), np.ones(n)
    position = {int(p): m for m, p in enumerate(chosen.tolist())}
    for p, t in instance.locks:
        if t is not None:
            lower[position[p] * T + t] = 1.0
    remaining = None if deadline is None else deadline - time.perf_counter()
    # Spread meetings early: any feasible placement would do, a preference keeps it tidy and
    # gives the solver an objective to prune with rather than a flat one.
    cost = slot.astype(float) * 1e-3
    result = _solve(cost, constraints, lower, upper, remaining)
    if result.x is None:
        return None
    x = result.x.reshape(M, T)
    return np.argmax(x, axis=1).astype(np.int64)


def _time_indexed(instance: MeetingInstance, deadline: float | None) -> ScheduleResult:
    """The full programme: ``x[p, t]`` for every eligible pair and slot."""
    P, T = instance.n_pairs, instance.slots
    n = P * T  # x[p, t] at p * T + t
    pair = np.repeat(np.arange(P), T)
    slot = np.tile(np.arange(T), P)
    firm_slot = sp.vstack(
        [
            _incidence(instance.pair_buyer[pair] * T + slot, instance.n_buyers * T, n),
            _incidence(instance.pair_supplier[pair] * T + slot, instance.n_suppliers * T, n),
        ],
        format="csr",
    )
    needs = instance.pair_interpreter[pair].astype(float)
    base = [
        LinearConstraint(_incidence(pair, P, n), -np.inf, 1),
        LinearConstraint(firm_slot, -np.inf, 1),
        LinearConstraint(
            _firm_rows(instance, pair, n), -np.inf, np.r_[instance.buyer_cap, instance.supplier_cap]
        ),
        LinearConstraint(_incidence(slot, T, n), -np.inf, instance.tables),
        LinearConstraint(
            sp.csr_matrix((needs, (slot, np.arange(n))), shape=(T, n)),
            -np.inf,
            instance.interpreters,
        ),
    ]
    lower, upper = np.zeros(n), np.ones(n)
    lock_rows = []
    for p, t in instance.locks:
        if t is None:
            lock_rows.append(p)
        else:
            lower[p * T + t] = 1.0
    if lock_rows:
        rows = _incidence(pair, P, n)[lock_rows]
        base.append(LinearConstraint(rows, 1, 1))
    first, second, _ = _lexicographic(instance, n, pair, base, lower, upper, deadline)
    if first is None or first.x is None:
        raise InfeasibleLocks("the locked meetings cannot all be held within the event's limits")
    result = second if second is not None and second.x is not None else first
    x = result.x[:n].reshape(P, T) > 0.5
    pairs, slots = np.nonzero(x)
    covered, score = _summary(instance, pairs)
    proven = first.status == 0 and second is not None and second.status == 0
    bound_covered = int(round(-first.fun)) if first.status == 0 else None
    if first.status != 0:
        bound_covered = int(np.floor(-first.mip_dual_bound + 1e-6))
    bound_score = None
    if second is not None and second.x is not None:
        bound_score = float(-second.fun) if second.status == 0 else float(-second.mip_dual_bound)
    return ScheduleResult(
        pairs.astype(np.int64),
        slots.astype(np.int64),
        covered,
        score,
        "optimal" if proven else "feasible",
        "time-indexed",
        bound_covered,
        bound_score,
    )


def optimal_schedule(
    instance: MeetingInstance, *, time_limit: float | None = 60.0
) -> ScheduleResult:
    """The lexicographically best schedule: most suppliers met, then the highest total score.

    Parameters
    ----------
    instance : MeetingInstance
    time_limit : float or None
        Seconds for the whole solve; reached only by the fallback (see the module docstring),
        which then returns its best schedule with status ``feasible``.

    Returns
    -------
    ScheduleResult

    Raises
    ------
    InfeasibleLocks
        Locked meetings that cannot all be held.

    Examples
    --------
    Two buyers, two suppliers, one slot, one table: only one meeting fits, the better one.

    >>> import numpy as np
    >>> p = MeetingInstance(2, 2, np.array([0, 1]), np.array([0, 1]), np.array([0.4, 0.9]),
    ...                     np.array([False, False]), slots=1, tables=1, interpreters=0,
    ...                     buyer_cap=np.array([1, 1]), supplier_cap=np.array([1, 1]))
    >>> result = optimal_schedule(p)
    >>> result.pairs.tolist(), result.covered, result.status
    ([1], 1, 'optimal')
    """
    instance.check()
    start = time.perf_counter()
    if instance.n_pairs == 0:
        none = np.zeros(0, dtype=np.int64)
        return ScheduleResult(none, none, 0, 0.0, "optimal", "decomposition", 0, 0.0)
    deadline = None if time_limit is None else start + time_limit
    chosen, bound_covered, bound_score, proven = _select_pairs(instance, deadline)
    slots = _place(instance, chosen, deadline)
    if slots is not None:
        covered, score = _summary(instance, chosen)
        return ScheduleResult(
            chosen,
            slots,
            covered,
            score,
            "optimal" if proven else "feasible",
            "decomposition",
            bound_covered,
            bound_score,
            seconds=time.perf_counter() - start,
        )
    result = _time_indexed(instance, deadline)
    note = EventNote("time_indexed")
    return ScheduleResult(
        result.pairs,
        result.slots,
        result.covered,
        result.score,
        result.status,
        result.method,
        result.bound_covered if result.bound_covered is not None else bound_covered,
        min(bound_score, result.bound_score) if result.bound_score is not None else bound_score,
        seconds=time.perf_counter() - start,
        notes=(note,),
    )
