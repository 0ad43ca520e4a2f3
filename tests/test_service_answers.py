"""The answer cache of the recommendation routes never serves a stale answer or another caller's.

Every question below is asked through HTTP (twice: the second comes from the cache) and held
against the uncached answer, the service function called directly on the served model and the
database as they are at that moment. That is done at start, then after each kind of write
(firm, demand, capability, certification, listing, confidentiality, link, outcome, model
swap), and for callers and parameters that differ in one thing only, so that a cache key
missing the role, the firm or any query parameter fails here.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from ketnoi.api import storage
from ketnoi.api.service import _answers, _live, _recommendations
from ketnoi.api.service._schemas_recommend import Chain, Explanation, Recommendations

Question = tuple[str, str, dict[str, Any]]

#: (caller, url, query parameters): every cached route, every kind of caller, each parameter.
QUESTIONS: list[Question] = [
    ("staff", "/v1/buyers/B1/suppliers", {"k": 5}),
    ("staff", "/v1/buyers/B1/suppliers", {"k": 5, "lang": "vi"}),
    ("staff", "/v1/buyers/B1/suppliers", {"k": 2}),
    ("staff", "/v1/buyers/B1/suppliers", {"category": "metal"}),
    ("staff", "/v1/buyers/B1/suppliers", {"ownership": "domestic"}),
    ("staff", "/v1/buyers/B1/suppliers", {"park": "thang-long"}),
    ("staff", "/v1/buyers/B1/suppliers", {"certification": "ISO 9001"}),
    ("staff", "/v1/buyers/B1/suppliers", {"sector": "electronics"}),
    ("staff", "/v1/buyers/B1/suppliers", {"tier": 2}),
    ("analyst", "/v1/buyers/B1/suppliers", {"k": 5}),
    ("firm_b1", "/v1/buyers/B1/suppliers", {"k": 5}),
    ("firm_b1", "/v1/buyers/B1/suppliers", {"tier": 2}),
    ("staff", "/v1/buyers/B2/suppliers", {"k": 5}),
    ("staff", "/v1/suppliers/S1/buyers", {"k": 5}),
    ("firm_s1", "/v1/suppliers/S1/buyers", {"k": 5}),
    ("firm_s1", "/v1/suppliers/S1/buyers", {"k": 5, "lang": "vi"}),
    ("staff", "/v1/buyers/B1/chain", {}),
    ("staff", "/v1/buyers/B1/chain", {"depth": 1, "k": 2}),
    ("firm_b1", "/v1/buyers/B1/chain", {}),
    ("staff", "/v1/suppliers/S1/buyers/B1/explanation", {}),
    ("firm_s1", "/v1/suppliers/S1/buyers/B1/explanation", {}),
    ("firm_b1", "/v1/suppliers/S1/buyers/B1/explanation", {}),
    ("firm_b1", "/v1/suppliers/S1/buyers/B1/explanation", {"lang": "vi"}),
]


def _auth(service: dict[str, Any], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys'][who]}"}


def uncached(service: dict[str, Any], who: str, url: str, params: dict[str, Any]) -> Any:
    """The answer of the service function itself, serialised as the route's response model."""
    parts = url.strip("/").split("/")  # v1, buyers|suppliers, id, what[, id, explanation]
    if parts[1] == "buyers" and parts[3] == "suppliers":
        function, model, args = _recommendations.suppliers_for_buyer, Recommendations, parts[2:3]
    elif parts[1] == "buyers":
        function, model, args = _recommendations.buyer_chain, Chain, parts[2:3]
    elif len(parts) == 4:
        function, model, args = _recommendations.buyers_for_supplier, Recommendations, parts[2:3]
    else:
        function, model, args = _recommendations.explain_pair, Explanation, [parts[2], parts[4]]
    engine = service["engine"]
    served = service["app"].state.holder.current
    key = storage.verify_key(engine, service["keys"][who])
    adapter = TypeAdapter(model)
    data = function(served, engine, key, *args, **params)
    return json.loads(adapter.dump_json(adapter.validate_python(data)))


def served(service: dict[str, Any], who: str, url: str, params: dict[str, Any]) -> Any:
    response = service["client"].get(url, headers=_auth(service, who), params=params)
    assert response.status_code == 200, (who, url, params, response.text)
    assert response.headers["content-type"] == "application/json"
    return response.json()


def check_all(service: dict[str, Any]) -> dict[int, Any]:
    """Every question asked twice (the second from the cache): both equal the uncached answer."""
    answers = {}
    for i, (who, url, params) in enumerate(QUESTIONS):
        expected = uncached(service, who, url, params)
        for _ in range(2):
            assert served(service, who, url, params) == expected, (who, url, params)
        answers[i] = expected
    return answers


@pytest.fixture
def service(tmp_path: Path, start_service: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    # Bind the scorer to the database's rows after every write (not at most every 5 s), so
    # that every write shows in the uncached answer at once and the cache has to follow it.
    mp = pytest.MonkeyPatch()
    mp.setattr(_live, "LIVE_MIN_SECONDS", 0.0)
    # And keep answers however slow the machine: only writes may retire them here.
    mp.setattr(_answers, "ANSWER_CACHE_SECONDS", 3600.0)
    try:
        with start_service(tmp_path, evaluate=False) as running:
            yield running
    finally:
        mp.undo()


def test_cached_answers_are_reused_and_equal_the_uncached_ones(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    check_all(service)
    cache = _answers.AnswerCache.of(service["app"].state.holder.current)
    assert len(cache) == len(QUESTIONS)
    calls = []
    real = _recommendations.suppliers_for_buyer

    @functools.wraps(real)  # the same name: the cache keys on the function's name
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(_recommendations, "suppliers_for_buyer", counted)
    served(service, "staff", "/v1/buyers/B1/suppliers", {"k": 5})
    assert calls == []  # from the cache
    served(service, "staff", "/v1/buyers/B1/suppliers", {"k": 4})
    assert len(calls) == 1  # a new question


def test_identical_misses_at_once_make_one_answer(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = _recommendations.explain_pair

    @functools.wraps(real)
    def slow(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        time.sleep(0.3)  # long enough for every request below to miss while it is made
        return real(*args, **kwargs)

    monkeypatch.setattr(_recommendations, "explain_pair", slow)
    url = "/v1/suppliers/S1/buyers/B1/explanation"

    async def burst() -> list[Any]:
        transport = httpx.ASGITransport(app=service["app"])
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            asked = [client.get(url, headers=_auth(service, "firm_s1")) for _ in range(8)]
            return [r.json() for r in await asyncio.gather(*asked)]

    answers = asyncio.run(burst())
    assert len(calls) == 1
    expected = uncached(service, "firm_s1", url, {})
    assert all(a == expected for a in answers)


def _post(service: dict[str, Any], url: str, body: dict[str, Any]) -> None:
    response = service["client"].post(url, headers=_auth(service, "staff"), json=body)
    assert response.status_code in {200, 201}, response.text


def _patch(service: dict[str, Any], url: str, body: dict[str, Any]) -> None:
    response = service["client"].patch(url, headers=_auth(service, "staff"), json=body)
    assert response.status_code == 200, response.text


#: Each kind of write, as staff make it through the API.
WRITES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    (
        "a new supplier firm and its capability",
        lambda s: (
            _post(
                s,
                "/v1/firms",
                {"firm_id": "S9", "name": "Công ty TNHH Lắp ráp Mới", "role": "supplier"},
            ),
            _post(s, "/v1/capabilities", {"firm_id": "S9", "category_id": "pcba"}),
        ),
    ),
    (
        "a new demand",
        lambda s: _post(s, "/v1/demands", {"firm_id": "B2", "category_id": "pcb", "volume": 500}),
    ),
    ("a certification", lambda s: _patch(s, "/v1/firms/S5", {"certifications": ["IATF 16949"]})),
    ("a firm unlisted", lambda s: _patch(s, "/v1/firms/S3", {"listed": False})),
    (
        "a demand made confidential",
        lambda s: _patch(s, "/v1/demands/B1/pcba", {"confidential": True}),
    ),
    (
        "a link",
        lambda s: _post(
            s, "/v1/links", {"supplier_id": "S1", "buyer_id": "B1", "category_id": "pcb"}
        ),
    ),
    (
        "an outcome",
        lambda s: _post(
            s,
            "/v1/outcomes",
            {"supplier_id": "S5", "buyer_id": "B2", "outcome": "declined", "reason": "giá cao"},
        ),
    ),
]


def test_every_kind_of_write_is_seen_at_once(
    service: dict[str, Any], follow_job: Callable[..., Any]
) -> None:
    before = check_all(service)
    changed = {}
    for name, write in WRITES:
        write(service)
        after = check_all(service)
        changed[name] = sum(after[i] != before[i] for i in after)
        before = after
    # The writes change answers (else the check above could not catch a stale one).
    assert all(changed.values()), changed
    # A model swap: every answer is the new model's.
    staff = _auth(service, "staff")
    job = follow_job(
        service["client"], service["client"].post("/v1/model/retrain", headers=staff), staff
    )
    assert job["state"] == "finished", job
    after = check_all(service)
    version = service["app"].state.holder.current.version
    assert all(answer["model_version"] == version for answer in after.values())


def test_a_firm_created_after_the_fit_is_scored_live(service: dict[str, Any]) -> None:
    check_all(service)
    _post(service, "/v1/firms", {"firm_id": "B9", "name": "Công ty TNHH Mới", "role": "buyer"})
    _post(service, "/v1/demands", {"firm_id": "B9", "category_id": "pcb", "volume": 100})
    rows = served(service, "staff", "/v1/buyers/B9/suppliers", {"k": 20})["items"]
    assert "S1" in [row["supplier_id"] for row in rows]
    assert rows == uncached(service, "staff", "/v1/buyers/B9/suppliers", {"k": 20})["items"]


#: The same question by another role, another firm, or with one parameter changed: each
#: differs from the first, so that serving the first one's answer for it would show.
VARIANTS: list[tuple[str, tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = [
    ("/v1/suppliers/S1/buyers/B1/explanation", ("staff", {}), ("firm_b1", {})),
    ("/v1/suppliers/S1/buyers/B1/explanation", ("firm_s1", {}), ("firm_b1", {})),
    ("/v1/suppliers/S1/buyers/B1/explanation", ("staff", {}), ("staff", {"lang": "vi"})),
    ("/v1/suppliers/S1/buyers", ("staff", {}), ("firm_s1", {})),
    ("/v1/buyers/B1/chain", ("staff", {}), ("staff", {"depth": 1})),
    ("/v1/buyers/B1/chain", ("staff", {}), ("staff", {"k": 1})),
    ("/v1/suppliers/S1/buyers", ("staff", {}), ("staff", {"lang": "vi"})),
    ("/v1/suppliers/S5/buyers", ("staff", {}), ("staff", {"k": 1})),
    *[
        ("/v1/buyers/B1/suppliers", ("staff", {}), ("staff", {name: value}))
        for name, value in [
            ("k", 1),
            ("tier", 2),
            ("category", "metal"),
            ("park", "quang-minh"),
            ("certification", "IATF 16949"),
            ("ownership", "fdi"),
            ("sector", "precision engineering"),
            ("lang", "vi"),
        ]
    ],
]


def test_the_key_holds_the_role_the_firm_and_every_parameter(service: dict[str, Any]) -> None:
    for url, first, second in VARIANTS:
        a = served(service, first[0], url, first[1])
        b = served(service, second[0], url, second[1])
        assert a != b, (url, first, second)
        assert a == uncached(service, first[0], url, first[1]), (url, first)
        assert b == uncached(service, second[0], url, second[1]), (url, second)
        assert served(service, first[0], url, first[1]) == a


def test_an_answer_expires_and_an_old_generation_is_not_served() -> None:
    cache = _answers.AnswerCache(size=2, seconds=60.0)
    generation = 7  # the database's write generation when the answers were made
    cache.put("a", generation, b"1")
    assert cache.get("a", generation) == b"1"
    cache.put("b", generation - 1, b"2")  # made before the last write
    assert cache.get("b", generation) is None
    cache.put("c", generation, b"3")
    cache.put("d", generation, b"4")  # the least recently used ("a") goes
    assert cache.get("a", generation) is None and len(cache) == 2
    quick = _answers.AnswerCache(seconds=0.0)  # another process's writes: time-bound
    quick.put("a", generation, b"1")
    assert quick.get("a", generation) is None


def test_errors_are_not_cached_and_other_firms_stay_refused(service: dict[str, Any]) -> None:
    url = "/v1/buyers/B1/suppliers"
    assert served(service, "firm_b1", url, {})["items"]
    client = service["client"]
    assert client.get(url, headers=_auth(service, "firm_s1")).status_code == 403
    assert (
        client.get("/v1/buyers/NOPE/suppliers", headers=_auth(service, "staff")).status_code == 404
    )
    assert client.get(url).status_code == 401
