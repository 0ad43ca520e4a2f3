"""Reasons a buyer can act on: both sides of its requirements, the pair's own history first,
the collaborative signal in plain words, and Vietnamese that reads as Vietnamese.

The pairs are built on the tiny world's index with every signal firing at once, so that the
order decides what survives the cut at five reasons.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from ketnoi import graph, matcher
from ketnoi.matcher._index import FirmIndex
from ketnoi.matcher._reasons import pair_reasons

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def index() -> FirmIndex:
    data = graph.load_dataset(TINY)
    demands = data.demands.copy()
    # B1 asks its PCB assembler for three certificates; S1 holds ISO 9001 and IPC-A-610 only.
    demands.at[0, "required_certifications"] = ("ISO 9001", "IPC-A-610", "IATF 16949")
    demands.at[0, "required_processes"] = ("PCB fabrication", "conformal coating")
    return FirmIndex.from_dataset(dataclasses.replace(data, demands=demands))


def _everything(ease_rank: float = math.log(3)) -> dict[str, float]:
    """A pair on which every reason fires."""
    return {
        "fit_level": 2,
        "capacity_ratio": 0.5,
        "n_international_certs": 2,
        "distance_km": 4.0,
        "same_park": 0,
        "same_origin_buyers": math.log1p(3),
        "similar_demand_buyers": math.log1p(2),
        "outcome_good": 1,
        "supplier_popularity": math.log1p(4),
        "ease_rank": ease_rank,
    }


def _reasons(index: FirmIndex, lang: str = "en", **features: float) -> list[str]:
    past_link = bool(features.pop("past_link", True))
    limit = int(features.pop("limit", 5))
    b, s = index.buyer_index("B1"), index.supplier_index("S1")
    rows = index.demand_rows
    row = int(np.flatnonzero((rows["buyer"] == b) & (rows["source"] == "demand"))[0])
    offers = np.array([index.category_ids.get_loc("pcb")])
    return pair_reasons(
        index,
        {**_everything(), **features},
        buyer=b,
        supplier=s,
        demand_row=row,
        shared_buyers=2,
        offers=offers,
        past_link=past_link,
        lang=lang,
        limit=limit,
    )


def test_reasons_say_what_is_met_and_what_is_lacking(index: FirmIndex) -> None:
    reasons = _reasons(index)
    assert "holds ISO 9001, IPC-A-610, which the buyer requires" in reasons
    assert "lacks IATF 16949, which the buyer requires" in reasons
    calm = _reasons(index, outcome_good=0, past_link=False)
    assert "lacks conformal coating, which the buyer requires" in calm


def test_the_pairs_own_history_survives_the_cut_at_five(index: FirmIndex) -> None:
    reasons = _reasons(index)
    assert len(reasons) == 5
    assert "supplied this buyer before (the link has ended)" in reasons
    assert "has met this buyer before (met)" in reasons


def test_buyers_that_source_alike_are_a_reason_only_near_the_top(index: FirmIndex) -> None:
    alike = "buyers that source like this buyer also buy from this supplier"
    # Without the requirements and the history, there is room for the weaker signals.
    calm = {"fit_level": 0, "outcome_good": 0}
    near = _reasons(index, **calm, ease_rank=math.log(1 + 10))  # tenth in the EASE list
    far = _reasons(index, **calm, ease_rank=math.log(1 + 11))
    assert alike in near
    assert alike not in far
    vi = _reasons(index, "vi", **calm, ease_rank=math.log(2))
    assert "các bên mua có nguồn cung giống bên mua này cũng mua của nhà cung cấp này" in vi


def test_vietnamese_reasons_read_as_vietnamese(index: FirmIndex) -> None:
    reasons = _reasons(index, "vi", outcome_good=0)
    # The category mid-sentence is lower-cased (the tiny world names it "Bảng mạch đã lắp ráp").
    assert reasons[0] == "sản xuất bảng mạch đã lắp ráp (HS 847330), mặt hàng bên mua có nhu cầu"
    assert "chưa có chứng nhận IATF 16949 mà bên mua yêu cầu" in reasons
    every = _reasons(index, "vi", outcome_good=0, limit=20)
    assert "công suất 31.623 đơn vị/năm đáp ứng nhu cầu 10.000 đơn vị/năm" in every
    assert matcher.number(31622.8, "vi") == "31.623"


def test_explain_blockers_in_vietnamese(tmp_path: Path) -> None:
    fitted = matcher.Matcher().fit(graph.load_dataset(TINY))
    report = fitted.explain("S5", "B2", lang="vi")
    assert report["blockers"] == [
        "chưa có chứng nhận IATF 16949 mà bên mua yêu cầu",
        "công suất thiếu: 5.000 đơn vị/năm so với nhu cầu 8.000 đơn vị/năm",
    ]
    assert "chưa có chứng nhận IATF 16949 mà bên mua yêu cầu" in report["reasons"]
