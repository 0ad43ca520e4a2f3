"""Re-planning after the agendas are out: a new lock or participant moves only the meetings it
must (issue 14: "meetings in the locked slot that share a firm or the table with the locked
meeting"), and the report lists them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketnoi import graph, matcher, programme

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


def _instance(seed: int) -> programme.MeetingInstance:
    """Every pair of 6 buyers and 14 suppliers may meet; caps never bind."""
    rng = np.random.default_rng(seed)
    pb, ps = np.divmod(np.arange(6 * 14), 14)
    return programme.MeetingInstance(
        n_buyers=6,
        n_suppliers=14,
        pair_buyer=pb,
        pair_supplier=ps,
        pair_score=rng.random(len(pb)),
        pair_interpreter=np.zeros(len(pb), dtype=bool),
        slots=5,
        tables=6,
        interpreters=0,
        buyer_cap=np.full(6, 5),
        supplier_cap=np.full(14, 5),
    )


def _placed(inst: programme.MeetingInstance, pairs, slots, tables) -> set[tuple[int, int, int]]:
    return {(int(p), int(t), int(k)) for p, t, k in zip(pairs, slots, tables, strict=True)}


@pytest.mark.parametrize("seed", range(6))
def test_a_new_lock_moves_only_the_meetings_it_forces(seed: int) -> None:
    inst = _instance(seed)
    first = programme.stable_schedule(inst, [])
    published = [
        programme.PublishedMeeting(int(p), int(t), int(k))
        for p, t, k in zip(first.result.pairs, first.result.slots, first.tables, strict=True)
    ]
    before = _placed(inst, first.result.pairs, first.result.slots, first.tables)
    meeting = {int(p) for p in first.result.pairs}
    lock_pair = next(p for p in range(inst.n_pairs) if p not in meeting)
    locked = dataclasses.replace(inst, locks=((lock_pair, 2),))

    plan = programme.stable_schedule(locked, published)
    after = _placed(locked, plan.result.pairs, plan.result.slots, plan.tables)
    moved = before - after
    (lock_table,) = [k for p, t, k in after if p == lock_pair]
    b, s = inst.pair_buyer[lock_pair], inst.pair_supplier[lock_pair]
    forced = {
        (p, t, k)
        for p, t, k in before
        if t == 2 and (inst.pair_buyer[p] == b or inst.pair_supplier[p] == s or k == lock_table)
    }
    assert moved <= forced
    assert {published[i] for i in plan.forced} == {programme.PublishedMeeting(*m) for m in moved}
    # Planned afresh (what a new lock did before), most of the day moves.
    fresh = programme.stable_schedule(locked, [])
    afresh = _placed(locked, fresh.result.pairs, fresh.result.slots, fresh.tables)
    assert len(before - afresh) > 3 * len(forced)


@pytest.fixture(scope="module")
def fitted() -> matcher.Matcher:
    return matcher.Matcher().fit(graph.load_dataset(TINY))


def _spec(*firms: str, **extra: object) -> programme.EventSpec:
    people = tuple(programme.Participant(f, "") for f in firms)
    return programme.EventSpec(people, slots=3, tables=2, max_meetings=3, **extra)


def test_a_new_participant_leaves_every_published_meeting_in_place(
    fitted: matcher.Matcher,
) -> None:
    first = programme.schedule_event(_spec("B1", "B2", "S1", "S2"), fitted)
    again = programme.schedule_event(
        _spec("B1", "B2", "S1", "S2", "S3"), fitted, published=first.meetings
    )
    key = ["buyer_id", "supplier_id", "slot", "table"]
    kept = first.meetings[key].merge(again.meetings[key])
    assert len(kept) == len(first.meetings)
    changes = again.changes
    assert changes is not None
    assert set(changes["change"]) <= {"added"}
    assert "S3" in set(changes["supplier_id"])
    assert again.summary()["moved"] == 0 and again.summary()["added"] == len(changes)


def test_the_report_lists_what_a_lock_moved(fitted: matcher.Matcher) -> None:
    first = programme.schedule_event(_spec("B1", "B2", "S1", "S2", "S3"), fitted)
    held = first.meetings
    # Lock a pair that does not meet yet into the slot where its buyer is busy.
    pairs = set(zip(held["buyer_id"], held["supplier_id"], strict=True))
    buyer = held["buyer_id"].iloc[0]
    supplier = next(s for s in ("S1", "S2", "S3") if (buyer, s) not in pairs)
    slot = int(held["slot"].iloc[0])
    spec = first.spec.with_locks(add=[programme.MeetingLock(buyer, supplier, slot)])
    again = programme.schedule_event(spec, fitted, published=held)
    changes = again.changes
    assert changes is not None
    gone = changes[changes["change"].isin(["moved", "cancelled"])]
    # The buyer's meeting in that slot had to make way, and it is the one reported.
    assert len(gone) >= 1
    displaced = held[(held["slot"] == slot) & (held["buyer_id"] == buyer)]
    assert set(zip(gone["buyer_id"], gone["supplier_id"], gone["slot_before"], strict=True)) >= {
        (buyer, displaced["supplier_id"].iloc[0], slot)
    }
    assert ((changes["change"] == "added") & (changes["supplier_id"] == supplier)).any()
    assert isinstance(changes, pd.DataFrame) and "re-planned around" in " ".join(again.notes)
