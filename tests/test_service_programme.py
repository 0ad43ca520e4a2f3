"""The programme report routes on the tiny dataset: who may read them, JSON bodies with
hand-checked figures, CSV and XLSX files parsed back, and bounded parameters.

tiny (see tests/test_cli_programme.py): every demand is covered locally, the linked rate is
(793000 - 500000) / 793000, and S5 is one certificate (IATF 16949) short of B2's stamped parts.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROUTES = [
    "/v1/programme/localisation",
    "/v1/programme/near-misses",
    "/v1/programme/near-misses/pairs",
    "/v1/programme/concentration",
    "/v1/programme/concentration/single-sourced",
    "/v1/programme/concentration/sole-suppliers",
    "/v1/programme/indicators",
]


def get(service: dict[str, Any], who: str | None, url: str, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {service['keys'][who]}"} if who else {}
    return service["client"].get(url, headers=headers, params=params)


@pytest.mark.parametrize("url", ROUTES)
def test_roles(service: dict[str, Any], url: str) -> None:
    assert get(service, None, url).status_code == 401
    forbidden = get(service, "firm_b1", url)
    assert forbidden.status_code == 403 and "staff or analyst" in forbidden.json()["detail"]
    assert get(service, "staff", url).status_code == 200
    assert get(service, "analyst", url).status_code == 200


def test_localisation_json(service: dict[str, Any]) -> None:
    body = get(service, "analyst", "/v1/programme/localisation", by="all").json()
    assert body["by"] == "all" and body["category"] is None
    (row,) = body["items"]
    assert row["demands"] == 6 and row["weighting"] == "volume"
    assert row["localisation_rate"] == 1.0
    assert row["linked_rate"] == pytest.approx(293000 / 793000)
    assert row["category_id"] is None  # no key fields when not grouped
    by_category = get(service, "staff", "/v1/programme/localisation", category="metal").json()
    assert sorted(r["category_id"] for r in by_category["items"]) == ["screw", "stamp"]
    screw = next(r for r in by_category["items"] if r["category_id"] == "screw")
    assert screw["linked_rate"] == pytest.approx(200000 / 700000)
    gaps = get(service, "staff", "/v1/programme/localisation", gaps_only=True).json()
    assert gaps["items"] == []


def test_near_misses_json(service: dict[str, Any]) -> None:
    body = get(service, "staff", "/v1/programme/near-misses").json()
    assert body["weighting"] == "volume"
    assert body["localisation_rate"] == 1.0 and body["rate_if_all_gained"] == 1.0
    (item,) = body["items"]
    assert item["lacking"] == "IATF 16949" and item["supplier_ids"] == ["S5"]
    assert item["demands"] == 1 and item["volume"] == 8000.0
    pairs = get(service, "staff", "/v1/programme/near-misses/pairs").json()["items"]
    assert [(p["supplier_id"], p["buyer_id"], p["category_id"]) for p in pairs] == [
        ("S5", "B2", "stamp")
    ]


def test_concentration_json(service: dict[str, Any]) -> None:
    items = get(service, "staff", "/v1/programme/concentration").json()["items"]
    stamp = next(r for r in items if r["category_id"] == "stamp")
    assert (stamp["links"], stamp["suppliers"], stamp["hhi"]) == (2, 1, 1.0)
    single = get(service, "staff", "/v1/programme/concentration/single-sourced").json()["items"]
    assert len(single) == 5
    sole = get(service, "staff", "/v1/programme/concentration/sole-suppliers").json()["items"]
    assert (sole[0]["supplier_id"], sole[0]["sole_source_pairs"]) == ("S2", 2)


def test_indicators_json(service: dict[str, Any]) -> None:
    items = get(service, "staff", "/v1/programme/indicators", start=2022, end=2022).json()["items"]
    local = [r for r in items if r["indicator"] == "local_supporting_firms"]
    assert [(r["year"], r["basis"], r["value"], r["target"], r["on_track"]) for r in local] == [
        (2022, "observed", 6.0, None, None),
        (2026, "projected", 6.0, 1000.0, False),
        (2030, "projected", 6.0, 1200.0, False),
    ]


def test_csv_export_parses_back(service: dict[str, Any]) -> None:
    response = get(service, "staff", "/v1/programme/localisation", by="buyer", format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="localisation-buyer.csv"' in response.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(response.content.decode("utf-8-sig")))
    assert sorted(frame["buyer_id"]) == ["B1", "B2", "T1"]
    # Shares as percentages where a person reads them (issue 14); JSON keeps the fraction.
    assert frame.set_index("buyer_id").loc["B1", "linked_rate"] == "12.3%"  # 70000 / 570000
    # Tuples are one cell.
    targets = get(service, "staff", "/v1/programme/near-misses", format="csv")
    frame = pd.read_csv(io.StringIO(targets.content.decode("utf-8-sig")))
    assert frame["supplier_ids"].tolist() == ["S5"]


def test_xlsx_export_parses_back(service: dict[str, Any]) -> None:
    response = get(service, "analyst", "/v1/programme/indicators", format="xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    frame = pd.read_excel(io.BytesIO(response.content), sheet_name="indicators")
    assert list(frame.columns) == ["year", "indicator", "basis", "value", "target", "on_track"]
    local = frame[(frame["indicator"] == "local_supporting_firms") & (frame["year"] == 2022)]
    assert local["value"].tolist() == [6.0]
    concentration = get(service, "staff", "/v1/programme/concentration", format="xlsx")
    sheet = pd.read_excel(io.BytesIO(concentration.content), sheet_name="concentration")
    assert sorted(sheet["category_id"]) == ["pcb", "pcba", "screw", "stamp"]


@pytest.mark.parametrize(
    ("url", "params", "code"),
    [
        ("/v1/programme/localisation", {"by": "park"}, 422),
        ("/v1/programme/localisation", {"category": "steel"}, 404),
        ("/v1/programme/localisation", {"category": "x" * 65}, 422),
        ("/v1/programme/near-misses", {"category": "steel"}, 404),
        ("/v1/programme/near-misses/pairs", {"category": "steel"}, 404),
        ("/v1/programme/concentration", {"format": "pdf"}, 422),
        ("/v1/programme/indicators", {"start": 1800}, 422),
        ("/v1/programme/indicators", {"end": 3000}, 422),
        ("/v1/programme/indicators", {"start": 2024, "end": 2020}, 422),
    ],
)
def test_bad_parameters(service: dict[str, Any], url: str, params: dict, code: int) -> None:
    response = get(service, "staff", url, **params)
    assert response.status_code == code
    assert response.json()["detail"]


def test_routes_are_documented(service: dict[str, Any]) -> None:
    paths = service["client"].get("/openapi.json").json()["paths"]
    for url in ROUTES:
        assert url in paths
