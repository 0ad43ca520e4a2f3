"""The review queue's page: staff only, the pair side by side, answers with the CSRF token, in
Vietnamese and English."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.storage import _resolution

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, key: str, lang: str) -> None:
    client.cookies.clear()
    token = csrf_of(client, "/sign-in")
    answer = client.post("/sign-in", data={"csrf": token, "api_key": key, "next": "/"})
    assert answer.status_code == 200, answer.text[:300]
    client.post("/lang", data={"csrf": csrf_of(client, "/"), "lang": lang, "next": "/"})


def queue_one(engine: Any, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A record of a list that may be S2: one review waiting."""

    def scored(recs: list[Any], firms: list[Any], accept: float, review: float):
        row = {
            "left_id": "r0",
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
    record = graph.SourceRecord("hoi-cho", "Danh sách", 3, {"Tên": name}, {"name": name})
    storage.intake_records(engine, [record], actor="test", accept=0.95, review=0.6)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_staff_see_the_pair_and_answer_it(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    name = f"Cơ khí Đức Thành ({lang})"
    queue_one(service["engine"], monkeypatch, name)
    with TestClient(service["app"]) as client:
        sign_in(client, service["keys"]["staff"], lang)
        page = client.get("/duplicates")
        assert page.status_code == 200
        assert name in page.text and "Công ty TNHH Cơ khí Chính xác Đức Thành" in page.text
        heading = "Doanh nghiệp có thể trùng lặp" if lang == "vi" else "Possible duplicates"
        assert heading in page.text
        review_id = re.search(r'name="review_id" value="(\d+)"', page.text)
        assert review_id is not None
        form = {"review_id": review_id.group(1), "decision": "match"}
        refused = client.post("/duplicates", data=form)
        assert refused.status_code == 403  # no CSRF token: nothing changes
        assert storage.review_queue(service["engine"])
        done = client.post("/duplicates", data={**form, "csrf": csrf_of(client, "/duplicates")})
        assert done.status_code == 200
        said = "cùng một doanh nghiệp (S2)" if lang == "vi" else "the same firm (S2)"
        assert said in done.text
        assert storage.review_queue(service["engine"]) == []
        again = client.post("/duplicates", data={**form, "csrf": csrf_of(client, "/duplicates")})
        assert again.status_code == 409


@pytest.mark.parametrize("name", ["analyst", "firm_b1", "firm_s1"])
def test_only_staff_open_the_page(service: dict[str, Any], name: str) -> None:
    with TestClient(service["app"]) as client:
        sign_in(client, service["keys"][name], "en")
        assert client.get("/duplicates").status_code == 403
        token = csrf_of(client, "/")
        answer = client.post("/duplicates", data={"csrf": token, "review_id": "1"})
        assert answer.status_code == 403


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_row_with_products_shows_its_suggested_categories(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    queue_one(service["engine"], monkeypatch, "Cơ khí Đức Thành")
    record = graph.SourceRecord(
        "hoi-cho",
        "Danh sách",
        4,
        {},
        {"name": "Cơ khí Đức Thành Mới", "products": "vít và bu lông thép"},
    )
    storage.intake_records(service["engine"], [record], actor="test", accept=0.95, review=0.6)
    with TestClient(service["app"]) as client:
        sign_in(client, service["keys"]["staff"], lang)
        page = client.get("/duplicates").text
    assert "vít và bu lông thép" in page
    assert 'data-category="screw"' in page and "(7318," in page
    assert ("Vít và bu lông" if lang == "vi" else "Screws and bolts") in page
    # The row without products shows none.
    assert page.count('class="categories"') == 1
