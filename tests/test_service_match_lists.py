"""Match lists over HTTP: the cap, declined pairs, pins and blocks, CSV and XLSX, the model and
data that made each list, and who may do what."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketnoi import graph, matcher
from ketnoi.api import storage
from ketnoi.api.service import ServiceSettings, create_app
from ketnoi.matcher import MatchListSpec, build_match_list, pick_capped

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"
HANOI = ROOT / "fixtures" / "hanoi"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("match-lists")
    mp = pytest.MonkeyPatch()
    mp.delenv("KETNOI_SECRET", raising=False)
    engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
    storage.upgrade(engine)
    storage.load_into(engine, graph.load_dataset(TINY))
    keys = {
        "staff": storage.create_key(engine, "staff"),
        "analyst": storage.create_key(engine, "analyst"),
        "firm_b1": storage.create_key(engine, "firm", "B1"),
        "firm_s1": storage.create_key(engine, "firm", "S1"),
    }
    app = create_app(ServiceSettings(data_dir=folder), engine=engine)
    with TestClient(app) as client:
        yield {"client": client, "keys": keys, "engine": engine, "app": app}
    engine.dispose()
    mp.undo()


def auth(service: dict[str, Any], role: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys'][role]}"} if role else {}


def create(service: dict[str, Any], **body: Any) -> Any:
    return service["client"].post("/v1/match-lists", headers=auth(service, "staff"), json=body)


def pairs(body: dict[str, Any], side: str = "buyer") -> list[tuple[str, str]]:
    return [(r["buyer_id"], r["supplier_id"]) for r in body["items"] if r["side"] == side]


ALL_BUYERS = ["B1", "B2", "T1"]


# -- roles --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def list_id(service: dict[str, Any]) -> int:
    response = create(service, buyer_ids=ALL_BUYERS, k=3, label="fair")
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


ROUTES = [
    ("post", "/v1/match-lists", {"buyer_ids": ["B1"]}, {"staff"}),
    ("get", "/v1/match-lists", None, {"staff", "analyst"}),
    ("get", "/v1/match-lists/{id}", None, {"staff", "analyst"}),
    ("get", "/v1/match-lists/{id}?format=csv", None, {"staff", "analyst"}),
    ("get", "/v1/match-lists/{id}?format=xlsx", None, {"staff", "analyst"}),
    ("post", "/v1/match-lists/{id}/pins", {"add": []}, {"staff"}),
    ("post", "/v1/match-lists/{id}/blocks", {"add": []}, {"staff"}),
]


@pytest.mark.parametrize(("method", "url", "body", "allowed"), ROUTES)
@pytest.mark.parametrize("role", [None, "staff", "analyst", "firm_b1", "firm_s1"])
def test_roles(
    service: dict[str, Any],
    list_id: int,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    allowed: set[str],
    role: str | None,
) -> None:
    response = service["client"].request(
        method, url.format(id=list_id), headers=auth(service, role), json=body
    )
    if role is None:
        assert response.status_code == 401
    elif role in allowed:
        assert response.status_code in {200, 201}, response.text
    else:
        assert response.status_code == 403
        assert response.json()["detail"]


# -- what a list holds ----------------------------------------------------------------------------
def test_list_records_model_version_and_data_fingerprint(
    service: dict[str, Any], list_id: int
) -> None:
    body = service["client"].get(f"/v1/match-lists/{list_id}", headers=auth(service, "analyst"))
    body = body.json()
    served = service["app"].state.holder.current
    model = service["client"].get("/v1/model", headers=auth(service, "staff")).json()
    assert body["model_version"] == model["version"] == served.version
    assert body["model_version"].startswith(served.matcher.version_)
    assert body["data_fingerprint"] == served.matcher.data_fingerprint_
    assert body["label"] == "fair" and body["k"] == 3 and body["params"]["buyer_ids"] == ALL_BUYERS
    with Session(service["engine"]) as session:
        saved = session.get(storage.MatchList, list_id)
        assert saved is not None
        assert saved.model_version == served.version
        assert saved.data_fingerprint == served.matcher.data_fingerprint_
        assert len(saved.rows) == body["rows"] == len(body["items"])
    entries = service["client"].get(
        "/v1/audit", headers=auth(service, "staff"), params={"entity": "match_lists"}
    )
    mine = [e for e in entries.json()["items"] if e["entity_key"] == str(list_id)]
    assert mine[-1]["action"] == "create"
    assert mine[-1]["detail"]["data_fingerprint"] == served.matcher.data_fingerprint_


def test_rows_have_names_reasons_and_ranks(service: dict[str, Any], list_id: int) -> None:
    items = service["client"].get(f"/v1/match-lists/{list_id}", headers=auth(service, "staff"))
    items = items.json()["items"]
    assert items
    for buyer in {r["buyer_id"] for r in items}:
        ranks = [r["rank"] for r in items if r["buyer_id"] == buyer]
        assert ranks == list(range(1, len(ranks) + 1))
    b1 = next(r for r in items if r["buyer_id"] == "B1")
    assert b1["buyer_name"] == "Công ty TNHH Hoshino Việt Nam"
    assert b1["supplier_name"] and b1["reasons"] and not b1["pinned"]
    assert "S4" not in {r["supplier_id"] for r in items}  # unlisted


def test_listing_match_lists(service: dict[str, Any], list_id: int) -> None:
    body = service["client"].get("/v1/match-lists", headers=auth(service, "analyst")).json()
    assert body["total"] >= 1
    found = next(r for r in body["items"] if r["id"] == list_id)
    assert found["rows"] > 0 and "items" not in found
    ids = [r["id"] for r in body["items"]]
    assert ids == sorted(ids, reverse=True)


def test_cap_holds(service: dict[str, Any]) -> None:
    # A pin counts towards the cap but is never dropped: S1 pinned for B2 leaves B1 without it.
    body = {"buyer_ids": ALL_BUYERS, "k": 3, "pins": [["B2", "S1"]]}
    free = create(service, **body).json()
    capped = create(service, **body, max_per_supplier=1).json()
    assert Counter(s for _, s in pairs(free))["S1"] == 2  # the cap has work to do
    assert max(Counter(s for _, s in pairs(capped)).values()) == 1
    assert ("B2", "S1") in pairs(capped) and ("B1", "S1") not in pairs(capped)
    assert set(pairs(capped)) < set(pairs(free))


def test_cap_across_many_buyers_takes_rows_in_rank_order() -> None:
    m = matcher.Matcher().fit(graph.load_dataset(HANOI))
    buyers = tuple(m.match_list(None, 1)["buyer_id"].head(40))
    free = build_match_list(m, MatchListSpec(buyer_ids=buyers, k=5), declined=())
    capped = build_match_list(
        m, MatchListSpec(buyer_ids=buyers, k=5, max_per_supplier=2), declined=()
    )
    free, capped = free.to_dict("records"), capped.to_dict("records")
    assert max(Counter(r["supplier_id"] for r in free).values()) > 2
    assert max(Counter(r["supplier_id"] for r in capped).values()) <= 2
    per_buyer = Counter(r["buyer_id"] for r in capped)
    assert max(per_buyer.values()) <= 5
    assert sum(per_buyer.values()) > 2 * len(buyers)  # places go to the next suppliers down


def test_pick_capped_prefers_the_better_rank() -> None:
    rows = [
        {"buyer_id": "A", "supplier_id": "big", "score": 0.5, "position": 2},
        {"buyer_id": "A", "supplier_id": "x", "score": 0.9, "position": 1},
        {"buyer_id": "B", "supplier_id": "big", "score": 0.8, "position": 1},
        {"buyer_id": "B", "supplier_id": "y", "score": 0.4, "position": 2},
    ]
    taken = pick_capped(rows, {"A": 2, "B": 2}, cap=1)
    got = {(r["buyer_id"], r["supplier_id"]) for r in taken}
    assert got == {("A", "x"), ("B", "big"), ("B", "y")}
    pinned = pick_capped(rows, {"A": 2, "B": 2}, cap=1, used=Counter({"big": 1}))
    assert "big" not in {r["supplier_id"] for r in pinned}


def test_declined_pairs_are_left_out(service: dict[str, Any]) -> None:
    # The tiny dataset already holds a declined outcome for (B1, S5).
    body = create(service, buyer_ids=["B1", "B2"], supplier_ids=["S5"], k=10).json()
    assert ("B1", "S5") not in pairs(body) and ("B1", "S5") not in pairs(body, "supplier")
    assert ("B2", "T1") in pairs(body)
    assert pairs(body, "supplier") == [("B2", "S5")]

    def decline(session: Session) -> None:
        session.add(storage.Outcome(supplier_id="T1", buyer_id="B2", outcome="declined"))

    storage.transaction(service["engine"], decline)
    try:
        again = create(service, buyer_ids=["B1", "B2"], k=10).json()
        assert ("B2", "T1") not in pairs(again)
        assert ("B2", "S5") in pairs(again)
    finally:

        def undo(session: Session) -> None:
            for row in session.scalars(
                select(storage.Outcome).where(
                    storage.Outcome.supplier_id == "T1", storage.Outcome.buyer_id == "B2"
                )
            ):
                session.delete(row)

        storage.transaction(service["engine"], undo)


def test_pins_and_blocks_at_creation(service: dict[str, Any]) -> None:
    body = create(
        service,
        buyer_ids=["B1", "B2"],
        supplier_ids=["S3"],
        k=2,
        pins=[["B1", "S2"], {"buyer_id": "B2", "supplier_id": "S3"}],
        blocks=[["B1", "S3"]],
    ).json()
    b1 = [r for r in body["items"] if r["side"] == "buyer" and r["buyer_id"] == "B1"]
    assert (b1[0]["supplier_id"], b1[0]["pinned"], b1[0]["rank"]) == ("S2", True, 1)
    assert b1[0]["reasons"] and 0 <= b1[0]["score"] <= 1
    assert len(b1) == 2 and not b1[1]["pinned"]  # pins count towards k
    assert ("B1", "S3") not in pairs(body) + pairs(body, "supplier")
    b2 = [r for r in body["items"] if r["buyer_id"] == "B2" and r["side"] == "buyer"]
    assert b2[0]["supplier_id"] == "S3" and b2[0]["pinned"]
    assert body["params"]["pins"] == [["B1", "S2"], ["B2", "S3"]]


def test_pinning_and_blocking_derive_the_list_again(service: dict[str, Any]) -> None:
    client, staff = service["client"], auth(service, "staff")
    body = create(service, buyer_ids=["B1"], k=2).json()
    list_id = body["id"]
    assert pairs(body) == [("B1", "S1"), ("B1", "S3")]

    blocked = client.post(
        f"/v1/match-lists/{list_id}/blocks", headers=staff, json={"add": [["B1", "S1"]]}
    )
    assert blocked.status_code == 200, blocked.text
    assert pairs(blocked.json()) == [("B1", "S3")]  # S5 (next down) was declined
    assert blocked.json()["params"]["blocks"] == [["B1", "S1"]]

    pinned = client.post(
        f"/v1/match-lists/{list_id}/pins", headers=staff, json={"add": [["B1", "S2"]]}
    )
    assert pairs(pinned.json()) == [("B1", "S2"), ("B1", "S3")]
    assert [r["pinned"] for r in pinned.json()["items"]] == [True, False]

    # pinning a blocked pair unblocks it; unpinning takes the pin away
    again = client.post(
        f"/v1/match-lists/{list_id}/pins",
        headers=staff,
        json={"add": [["B1", "S1"]], "remove": [["B1", "S2"]]},
    )
    body = again.json()
    assert body["params"]["blocks"] == [] and body["params"]["pins"] == [["B1", "S1"]]
    assert pairs(body) == [("B1", "S1"), ("B1", "S3")] and body["items"][0]["pinned"]
    fetched = client.get(f"/v1/match-lists/{list_id}", headers=staff).json()
    assert fetched["items"] == body["items"]
    entries = client.get("/v1/audit", headers=staff, params={"entity": "match_lists"}).json()
    mine = [e["action"] for e in entries["items"] if e["entity_key"] == str(list_id)]
    assert mine == ["update", "update", "update", "create"]


def test_the_cli_and_the_api_hand_out_the_same_list(
    service: dict[str, Any], tmp_path: Path
) -> None:
    # One export, every door (issue 14): the same spec on the same data gives the same file,
    # byte for byte, from `ketnoi match-list --out` and from the service.
    from typer.testing import CliRunner

    from ketnoi.api.cli import app

    for lang in ("en", "vi"):
        out = tmp_path / f"match-{lang}.csv"
        done = CliRunner().invoke(
            app,
            ["match-list", str(TINY), "--out", str(out), "--buyers", "B1,B2,T1", "--k", "3",
             "--max-per-supplier", "1", "--pin", "B2:S1", "--block", "B2:T1", "--lang", lang],
        )  # fmt: skip
        assert done.exit_code == 0, done.stderr
        wrote = "đã ghi" if lang == "vi" else "wrote"  # said in the list's language
        assert f"{wrote} {out}" in done.stderr.replace("\n", "")
        body = create(
            service, buyer_ids=ALL_BUYERS, k=3, max_per_supplier=1, pins=[["B2", "S1"]],
            blocks=[["B2", "T1"]], lang=lang,
        ).json()  # fmt: skip
        api = service["client"].get(
            f"/v1/match-lists/{body['id']}",
            headers=auth(service, "staff"),
            params={"format": "csv"},
        )
        assert out.read_bytes() == api.content
        assert len(body["items"]) > 2 and any(r["pinned"] for r in body["items"])


def test_csv_has_a_bom_names_and_joined_reasons(service: dict[str, Any], list_id: int) -> None:
    response = service["client"].get(
        f"/v1/match-lists/{list_id}", headers=auth(service, "analyst"), params={"format": "csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig", keep_default_na=False)
    assert list(frame.columns[:5]) == ["list of", "buyer_id", "buyer", "supplier_id", "supplier"]
    assert "Công ty TNHH Hoshino Việt Nam" in set(frame["buyer"])
    saved = service["client"].get(f"/v1/match-lists/{list_id}", headers=auth(service, "staff"))
    items = saved.json()["items"]
    assert list(frame["reasons"]) == [" | ".join(r["reasons"]) for r in items]
    assert (
        any(len(r["reasons"]) > 1 for r in items)
        and frame["reasons"].str.contains(" | ", regex=False).any()
    )


def test_xlsx_is_readable_with_pandas(service: dict[str, Any], list_id: int) -> None:
    response = service["client"].get(
        f"/v1/match-lists/{list_id}", headers=auth(service, "staff"), params={"format": "xlsx"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheets = pd.read_excel(io.BytesIO(response.content), sheet_name=None, keep_default_na=False)
    rows, about = sheets["match list"], sheets["about"]
    items = service["client"].get(f"/v1/match-lists/{list_id}", headers=auth(service, "staff"))
    body = items.json()
    assert len(rows) == len(body["items"])
    assert list(rows["supplier"]) == [r["supplier_name"] for r in body["items"]]
    assert list(rows["reasons"]) == [" | ".join(r["reasons"]) for r in body["items"]]
    facts = dict(zip(about.iloc[:, 0], about.iloc[:, 1], strict=True))
    assert facts["model version"] == body["model_version"]
    assert facts["data fingerprint"] == body["data_fingerprint"]


def test_vietnamese_list(service: dict[str, Any]) -> None:
    body = create(service, buyer_ids=["B1"], k=2, lang="vi").json()
    csv = service["client"].get(
        f"/v1/match-lists/{body['id']}", headers=auth(service, "staff"), params={"format": "csv"}
    )
    # Vietnamese Excel splits on ';' (issue 14).
    frame = pd.read_csv(
        io.BytesIO(csv.content), encoding="utf-8-sig", keep_default_na=False, sep=";"
    )
    assert "lý do" in frame.columns and "nhà cung cấp" in frame.columns


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "buyer_ids or supplier_ids"),
        ({"buyer_ids": ["NOPE"]}, "NOPE"),
        ({"buyer_ids": ["S1"]}, "S1"),
        ({"supplier_ids": ["NOPE"]}, "NOPE"),
        ({"buyer_ids": ["B1"], "category": "nope"}, "nope"),
        ({"buyer_ids": ["B1"], "k": 51}, "k"),
        ({"buyer_ids": ["B1"], "k": 0}, "k"),
        ({"buyer_ids": ["B1"], "max_per_supplier": 0}, "max_per_supplier"),
        ({"buyer_ids": ["B1"], "lang": "fr"}, "lang"),
        ({"buyer_ids": ["B1"] * 201}, "buyer_ids"),
        ({"buyer_ids": ["B1"], "pins": [["B1", "S2"]], "blocks": [["B1", "S2"]]}, "both"),
        ({"buyer_ids": ["B1"], "pins": [["B2", "S2"]]}, "pinned pair"),
        ({"buyer_ids": ["B1"], "pins": [["B1"]]}, "pins"),
        ({"buyer_ids": ["B1"], "surprise": 1}, "surprise"),
    ],
)
def test_bad_requests_are_422(service: dict[str, Any], body: dict[str, Any], words: str) -> None:
    response = create(service, **body)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "url", "params", "code"),
    [
        ("get", "/v1/match-lists/999999", {}, 404),
        ("get", "/v1/match-lists/0", {}, 422),
        ("get", "/v1/match-lists/{id}", {"format": "pdf"}, 422),
        ("post", "/v1/match-lists/999999/pins", {}, 404),
        ("get", "/v1/match-lists", {"page_size": 10**9}, 422),
    ],
)
def test_unknown_lists_and_bad_parameters(
    service: dict[str, Any], list_id: int, method: str, url: str, params: dict[str, Any], code: int
) -> None:
    body = {"add": [["B1", "S2"]]} if method == "post" else None
    response = service["client"].request(
        method, url.format(id=list_id), headers=auth(service, "staff"), params=params, json=body
    )
    assert response.status_code == code, response.text
    assert response.json()["detail"]
