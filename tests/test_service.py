"""The HTTP service on the tiny dataset: every route for every role, masking, bounds, audit,
and a retrain that swaps the model while requests keep being answered."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketnoi import graph, matcher
from ketnoi.api import storage

ROLES = ("staff", "analyst", "firm_b1", "firm_s1")


@pytest.fixture
def client(service: dict[str, Any]) -> TestClient:
    return service["client"]


def auth(service: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys'][role]}"}


def get(service: dict[str, Any], who: str | None, url: str, **params: Any) -> Any:
    headers = auth(service, who) if who else {}
    return service["client"].get(url, headers=headers, params=params)


# -- who may read what: (url, roles answered 200; the others get 403) ----------------------------
READS = [
    ("/v1/model", {"staff", "analyst"}),
    ("/v1/audit", {"staff", "analyst"}),
    ("/v1/buyers/B1/suppliers", {"staff", "analyst", "firm_b1"}),
    ("/v1/buyers/B1/chain", {"staff", "analyst", "firm_b1"}),
    ("/v1/suppliers/S1/buyers", {"staff", "analyst", "firm_s1"}),
    ("/v1/suppliers/S1/buyers/B1/explanation", set(ROLES)),
    ("/v1/suppliers/S2/buyers/B2/explanation", {"staff", "analyst"}),
    ("/v1/firms", set(ROLES)),
    ("/v1/firms/B1", set(ROLES)),
    ("/v1/demands", set(ROLES)),
    ("/v1/demands/B1/pcba", set(ROLES)),
    ("/v1/parks", set(ROLES)),
    ("/v1/parks/thang-long", set(ROLES)),
    ("/v1/categories", set(ROLES)),
    ("/v1/categories/pcb", set(ROLES)),
]


@pytest.mark.parametrize(("url", "allowed"), READS, ids=[u for u, _ in READS])
@pytest.mark.parametrize("role", [None, *ROLES])
def test_read_access_by_role(
    service: dict[str, Any], url: str, allowed: set[str], role: str | None
) -> None:
    response = get(service, role, url)
    if role is None:
        assert response.status_code == 401
        assert "API key" in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"
    elif role in allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert response.json()["detail"]


def test_health_is_open_and_docs_are_served(client: TestClient) -> None:
    body = client.get("/v1/health").json()
    assert body["status"] == "ok" and body["model_loaded"]
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/buyers/{buyer_id}/suppliers" in paths
    assert client.get("/docs").status_code == 200


def test_x_api_key_header_and_bad_keys(service: dict[str, Any]) -> None:
    client = service["client"]
    headers = {"X-API-Key": service["keys"]["analyst"]}
    assert client.get("/v1/firms", headers=headers).status_code == 200
    for bad in ["kn_nope", "x" * 5000, "Bearer"]:
        response = client.get("/v1/firms", headers={"X-API-Key": bad})
        assert response.status_code == 401
    response = client.get("/v1/firms", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


def test_revoked_key_is_refused(service: dict[str, Any]) -> None:
    engine = service["engine"]
    key = storage.create_key(engine, "analyst")
    client = service["client"]
    assert client.get("/v1/firms", headers={"X-API-Key": key}).status_code == 200
    info = storage.verify_key(engine, key)
    assert info is not None
    storage.revoke_key(engine, info.id)
    assert client.get("/v1/firms", headers={"X-API-Key": key}).status_code == 401


# -- recommendations ----------------------------------------------------------------------------
def test_suppliers_for_buyer(service: dict[str, Any]) -> None:
    body = get(service, "staff", "/v1/buyers/B1/suppliers", k=5).json()
    items = body["items"]
    assert body["model_version"]
    assert items and [r["rank"] for r in items] == list(range(1, len(items) + 1))
    assert all(0 <= r["score"] <= 1 and r["reasons"] for r in items)
    vi = get(service, "staff", "/v1/buyers/B1/suppliers", k=5, lang="vi").json()["items"]
    assert [r["supplier_id"] for r in vi] == [r["supplier_id"] for r in items]


def test_unlisted_supplier_is_never_recommended(service: dict[str, Any]) -> None:
    for buyer in ("B1", "B2", "T1"):
        for tier in (1, 2):
            response = get(service, "staff", f"/v1/buyers/{buyer}/suppliers", k=100, tier=tier)
            assert "S4" not in {r["supplier_id"] for r in response.json()["items"]}
        chain = get(service, "staff", f"/v1/buyers/{buyer}/chain", depth=3).json()["items"]
        assert "S4" not in {r["supplier_id"] for r in chain}


def test_filters_and_chain(service: dict[str, Any]) -> None:
    rows = get(service, "staff", "/v1/buyers/B1/suppliers", category="metal").json()["items"]
    assert all(r["supplier_id"] in {"S3", "S5", "S2"} for r in rows)
    chain = get(service, "staff", "/v1/buyers/B1/chain", depth=2, k=3).json()
    assert chain["depth"] == 2
    existing = {(r["supplier_id"], r["tier"]) for r in chain["items"] if r["existing"]}
    assert ("T1", 1) in existing and ("S1", 2) in existing


def test_explanation(service: dict[str, Any]) -> None:
    body = get(service, "analyst", "/v1/suppliers/S5/buyers/B1/explanation").json()
    assert {"score", "contributions", "blockers", "reasons"} <= set(body)
    assert any("declined" in b for b in body["blockers"])
    unlisted = get(service, "staff", "/v1/suppliers/S4/buyers/B1/explanation").json()
    assert any("unlisted" in b for b in unlisted["blockers"])


@pytest.mark.parametrize(
    "url",
    [
        "/v1/buyers/NOPE/suppliers",
        "/v1/buyers/S1/suppliers",  # a supplier, not a buyer
        "/v1/suppliers/NOPE/buyers",
        "/v1/buyers/NOPE/chain",
        "/v1/suppliers/NOPE/buyers/B1/explanation",
        "/v1/firms/NOPE",
        "/v1/demands/B1/nope",
        "/v1/parks/nope",
        "/v1/categories/nope",
    ],
)
def test_unknown_ids_are_404_with_a_message(service: dict[str, Any], url: str) -> None:
    response = get(service, "staff", url)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert any(part in detail for part in ("NOPE", "nope", "'S1' is not a buyer"))


def test_unknown_filter_category_is_404(service: dict[str, Any]) -> None:
    response = get(service, "staff", "/v1/buyers/B1/suppliers", category="nope")
    assert response.status_code == 404 and "nope" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/v1/buyers/B1/suppliers", {"k": 10**11}),
        ("/v1/buyers/B1/suppliers", {"k": 0}),
        ("/v1/buyers/B1/suppliers", {"k": "ten"}),
        ("/v1/buyers/B1/suppliers", {"tier": 10**6}),
        ("/v1/buyers/B1/suppliers", {"lang": "fr"}),
        ("/v1/buyers/B1/suppliers", {"park": "x" * 1000}),
        ("/v1/suppliers/S1/buyers", {"k": 10**11}),
        ("/v1/buyers/B1/chain", {"depth": 10**9}),
        ("/v1/buyers/B1/chain", {"k": 10**11}),
        ("/v1/firms", {"page_size": 10**11}),
        ("/v1/firms", {"page": 10**30}),
        ("/v1/firms", {"role": "king"}),
        ("/v1/firms", {"q": "x" * 5000}),
        ("/v1/demands", {"page_size": 0}),
        ("/v1/audit", {"page_size": 10**11}),
        ("/v1/firms/" + "x" * 500, {}),
    ],
)
def test_unbounded_or_bad_parameters_are_4xx(
    service: dict[str, Any], url: str, params: dict[str, Any]
) -> None:
    started = time.perf_counter()
    response = get(service, "staff", url, **params)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert time.perf_counter() - started < 2


def test_k_of_10_to_the_11_names_the_bound(service: dict[str, Any]) -> None:
    detail = get(service, "staff", "/v1/buyers/B1/suppliers", k=10**11).json()["detail"]
    assert "k" in detail and "100" in detail


# -- firms and what a firm key sees ---------------------------------------------------------------
def test_accent_insensitive_search(service: dict[str, Any]) -> None:
    rows = get(service, "analyst", "/v1/firms", q="cong ty tnhh co khi").json()["items"]
    assert [r["firm_id"] for r in rows] == ["S2"]
    rows = get(service, "analyst", "/v1/firms", q="ĐÔNG ANH").json()["items"]
    assert [r["firm_id"] for r in rows] == ["T1"]


def test_firm_filters_and_paging(service: dict[str, Any]) -> None:
    body = get(service, "staff", "/v1/firms", role="supplier", page_size=2).json()
    assert body["total"] == 6 and len(body["items"]) == 2 and body["page_size"] == 2
    second = get(service, "staff", "/v1/firms", role="supplier", page_size=2, page=2).json()
    assert not {r["firm_id"] for r in second["items"]} & {r["firm_id"] for r in body["items"]}
    certified = get(service, "staff", "/v1/firms", certification="iatf16949").json()["items"]
    assert [r["firm_id"] for r in certified] == ["S2"]
    stamping = get(service, "staff", "/v1/firms", process="Stamping").json()["items"]
    assert {r["firm_id"] for r in stamping} == {"S2", "S5"}
    parked = get(service, "staff", "/v1/firms", park="quang-minh", sector="electronics").json()
    assert [r["firm_id"] for r in parked["items"]] == ["B2"]


PUBLIC_FIELDS = {
    "firm_id",
    "name",
    "name_en",
    "role",
    "sector",
    "park",
    "certifications",
    "processes",
    "capabilities",
    "country_of_origin",
    "ownership",
    # contact fields: null unless the firm opted in (contact_public)
    "address",
    "phone",
    "email",
    "website",
    "contact_person",
}


def test_firm_key_sees_public_fields_of_others_only(service: dict[str, Any]) -> None:
    other = get(service, "firm_b1", "/v1/firms/S1").json()
    assert set(other) == PUBLIC_FIELDS and other["capabilities"] == ["pcb"]
    own = get(service, "firm_b1", "/v1/firms/B1").json()
    assert own["tax_code"] == "0100000010" and own["employees"] == 2500
    listed = get(service, "firm_b1", "/v1/firms", page_size=200).json()["items"]
    assert "S4" not in {r["firm_id"] for r in listed}  # unlisted: hidden from other firms
    assert all(set(r) == PUBLIC_FIELDS for r in listed if r["firm_id"] != "B1")
    assert get(service, "firm_b1", "/v1/firms/S4").status_code == 404
    assert get(service, "analyst", "/v1/firms/S4").json()["listed"] is False


def test_confidential_demand_is_absent_for_other_firms(service: dict[str, Any]) -> None:
    hidden = get(service, "firm_b1", "/v1/demands/B2/screw")
    absent = get(service, "firm_b1", "/v1/demands/B2/nothing")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"] == absent.json()["detail"].replace("nothing", "screw")
    for role in ("staff", "analyst"):
        full = get(service, role, "/v1/demands/B2/screw").json()
        assert not full["masked"] and full["firm_id"] == "B2" and full["volume"] == 200000
    everything = get(service, "staff", "/v1/demands", firm_id="B2").json()
    shown = get(service, "firm_s1", "/v1/demands", firm_id="B2").json()
    public = [r for r in everything["items"] if not r["confidential"]]
    assert shown["total"] == len(public) < everything["total"]
    assert [r["category_id"] for r in shown["items"]] == [r["category_id"] for r in public]


def test_own_confidential_demand_is_shown_in_full(service: dict[str, Any]) -> None:
    client, headers = service["client"], auth(service, "firm_b1")
    created = client.post(
        "/v1/demands",
        headers=headers,
        json={"category_id": "pcb", "volume": 1000, "confidential": True},
    )
    assert created.status_code == 201, created.text
    assert created.json()["firm_id"] == "B1" and created.json()["confidential"] is True
    own = get(service, "firm_b1", "/v1/demands/B1/pcb").json()
    assert not own["masked"] and own["volume"] == 1000
    assert get(service, "firm_s1", "/v1/demands/B1/pcb").status_code == 404
    deleted = client.delete("/v1/demands/B1/pcb", headers=headers)
    assert deleted.status_code == 204
    assert get(service, "firm_b1", "/v1/demands/B1/pcb").status_code == 404


# -- writes: roles, validation, audit, cascade --------------------------------------------------
NEW_FIRM = {"firm_id": "S9", "name": "Công ty TNHH Nhựa Bắc Ninh", "role": "supplier"}


WRITES = [
    ("post", "/v1/firms", NEW_FIRM, {"staff"}),
    ("patch", "/v1/firms/S1", {"description": "PCBs"}, {"staff", "firm_s1"}),
    ("delete", "/v1/firms/S5", None, {"staff"}),
    ("post", "/v1/demands", {"firm_id": "B2", "category_id": "pcb"}, {"staff"}),
    ("patch", "/v1/demands/B1/screw", {"volume": 600000}, {"staff", "firm_b1"}),
    ("delete", "/v1/demands/B1/screw", None, {"staff", "firm_b1"}),
    ("post", "/v1/model/retrain", None, {"staff"}),
]
REFUSED = [
    (method, url, body, role)
    for method, url, body, allowed in WRITES
    for role in (None, "analyst", "firm_b1", "firm_s1")
    if role not in allowed
]


@pytest.mark.parametrize(("method", "url", "body", "role"), REFUSED)
def test_write_refusals(
    service: dict[str, Any], method: str, url: str, body: dict[str, Any] | None, role: str | None
) -> None:
    """401 without a key, 403 outside the role (allowed writes are tested one by one below)."""
    headers = auth(service, role) if role else {}
    response = service["client"].request(method, url, headers=headers, json=body)
    assert response.status_code == (401 if role is None else 403), response.text
    assert response.json()["detail"]


def audit_of(service: dict[str, Any], entity: str) -> list[dict[str, Any]]:
    return get(service, "staff", "/v1/audit", entity=entity, page_size=200).json()["items"]


def test_staff_creates_updates_and_deletes_a_firm(service: dict[str, Any]) -> None:
    client, headers = service["client"], auth(service, "staff")
    body = {
        **NEW_FIRM,
        "certifications": ["iso 9001:2015"],
        "park": "thang-long",
        "lat": 21.1,
        "lon": 105.8,
    }
    created = client.post("/v1/firms", headers=headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["certifications"] == ["ISO 9001"]
    assert client.post("/v1/firms", headers=headers, json=body).status_code == 409
    found = get(service, "staff", "/v1/firms", q="nhua bac ninh").json()["items"]
    assert [r["firm_id"] for r in found] == ["S9"]
    updated = client.patch("/v1/firms/S9", headers=headers, json={"name": "Nhựa Đông Anh"})
    assert updated.status_code == 200 and updated.json()["name"] == "Nhựa Đông Anh"
    assert [r["firm_id"] for r in get(service, "staff", "/v1/firms", q="nhua dong").json()["items"]]
    assert client.delete("/v1/firms/S9", headers=headers).status_code == 204
    assert get(service, "staff", "/v1/firms/S9").status_code == 404
    entries = audit_of(service, "firms")
    mine = [e for e in entries if e["entity_key"] == "S9"]
    assert [e["action"] for e in mine] == ["delete", "update", "create"]
    assert all(e["actor_role"] == "staff" and e["actor"].startswith("key:") for e in mine)
    assert mine[1]["detail"]["before"]["name"] == NEW_FIRM["name"]


@pytest.mark.parametrize(
    "body",
    [
        {**NEW_FIRM, "role": "king"},
        {**NEW_FIRM, "firm_id": ""},
        {**NEW_FIRM, "firm_id": "a;b"},
        {**NEW_FIRM, "name": "x" * 1000},
        {**NEW_FIRM, "lat": 200, "lon": 105},
        {**NEW_FIRM, "lat": 21.0},  # without lon
        {**NEW_FIRM, "country_of_origin": "Japan"},
        {**NEW_FIRM, "park": "nowhere"},
        {**NEW_FIRM, "employees": -1},
        {**NEW_FIRM, "employees": 10**30},
        {**NEW_FIRM, "founded": 3000},
        {**NEW_FIRM, "unknown": 1},
        {**NEW_FIRM, "certifications": "ISO 9001"},
        {"firm_id": "S9"},
    ],
)
def test_bad_firm_bodies_are_422(service: dict[str, Any], body: dict[str, Any]) -> None:
    response = service["client"].post("/v1/firms", headers=auth(service, "staff"), json=body)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str)


def test_bad_json_is_422(service: dict[str, Any]) -> None:
    headers = {**auth(service, "staff"), "Content-Type": "application/json"}
    response = service["client"].post("/v1/firms", headers=headers, content=b"{not json")
    assert response.status_code == 422


def test_firm_updates_its_own_profile_but_not_its_role(service: dict[str, Any]) -> None:
    client, headers = service["client"], auth(service, "firm_s1")
    ok = client.patch("/v1/firms/S1", headers=headers, json={"employees": 130})
    assert ok.status_code == 200 and ok.json()["employees"] == 130
    refused = client.patch("/v1/firms/S1", headers=headers, json={"role": "buyer"})
    assert refused.status_code == 403
    assert client.patch("/v1/firms/S1", headers=headers, json={"name": None}).status_code == 422
    assert client.patch("/v1/firms/S1", headers=headers, json={}).status_code == 422
    # a role that would break its links
    staff = auth(service, "staff")
    clash = client.patch("/v1/firms/S1", headers=staff, json={"role": "buyer"})
    assert clash.status_code == 409 and "link" in clash.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"firm_id": "S1", "category_id": "pcb"},  # a supplier cannot demand
        {"firm_id": "B2", "category_id": "nope"},
        {"firm_id": "NOPE", "category_id": "pcb"},
        {"firm_id": "B2", "category_id": "pcb", "volume": -5},
        {"firm_id": "B1", "category_id": "pcba"},  # exists: 409 below
    ],
)
def test_bad_demands(service: dict[str, Any], body: dict[str, Any]) -> None:
    response = service["client"].post("/v1/demands", headers=auth(service, "staff"), json=body)
    expected = 409 if body["category_id"] == "pcba" else 422
    assert response.status_code == expected, response.text


def test_firm_key_cannot_file_a_demand_for_another_firm(service: dict[str, Any]) -> None:
    body = {"firm_id": "B2", "category_id": "pcb"}
    response = service["client"].post("/v1/demands", headers=auth(service, "firm_b1"), json=body)
    assert response.status_code == 403


# -- the model and its retraining ---------------------------------------------------------------
def test_model_info(service: dict[str, Any]) -> None:
    body = get(service, "analyst", "/v1/model").json()
    assert body["version"] and body["trained_at"] and body["mode"] in {"prior", "learned"}
    assert "training_pairs" in body["metrics"]


def test_retrain_swaps_the_model_while_requests_are_answered(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs last of the service tests that depend on the data: it deletes a firm first."""
    client, staff = service["client"], auth(service, "staff")
    holder = service["app"].state.holder
    before = get(service, "staff", "/v1/model").json()["version"]
    assert client.delete("/v1/firms/S5", headers=staff).status_code == 204
    # the deletion reached the links, capabilities and demands, and the audit log
    detail = next(e for e in audit_of(service, "firms") if e["entity_key"] == "S5")["detail"]
    assert detail == {"links": 1, "capabilities": 1, "demands": 0}
    with Session(service["engine"]) as session:
        links = session.scalars(select(storage.Link).where(storage.Link.supplier_id == "S5"))
        assert all(link.deleted_at is not None for link in links)
    # the served model still knows S5 but never serves a deleted firm
    rows = get(service, "staff", "/v1/buyers/B1/suppliers", k=100).json()["items"]
    assert "S5" not in {r["supplier_id"] for r in rows}

    release = threading.Event()
    fit = matcher.Matcher.fit

    def slow_fit(self: matcher.Matcher, dataset: graph.Dataset) -> matcher.Matcher:
        assert release.wait(30)
        return fit(self, dataset)

    monkeypatch.setattr(matcher.Matcher, "fit", slow_fit)
    started = client.post("/v1/model/retrain", headers=staff)
    assert started.status_code == 202 and started.json()["kind"] == "retrain", started.text
    assert started.headers["Location"] == f"/v1/jobs/{started.json()['id']}"
    assert get(service, "staff", "/v1/model").json()["retraining"]
    assert client.post("/v1/model/retrain", headers=staff).status_code == 409
    for _ in range(3):  # the old model serves while the new one is fitted
        response = get(service, "firm_b1", "/v1/buyers/B1/suppliers")
        assert response.status_code == 200
        assert response.json()["model_version"] == before
    release.set()
    assert holder.wait(30)
    job = client.get(started.headers["Location"], headers=staff).json()
    assert job["state"] == "finished" and job["result_url"], job
    info = get(service, "staff", "/v1/model").json()
    assert info["version"] != before and not info["retraining"] and info["last_error"] is None
    response = get(service, "staff", "/v1/buyers/B1/suppliers")
    assert response.json()["model_version"] == info["version"]
    entries = audit_of(service, "models")
    assert entries[0]["entity_key"] == info["version"] and entries[0]["actor_role"] == "staff"
