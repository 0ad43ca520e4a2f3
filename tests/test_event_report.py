"""Who got no meeting at an event, and why; the minimum meeting score."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketnoi import graph, matcher, programme

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def fitted() -> matcher.Matcher:
    return matcher.Matcher().fit(graph.load_dataset(TINY))


def _spec(**extra: object) -> programme.EventSpec:
    people = tuple(
        programme.Participant(f, side)
        for f, side in (("B1", "buyer"), ("S1", "supplier"), ("S4", "supplier"))
        + (("T1", "supplier"), ("S5", "supplier"))
    )
    return programme.EventSpec(people, slots=3, tables=2, max_meetings=3, **extra)


def _why(schedule: programme.EventSchedule) -> dict[str, str]:
    return dict(zip(schedule.unmet["firm_id"], schedule.unmet["reason"], strict=True))


def test_each_firm_without_a_meeting_is_reported_with_its_reason(
    fitted: matcher.Matcher,
) -> None:
    schedule = programme.schedule_event(_spec(), fitted)
    why = _why(schedule)
    # T1 supplies B1 already and S5 declined B1: the event is for new links.
    assert why["T1"] == why["S5"] == programme.NO_MEETING["closed"]
    # S4 is unlisted: never a candidate.
    assert why["S4"] == programme.NO_MEETING["no_candidate"]
    assert "S1" not in why and "B1" not in why
    assert schedule.summary()["without_meeting"] == 3


def test_a_minimum_score_keeps_weak_pairs_out(fitted: matcher.Matcher) -> None:
    weak = programme.schedule_event(_spec(min_score=0.999), fitted)
    assert weak.meetings.empty
    assert _why(weak)["S1"] == programme.NO_MEETING["weak"]
    assert _why(weak)["B1"] == programme.NO_MEETING["weak"]
    # A lock is held whatever it scores.
    locked = programme.schedule_event(
        _spec(min_score=0.999, locks=(programme.MeetingLock("B1", "S1"),)), fitted
    )
    assert len(locked.meetings) == 1
    with pytest.raises(programme.EventError, match="min_score"):
        programme.schedule_event(_spec(min_score=2.0), fitted)
