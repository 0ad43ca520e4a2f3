"""A merged firm's id keeps resolving on every route: an alias answers as the firm it names.

The requests are generated from the app's OpenAPI document, as in tests/test_disclosure.py:
every GET route with a firm id among its path parameters or filters is asked once with the
firm's own id and once with an alias of it (one merge, and a chain of two), as staff and as
firm keys, and must give the same status and the same body (an answer that is not a success
names the id as the caller sent it). An alias of a firm a key may not see answers as an id that
does not exist does. Then the JSON bodies that name firms, the key of a merged-away firm, the
documented exceptions (saved events' agendas) and the workbench's pages.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ketnoi.api import storage

#: Each alias, the firm it names now (T1y was merged into T1x, then T1x into T1).
ALIASES = {"B1x": "B1", "S1x": "S1", "T1x": "T1", "T1y": "T1", "S4x": "S4"}
#: An id no firm ever had.
ABSENT = "X404"
#: Firms the path parameters are filled with, by name (S4 is unlisted).
FIRMS = {
    "firm_id": ["B1", "S1", "T1", "S4"],
    "buyer_id": ["B1", "T1"],
    "supplier_id": ["S1", "T1", "S4"],
}
OTHER_VALUES = {
    "category_id": ["pcb"],
    "category": ["pcb"],
    "park_id": ["thang-long"],
    "event_id": ["1"],
    "list_id": ["1"],
    "outcome_id": ["1"],
    "job_id": ["1"],
    "review_id": ["1"],
    "merge_id": ["1"],
}
#: Routes that name a saved event's participant, kept as planned (docs/register.md).
AS_PLANNED = {
    "/v1/events/{event_id}/agendas/{firm_id}",
    "/v1/events/{event_id}/agendas/{firm_id}/print",
    "/events/{event_id}/agendas/{firm_id}",
}
KEY_NAMES = ("staff", "firm_b1", "firm_s1")
EVENT = {
    "name": "fair",
    "participants": [{"firm_id": f} for f in ("B1", "B2", "S1", "S2", "S3")]
    + [{"firm_id": "T1", "side": "supplier"}],
    "slots": 3,
    "tables": 2,
    "max_meetings": 3,
}


def _token(firm: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(firm)}(?![\w.-])")


def auth(service: dict[str, Any], name: str) -> dict[str, str]:
    return {"X-API-Key": service["keys"][name]}


@pytest.fixture(scope="module")
def merged(
    tmp_path_factory: pytest.TempPathFactory, start_service: Callable[..., Any]
) -> Iterator[dict[str, Any]]:
    """The tiny world served, with empty firms merged into B1, S1, T1 (twice) and S4: their
    ids are aliases, and the firms they name hold what they held before."""
    with start_service(tmp_path_factory.mktemp("aliases"), evaluate=False) as service:
        client, staff = service["client"], auth(service, "staff")
        made = client.post("/v1/events", json=EVENT, headers=staff)
        assert made.status_code == 201, made.text
        roles = {"B1": "buyer", "S1": "supplier", "T1": "both", "S4": "supplier"}
        for alias in ALIASES:
            firm = {"firm_id": alias, "name": f"Firm {alias}", "role": roles[ALIASES[alias]]}
            answer = client.post("/v1/firms", json={**firm, "listed": True}, headers=staff)
            assert answer.status_code == 201, answer.text
        # The merged-away supplier's own key, made while it was a firm.
        service["keys"]["firm_s1x"] = storage.create_key(service["engine"], "firm", "S1x")
        merges = [("T1y", "T1x"), *((a, f) for a, f in ALIASES.items() if a != "T1y")]
        for absorbed, survivor in merges:
            answer = client.post(
                "/v1/resolution/merges",
                json={"survivor_id": survivor, "absorbed_id": absorbed, "reason": "test"},
                headers=staff,
            )
            assert answer.status_code == 201, answer.text
        yield service


def _requests(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, str]]]:
    """(route, url with firm ids, url with an alias in one place, query) of every GET request
    with a firm id in its path or a filter."""
    for route, operations in spec["paths"].items():
        operation = operations.get("get")
        if operation is None or route in AS_PLANNED:
            continue
        parameters = operation.get("parameters", [])
        in_path = [p["name"] for p in parameters if p["in"] == "path"]
        choices = [FIRMS.get(n) or OTHER_VALUES.get(n) for n in in_path]
        assert all(choices), f"{route}: the generator cannot fill {in_path}"
        filters = [p["name"] for p in parameters if p["in"] == "query" and p["name"] in FIRMS]
        for values in itertools.product(*choices):  # type: ignore[arg-type]
            url = route
            for name, value in zip(in_path, values, strict=True):
                url = url.replace("{" + name + "}", value)
            for i, name in enumerate(in_path):
                if name in FIRMS:
                    for alias in (a for a, f in ALIASES.items() if f == values[i]):
                        aliased = route
                        for j, (n, v) in enumerate(zip(in_path, values, strict=True)):
                            aliased = aliased.replace("{" + n + "}", alias if j == i else v)
                        yield route, url, aliased, {}
            for name in filters:
                for firm in FIRMS[name]:
                    for alias in (a for a, f in ALIASES.items() if f == firm):
                        yield route, f"{url}?{name}={firm}", f"{url}?{name}={alias}", {}


def _same(canonical: Any, aliased: Any, alias: str) -> str | None:
    """Why the two answers differ (None: they do not)."""
    if canonical.status_code != aliased.status_code:
        return f"{aliased.status_code} for the alias, {canonical.status_code} for the firm"
    body = aliased.content
    if aliased.status_code >= 300:  # it names the id as sent: name the firm instead
        body = _token(alias).sub(ALIASES[alias], aliased.text).encode()
    if body != canonical.content:
        return f"the bodies differ: {aliased.text[:200]!r} against {canonical.text[:200]!r}"
    return None


def _alias_in(url: str) -> str:
    return next(a for a in ALIASES if _token(a).search(url))


@pytest.mark.parametrize("name", KEY_NAMES)
def test_an_alias_answers_as_its_firm_on_every_route(merged: dict[str, Any], name: str) -> None:
    client, headers = merged["client"], auth(merged, name)
    spec = client.get("/openapi.json").json()
    problems, seen = [], 0
    for route, url, aliased, query in _requests(spec):
        seen += 1
        canonical = client.get(url, params=query, headers=headers)
        answer = client.get(aliased, params=query, headers=headers)
        assert answer.status_code < 500, f"{aliased}: {answer.text}"
        why = _same(canonical, answer, _alias_in(aliased))
        if why:
            problems.append(f"GET {aliased} ({route}): {why}")
    assert seen > 40, "the generator made too few requests"
    assert not problems, f"{len(problems)} routes, e.g.\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("name", ["firm_b1", "firm_s1"])
def test_an_alias_of_a_hidden_firm_answers_as_an_absent_id(
    merged: dict[str, Any], name: str
) -> None:
    # S4 is unlisted: to another firm's key, its alias must not tell that it exists, nor
    # name S4, any more than an id that never existed does.
    client, headers = merged["client"], auth(merged, name)
    assert client.get("/v1/firms/S4", headers=headers).status_code == 404
    spec = client.get("/openapi.json").json()
    problems, seen = [], 0
    for _route, _url, aliased, query in _requests(spec):
        if "S4x" not in aliased:
            continue
        seen += 1
        answer = client.get(aliased, params=query, headers=headers)
        absent = client.get(aliased.replace("S4x", ABSENT), params=query, headers=headers)
        text = answer.text.replace("S4x", ABSENT)
        if answer.status_code != absent.status_code or text != absent.text:
            problems.append(f"GET {aliased}: {answer.status_code} {answer.text[:150]!r}")
        if _token("S4").search(answer.text + answer.headers.get("location", "")):
            problems.append(f"GET {aliased}: names S4")
    assert seen > 5
    assert not problems, "\n".join(problems[:20])


def test_bodies_naming_an_alias_name_its_firm(merged: dict[str, Any]) -> None:
    client, staff = merged["client"], auth(merged, "staff")
    link = client.post(
        "/v1/links",
        json={"supplier_id": "S1x", "buyer_id": "B1x", "category_id": "pcb"},
        headers=staff,
    )
    assert link.status_code == 201, link.text
    assert (link.json()["supplier_id"], link.json()["buyer_id"]) == ("S1", "B1")
    outcome = client.post(
        "/v1/outcomes",
        json={"supplier_id": "S1x", "buyer_id": "T1y", "outcome": "met"},
        headers=staff,
    )
    assert outcome.status_code == 201, outcome.text
    assert (outcome.json()["supplier_id"], outcome.json()["buyer_id"]) == ("S1", "T1")
    lists = [
        client.post(
            "/v1/match-lists", json={"buyer_ids": buyers, "k": 3, "label": "x"}, headers=staff
        )
        for buyers in (["B1", "T1"], ["B1x", "T1x"])
    ]
    assert [a.status_code for a in lists] == [201, 201], lists[1].text
    rows = [[(r["buyer_id"], r["supplier_id"]) for r in a.json()["items"]] for a in lists]
    assert rows[0] and rows[1] == rows[0]
    event = client.post(
        "/v1/events",
        json={**EVENT, "participants": [{"firm_id": "B1x"}, {"firm_id": "S1x"}]},
        headers=staff,
    )
    assert event.status_code == 201, event.text
    assert {p["firm_id"] for p in event.json()["spec"]["participants"]} == {"B1", "S1"}


def test_a_merged_away_firms_key_is_not_the_survivors(merged: dict[str, Any]) -> None:
    # The key stays with the firm it was made for: asking by its old id, it is answered as any
    # other firm's key about the survivor.
    client = merged["client"]
    own, other = auth(merged, "firm_s1x"), auth(merged, "firm_b1")
    assert client.get("/v1/suppliers/S1x/buyers", headers=own).status_code == 403
    assert client.get("/v1/suppliers/S1/buyers", headers=own).status_code == 403
    public = client.get("/v1/firms/S1", headers=other)
    assert public.status_code == 200
    assert client.get("/v1/firms/S1x", headers=own).content == public.content


def test_an_agenda_is_asked_by_the_id_it_was_planned_with(merged: dict[str, Any]) -> None:
    client, staff = merged["client"], auth(merged, "staff")
    # The event was planned before the merges, with T1: its agenda is T1's, not T1x's.
    assert client.get("/v1/events/1/agendas/T1", headers=staff).status_code == 200
    assert client.get("/v1/events/1/agendas/T1x", headers=staff).status_code == 404


PAGES = [
    "/firms/{firm}",
    "/buyers/{buyer}/suppliers",
    "/buyers/{buyer}/chain",
    "/suppliers/{supplier}/buyers",
    "/pairs/{supplier}/{buyer}",
]


def _sign_in(client: TestClient, key: str) -> None:
    client.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text)
    assert csrf
    answer = client.post("/sign-in", data={"csrf": csrf.group(1), "api_key": key, "next": "/"})
    assert answer.status_code == 200, answer.text[:300]


def _paths(routes: Any) -> Iterator[str]:
    for route in routes:
        # FastAPI from 0.16x keeps an included router whole; earlier ones copy its routes in.
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _paths(inner.routes)
        elif isinstance(getattr(route, "path", None), str):
            yield route.path


def test_every_page_with_a_firm_id_is_covered(merged: dict[str, Any]) -> None:
    # A new page with a firm in its path must be added to PAGES (or AS_PLANNED).
    names = {"firm_id": "{firm}", "buyer_id": "{buyer}", "supplier_id": "{supplier}"}
    known = set(PAGES) | AS_PLANNED
    found = set()
    for path in _paths(merged["app"].router.routes):
        if path.startswith("/v1") or not any("{" + n + "}" in path for n in names):
            continue
        generic = path
        for n, placeholder in names.items():
            generic = generic.replace("{" + n + "}", placeholder)
        assert generic in known or path in known, f"{path}: not in PAGES"
        found.add(generic if generic in known else path)
    assert found == known - {p for p in AS_PLANNED if p.startswith("/v1")}


@pytest.mark.parametrize("name", KEY_NAMES)
def test_pages_answer_an_alias_as_its_firm(merged: dict[str, Any], name: str) -> None:
    with TestClient(merged["app"]) as client:
        _sign_in(client, merged["keys"][name])
        problems = []
        for page in PAGES:
            for (supplier, s_alias), (buyer, b_alias) in [
                (("S1", "S1x"), ("B1", "B1x")),
                (("T1", "T1y"), ("T1", "T1x")),
            ]:
                for firm, f_alias in ((supplier, s_alias), (buyer, b_alias)):
                    url = page.format(firm=firm, buyer=buyer, supplier=supplier)
                    aliased = page.format(firm=f_alias, buyer=b_alias, supplier=s_alias)
                    canonical = client.get(url)
                    answer = client.get(aliased)
                    if canonical.status_code != answer.status_code:
                        problems.append(f"{aliased}: {answer.status_code}, {url}: {canonical}")
                    elif answer.status_code == 200 and answer.text != canonical.text:
                        problems.append(f"{aliased}: another page than {url}")
        assert not problems, "\n".join(problems)
