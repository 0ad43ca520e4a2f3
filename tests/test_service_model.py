"""GET /v1/model carries the served model's evaluation figures (a hold-out refit at fit time)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.service import ServiceSettings, create_app

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.mark.parametrize("evaluate", [True, False])
def test_model_route_reports_evaluation_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evaluate: bool
) -> None:
    monkeypatch.delenv("KETNOI_SECRET", raising=False)
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'ketnoi.db'}", data_dir=tmp_path)
    storage.upgrade(engine)
    storage.load_into(engine, graph.load_dataset(TINY))
    key = storage.create_key(engine, "analyst")
    app = create_app(ServiceSettings(data_dir=tmp_path, evaluate=evaluate), engine=engine)
    with TestClient(app) as client:
        body = client.get("/v1/model", headers={"Authorization": f"Bearer {key}"}).json()
    engine.dispose()
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
