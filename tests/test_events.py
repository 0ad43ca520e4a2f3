"""Matchmaking events: the optimiser against every feasible schedule of small instances, the
greedy baseline, locks, languages and interpreters, which pairs may meet, and bad input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from ketnoi import graph, matcher, programme
from ketnoi.programme import EventError, EventSpec, MeetingInstance, MeetingLock, Participant

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


# -- brute force --------------------------------------------------------------------------------
def brute_force(instance: MeetingInstance) -> tuple[int, float]:
    """The lexicographic optimum (suppliers met, total score) over every feasible schedule.

    Each pair is either not held or held in one slot; schedules are built pair by pair and a
    branch is cut as soon as it breaks a limit, so every feasible schedule is visited.
    """
    P, T = instance.n_pairs, instance.slots
    locked = dict(instance.locks)
    busy_b = np.zeros((instance.n_buyers, T), dtype=bool)
    busy_s = np.zeros((instance.n_suppliers, T), dtype=bool)
    deg_b = np.zeros(instance.n_buyers, dtype=int)
    deg_s = np.zeros(instance.n_suppliers, dtype=int)
    used = np.zeros(T, dtype=int)
    interp = np.zeros(T, dtype=int)
    held: list[int] = []
    best: list[tuple[int, float]] = [(-1, -1.0)]

    def visit(p: int) -> None:
        if p == P:
            covered = len({int(instance.pair_supplier[q]) for q in held})
            score = float(sum(instance.pair_score[q] for q in held))
            if (covered, score) > best[0]:
                best[0] = (covered, score)
            return
        b, s = int(instance.pair_buyer[p]), int(instance.pair_supplier[p])
        if p not in locked:
            visit(p + 1)  # not held
        if deg_b[b] >= instance.buyer_cap[b] or deg_s[s] >= instance.supplier_cap[s]:
            return
        slots = range(T) if locked.get(p) is None else [locked[p]]
        for t in slots:
            need = bool(instance.pair_interpreter[p])
            if busy_b[b, t] or busy_s[s, t] or used[t] >= instance.tables:
                continue
            if need and interp[t] >= instance.interpreters:
                continue
            busy_b[b, t] = busy_s[s, t] = True
            deg_b[b] += 1
            deg_s[s] += 1
            used[t] += 1
            interp[t] += need
            held.append(p)
            visit(p + 1)
            held.pop()
            busy_b[b, t] = busy_s[s, t] = False
            deg_b[b] -= 1
            deg_s[s] -= 1
            used[t] -= 1
            interp[t] -= need

    visit(0)
    return best[0]


def random_instance(seed: int) -> MeetingInstance:
    rng = np.random.default_rng(seed)
    n_b, n_s = int(rng.integers(2, 4)), int(rng.integers(2, 5))
    pairs = [(b, s) for b in range(n_b) for s in range(n_s) if rng.random() < 0.7]
    pairs = pairs[:7] or [(0, 0)]
    pb = np.array([b for b, _ in pairs])
    ps = np.array([s for _, s in pairs])
    n = len(pairs)
    locks: list[tuple[int, int | None]] = []
    slots = int(rng.integers(1, 4))
    if seed % 3 == 0:
        locks.append((int(rng.integers(n)), None))
    if seed % 4 == 1:
        locks.append((0, int(rng.integers(slots))))
    return MeetingInstance(
        n_buyers=n_b,
        n_suppliers=n_s,
        pair_buyer=pb,
        pair_supplier=ps,
        # Few distinct values, so that ties (where a careless solver may pick either) occur.
        pair_score=np.round(rng.choice([0.1, 0.25, 0.5, 0.9], n) + rng.random(n) * 0.01, 4),
        pair_interpreter=rng.random(n) < 0.3,
        slots=slots,
        tables=int(rng.integers(1, 3)),
        interpreters=int(rng.integers(0, 2)),
        buyer_cap=rng.integers(1, 4, n_b),
        supplier_cap=rng.integers(1, 3, n_s),
        locks=tuple(locks),
    )


@pytest.mark.parametrize("seed", range(16))
def test_optimal_schedule_equals_brute_force(seed: int) -> None:
    instance = random_instance(seed)
    try:
        instance.check()
    except programme.InfeasibleLocks:
        instance = dataclasses.replace(instance, locks=())  # random locks that clash
    expected = brute_force(instance)
    if expected[0] < 0:
        with pytest.raises(programme.InfeasibleLocks):
            programme.optimal_schedule(instance)
        return
    result = programme.optimal_schedule(instance)
    assert result.status == "optimal"
    assert result.covered == expected[0]
    assert result.score == pytest.approx(expected[1], abs=1e-6)
    assert_feasible(instance, result)
    greedy = programme.greedy_schedule(instance)
    assert_feasible(instance, greedy)
    assert (greedy.covered, greedy.score) <= (result.covered, result.score + 1e-9)


def assert_feasible(instance: MeetingInstance, result: programme.ScheduleResult) -> None:
    pairs, slots = result.pairs.tolist(), result.slots.tolist()
    assert len(set(pairs)) == len(pairs)
    seen: set[tuple[str, int, int]] = set()
    for p, t in zip(pairs, slots, strict=True):
        for key in (
            ("b", int(instance.pair_buyer[p]), t),
            ("s", int(instance.pair_supplier[p]), t),
        ):
            assert key not in seen, "a firm in two meetings at once"
            seen.add(key)
    counts = np.bincount(np.asarray(slots, dtype=int), minlength=instance.slots)
    assert counts.max(initial=0) <= instance.tables
    need = np.bincount(
        np.asarray(slots, dtype=int),
        weights=instance.pair_interpreter[pairs].astype(float),
        minlength=instance.slots,
    )
    assert need.max(initial=0) <= instance.interpreters
    assert (
        np.bincount(instance.pair_buyer[pairs], minlength=instance.n_buyers) <= instance.buyer_cap
    ).all()
    assert (
        np.bincount(instance.pair_supplier[pairs], minlength=instance.n_suppliers)
        <= instance.supplier_cap
    ).all()
    placed = dict(zip(pairs, slots, strict=True))
    for p, t in instance.locks:
        assert p in placed and (t is None or placed[p] == t)


def medium_instance(seed: int) -> MeetingInstance:
    """Too large for the brute force: 6-10 buyers, 15-30 suppliers, tight tables and
    interpreters, a few locks."""
    rng = np.random.default_rng(1000 + seed)
    n_b, n_s = int(rng.integers(6, 11)), int(rng.integers(15, 31))
    pairs = [(b, s) for b in range(n_b) for s in range(n_s) if rng.random() < 0.35]
    n = len(pairs)
    slots = int(rng.integers(3, 7))
    return MeetingInstance(
        n_buyers=n_b,
        n_suppliers=n_s,
        pair_buyer=np.array([b for b, _ in pairs]),
        pair_supplier=np.array([s for _, s in pairs]),
        pair_score=np.round(rng.random(n), 3),
        pair_interpreter=rng.random(n) < 0.4,
        slots=slots,
        tables=int(rng.integers(2, n_b + 1)),
        interpreters=int(rng.integers(0, 3)),
        buyer_cap=rng.integers(2, slots + 1, n_b),
        supplier_cap=rng.integers(1, 3, n_s),
        locks=((0, 0), (n // 2, None)),
    )


@pytest.mark.parametrize("seed", range(6))
def test_medium_schedules_hold_every_limit_and_beat_first_come(seed: int) -> None:
    instance = medium_instance(seed)
    try:
        instance.check()
    except programme.InfeasibleLocks:
        instance = dataclasses.replace(instance, locks=())  # random locks that clash
    result = programme.optimal_schedule(instance, time_limit=60)
    assert_feasible(instance, result)
    greedy = programme.greedy_schedule(instance)
    assert_feasible(instance, greedy)
    assert result.status == "optimal"  # proven at this size, by the decomposition or the MILP
    assert (greedy.covered, greedy.score) <= (result.covered, result.score + 1e-9)


def instance_of(pairs: list[tuple[int, int, float]], **limits: object) -> MeetingInstance:
    n_b = max(b for b, _, _ in pairs) + 1
    n_s = max(s for _, s, _ in pairs) + 1
    values: dict[str, object] = {
        "slots": 1,
        "tables": 10,
        "interpreters": 0,
        "buyer_cap": np.full(n_b, 10),
        "supplier_cap": np.full(n_s, 10),
        "pair_interpreter": np.zeros(len(pairs), dtype=bool),
        **limits,
    }
    return MeetingInstance(
        n_buyers=n_b,
        n_suppliers=n_s,
        pair_buyer=np.array([b for b, _, _ in pairs]),
        pair_supplier=np.array([s for _, s, _ in pairs]),
        pair_score=np.array([w for _, _, w in pairs]),
        **values,  # type: ignore[arg-type]
    )


def test_coverage_comes_before_score() -> None:
    # One slot: buyer 0 can meet supplier 0 (0.9) or supplier 1 (0.2); buyer 1 only supplier 0
    # (0.3). Score first would be 0-0 alone (0.9); coverage first is 0-1 and 1-0 (0.5, both met).
    instance = instance_of([(0, 0, 0.9), (0, 1, 0.2), (1, 0, 0.3)])
    result = programme.optimal_schedule(instance)
    assert sorted(result.pairs.tolist()) == [1, 2]
    assert (result.covered, result.score) == (2, pytest.approx(0.5))


def test_greedy_serves_requests_first_come() -> None:
    # Supplier 0 asks first for buyer 0 (0.9), then buyer 1 (0.8); supplier 1 for buyer 0 (0.7).
    # One slot: the greedy gives supplier 0 buyer 0 and nothing fits after; the optimum meets
    # both suppliers: 0 with buyer 1, 1 with buyer 0 (0.8 + 0.7).
    instance = instance_of([(0, 0, 0.9), (1, 0, 0.8), (0, 1, 0.7)], requests=np.array([0, 1, 2]))
    greedy = programme.greedy_schedule(instance)
    assert greedy.pairs.tolist() == [0] and greedy.slots.tolist() == [0]
    assert (greedy.covered, greedy.score) == (1, pytest.approx(0.9))
    best = programme.optimal_schedule(instance)
    assert (best.covered, best.score) == (2, pytest.approx(1.5))


def test_fallback_when_chosen_meetings_do_not_fit_their_slots() -> None:
    # Two buyers, two suppliers, two slots; 0-0 locked in slot 1 and 1-1 in slot 2. Counting
    # meetings per firm alone, all four pairs fit (2.7); in slots, 0-1 and 1-0 each clash with a
    # lock, so the best schedule is the two locked meetings (1.0).
    instance = instance_of(
        [(0, 0, 0.5), (1, 1, 0.5), (0, 1, 0.9), (1, 0, 0.8)],
        slots=2,
        locks=((0, 0), (1, 1)),
    )
    result = programme.optimal_schedule(instance)
    assert result.method == "time-indexed" and result.status == "optimal"
    assert sorted(zip(result.pairs.tolist(), result.slots.tolist(), strict=True)) == [
        (0, 0),
        (1, 1),
    ]
    assert result.score == pytest.approx(1.0) and result.notes
    assert brute_force(instance) == (2, pytest.approx(1.0))


def test_interpreters_limit_meetings_without_a_shared_language() -> None:
    # Two meetings need an interpreter, one slot, one interpreter: only the better one is held.
    instance = instance_of(
        [(0, 0, 0.4), (1, 1, 0.6)], pair_interpreter=np.array([True, True]), interpreters=1
    )
    assert programme.optimal_schedule(instance).pairs.tolist() == [1]
    none = programme.optimal_schedule(instance_of([(0, 0, 0.4)], pair_interpreter=np.array([True])))
    assert none.pairs.tolist() == [] and none.covered == 0


def test_clashing_locks_are_refused_before_solving() -> None:
    instance = instance_of([(0, 0, 0.5), (0, 1, 0.5)], slots=2, locks=((0, 1), (1, 1)))
    with pytest.raises(programme.InfeasibleLocks, match="two meetings locked in slot 2"):
        programme.optimal_schedule(instance)


# -- events on the tiny world ----------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny() -> tuple[graph.Dataset, matcher.Matcher]:
    dataset = graph.load_dataset(TINY)
    return dataset, matcher.Matcher().fit(dataset)


def everyone(*extra: Participant) -> tuple[Participant, ...]:
    # T1 is both a buyer and a supplier: left out unless a test gives its side.
    return tuple(Participant(f, "") for f in ("B1", "B2", "S1", "S2", "S3", "S4", "S5")) + extra


def pairs_of(schedule: programme.EventSchedule) -> set[tuple[str, str]]:
    return set(zip(schedule.meetings["buyer_id"], schedule.meetings["supplier_id"], strict=True))


def test_tiny_event_meets_the_candidates_and_skips_links_and_refusals(tiny) -> None:
    dataset, m = tiny
    spec = EventSpec(everyone(), slots=2, tables=2, max_meetings=2)
    schedule = programme.schedule_event(spec, m)
    # B1's candidates are S1, S3 and S5; B1-S5 was declined (outcomes.csv) and B1-S2 is an
    # active link. B2's one candidate among the participants is S5. So: three meetings.
    assert pairs_of(schedule) == {("B1", "S1"), ("B1", "S3"), ("B2", "S5")}
    assert schedule.status == "optimal" and schedule.covered == 3 and schedule.suppliers == 5
    scores = m.score_buyers(["B1", "B2"])
    col = {s: j for j, s in enumerate(m.supplier_ids_)}
    expected = scores[0, col["S1"]] + scores[0, col["S3"]] + scores[1, col["S5"]]
    assert schedule.score == pytest.approx(expected)
    # B1 meets twice, so in both slots, and keeps its table all day.
    b1 = schedule.meetings[schedule.meetings["buyer_id"] == "B1"]
    assert sorted(b1["slot"]) == [1, 2] and b1["table"].nunique() == 1


def test_declined_pairs_and_links_only_when_asked(tiny) -> None:
    dataset, m = tiny
    two = (Participant("B1", "buyer"), Participant("S5", "supplier"))
    spec = EventSpec(two, slots=1, tables=1, max_meetings=1)
    assert programme.schedule_event(spec, m).meetings.empty
    opened = EventSpec(two, slots=1, tables=1, max_meetings=1, include_declined=True)
    assert pairs_of(programme.schedule_event(opened, m)) == {("B1", "S5")}


def test_locked_meetings_appear_where_locked(tiny) -> None:
    dataset, m = tiny
    # B1-S4 is no candidate at all; locked in slot 2, it is held there, score 0.
    spec = EventSpec(
        everyone(), slots=2, tables=2, max_meetings=2, locks=(MeetingLock("B1", "S4", 2),)
    )
    schedule = programme.schedule_event(spec, m)
    row = schedule.meetings[(schedule.meetings["supplier_id"] == "S4")]
    assert row[["buyer_id", "slot", "score"]].values.tolist() == [["B1", 2, 0.0]]
    assert bool(row["locked"].iloc[0])
    # B1's other place goes to its best candidate left.
    assert pairs_of(schedule) == {("B1", "S4"), ("B1", "S1"), ("B2", "S5")}


def test_languages_decide_interpreters(tiny) -> None:
    dataset, m = tiny
    # B1's delegation speaks Japanese only: S1 and S3 speak no Japanese (S2 does, but is linked).
    people = (Participant("B1", "buyer", ("ja",)), Participant("S1", ""), Participant("S3", ""))
    none = EventSpec(people, slots=2, tables=2, max_meetings=2)
    assert programme.schedule_event(none, m).meetings.empty
    one = EventSpec(people, slots=2, tables=2, max_meetings=2, interpreters=1)
    schedule = programme.schedule_event(one, m)
    assert len(schedule.meetings) == 2 and schedule.meetings["interpreter"].all()
    assert schedule.grid()["table 1"].str.endswith("(interpreter)").all()


def test_default_languages_from_ownership_and_country() -> None:
    assert programme.default_languages("fdi", "KR") == ("ko", "en")
    assert programme.default_languages("fdi", "US") == ("en",)
    assert programme.default_languages("domestic", "VN") == ("vi",)
    assert programme.default_languages("jv", "VN") == ("vi", "en")


def test_exports_agendas_and_grid(tiny) -> None:
    dataset, m = tiny
    spec = EventSpec(everyone(), slots=2, tables=2, max_meetings=2, slot_labels=("09:00", "09:30"))
    schedule = programme.schedule_event(spec, m)
    grid = schedule.grid()
    assert list(grid.columns) == ["slot", "table 1", "table 2"]
    assert grid["slot"].tolist() == ["09:00", "09:30"]
    assert (grid.iloc[:, 1:] != "").to_numpy().sum() == len(schedule.meetings)
    agendas = schedule.agendas()
    assert list(agendas["firm_id"].unique()) == ["B1", "B2", "S1", "S2", "S3", "S4", "S5"]
    s2 = agendas[agendas["firm_id"] == "S2"]
    assert len(s2) == 1 and s2["slot"].isna().all() and s2["firm_name"].iloc[0]
    s1 = agendas[agendas["firm_id"] == "S1"].iloc[0]
    assert (s1["side"], s1["counterpart_id"]) == ("supplier", "B1")
    assert set(schedule.sheets()) == {"meetings", "agendas", "grid"}


def test_greedy_on_an_event(tiny) -> None:
    dataset, m = tiny
    spec = EventSpec(everyone(), slots=1, tables=1, max_meetings=1)
    greedy = programme.schedule_event(spec, m, method="greedy")
    best = programme.schedule_event(spec, m)
    assert greedy.status == "heuristic" and len(greedy.meetings) == 1
    # S1 registered first and asks for B1: served first. One table: the optimum picks the best pair.
    assert pairs_of(greedy) == {("B1", "S1")}
    assert best.score >= greedy.score


# -- bad input --------------------------------------------------------------------------------
def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_participant_file_problems_name_file_row_and_column(tiny, tmp_path: Path) -> None:
    dataset, _ = tiny
    path = write(
        tmp_path / "people.csv",
        "firm_id,side,languages,max_meetings\n"
        "B1,,,\n"
        "XX,buyer,,\n"
        "B2,supplier,,\n"
        "T1,,,\n"
        "B1,,,\n"
        "S1,supplier,english,\n",
    )
    with pytest.raises(EventError) as caught:
        programme.read_participants(path, dataset)
    text = str(caught.value)
    assert "people.csv:7: languages: 'english' is not an ISO 639-1 code" in text
    path = write(
        tmp_path / "people.csv",
        "firm_id,side,max_meetings\nB1,,\nXX,buyer,\nB2,supplier,\nT1,,\nB1,,\nS1,,0\n",
    )
    with pytest.raises(EventError) as caught:
        programme.read_participants(path, dataset)
    assert "people.csv:7: max_meetings: '0' is not a whole number >= 1" in str(caught.value)
    path = write(tmp_path / "people.csv", "firm_id,side\nB1,\nXX,buyer\nB2,supplier\nT1,\nB1,\n")
    with pytest.raises(EventError) as caught:
        programme.read_participants(path, dataset)
    lines = str(caught.value).splitlines()
    assert lines == [
        "people.csv:3: firm_id: 'XX' is not a firm in the data",
        "people.csv:4: side: 'B2' is a buyer in the data and cannot take part as a supplier",
        "people.csv:5: side: 'T1' is both a buyer and a supplier: say which side it takes here",
        "people.csv:6: firm_id: 'B1' is listed already (row 2)",
    ]


def test_participant_file_reads_sides_languages_and_caps(tiny, tmp_path: Path) -> None:
    dataset, _ = tiny
    path = write(
        tmp_path / "people.csv", "firm_id,side,languages,max_meetings\nT1,supplier,vi;JA,3\nB1,,,\n"
    )
    assert programme.read_participants(path, dataset) == (
        Participant("T1", "supplier", ("vi", "ja"), 3),
        Participant("B1", "buyer", (), None),
    )


def test_bad_limits_and_locks_are_named(tiny) -> None:
    dataset, m = tiny
    with pytest.raises(EventError, match="event: slots: must be at least 1, not 0"):
        programme.schedule_event(EventSpec(everyone(), slots=0, tables=1, max_meetings=1), m)
    with pytest.raises(EventError, match="event: tables: must be at least 1, not -2"):
        programme.schedule_event(EventSpec(everyone(), slots=1, tables=-2, max_meetings=1), m)
    stranger = EventSpec(
        everyone(), slots=2, tables=1, max_meetings=2, locks=(MeetingLock("S1", "B1"),)
    )
    with pytest.raises(EventError) as caught:
        programme.schedule_event(stranger, m)
    assert str(caught.value).splitlines() == [
        "event.locks:1: buyer_id: 'S1' is not a buyer at this event",
        "event.locks:1: supplier_id: 'B1' is not a supplier at this event",
    ]
    late = EventSpec(
        everyone(), slots=2, tables=1, max_meetings=2, locks=(MeetingLock("B1", "S1", 3),)
    )
    with pytest.raises(EventError, match="slot 3 is not one of the event's slots 1-2"):
        programme.schedule_event(late, m)
    clash = (MeetingLock("B1", "S1", 1), MeetingLock("B1", "S3", 1))
    with pytest.raises(EventError, match="buyer B1 has two meetings locked in slot 1"):
        programme.schedule_event(EventSpec(everyone(), 2, 2, 2, locks=clash), m)


def test_parse_lock() -> None:
    assert programme.parse_lock("B1:S1") == MeetingLock("B1", "S1", None)
    assert programme.parse_lock(" B1 : S1 @ 2") == MeetingLock("B1", "S1", 2)
    for bad in ("B1", "B1:S1@0", "B1:S1@x", ":S1"):
        with pytest.raises(ValueError, match="lock"):
            programme.parse_lock(bad)


def test_spec_round_trips_and_relocks() -> None:
    spec = EventSpec(everyone(), 2, 2, 2, locks=(MeetingLock("B1", "S1", 1),), name="fair")
    assert EventSpec.from_dict(spec.to_dict()) == spec
    moved = spec.with_locks(add=[MeetingLock("B1", "S1", 2)])
    assert moved.locks == (MeetingLock("B1", "S1", 2),)
    assert moved.with_locks(remove=[("B1", "S1")]).locks == ()
