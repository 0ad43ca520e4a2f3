"""The conversion route over real HTTP semantics (TestClient) on the tiny dataset: roles,
match lists credited only before an outcome, the backtest, and CSV/XLSX bodies."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pandas as pd
import pytest

URL = "/v1/programme/conversion"


@pytest.fixture(scope="module")
def service_options() -> dict[str, Any]:
    return {"evaluate": False}


def call(service: dict[str, Any], role: str | None, method: str, url: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {service['keys'][role]}"} if role else {}
    return service["client"].request(method, url, headers=headers, **kw)


def totals(service: dict[str, Any], **params: Any) -> dict[str, Any]:
    response = call(service, "analyst", "GET", URL, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["events"][-1]["event_id"] == "all"
    return body["events"][-1]


def test_roles(service: dict[str, Any]) -> None:
    assert call(service, None, "GET", URL).status_code == 401
    assert call(service, "firm_b1", "GET", URL).status_code == 403
    for role in ("staff", "analyst"):
        assert call(service, role, "GET", URL).status_code == 200


def test_bounds(service: dict[str, Any]) -> None:
    for params in ({"k": 0}, {"k": 10**11}, {"source": "guess"}, {"format": "pdf"}):
        assert call(service, "staff", "GET", URL, params=params).status_code == 422


def test_only_match_lists_made_before_an_outcome_are_credited(service: dict[str, Any]) -> None:
    before = totals(service)
    # tiny: S1 met B1 and S5 declined B1 in 2024; no list was saved then.
    assert (before["pairs"], before["met"], before["declined"], before["recommended"]) == (
        2,
        1,
        1,
        0,
    )
    made = call(service, "staff", "POST", "/v1/match-lists", json={"buyer_ids": ["B1"], "k": 5})
    assert made.status_code == 201, made.text
    rows = call(service, "staff", "GET", f"/v1/match-lists/{made.json()['id']}").json()["items"]
    second = next(r for r in rows if r["buyer_id"] == "B1" and r["rank"] == 2)
    # The new list ranks pairs, but after their 2024 outcomes: still nothing credited.
    assert totals(service)["recommended"] == 0
    today = dt.date.today().isoformat()
    recorded = call(
        service,
        "staff",
        "POST",
        "/v1/outcomes",
        json={
            "supplier_id": second["supplier_id"],
            "buyer_id": "B1",
            "outcome": "contracted",
            "date": today,
            "event_id": "ev-test",
        },
    )
    assert recorded.status_code == 201, recorded.text
    after = totals(service)
    assert after["pairs"] == 3 and after["contracted"] == 1
    assert after["recommended"] == 1 and after["contracts_from_top_k"] == 1
    assert after["share_of_contracts_from_top_k"] == 1.0
    # Ranked second: in the top 2, not in the top 1.
    assert totals(service, k=2)["contracts_from_top_k"] == 1
    assert totals(service, k=1)["contracts_from_top_k"] == 0


def test_meetings_scheduled_at_a_saved_event_are_credited(service: dict[str, Any]) -> None:
    people = [{"firm_id": f} for f in ("B2", "S1", "S4", "S5")]
    event = {"name": "fair", "participants": people, "slots": 2, "tables": 2, "max_meetings": 2}
    made = call(service, "staff", "POST", "/v1/events", json=event)
    assert made.status_code == 201, made.text
    meeting = made.json()["meetings"][0]
    before = totals(service)["scheduled"]
    recorded = call(
        service,
        "staff",
        "POST",
        "/v1/outcomes",
        json={
            "supplier_id": meeting["supplier_id"],
            "buyer_id": meeting["buyer_id"],
            "outcome": "met",
            "date": dt.date.today().isoformat(),
            "event_id": "fair",
        },
    )
    assert recorded.status_code == 201, recorded.text
    after = totals(service)
    assert after["scheduled"] == before + 1
    assert after["scheduled_met"] >= 1


def test_backtest_source(service: dict[str, Any], follow_job: Any) -> None:
    # A backtest refits the matcher once per year: a job, its report fetched when done.
    started = call(service, "staff", "GET", URL, params={"source": "backtest"})
    staff = {"Authorization": f"Bearer {service['keys']['staff']}"}
    job = follow_job(service["client"], started, staff)
    assert job["kind"] == "backtest" and job["state"] == "finished", job
    assert job["progress"] == 1.0 and job["total"] and job["done"] == job["total"], job
    body = call(service, "staff", "GET", job["result_url"]).json()
    assert body["source"] == "backtest"
    events = {e["event_id"]: e for e in body["events"]}
    # The 2024 pairs of B1 were both candidates when refitted on the links before 2024.
    assert events["ev-2024-hanoi"]["ranked"] == 2


def test_csv_and_xlsx_read_back(service: dict[str, Any]) -> None:
    csv = call(service, "analyst", "GET", URL, params={"format": "csv"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert frame["event_id"].iloc[-1] == "all"
    xlsx = call(service, "analyst", "GET", URL, params={"format": "xlsx"})
    sheet = pd.read_excel(io.BytesIO(xlsx.content), sheet_name="conversion")
    assert list(sheet.columns) == list(frame.columns)
    assert sheet["pairs"].tolist() == frame["pairs"].tolist()
