"""The service's links, capabilities, outcomes, and park and category writes, on the tiny
dataset: every route for every role (staff, analyst, a firm that owns, a firm that does not, no
key), bad input, unknown references, the audit log, appended outcomes, and a dump that reads
back as a valid dataset."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ketnoi import graph, matcher
from ketnoi.api import storage

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
ROLES = ("staff", "analyst", "firm_b1", "firm_s1", "firm_s2")
WHO = (None, *ROLES)

Service = dict[str, Any]


@pytest.fixture(scope="module")
def fitted() -> matcher.Matcher:
    """One matcher for every app of this module: these tests do not look at recommendations."""
    return matcher.Matcher().fit(graph.load_dataset(TINY))


#: A key per name of ROLES: its role and (role firm) its firm.
KEYS = {
    "staff": ("staff", None),
    "analyst": ("analyst", None),
    "firm_b1": ("firm", "B1"),
    "firm_s1": ("firm", "S1"),
    "firm_s2": ("firm", "S2"),
}


def _start(
    start_service: Callable[..., Any],
    folder: Path,
    dataset: Path,
    fitted: matcher.Matcher,
    *,
    extras: bool = True,
) -> Iterator[Service]:
    with start_service(folder, dataset=dataset, keys=KEYS, matcher=fitted) as service:
        # A park and a category nothing uses, to delete.
        for url, body in (
            ("/v1/parks", {"park_id": "noi-bai", "name": "Khu công nghiệp Nội Bài"}),
            ("/v1/categories", {"category_id": "spare", "name": "Spare parts"}),
        ):
            if extras:
                assert call(service, "staff", "post", url, body).status_code == 201
        yield service


@pytest.fixture(scope="module")
def shared(
    tmp_path_factory: pytest.TempPathFactory,
    start_service: Callable[..., Any],
    fitted: matcher.Matcher,
) -> Iterator[Service]:
    """A service for tests that only read (or write what no other test looks at)."""
    yield from _start(start_service, tmp_path_factory.mktemp("links"), TINY, fitted)


@pytest.fixture
def fresh(
    tmp_path: Path, start_service: Callable[..., Any], fitted: matcher.Matcher
) -> Iterator[Service]:
    """A service of its own, on a freshly loaded tiny dataset."""
    yield from _start(start_service, tmp_path, TINY, fitted)


def call(
    service: Service, who: str | None, method: str, url: str, body: Any = None, **params: Any
) -> Any:
    headers = {"Authorization": f"Bearer {service['keys'][who]}"} if who else {}
    return service["client"].request(method, url, headers=headers, json=body, params=params)


def audit_of(service: Service, entity: str) -> list[dict[str, Any]]:
    response = call(service, "staff", "get", "/v1/audit", entity=entity, page_size=200)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# -- who may read what: (url, roles answered 200; other keys 403; no key 401) -----------------
EVERY = set(ROLES)
READS = [
    ("/v1/links", EVERY),
    ("/v1/links/S1/T1/pcb", {"staff", "analyst", "firm_s1"}),
    ("/v1/links/S2/B1/stamp", {"staff", "analyst", "firm_b1", "firm_s2"}),
    ("/v1/capabilities", EVERY),
    ("/v1/capabilities/S1/pcb", EVERY),
    ("/v1/outcomes", EVERY),
    ("/v1/outcomes/2", {"staff", "analyst", "firm_b1", "firm_s1"}),  # S1 -> B1, met
    ("/v1/parks/noi-bai", EVERY),
    ("/v1/categories/spare", EVERY),
]


@pytest.mark.parametrize(("url", "allowed"), READS, ids=[u for u, _ in READS])
@pytest.mark.parametrize("who", WHO)
def test_read_access_by_role(shared: Service, url: str, allowed: set[str], who: str | None) -> None:
    response = call(shared, who, "get", url)
    if who is None:
        assert response.status_code == 401
        assert "API key" in response.json()["detail"]
    elif who in allowed:
        assert response.status_code == 200, response.text
    elif url.startswith("/v1/outcomes/") and who.startswith("firm"):
        # Another pair's outcome is absent to a firm key: the same 404 as an unknown id.
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"no outcome with id {url.rsplit('/', 1)[1]}"
    else:
        assert response.status_code == 403
        assert response.json()["detail"]


# -- who may write what: each case on a fresh database ------------------------------------------
WRITES = [
    (
        "post",
        "/v1/links",
        {"supplier_id": "S3", "buyer_id": "B1", "category_id": "screw"},
        201,
        {"staff"},
    ),
    ("patch", "/v1/links/S1/T1/pcb", {"status": "ended"}, 200, {"staff"}),
    ("delete", "/v1/links/S1/T1/pcb", None, 204, {"staff"}),
    (
        "post",
        "/v1/capabilities",
        {"firm_id": "S1", "category_id": "stamp"},
        201,
        {"staff", "firm_s1"},
    ),
    ("patch", "/v1/capabilities/S1/pcb", {"capacity": 60000}, 200, {"staff", "firm_s1"}),
    ("delete", "/v1/capabilities/S1/pcb", None, 204, {"staff", "firm_s1"}),
    (
        "post",
        "/v1/outcomes",
        {"supplier_id": "S1", "buyer_id": "B1", "outcome": "contacted"},
        201,
        {"staff", "firm_s1", "firm_b1"},
    ),
    (
        "post",
        "/v1/parks",
        {"park_id": "dong-anh", "name": "Cụm công nghiệp Đông Anh"},
        201,
        {"staff"},
    ),
    ("patch", "/v1/parks/thang-long", {"kind": "export processing zone"}, 200, {"staff"}),
    ("delete", "/v1/parks/noi-bai", None, 204, {"staff"}),
    (
        "post",
        "/v1/categories",
        {"category_id": "wire", "name": "Wires", "parent_id": "elec"},
        201,
        {"staff"},
    ),
    ("patch", "/v1/categories/printer", {"name_vi": "Máy in laser"}, 200, {"staff"}),
    ("delete", "/v1/categories/spare", None, 204, {"staff"}),
]
WRITE_CASES = [
    (method, url, body, ok if who in allowed else (401 if who is None else 403), who)
    for method, url, body, ok, allowed in WRITES
    for who in WHO
]


@pytest.mark.parametrize(
    ("method", "url", "body", "expected", "who"),
    WRITE_CASES,
    ids=[f"{m}-{u}-{w}" for m, u, _, _, w in WRITE_CASES],
)
def test_write_access_by_role(
    fresh: Service, method: str, url: str, body: Any, expected: int, who: str | None
) -> None:
    before = len(audit_of(fresh, url.split("/")[2]))
    response = call(fresh, who, method, url, body)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.json()["detail"]
    # an audit entry for each write that was made, and none for a refused one
    after = len(audit_of(fresh, url.split("/")[2]))
    assert after == before + (1 if expected < 400 else 0)


def test_no_update_or_delete_of_outcomes(shared: Service) -> None:
    for method in ("put", "patch", "delete"):
        response = call(shared, "staff", method, "/v1/outcomes/1", {"outcome": "met"})
        assert response.status_code == 405


# -- links --------------------------------------------------------------------------------------
def test_link_lifecycle_and_audit(fresh: Service) -> None:
    body = {"supplier_id": "S3", "buyer_id": "T1", "category_id": "screw", "since": 2023}
    created = call(fresh, "staff", "post", "/v1/links", body)
    assert created.status_code == 201, created.text
    assert created.json() == {**body, "status": "active"}
    assert call(fresh, "staff", "post", "/v1/links", body).status_code == 409
    updated = call(fresh, "staff", "patch", "/v1/links/S3/T1/screw", {"status": "ended"})
    assert updated.json()["status"] == "ended" and updated.json()["since"] == 2023
    assert call(fresh, "staff", "delete", "/v1/links/S3/T1/screw").status_code == 204
    assert call(fresh, "staff", "get", "/v1/links/S3/T1/screw").status_code == 404
    again = call(fresh, "staff", "post", "/v1/links", body)  # a deleted link comes back
    assert again.status_code == 201
    mine = [e for e in audit_of(fresh, "links") if e["entity_key"] == "S3/T1/screw"]
    assert [e["action"] for e in mine] == ["create", "delete", "update", "create"]
    assert all(e["actor_role"] == "staff" and e["actor"].startswith("key:") for e in mine)
    assert mine[2]["detail"] == {"before": {"status": "active"}, "after": {"status": "ended"}}


def test_link_without_category(fresh: Service) -> None:
    body = {"supplier_id": "S3", "buyer_id": "B1"}
    assert call(fresh, "staff", "post", "/v1/links", body).status_code == 201
    got = call(fresh, "firm_b1", "get", "/v1/links/S3/B1")
    assert got.status_code == 200 and got.json()["category_id"] == ""
    assert call(fresh, "firm_s1", "get", "/v1/links/S3/B1").status_code == 403
    patched = call(fresh, "staff", "patch", "/v1/links/S3/B1", {"since": 2020})
    assert patched.status_code == 200 and patched.json()["since"] == 2020
    assert call(fresh, "analyst", "patch", "/v1/links/S3/B1", {"since": 2021}).status_code == 403
    assert call(fresh, "firm_b1", "delete", "/v1/links/S3/B1").status_code == 403
    assert call(fresh, "staff", "delete", "/v1/links/S3/B1").status_code == 204
    assert call(fresh, "staff", "get", "/v1/links/S3/B1").status_code == 404


def test_link_filters_and_paging(shared: Service) -> None:
    def ids(who: str, **params: Any) -> list[tuple[str, str, str]]:
        rows = call(shared, who, "get", "/v1/links", **params).json()["items"]
        return [(r["supplier_id"], r["buyer_id"], r["category_id"]) for r in rows]

    assert len(ids("analyst")) == 6
    assert ids("staff", buyer_id="B2", status="active") == [
        ("S3", "B2", "screw"),
        ("S2", "B2", "stamp"),
    ]
    assert ids("staff", supplier_id="S5") == [("S5", "B2", "stamp")]
    assert ids("staff", category_id="stamp", status="ended") == [("S5", "B2", "stamp")]
    body = call(shared, "staff", "get", "/v1/links", page_size=4, page=2).json()
    assert body["total"] == 6 and len(body["items"]) == 2 and body["page"] == 2
    # a firm key sees the links its firm is part of, whatever the filters
    assert ids("firm_s1") == [("S1", "T1", "pcb")]
    assert ids("firm_b1") == [("T1", "B1", "pcba"), ("S2", "B1", "stamp")]
    assert ids("firm_s1", buyer_id="B2") == []


# -- capabilities -------------------------------------------------------------------------------
def test_capability_lifecycle_for_its_own_firm(fresh: Service) -> None:
    created = call(fresh, "firm_s1", "post", "/v1/capabilities", {"category_id": "pcba"})
    assert created.status_code == 201, created.text
    assert created.json() == {"firm_id": "S1", "category_id": "pcba", "capacity": None}
    patched = call(fresh, "firm_s1", "patch", "/v1/capabilities/S1/pcba", {"capacity": 500})
    assert patched.json()["capacity"] == 500
    # the firm's public profile lists it
    assert call(fresh, "firm_b1", "get", "/v1/firms/S1").json()["capabilities"] == ["pcb", "pcba"]
    # another firm may not touch it, nor add one for S1
    assert call(fresh, "firm_s2", "delete", "/v1/capabilities/S1/pcba").status_code == 403
    body = {"firm_id": "S1", "category_id": "screw"}
    assert call(fresh, "firm_s2", "post", "/v1/capabilities", body).status_code == 403
    assert call(fresh, "firm_s1", "delete", "/v1/capabilities/S1/pcba").status_code == 204
    entries = [e for e in audit_of(fresh, "capabilities") if e["entity_key"] == "S1/pcba"]
    assert [(e["action"], e["actor_role"]) for e in entries] == [
        ("delete", "firm"),
        ("update", "firm"),
        ("create", "firm"),
    ]


def test_capabilities_show_others_public_fields_only(shared: Service) -> None:
    rows = call(shared, "firm_b1", "get", "/v1/capabilities", page_size=200).json()["items"]
    assert "S4" not in {r["firm_id"] for r in rows}  # unlisted
    assert all(r["capacity"] is None for r in rows)
    assert call(shared, "firm_b1", "get", "/v1/capabilities/S4/pcb").status_code == 404
    assert call(shared, "analyst", "get", "/v1/capabilities/S4/pcb").json()["capacity"] == 20000
    own = call(shared, "firm_s1", "get", "/v1/capabilities/S1/pcb").json()
    assert own["capacity"] == 50000
    body = call(shared, "staff", "get", "/v1/capabilities", category_id="stamp").json()
    assert {r["firm_id"] for r in body["items"]} == {"S2", "S5"} and body["total"] == 2
    one = call(shared, "staff", "get", "/v1/capabilities", firm_id="T1").json()["items"]
    assert one == [{"firm_id": "T1", "category_id": "pcba", "capacity": 20000}]


# -- outcomes -----------------------------------------------------------------------------------
def test_outcome_posted_twice_appends_two_rows(fresh: Service) -> None:
    body = {
        "supplier_id": "S2",
        "buyer_id": "B2",
        "outcome": "negotiating",
        "date": "2025-03-01",
        "event_id": "ev-2025",
    }
    first = call(fresh, "staff", "post", "/v1/outcomes", body)
    second = call(fresh, "firm_s2", "post", "/v1/outcomes", body)
    assert first.status_code == second.status_code == 201, second.text
    assert first.json()["id"] != second.json()["id"]
    staff_id = storage.verify_key(fresh["engine"], fresh["keys"]["staff"])
    firm_id = storage.verify_key(fresh["engine"], fresh["keys"]["firm_s2"])
    assert staff_id is not None and firm_id is not None
    assert first.json()["recorded_by"] == f"key:{staff_id.id}/staff"
    assert second.json()["recorded_by"] == f"key:{firm_id.id}/firm"
    assert first.json()["recorded_at"] <= second.json()["recorded_at"]
    rows = call(fresh, "analyst", "get", "/v1/outcomes", event_id="ev-2025").json()
    assert rows["total"] == 2
    assert [r["outcome"] for r in rows["items"]] == ["negotiating", "negotiating"]
    entries = [e for e in audit_of(fresh, "outcomes") if e["action"] == "append"]
    assert [e["actor_role"] for e in entries] == ["firm", "staff"]
    assert entries[0]["detail"]["outcome"] == "negotiating"


def test_outcome_filters_and_what_a_firm_sees(fresh: Service) -> None:
    body = {"supplier_id": "S2", "buyer_id": "B1", "outcome": "declined", "reason": "price"}
    assert call(fresh, "firm_b1", "post", "/v1/outcomes", body).status_code == 201
    declined = call(fresh, "staff", "get", "/v1/outcomes", outcome="declined").json()["items"]
    assert [(r["supplier_id"], r["reason"]) for r in declined] == [
        ("S5", "certification missing"),
        ("S2", "price"),
    ]
    assert declined[0]["recorded_by"] == ""  # loaded from a file, not recorded through the API
    assert call(fresh, "staff", "get", "/v1/outcomes", supplier_id="S1").json()["total"] == 1
    assert call(fresh, "staff", "get", "/v1/outcomes", buyer_id="B1").json()["total"] == 3
    # a firm key sees only the outcomes of its own pairs
    seen = call(fresh, "firm_s2", "get", "/v1/outcomes").json()["items"]
    assert {(r["supplier_id"], r["buyer_id"]) for r in seen} == {("S2", "B1")}
    assert call(fresh, "firm_s1", "get", "/v1/outcomes", supplier_id="S2").json()["total"] == 0


# -- parks and categories -------------------------------------------------------------------------
def test_park_and_category_writes(fresh: Service) -> None:
    park = {"park_id": "dong-anh", "name": "Cụm  công nghiệp Đông Anh", "lat": 21.1, "lon": 105.8}
    created = call(fresh, "staff", "post", "/v1/parks", park)
    assert created.status_code == 201 and created.json()["name"] == "Cụm công nghiệp Đông Anh"
    assert call(fresh, "staff", "post", "/v1/parks", park).status_code == 409
    # a firm may now move there; then the park is in use
    assert call(fresh, "staff", "patch", "/v1/firms/S3", {"park": "dong-anh"}).status_code == 200
    used = call(fresh, "staff", "delete", "/v1/parks/dong-anh")
    assert used.status_code == 409 and "S3" not in used.json()["detail"]
    assert "1 firm" in used.json()["detail"]
    category = {"category_id": "wire", "name": "Wire harnesses", "parent_id": "elec"}
    assert call(fresh, "staff", "post", "/v1/categories", category).status_code == 201
    child = {"category_id": "wire-auto", "name": "Automotive wire harnesses", "parent_id": "wire"}
    assert call(fresh, "staff", "post", "/v1/categories", child).status_code == 201
    tree = call(fresh, "firm_s1", "get", "/v1/categories").json()
    elec = next(n for n in tree if n["category_id"] == "elec")
    wire = next(n for n in elec["children"] if n["category_id"] == "wire")
    assert [c["category_id"] for c in wire["children"]] == ["wire-auto"]
    moved = call(fresh, "staff", "patch", "/v1/categories/wire", {"parent_id": ""})
    assert moved.status_code == 200 and moved.json()["parent_id"] == ""
    assert call(fresh, "staff", "delete", "/v1/categories/wire").status_code == 409  # a child
    assert call(fresh, "staff", "delete", "/v1/categories/wire-auto").status_code == 204
    assert call(fresh, "staff", "delete", "/v1/categories/wire").status_code == 204
    assert call(fresh, "staff", "get", "/v1/categories/wire").status_code == 404
    keys = [(e["action"], e["entity_key"]) for e in audit_of(fresh, "categories")][:4]
    assert keys == [
        ("delete", "wire"),
        ("delete", "wire-auto"),
        ("update", "wire"),
        ("create", "wire-auto"),
    ]


@pytest.mark.parametrize(
    ("method", "url", "body", "expected", "words"),
    [
        ("patch", "/v1/categories/elec", {"parent_id": "pcb"}, 409, "cycle"),
        ("patch", "/v1/categories/elec", {"parent_id": "elec"}, 409, "cycle"),
        (
            "post",
            "/v1/categories",
            {"category_id": "x", "name": "X", "parent_id": "x"},
            409,
            "cycle",
        ),
        (
            "post",
            "/v1/categories",
            {"category_id": "x", "name": "X", "parent_id": "nope"},
            422,
            "nope",
        ),
        ("patch", "/v1/categories/pcb", {"parent_id": "nope"}, 422, "nope"),
        ("post", "/v1/categories", {"category_id": "pcb", "name": "PCB"}, 409, "already exists"),
        ("delete", "/v1/categories/elec", None, 409, "child categories"),
        ("delete", "/v1/categories/pcb", None, 409, "capabilities"),
        ("delete", "/v1/categories/printer", None, 409, "category inputs"),
        ("delete", "/v1/categories/nope", None, 404, "nope"),
        ("patch", "/v1/categories/nope", {"name": "N"}, 404, "nope"),
        ("delete", "/v1/parks/thang-long", None, 409, "firm"),
        ("delete", "/v1/parks/nope", None, 404, "nope"),
        ("patch", "/v1/parks/nope", {"name": "N"}, 404, "nope"),
        ("post", "/v1/parks", {"park_id": "thang-long", "name": "T"}, 409, "already exists"),
        ("post", "/v1/links", {"supplier_id": "NOPE", "buyer_id": "B1"}, 422, "NOPE"),
        ("post", "/v1/links", {"supplier_id": "S1", "buyer_id": "NOPE"}, 422, "NOPE"),
        ("post", "/v1/links", {"supplier_id": "B1", "buyer_id": "B2"}, 422, "role 'buyer'"),
        ("post", "/v1/links", {"supplier_id": "S1", "buyer_id": "S2"}, 422, "role 'supplier'"),
        ("post", "/v1/links", {"supplier_id": "T1", "buyer_id": "T1"}, 422, "itself"),
        (
            "post",
            "/v1/links",
            {"supplier_id": "S1", "buyer_id": "B1", "category_id": "nope"},
            422,
            "nope",
        ),
        (
            "post",
            "/v1/links",
            {"supplier_id": "S1", "buyer_id": "T1", "category_id": "pcb"},
            409,
            "already exists",
        ),
        ("patch", "/v1/links/S1/NOPE/pcb", {"status": "ended"}, 404, "NOPE"),
        ("delete", "/v1/links/S1/T1/nope", None, 404, "nope"),
        ("post", "/v1/capabilities", {"firm_id": "B1", "category_id": "pcb"}, 422, "role 'buyer'"),
        ("post", "/v1/capabilities", {"firm_id": "NOPE", "category_id": "pcb"}, 422, "NOPE"),
        ("post", "/v1/capabilities", {"firm_id": "S1", "category_id": "nope"}, 422, "nope"),
        (
            "post",
            "/v1/capabilities",
            {"firm_id": "S1", "category_id": "pcb"},
            409,
            "already exists",
        ),
        ("post", "/v1/capabilities", {"category_id": "pcb"}, 422, "firm_id"),  # staff has no firm
        ("patch", "/v1/capabilities/S1/nope", {"capacity": 1}, 404, "nope"),
        (
            "post",
            "/v1/outcomes",
            {"supplier_id": "NOPE", "buyer_id": "B1", "outcome": "met"},
            422,
            "NOPE",
        ),
        (
            "post",
            "/v1/outcomes",
            {"supplier_id": "S1", "buyer_id": "NOPE", "outcome": "met"},
            422,
            "NOPE",
        ),
        (
            "post",
            "/v1/outcomes",
            {"supplier_id": "B1", "buyer_id": "B2", "outcome": "met"},
            422,
            "role",
        ),
        (
            "post",
            "/v1/outcomes",
            {"supplier_id": "T1", "buyer_id": "T1", "outcome": "met"},
            422,
            "both sides",
        ),
    ],
)
def test_unknown_references_and_clashes(
    fresh: Service, method: str, url: str, body: Any, expected: int, words: str
) -> None:
    response = call(fresh, "staff", method, url, body)
    assert response.status_code == expected, response.text
    assert words in response.json()["detail"]


def test_first_park_turns_free_text_parks_into_references(
    tmp_path: Path, start_service: Callable[..., Any], fitted: matcher.Matcher
) -> None:
    """Without parks.csv a firm's park is free text; a first park must not break that."""
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    (folder / "parks.csv").unlink()
    started = _start(start_service, tmp_path, folder, fitted, extras=False)
    service = next(started)
    try:
        refused = call(service, "staff", "post", "/v1/parks", {"park_id": "noi-bai", "name": "N"})
        assert refused.status_code == 409 and "free text" in refused.json()["detail"]
        body = {"park_id": "thang-long", "name": "Thăng Long"}
        assert call(service, "staff", "post", "/v1/parks", body).status_code == 409
        for firm in ("B2", "S2"):  # the firms in quang-minh leave it
            assert (
                call(service, "staff", "patch", f"/v1/firms/{firm}", {"park": ""}).status_code
                == 200
            )
        assert call(service, "staff", "post", "/v1/parks", body).status_code == 201
        assert graph.load_dataset(storage.dump(service["engine"], tmp_path / "out")[0].parent)
    finally:
        started.close()


# -- bad input: every body and parameter is bounded ------------------------------------------
LINK = {"supplier_id": "S3", "buyer_id": "B1", "category_id": "screw"}
OUTCOME = {"supplier_id": "S1", "buyer_id": "B1", "outcome": "met"}
BAD_BODIES = [
    ("post", "/v1/links", {**LINK, "status": "paused"}),
    ("post", "/v1/links", {**LINK, "since": 3000}),
    ("post", "/v1/links", {**LINK, "since": "long ago"}),
    ("post", "/v1/links", {**LINK, "supplier_id": ""}),
    ("post", "/v1/links", {**LINK, "supplier_id": "a;b"}),
    ("post", "/v1/links", {**LINK, "category_id": "a b"}),
    ("post", "/v1/links", {**LINK, "buyer_id": "x" * 500}),
    ("post", "/v1/links", {**LINK, "unknown": 1}),
    ("post", "/v1/links", {"supplier_id": "S3"}),
    ("post", "/v1/links", ["S3", "B1"]),
    ("patch", "/v1/links/S1/T1/pcb", {}),
    ("patch", "/v1/links/S1/T1/pcb", {"status": None}),
    ("patch", "/v1/links/S1/T1/pcb", {"supplier_id": "S2"}),
    ("post", "/v1/capabilities", {"firm_id": "S1", "category_id": "stamp", "capacity": -1}),
    ("post", "/v1/capabilities", {"firm_id": "S1", "category_id": "stamp", "capacity": 1e300}),
    ("post", "/v1/capabilities", {"firm_id": "S1"}),
    ("patch", "/v1/capabilities/S1/pcb", {}),
    ("patch", "/v1/capabilities/S1/pcb", {"capacity": "lots"}),
    ("post", "/v1/outcomes", {**OUTCOME, "outcome": "won"}),
    ("post", "/v1/outcomes", {**OUTCOME, "outcome": "declined"}),
    ("post", "/v1/outcomes", {**OUTCOME, "outcome": "declined", "reason": "   "}),
    ("post", "/v1/outcomes", {**OUTCOME, "date": "2999-01-01"}),
    ("post", "/v1/outcomes", {**OUTCOME, "date": "1066-10-14"}),
    ("post", "/v1/outcomes", {**OUTCOME, "date": "yesterday"}),
    ("post", "/v1/outcomes", {**OUTCOME, "reason": "x" * 5000}),
    ("post", "/v1/outcomes", {**OUTCOME, "event_id": "a;b"}),
    ("post", "/v1/outcomes", {**OUTCOME, "recorded_by": "someone else"}),
    ("post", "/v1/outcomes", {"supplier_id": "S1", "buyer_id": "B1"}),
    ("post", "/v1/parks", {"park_id": "p", "name": "P", "lat": 21.0}),
    ("post", "/v1/parks", {"park_id": "p", "name": "P", "lat": 210, "lon": 105}),
    ("post", "/v1/parks", {"park_id": "p", "name": ""}),
    ("post", "/v1/parks", {"park_id": "p q", "name": "P"}),
    ("patch", "/v1/parks/thang-long", {}),
    ("patch", "/v1/parks/thang-long", {"name": None}),
    ("patch", "/v1/parks/thang-long", {"lat": None}),  # lon stays: not together
    ("post", "/v1/categories", {"category_id": "c", "name": "C", "hs_code": "abc"}),
    ("post", "/v1/categories", {"category_id": "c", "name": "C", "parent_id": "a b"}),
    ("post", "/v1/categories", {"category_id": "c/d", "name": "C"}),
    ("post", "/v1/categories", {"category_id": "c"}),
    ("patch", "/v1/categories/pcb", {}),
    ("patch", "/v1/categories/pcb", {"name": None}),
    ("patch", "/v1/categories/pcb", {"category_id": "pcb2"}),
]


@pytest.mark.parametrize(("method", "url", "body"), BAD_BODIES)
def test_bad_bodies_are_422(shared: Service, method: str, url: str, body: Any) -> None:
    response = call(shared, "staff", method, url, body)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/v1/links", {"page_size": 10**11}),
        ("/v1/links", {"page": 0}),
        ("/v1/links", {"status": "paused"}),
        ("/v1/links", {"supplier_id": "x" * 500}),
        ("/v1/links", {"category_id": ""}),
        ("/v1/capabilities", {"page_size": 201}),
        ("/v1/capabilities", {"firm_id": "x" * 500}),
        ("/v1/outcomes", {"outcome": "won"}),
        ("/v1/outcomes", {"page": 10**30}),
        ("/v1/outcomes", {"event_id": "x" * 500}),
        ("/v1/outcomes/0", {}),
        ("/v1/outcomes/" + "9" * 30, {}),
        ("/v1/outcomes/one", {}),
        ("/v1/links/" + "x" * 500 + "/B1/pcb", {}),
        ("/v1/capabilities/S1/" + "x" * 500, {}),
    ],
)
def test_unbounded_or_bad_parameters_are_422(
    shared: Service, url: str, params: dict[str, Any]
) -> None:
    started = time.perf_counter()
    response = call(shared, "staff", "get", url, **params)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    "url",
    ["/v1/links/S1/T1/nope", "/v1/links/S1/B1", "/v1/capabilities/S1/nope", "/v1/outcomes/999"],
)
def test_unknown_keys_are_404(shared: Service, url: str) -> None:
    response = call(shared, "staff", "get", url)
    assert response.status_code == 404 and response.json()["detail"]


def test_bad_json_is_422(shared: Service) -> None:
    for url in ("/v1/links", "/v1/capabilities", "/v1/outcomes", "/v1/parks", "/v1/categories"):
        headers = {
            "Authorization": f"Bearer {shared['keys']['staff']}",
            "Content-Type": "application/json",
        }
        response = shared["client"].post(url, headers=headers, content=b"{not json")
        assert response.status_code == 422


# -- the database stays a valid dataset -----------------------------------------------------------
def test_dump_after_writes_is_a_valid_dataset(fresh: Service, tmp_path: Path) -> None:
    writes = [
        ("post", "/v1/categories", {"category_id": "wire", "name": "Wires", "parent_id": "elec"}),
        ("patch", "/v1/categories/metal", {"parent_id": "spare"}),
        ("post", "/v1/parks", {"park_id": "dong-anh", "name": "Đông Anh", "kind": "cluster"}),
        ("patch", "/v1/firms/S3", {"park": "dong-anh"}),
        ("delete", "/v1/parks/noi-bai", None),
        ("post", "/v1/capabilities", {"firm_id": "S3", "category_id": "wire", "capacity": 5}),
        ("delete", "/v1/capabilities/S5/stamp", None),
        ("post", "/v1/links", {"supplier_id": "S3", "buyer_id": "T1", "category_id": "wire"}),
        ("post", "/v1/links", {"supplier_id": "S1", "buyer_id": "B2"}),
        ("patch", "/v1/links/S2/B1/stamp", {"status": "ended", "since": 2019}),
        ("delete", "/v1/links/S5/B2/stamp", None),
        ("post", "/v1/outcomes", {**OUTCOME, "reason": 'quoted "x", with\nnew lines'}),
        ("post", "/v1/outcomes", {**OUTCOME, "outcome": "contracted", "date": "2025-01-02"}),
        ("delete", "/v1/firms/S4", None),
    ]
    for method, url, body in writes:
        response = call(fresh, "staff", method, url, body)
        assert response.status_code < 300, (url, response.text)
    storage.dump(fresh["engine"], tmp_path / "out")
    dataset = graph.load_dataset(tmp_path / "out")  # raises on any problem
    assert len(dataset.outcomes) == 4 and "wire" in set(dataset.categories["category_id"])
    outcomes = pd.read_csv(tmp_path / "out" / "outcomes.csv", dtype=str, keep_default_na=False)
    assert {"recorded_by", "recorded_at"} <= set(outcomes.columns)
    assert outcomes["recorded_by"].tolist()[-2:] == [outcomes["recorded_by"].iloc[-1]] * 2
    assert outcomes["recorded_by"].iloc[-1].endswith("/staff")
    # and a load of the dump into an empty database gives the same dataset again
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'again.db'}", data_dir=tmp_path)
    try:
        storage.upgrade(engine)
        storage.load_into(engine, dataset)
        assert storage.dataset_from_db(engine).fingerprint() == dataset.fingerprint()
    finally:
        engine.dispose()
