"""GET /v1/model carries the served model's evaluation figures (a hold-out refit at fit time)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.mark.parametrize("evaluate", [True, False])
def test_model_route_reports_evaluation_figures(
    tmp_path: Path, start_service: Callable[..., Any], evaluate: bool
) -> None:
    with start_service(tmp_path, evaluate=evaluate) as service:
        headers = {"Authorization": f"Bearer {service['keys']['analyst']}"}
        body = service["client"].get("/v1/model", headers=headers).json()
    if not evaluate:
        assert "evaluation" not in body["metrics"]
        return
    figures = body["metrics"]["evaluation"]
    # tiny's links carry years 2017-2022: the last two years are held out, that is S3 -> B2
    # (2021) and S2 -> B2 (2022), two pairs of one judged buyer.
    assert figures["holdout"] == "temporal"
    assert (figures["judged_buyers"], figures["heldout_pairs"]) == (1, 2)
    assert set(figures["methods"]) == {"model", "l3", "popular"}
    for values in figures["methods"].values():
        assert 0.0 <= values["ndcg_at_k"] <= 1.0


def test_model_route_names_the_ranker_and_its_inner_validation(
    tmp_path: Path, start_service: Callable[..., Any]
) -> None:
    with start_service(tmp_path, evaluate=False) as service:
        headers = {"Authorization": f"Bearer {service['keys']['analyst']}"}
        body = service["client"].get("/v1/model", headers=headers).json()
        served = service["app"].state.holder.current.matcher
    assert body["ranker"] == served.ranker_
    assert body["ease_l2"] == served.ease_l2_
    assert [row["ranker"] for row in body["selection"]] == [
        row["ranker"] for row in served.selection_
    ]
    for row in body["selection"]:
        assert 0.0 <= row["inner_ndcg_at_10"] <= 1.0
    # A learned blend with EASE shows its weight; the single rankers have none.
    weights = {row["ranker"]: row.get("weight") for row in served.selection_}
    assert {row["ranker"]: row["weight"] for row in body["selection"]} == weights
