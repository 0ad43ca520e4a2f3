"""A bound matcher's answers kept with it (api/service/_memo.py) are the answers made afresh.

Every question below is asked of the service functions the routes and pages call, once with
nothing kept (``MEMO_SIZE`` 0) and twice with the memo (the second from it): the three must be
equal, at start and after each kind of write, so that a kept answer that outlived the data it
was made from fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from ketnoi import matcher
from ketnoi.api import storage
from ketnoi.api.service import _live, _memo, _recommendations
from ketnoi.api.service._schemas_recommend import Chain, Explanation, Recommendations

#: (caller, service function, firms, keyword arguments): every question the memo keeps.
QUESTIONS: list[tuple[str, str, tuple[str, ...], dict[str, Any]]] = [
    ("staff", "buyers_for_supplier", ("S1",), {"k": 5}),
    ("staff", "buyers_for_supplier", ("S4",), {"k": 5, "lang": "vi"}),
    ("staff", "buyers_for_supplier", ("S5",), {"k": 1}),
    ("firm_s1", "buyers_for_supplier", ("S1",), {"k": 5}),
    ("staff", "suppliers_for_buyer", ("B1",), {"k": 5}),
    ("staff", "suppliers_for_buyer", ("B2",), {"k": 5, "category": "metal"}),
    ("firm_b1", "suppliers_for_buyer", ("B1",), {"k": 5}),
    ("firm_b1", "suppliers_for_buyer", ("B1",), {"k": 5, "lang": "vi"}),
    ("firm_b1", "suppliers_for_buyer", ("B1",), {"k": 3, "park": "thang-long"}),
    ("staff", "buyer_chain", ("B1",), {"depth": 2, "k": 3}),
    ("staff", "buyer_chain", ("B1",), {"depth": 2, "k": 3, "lang": "vi"}),
    ("firm_b1", "buyer_chain", ("B1",), {}),
    ("staff", "explain_pair", ("S1", "B1"), {}),
    ("staff", "explain_pair", ("S4", "B2"), {"lang": "vi"}),
    ("firm_s1", "explain_pair", ("S1", "B1"), {}),
    ("firm_b1", "explain_pair", ("S1", "B1"), {"lang": "vi"}),
]

MODELS = {
    "buyers_for_supplier": Recommendations,
    "suppliers_for_buyer": Recommendations,
    "buyer_chain": Chain,
    "explain_pair": Explanation,
}


def ask(service: dict[str, Any], question: tuple[str, str, tuple[str, ...], dict[str, Any]]) -> Any:
    """The service function's answer, as its route serialises it."""
    who, name, firms, params = question
    engine = service["engine"]
    served = service["app"].state.holder.current
    key = storage.verify_key(engine, service["keys"][who])
    adapter = TypeAdapter(MODELS[name])
    data = getattr(_recommendations, name)(served, engine, key, *firms, **params)
    return json.loads(adapter.dump_json(adapter.validate_python(data)))


def check_all(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each question afresh, then twice through the memo: all three equal."""
    answers = []
    for question in QUESTIONS:
        monkeypatch.setattr(_memo, "MEMO_SIZE", 0)
        fresh = ask(service, question)
        monkeypatch.setattr(_memo, "MEMO_SIZE", 1024)
        assert ask(service, question) == fresh, question
        assert ask(service, question) == fresh, question
        answers.append(fresh)
    return answers


@pytest.fixture
def service(tmp_path: Path, start_service: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    # Bind the scorer to the database's rows after every write (not at most every 5 s), so
    # that every write shows in the answer made afresh at once and the memo has to follow it.
    mp = pytest.MonkeyPatch()
    mp.setattr(_live, "LIVE_MIN_SECONDS", 0.0)
    try:
        with start_service(tmp_path, evaluate=False) as running:
            yield running
    finally:
        mp.undo()
        _memo.clear_memo()


def test_kept_answers_are_reused_and_equal_fresh_ones(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    check_all(service, monkeypatch)
    calls: list[str] = []
    for name in ("suggest_buyers", "recommend", "chain", "explain"):
        real = getattr(matcher.Matcher, name)

        def counted(self: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            calls.append(_real.__name__)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(matcher.Matcher, name, counted)
    for question in QUESTIONS:
        ask(service, question)
    assert calls == []  # every answer from the memo
    ask(service, ("staff", "buyers_for_supplier", ("S1",), {"k": 4}))
    assert calls == ["suggest_buyers"]  # a new question is asked of the matcher


def _post(service: dict[str, Any], url: str, body: dict[str, Any]) -> None:
    staff = {"Authorization": f"Bearer {service['keys']['staff']}"}
    response = service["client"].post(url, headers=staff, json=body)
    assert response.status_code in {200, 201}, response.text


def _patch(service: dict[str, Any], url: str, body: dict[str, Any]) -> None:
    staff = {"Authorization": f"Bearer {service['keys']['staff']}"}
    response = service["client"].patch(url, headers=staff, json=body)
    assert response.status_code == 200, response.text


#: Each kind of write, as staff make it through the API.
WRITES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    (
        "a new demand",
        lambda s: _post(s, "/v1/demands", {"firm_id": "B2", "category_id": "pcb", "volume": 500}),
    ),
    ("a certification", lambda s: _patch(s, "/v1/firms/S5", {"certifications": ["IATF 16949"]})),
    (
        "a capability",
        lambda s: _post(s, "/v1/capabilities", {"firm_id": "S4", "category_id": "pcba"}),
    ),
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
]


def test_a_write_is_seen_through_the_memo(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = check_all(service, monkeypatch)
    changed = {}
    for name, write in WRITES:
        write(service)
        after = check_all(service, monkeypatch)
        changed[name] = sum(a != b for a, b in zip(after, before, strict=True))
        before = after
    # Each write changes answers (else the check above could not catch a stale one).
    assert all(changed.values()), changed


class _Bound:
    """A stand-in for a bound matcher: what the memo looks at."""

    def __init__(self) -> None:
        self.index_, self.snapshot_, self.dataset_ = object(), object(), object()


def test_a_matcher_bound_again_in_place_starts_afresh() -> None:
    model: Any = _Bound()
    assert _memo.remembered(model, "q", lambda: 1) == 1
    assert _memo.remembered(model, "q", lambda: 2) == 1  # kept
    model.index_ = object()  # bound to other data
    assert _memo.remembered(model, "q", lambda: 3) == 3
    other: Any = _Bound()
    assert _memo.remembered(other, "q", lambda: 4) == 4  # another matcher, its own answers
    kept = _memo.remembered(model, "e", lambda: {"reasons": ["a"]})
    kept["reasons"].append("b")  # a caller changing its copy changes nothing kept
    assert _memo.remembered(model, "e", lambda: {}) == {"reasons": ["a"]}
