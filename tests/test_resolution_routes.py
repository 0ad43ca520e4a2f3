"""Entity resolution over HTTP: staff only; intake all or nothing; reviews and answers; merges
whose absorbed id keeps resolving through the API, and unmerges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from ketnoi import graph
from ketnoi.api.storage import _resolution

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["STT", "Tên doanh nghiệp", "Mã số thuế", "Địa chỉ", "Điện thoại"]


def auth(service: dict[str, Any], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys'][name]}"}


def workbook(path: Path, rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append(["DANH SÁCH DOANH NGHIỆP"])
    sheet.append(HEADER)
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *row])
    book.save(path)
    return path.read_bytes()


def upload(service: dict[str, Any], data: bytes, source: str, name: str = "staff") -> Any:
    return service["client"].post(
        "/v1/resolution/intake",
        params={"source": source, "accept": 0.95, "review": 0.6},
        files={"file": ("danh-sach.xlsx", data, XLSX)},
        headers=auth(service, name),
    )


ROUTES = [
    ("post", "/v1/resolution/intake?source=x"),
    ("get", "/v1/resolution/reviews"),
    ("get", "/v1/resolution/reviews/1"),
    ("post", "/v1/resolution/reviews/1/decision"),
    ("post", "/v1/resolution/merges"),
    ("get", "/v1/resolution/merges/1"),
    ("post", "/v1/resolution/merges/1/unmerge"),
]


@pytest.mark.parametrize("name", ["analyst", "firm_b1", "firm_s1"])
@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_the_routes_are_staff_only(service: dict[str, Any], name: str, method: str, url: str):
    answer = getattr(service["client"], method)(url, headers=auth(service, name))
    assert answer.status_code == 403, answer.text
    assert service["client"].get(url).status_code == 401 or method == "post"


def test_a_bad_list_loads_nothing(
    service: dict[str, Any], tmp_path: Path, table_fingerprint: Any
) -> None:
    before = table_fingerprint(service["engine"])
    data = workbook(
        tmp_path / "bad.xlsx", [["Nhựa Ánh Dương", "0100233488", "", ""], ["", "", "x", ""]]
    )
    answer = upload(service, data, "bad-list")
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["ok"] is False and "nothing was loaded" in body["detail"]
    assert any(
        p["file"] == "danh-sach.xlsx[Danh sách]"
        and p["line"] == 4
        and "no firm name" in p["reason"]
        for p in body["problems"]
    )
    assert upload(service, b"not a workbook", "bad-list").status_code == 422
    assert table_fingerprint(service["engine"]) == before


def test_intake_review_merge_and_unmerge(
    service: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, staff = service["client"], auth(service, "staff")
    data = workbook(
        tmp_path / "list.xlsx",
        [
            ["CTY TNHH MẠCH IN HÀ NỘI", "0100000042", "Đông Anh", ""],
            ["Cơ khí Đức Thành Hà Nội", "", "", ""],
        ],
    )

    def scored(recs: list[Any], firms: list[Any], accept: float, review: float):
        row = {
            "left_id": "r1",
            "right_id": "S2",
            "rule": "name",
            "match_probability": 0.8,
            "match_weight": 2.0,
            "evidence": {"name": {"level": "similar", "weight": 2.0}},
            "left_is_branch": False,
            "right_is_branch": False,
            "tax_conflict": False,
            "same_head_office": False,
        }
        return graph.decide(pd.DataFrame([row]), accept=accept, review=review), "scripted/1"

    monkeypatch.setattr(_resolution, "_scored", scored)
    answer = upload(service, data, "hoi-cho")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["counts"]["matched"] == 1 and body["counts"]["proposed"] == 1
    assert body["matched"][0]["firm_id"] == "S1"
    assert body["mapping"]["sheets"]["Danh sách"]["columns"][1]["field"] == "name"

    queue = client.get("/v1/resolution/reviews", headers=staff).json()
    assert len(queue) == 1 and queue[0]["firm"]["firm_id"] == "S2"
    assert queue[0]["record"]["name"] == "Cơ khí Đức Thành Hà Nội"
    review_id = queue[0]["id"]
    decided = client.post(
        f"/v1/resolution/reviews/{review_id}/decision", json={"decision": "match"}, headers=staff
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["firm_id"] == "S2"
    again = client.post(
        f"/v1/resolution/reviews/{review_id}/decision", json={"decision": "match"}, headers=staff
    )
    assert again.status_code == 409
    assert upload(service, data, "hoi-cho").json()["counts"]["proposed"] == 0

    merged = client.post(
        "/v1/resolution/merges", json={"survivor_id": "S2", "absorbed_id": "S5"}, headers=staff
    )
    assert merged.status_code == 201, merged.text
    merge_id = merged.json()["id"]
    # The absorbed id resolves to the survivor, with the survivor's capabilities.
    firm = client.get("/v1/firms/S5", headers=staff).json()
    assert firm["firm_id"] == "S2" and firm["capabilities"] == ["stamp"]
    assert client.get("/v1/firms/S5", headers=auth(service, "firm_b1")).json()["firm_id"] == "S2"
    got = client.get(f"/v1/resolution/merges/{merge_id}", headers=staff).json()
    assert got["absorbed_id"] == "S5" and got["undone_at"] is None
    undone = client.post(f"/v1/resolution/merges/{merge_id}/unmerge", headers=staff)
    assert undone.status_code == 200, undone.text
    assert client.get("/v1/firms/S5", headers=staff).json()["firm_id"] == "S5"
    twice = client.post(f"/v1/resolution/merges/{merge_id}/unmerge", headers=staff)
    assert twice.status_code == 409
    missing = client.post(
        "/v1/resolution/merges", json={"survivor_id": "S2", "absorbed_id": "nobody"}, headers=staff
    )
    assert missing.status_code == 404


def test_intake_answers_with_categories_for_the_products(
    service: dict[str, Any], tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append(["Tên doanh nghiệp", "Sản phẩm chính"])
    sheet.append(["Công ty TNHH Mạch Sao Mai", "bảng mạch in nhiều lớp"])
    sheet.append(["Công ty TNHH Bao bì Sao Mai", ""])
    book.save(tmp_path / "sp.xlsx")
    answer = upload(service, (tmp_path / "sp.xlsx").read_bytes(), "san-pham")
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["categories"]  # the row without products is not asked about
    assert (row["sheet"], row["line"], row["products"]) == (
        "Danh sách",
        2,
        "bảng mạch in nhiều lớp",
    )
    best = row["suggestions"][0]
    assert best["category_id"] == "pcb" and best["hs_code"] == "8534" and 0 < best["score"] <= 1
    assert row["category_id"] == "pcb" and row["hs"]["hs_code"]
