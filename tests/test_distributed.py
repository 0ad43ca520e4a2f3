"""Match lists in parts: one function, two engines (this process and Dask), the same rows."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ketnoi import graph, matcher
from ketnoi.api.cli import app

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def fitted() -> matcher.Matcher:
    """A small generated link-only world (the tiny fixture's declined pair is in the CLI test)."""
    name = "ketnoi_fixture_make_synthetic"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "fixtures" / "make_synthetic.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    world = module.make_world(300, 40, 1_500, seed=3, profiles=False)
    return matcher.Matcher().fit(graph.Dataset.from_frames(**world))


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    # Threads of this process: a cluster in well under a second, and the test's own classes
    # need no import on the workers. The CLI test below runs worker processes.
    with matcher.dask_client(n_workers=2, processes=False) as c:
        yield c


def spec_with_pairs(m: matcher.Matcher) -> matcher.MatchListSpec:
    whole = matcher.build_match_list(m, matcher.MatchListSpec(k=4))
    first = whole.iloc[0]
    return matcher.MatchListSpec(
        k=4,
        lang="vi",
        pins=[(str(whole.iloc[-1]["buyer_id"]), str(first["supplier_id"]))],
        blocks=[(str(first["buyer_id"]), str(first["supplier_id"]))],
    )


def test_parts_give_the_one_call_list_with_and_without_dask(
    fitted: matcher.Matcher, client: object
) -> None:
    spec = spec_with_pairs(fitted)
    expected = matcher.build_match_list(fitted, spec)
    assert expected["buyer_id"].nunique() > 20 and expected["pinned"].sum() == 1
    plan = matcher.plan_match_list(fitted, spec, part_buyers=7)
    assert len(plan) > 3
    here = matcher.parted_match_list(fitted, plan)
    on_dask = matcher.parted_match_list(fitted, plan, client=client)
    pd.testing.assert_frame_equal(here, expected)
    pd.testing.assert_frame_equal(on_dask, expected)
    assert fitted.rankings_ == {}  # the parts ranked in copies, not in the caller's matcher


def test_given_buyers_in_their_order(fitted: matcher.Matcher) -> None:
    buyers = list(fitted.ranking_.index.buyer_ids[::-3][:8])
    spec = matcher.MatchListSpec(buyer_ids=buyers, k=3)
    plan = matcher.plan_match_list(fitted, spec, part_buyers=3)
    assert [b for part in plan.parts for b in part] == buyers
    pd.testing.assert_frame_equal(
        matcher.parted_match_list(fitted, plan), matcher.build_match_list(fitted, spec)
    )


class FlakyMatcher(matcher.Matcher):
    """A matcher whose ranking of one buyer fails the first time, as a lost worker would."""

    fail_for = ""
    attempts: list[str] = []
    lock = threading.Lock()

    def precompute(self, buyer_ids=None, **kwargs):  # type: ignore[no-untyped-def]
        with self.lock:
            if self.fail_for in (buyer_ids or ()):
                FlakyMatcher.attempts.append(self.fail_for)
                if FlakyMatcher.attempts.count(self.fail_for) == 1:
                    raise OSError("worker lost")
        return super().precompute(buyer_ids, **kwargs)


def test_a_failed_part_is_retried_without_duplicate_rows(
    fitted: matcher.Matcher, client: object
) -> None:
    spec = matcher.MatchListSpec(k=4)
    expected = matcher.build_match_list(fitted, spec)
    flaky = FlakyMatcher.__new__(FlakyMatcher)
    flaky.__dict__.update(fitted.__dict__)
    plan = matcher.plan_match_list(flaky, spec, part_buyers=7)
    FlakyMatcher.fail_for, FlakyMatcher.attempts = plan.parts[2][0], []
    parts = list(matcher.iter_match_list(flaky, plan, client=client, retries=1))
    assert FlakyMatcher.attempts == [plan.parts[2][0]] * 2  # failed once, then ran again
    assert sorted(n for n, _ in parts) == list(range(len(plan)))  # each part handed out once
    rows = pd.concat([rows for _, rows in sorted(parts, key=lambda p: p[0])], ignore_index=True)
    assert not rows.duplicated(["buyer_id", "supplier_id"]).any()
    pd.testing.assert_frame_equal(rows, expected)
    # Without a retry the failure reaches the caller instead of a short list.
    FlakyMatcher.attempts = []
    with pytest.raises(OSError, match="worker lost"):
        list(matcher.iter_match_list(flaky, plan, client=client, retries=0))


def test_what_does_not_split_by_buyer_is_refused(fitted: matcher.Matcher) -> None:
    with pytest.raises(ValueError, match="max_per_supplier"):
        matcher.plan_match_list(fitted, matcher.MatchListSpec(k=3, max_per_supplier=2))
    some_supplier = str(fitted.ranking_.index.supplier_ids[0])
    with pytest.raises(ValueError, match="supplier_ids"):
        matcher.plan_match_list(
            fitted, matcher.MatchListSpec(buyer_ids=(), supplier_ids=[some_supplier])
        )


def read_parts(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("part-*.csv"))
    return pd.concat([pd.read_csv(f, encoding="utf-8-sig") for f in files], ignore_index=True)


def assert_same_table(parts: pd.DataFrame, one: pd.DataFrame) -> None:
    # A part with no rows reads back as object columns, so the concatenation may be object.
    pd.testing.assert_frame_equal(parts, one, check_dtype=False)


def test_cli_parts_on_a_local_cluster_equal_the_single_file(tmp_path: Path) -> None:
    runner = CliRunner()
    one = tmp_path / "one.csv"
    assert (
        runner.invoke(app, ["match-list", str(TINY), "--k", "2", "--out", str(one)]).exit_code == 0
    )
    folder = tmp_path / "parts"
    args = ["match-list", str(TINY), "--k", "2", "--out", str(folder), "--part-buyers", "1"]
    done = runner.invoke(app, [*args, "--dask", "--workers", "1"])  # a worker process
    assert done.exit_code == 0, done.output
    assert len(list(folder.glob("part-*.csv"))) >= 2 and (folder / "plan.json").exists()
    assert_same_table(read_parts(folder), pd.read_csv(one, encoding="utf-8-sig"))
    # A second run into the same folder keeps the parts only when asked to, for the same plan.
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.output
    first = sorted(folder.glob("part-*.csv"))[0]
    first.unlink()
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0 and "1 parts" in resumed.output
    assert_same_table(read_parts(folder), pd.read_csv(one, encoding="utf-8-sig"))
    other = runner.invoke(
        app, ["match-list", str(TINY), "--k", "3", "--out", str(folder), "--resume"]
    )
    assert other.exit_code == 2 and "another match list" in other.output
