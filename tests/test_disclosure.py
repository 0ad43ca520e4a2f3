"""Nothing a firm key receives tells it of another firm's confidential demand or private fields.

The requests are generated from the app's OpenAPI document: every GET route, with every
``format`` it offers, each path parameter filled with the caller's own firm, other firms (one
with confidential demands, unlisted ones, one that does not exist) and categories, each filter
of a list tried one at a time. Two services run on the same random world, one with many
confidential demands and one without them; as several firm keys, every answer of the first

- names no other firm's confidential (buyer, category) pair in one record (a JSON object, a
  CSV row, an XLSX row), and no other firm's private value (employees, founding year,
  location, capacity, a confidential volume, an exact distance or capacity ratio, the contact
  fields of a firm that did not opt in to show them);
- has the status code and ``total`` the second has for the same request;
- is never a 200 about a firm that ``GET /v1/firms/{firm_id}`` answers 404 for.

A new route is covered without a change here; a path parameter the generator cannot fill
fails the test, naming the route.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import itertools
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

SEED = 11
LEAVES = ["pcb", "cable", "label", "box", "screw", "spring", "mould", "resin", "lens", "fan"]
PARKS = ["p-north", "p-south", "p-east"]
#: Firms whose keys ask: buyers, suppliers and firms that are both (Tier-1).
KEY_FIRMS = ("B01", "S01", "S02", "T01")
#: Other firms every key asks about: a buyer and a Tier-1 firm with confidential demands, an
#: unlisted buyer and supplier, and a firm that does not exist.
TARGETS = ("B03", "T02", "BU1", "SU1", "X404")
#: Path parameters that name a firm.
FIRM_PARAMS = {"firm_id", "buyer_id", "supplier_id"}
#: Query parameters tried one at a time with the path's firm and category values.
FILTERS = {"firm_id", "buyer_id", "supplier_id", "category_id", "category"}
#: Features that carry another firm's private field in an explanation.
PRIVATE_FEATURES = {"distance_km", "capacity_ratio", "log_employees", "supplier_age"}
#: Of those, what the pair's supplier knows itself (its capacity against a public volume).
OWN_FEATURES = {"capacity_ratio", "log_employees", "supplier_age"}
#: A distance or a capacity said exactly (banded reasons name no number of kilometres first).
EXACT_DISTANCE = re.compile(r"(^|\"|,)\s*(<1|\d[\d,]*) km away|cách (<1|\d+) km")


@dataclass
class World:
    """The firms of a random world and what each keeps to itself."""

    confidential: set[tuple[str, str]] = field(default_factory=set)
    private: dict[str, set[str]] = field(default_factory=dict)
    unlisted: set[str] = field(default_factory=set)
    firms: list[str] = field(default_factory=list)


def _write(folder: Path, name: str, header: list[str], rows: list[list[Any]]) -> None:
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _make_world(folder: Path, *, with_confidential: bool) -> World:
    """A random world in ``folder``, the same for a seed but for the confidential demands.

    Private numbers are drawn from ranges nothing else in the world uses (employees 5 digits,
    capacities and volumes 6, founding years before 1961, coordinates with 6 decimals), so that
    finding one in an answer can only mean it was disclosed. Confidential (buyer, category)
    pairs have no link and no public demand in that category, so that a record naming both
    can only come from the confidential demand.
    """
    rng = random.Random(SEED)
    # Contacts come from their own stream so that the rest of the world stays as it was.
    contact_rng = random.Random(SEED + 1)
    folder.mkdir(parents=True, exist_ok=True)
    world = World()
    used: set[int] = set()

    def distinct(low: int, high: int) -> int:
        while (value := rng.randint(low, high)) in used:
            pass
        used.add(value)
        return value

    _write(
        folder,
        "categories",
        ["category_id", "name", "name_vi", "parent_id", "hs_code"],
        [["parts", "Parts", "Linh kiện", "", ""]]
        + [[c, f"{c.title()} parts", "", "parts", ""] for c in LEAVES],
    )
    _write(
        folder,
        "parks",
        ["park_id", "name", "lat", "lon", "kind"],
        [[p, f"Park {p}", "", "", "industrial park"] for p in PARKS],
    )
    _write(folder, "category_inputs", ["input_category_id", "output_category_id"], [])
    roles = (
        [(f"B{i:02d}", "buyer") for i in range(1, 9)]
        + [(f"T{i:02d}", "both") for i in range(1, 5)]
        + [(f"S{i:02d}", "supplier") for i in range(1, 17)]
        + [("BU1", "buyer"), ("SU1", "supplier")]
    )
    firms, capabilities, demands, links = [], [], [], []
    offers: dict[str, list[str]] = {}
    for firm_id, role in roles:
        lat, lon = rng.uniform(20.9, 21.3), rng.uniform(105.6, 106.0)
        employees, founded = distinct(10_000, 99_999), rng.randint(1901, 1960)
        listed = firm_id not in {"BU1", "SU1"}
        firms.append(
            [firm_id, f"Firm {firm_id}", role, "", "", "fdi" if role == "buyer" else "domestic"]
            + ["JP", rng.choice(["electronics", "automotive"]), f"{lat:.6f}", f"{lon:.6f}"]
            + [rng.choice(PARKS), employees, founded, "ISO 9001", "", "en", str(listed).lower()]
            + [f"{firm_id} makes things"]
        )
        serial = contact_rng.randint(10_000_000, 99_999_999)
        contacts = [
            f"Số {serial % 997} ngõ {serial} Đường Láng",
            f"09{serial}",
            f"{firm_id.lower()}.{serial}@mail.example.vn",
            f"https://{firm_id.lower()}-{serial}.example.vn",
            f"Nguyễn Văn {serial}",
        ]
        # Every third firm opts in: its contacts are then public, the others' private.
        shows_contacts = len(world.firms) % 3 == 0
        firms[-1] += [*contacts, str(shows_contacts).lower()]
        world.firms.append(firm_id)
        world.private[firm_id] = {str(employees), f"{lat:.6f}", f"{lon:.6f}", str(founded)}
        if not shows_contacts:
            world.private[firm_id] |= set(contacts)
        if not listed:
            world.unlisted.add(firm_id)
        if role != "buyer":
            offers[firm_id] = rng.sample(LEAVES, 3)
            for category in offers[firm_id]:
                capacity = distinct(100_000, 999_999)
                capabilities.append([firm_id, category, capacity])
                world.private[firm_id].add(str(capacity))
        if role != "supplier":
            wanted = rng.sample([c for c in LEAVES if c not in offers.get(firm_id, [])], 5)
            for n, category in enumerate(wanted):
                # The keys' own firms keep nothing confidential: the world without the
                # confidential demands then differs from this one only in what other firms
                # keep from each key.
                secret = n >= 2 and firm_id not in KEY_FIRMS
                volume = distinct(100_000, 999_999)
                if secret:
                    world.confidential.add((firm_id, category))
                    world.private[firm_id].add(str(volume))
                    if not with_confidential:
                        continue
                demands.append([firm_id, category, volume, "", "", str(secret).lower()])
    suppliers = [f for f, r in roles if r != "buyer" and f != "SU1"]
    for firm_id, role in roles:
        if role == "supplier" or firm_id == "BU1":
            continue
        for supplier in rng.sample([s for s in suppliers if s != firm_id], 3):
            category = next(
                (c for c in offers[supplier] if (firm_id, c) not in world.confidential), ""
            )
            links.append([supplier, firm_id, category, rng.randint(2005, 2024), "active"])
    firm_header = ["firm_id", "name", "role", "name_en", "tax_code", "ownership"]
    firm_header += ["country_of_origin", "sector", "lat", "lon", "park", "employees", "founded"]
    firm_header += ["certifications", "processes", "languages", "listed", "description"]
    firm_header += ["address", "phone", "email", "website", "contact_person", "contact_public"]
    _write(folder, "firms", firm_header, firms)
    _write(folder, "capabilities", ["firm_id", "category_id", "capacity"], capabilities)
    demand_header = ["firm_id", "category_id", "volume", "required_certifications"]
    demand_header += ["required_processes", "confidential"]
    _write(folder, "demands", demand_header, demands)
    _write(folder, "links", ["supplier_id", "buyer_id", "category_id", "since", "status"], links)
    outcomes = [
        ["S01", "B03", "met", "2024-05-10", "", ""],
        ["S03", "B01", "met", "2024-05-10", "", ""],
    ]
    outcome_header = ["supplier_id", "buyer_id", "outcome", "date", "event_id", "reason"]
    _write(folder, "outcomes", outcome_header, outcomes)
    return world


# -- the two services ---------------------------------------------------------------------------
KEYS = {"staff": ("staff", None), **{f: ("firm", f) for f in KEY_FIRMS}}
EVENT = {
    "name": "fair",
    "participants": [{"firm_id": f} for f in ("B01", "B02", "B03", "S01", "S02", "S03")]
    + [{"firm_id": "T01", "side": "supplier"}],
    "slots": 3,
    "tables": 3,
    "max_meetings": 3,
}


@pytest.fixture(scope="module")
def worlds(
    tmp_path_factory: pytest.TempPathFactory, start_service: Callable[..., Any]
) -> Iterator[tuple[World, dict[str, Any], dict[str, Any]]]:
    """The world with its confidential demands and the same world without them, each served."""
    root = tmp_path_factory.mktemp("disclosure")
    world = _make_world(root / "with" / "data", with_confidential=True)
    _make_world(root / "without" / "data", with_confidential=False)
    options = {"keys": KEYS, "evaluate": False, "precompute": False}
    with (
        start_service(root / "with", dataset=root / "with" / "data", **options) as with_,
        start_service(root / "without", dataset=root / "without" / "data", **options) as without,
    ):
        for service in (with_, without):
            staff = {"X-API-Key": service["keys"]["staff"]}
            made = service["client"].post("/v1/events", json=EVENT, headers=staff)
            assert made.status_code == 201, made.text
        yield world, with_, without


# -- the requests, from the OpenAPI document ----------------------------------------------------
def _path_values(name: str, own: str, world: World) -> list[str]:
    """The values a path (or filter) parameter is tried with; a name not known fails."""
    firms = [own, *TARGETS]
    secret = sorted({c for f, c in world.confidential if f in TARGETS})[:2]
    values: dict[str, list[str]] = {
        "firm_id": firms,
        "buyer_id": firms,
        "supplier_id": firms,
        "category_id": [*secret, "nothing"],
        "category": [*secret],
        "park_id": [PARKS[0], "nowhere"],
        "event_id": ["1", "999"],
        "list_id": ["1"],
        "outcome_id": ["1", "2", "999"],
        # No job is started in these worlds: another firm's job and an absent one must both
        # be a 404 (tests/test_jobs.py checks the first with a real job).
        "job_id": ["1", "999"],
        # Entity resolution's reviews and merges are staff-only: any id is refused alike.
        "review_id": ["1", "999"],
        "merge_id": ["1", "999"],
    }
    if name not in values:
        raise LookupError(name)
    return values[name]


def _requests(spec: dict[str, Any], own: str, world: World) -> Iterator[tuple[str, str, dict]]:
    """(route, url, query) of every GET request to try for the firm ``own``."""
    for route, operations in spec["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        parameters = operation.get("parameters", [])
        in_path = [p["name"] for p in parameters if p["in"] == "path"]
        try:
            choices = [_path_values(name, own, world) for name in in_path]
        except LookupError as exc:
            pytest.fail(f"{route}: the generator cannot fill the path parameter {exc.args[0]}")
        queries: list[dict[str, str]] = [{}]
        for p in parameters:
            if p["in"] != "query":
                continue
            if p["name"] == "format":
                formats = _enum(p["schema"])
                assert formats, f"{route}: format without its values in the schema"
                queries += [{"format": f} for f in formats if f != "json"]
            elif p["name"] in FILTERS:
                queries += [{p["name"]: v} for v in _path_values(p["name"], own, world)]
        firm_params = [i for i, name in enumerate(in_path) if name in FIRM_PARAMS]
        for values in itertools.product(*choices):
            # Of the pairs of firms, those with the key's own firm on one side (and one
            # without): a firm key is refused the others alike, whatever they hold.
            firms = {values[i] for i in firm_params}
            if len(firm_params) > 1 and own not in firms and firms != {TARGETS[0]}:
                continue
            url = route
            for name, value in zip(in_path, values, strict=True):
                url = url.replace("{" + name + "}", value)
            for query in queries:
                yield route, url, query


def _enum(schema: dict[str, Any]) -> list[str]:
    if "enum" in schema:
        return list(schema["enum"])
    return [v for s in schema.get("anyOf", []) for v in _enum(s)]


# -- reading an answer ---------------------------------------------------------------------------
def _records(response: Any) -> tuple[str, list[list[Any]]]:
    """The answer's whole text and its records (each JSON object, CSV row or XLSX row)."""
    kind = response.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        rows = [list(r) for sheet in book.worksheets for r in sheet.iter_rows(values_only=True)]
        return "\n".join(",".join(str(v) for v in row) for row in rows), rows
    if "text/csv" in kind:
        return response.text, [list(r) for r in csv.reader(io.StringIO(response.text))]
    if "text/html" in kind:
        # A printed agenda: each table row a record, its partner's id and every word it says
        # (a category id such as "pcb" shows in its name, "pcb parts").
        records = [[]]
        for row in re.findall(r"<tr\b.*?</tr>", response.text, flags=re.S):
            words = re.findall(r"[\w-]+", html.unescape(re.sub(r"<[^>]+>", " ", row)))
            records.append([*re.findall(r'data-partner="([^"]*)"', row), *words])
        return response.text, records
    if not response.content:
        return "", []
    body = response.json()
    records: list[list[Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            records.append([v for v in node.values() if not isinstance(v, dict | list)])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(body)
    return json.dumps(body, ensure_ascii=False), records


@functools.cache
def _private_pattern(values: frozenset[str]) -> re.Pattern[str]:
    forms = set(values)
    forms |= {f"{int(v):,}" for v in values if v.isdigit() and len(v) > 4}
    alternatives = "|".join(re.escape(v) for v in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\d.,])({alternatives})(?![\d,])")


def _leaks(response: Any, own: str, world: World, named: list[str], route: str) -> Iterator[str]:
    """What of other firms' secrets this answer to ``own``'s key gives away."""
    text, records = _records(response)
    others = [f for f in world.firms if f != own]
    found = _private_pattern(frozenset().union(*(world.private[f] for f in others))).search(text)
    if found:
        yield f"a private value of another firm: {found.group(1)!r}"
    if EXACT_DISTANCE.search(text):
        yield "an exact distance"
    secrets = {(b, c) for b, c in world.confidential if b != own}
    for record in [[*named, *records[0]], *records[1:]] if records else []:
        values = {v for v in record if isinstance(v, str)}
        hit = {(b, c) for b, c in secrets if b in values and c in values}
        if hit:
            yield f"a confidential demand {sorted(hit)[0]} in {record}"
    if "json" in response.headers.get("content-type", ""):
        yield from _private_features(response.json(), own, named, route)


def _private_features(body: Any, own: str, named: list[str], route: str) -> Iterator[str]:
    # A feature's value (and contribution) says a private field exactly: distance, capacity
    # ratio, and the supplier's size and age unless the key is the supplier's.
    if not isinstance(body, dict):
        return
    own_supplier = "{supplier_id}" in route and named and named[0] == own
    for item in body.get("contributions", []):
        if item["feature"] not in PRIVATE_FEATURES:
            continue
        if own_supplier and item["feature"] in OWN_FEATURES:
            continue
        if isinstance(item["value"], int | float) or item["contribution"] is not None:
            yield f"the exact feature {item['feature']}"


def _total(response: Any) -> int | None:
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return None
    body = response.json()
    return body.get("total") if isinstance(body, dict) else None


# -- the test -----------------------------------------------------------------------------------
@pytest.mark.parametrize("own", KEY_FIRMS)
def test_firm_keys_learn_nothing_confidential(
    worlds: tuple[World, dict[str, Any], dict[str, Any]], own: str
) -> None:
    world, with_, without = worlds
    spec = with_["client"].get("/openapi.json").json()
    assert spec == without["client"].get("/openapi.json").json()
    clients: list[tuple[TestClient, dict[str, str]]] = [
        (s["client"], {"X-API-Key": s["keys"][own]}) for s in (with_, without)
    ]
    client, headers = clients[0]
    hidden = {
        f
        for f in (*TARGETS, *world.firms)
        if client.get(f"/v1/firms/{f}", headers=headers).status_code == 404
    } - {own}
    problems: list[str] = []
    seen = 0
    for route, url, query in _requests(spec, own, world):
        seen += 1
        answers = [c.get(url, params=query, headers=h) for c, h in clients]
        request = f"GET {url}?{query}"
        if answers[0].status_code != answers[1].status_code:
            problems.append(
                f"{request}: {answers[0].status_code} with the confidential demands, "
                f"{answers[1].status_code} without"
            )
        assert answers[0].status_code < 500, f"{request}: {answers[0].text}"
        named = [v for v in url.split("/") if v in world.firms or v in TARGETS]
        if answers[0].status_code == 200 and set(named) & hidden:
            problems.append(f"{request}: 200 about a firm /v1/firms answers 404 for")
        totals = [_total(a) for a in answers]
        if totals[0] != totals[1]:
            problems.append(
                f"{request}: total {totals[0]} with the confidential demands, {totals[1]} without"
            )
        problems += [f"{request}: {leak}" for leak in _leaks(answers[0], own, world, named, route)]
    assert seen > 100, "the generator made too few requests"
    assert not problems, f"{len(problems)} disclosures, e.g.\n" + "\n".join(problems[:25])


def test_the_generator_fails_on_a_path_parameter_it_cannot_fill() -> None:
    spec = {
        "paths": {
            "/v1/widgets/{widget_id}": {
                "get": {
                    "parameters": [
                        {"name": "widget_id", "in": "path", "schema": {"type": "string"}}
                    ]
                }
            }
        }
    }
    with pytest.raises(pytest.fail.Exception, match="widget_id"):
        list(_requests(spec, "B01", World()))


def test_a_deleted_firms_key_gets_nothing_before_the_retrain(
    tmp_path: Path, start_service: Callable[..., Any]
) -> None:
    with start_service(tmp_path, evaluate=False, precompute=False) as service:
        client = service["client"]
        firm = {"X-API-Key": service["keys"]["firm_s1"]}
        urls = ["/v1/suppliers/S1/buyers", "/v1/suppliers/S1/buyers/B1/explanation"]
        assert [client.get(u, headers=firm).status_code for u in urls] == [200, 200]
        staff = {"X-API-Key": service["keys"]["staff"]}
        assert client.delete("/v1/firms/S1", headers=staff).status_code == 204
        assert [client.get(u, headers=firm).status_code for u in urls] == [404, 404]
        assert client.get(urls[0], headers=staff).status_code == 200  # the model still has it


def test_suppliers_read_confidential_pairs_as_unscored_masks(
    worlds: tuple[World, dict[str, Any], dict[str, Any]],
) -> None:
    world, service, _ = worlds
    client, masks = service["client"], 0
    for supplier in ("S01", "S02", "T01"):
        url = f"/v1/suppliers/{supplier}/buyers"
        staff = client.get(url, headers={"X-API-Key": service["keys"]["staff"]}).json()["items"]
        secret = sorted(
            r["category_id"]
            for r in staff
            if (r["buyer_id"], r["category_id"]) in world.confidential
        )
        mine = client.get(url, headers={"X-API-Key": service["keys"][supplier]}).json()["items"]
        named = [r for r in mine if r["buyer_id"] is not None]
        masked = [r for r in mine if r["buyer_id"] is None]
        assert [r["rank"] for r in named] == list(range(1, len(named) + 1))
        assert sorted({r["category_id"] for r in masked}) == sorted(set(secret))
        assert all(r["score"] is None and r["rank"] is None for r in masked)
        assert all(r["reasons"][0].startswith("a buyer in sector") for r in masked)
        masks += len(masked)
    assert masks, "the world puts no confidential demand in any supplier's top 10"


def test_a_supplier_asks_for_an_introduction_and_never_learns_the_buyer(
    worlds: tuple[World, dict[str, Any], dict[str, Any]],
) -> None:
    """A masked demand is no dead end (issue 14): its reference asks staff for an
    introduction; staff read the buyer, the supplier never does."""
    world, service, _ = worlds
    client, keys = service["client"], service["keys"]
    staff = {"X-API-Key": keys["staff"]}
    asked = 0
    for supplier in ("S01", "S02", "T01"):
        firm = {"X-API-Key": keys[supplier]}
        mine = client.get(f"/v1/suppliers/{supplier}/buyers", headers=firm).json()["items"]
        for row in (r for r in mine if r["buyer_id"] is None):
            body = {"reference": row["reference"], "category_id": row["category_id"]}
            made = client.post(
                "/v1/introductions", json={**body, "message": "xin gặp"}, headers=firm
            )
            assert made.status_code == 201, made.text
            answer = made.json()
            assert answer["supplier_id"] == supplier and answer["demand"] == row["reasons"][0]
            # No other firm's id anywhere in the answer: the buyer stays hidden.
            others = {f for f in world.firms if f != supplier}
            assert not others & set(re.findall(r"[A-Z]+\d+", made.text))
            again = client.post("/v1/introductions", json=body, headers=firm)
            assert again.status_code == 200 and again.json()["id"] == answer["id"]
            # The reference is bound to its supplier: another supplier cannot use it.
            other = next(s for s in ("S01", "S02", "T01") if s != supplier)
            stolen = client.post("/v1/introductions", json=body, headers={"X-API-Key": keys[other]})
            assert stolen.status_code == 404, stolen.text
            listed = client.get("/v1/introductions", headers=staff).json()["items"]
            (request,) = [r for r in listed if r["id"] == answer["id"]]
            assert (request["buyer_id"], request["category_id"]) in world.confidential
            assert request["supplier_id"] == supplier and request["message"] == "xin gặp"
            asked += 1
        forged = {"reference": "intro_" + "0" * 32, "category_id": LEAVES[0]}
        assert client.post("/v1/introductions", json=forged, headers=firm).status_code == 404
        assert client.get("/v1/introductions", headers=firm).status_code == 403
        # A firm key asks only for its own firm.
        for_other = {**forged, "supplier_id": "S02" if supplier != "S02" else "S01"}
        assert client.post("/v1/introductions", json=for_other, headers=firm).status_code == 403
    assert asked, "no masked demand to ask about"
    audit = client.get("/v1/audit", headers=staff, params={"entity": "introduction"})
    assert audit.status_code == 200 and audit.json()["total"] == asked
