"""A firm's session learns through the pages no more than its key learns through the API.

The rule and the worlds are ``tests/test_disclosure.py``'s (loaded from that file): the same
random world served twice, with and without other firms' confidential demands. Every page
route (GET) is walked with a signed-in session of each of its firm keys, each path parameter
filled with the key's own firm and the other firms that test asks about. Every answer of the
first world must

- name no other firm's confidential (buyer, category) pair in one table row or list item, and
  no other firm's private value, nor an exact distance;
- have the status code, and the counts (``data-total``), that the second world has.

A new page route is covered without a change here; one whose path parameter cannot be filled
fails the test.
"""

from __future__ import annotations

import html
import importlib.util
import itertools
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ketnoi.api.pages import ROUTERS
from ketnoi.api.pages._web import PageRoute

_spec = importlib.util.spec_from_file_location(
    "disclosure_rule", Path(__file__).with_name("test_disclosure.py")
)
assert _spec is not None and _spec.loader is not None
rule = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = rule  # its dataclasses look their module up
_spec.loader.exec_module(rule)

#: Page path parameters that are not the API's: the gap reports.
PAGE_VALUES = {"report": ["localisation", "near-misses"]}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOKENS = re.compile(r'(value="|"X-CSRF-Token": ")[A-Za-z0-9_\-]{20,}"')
RECORD = re.compile(r"<(tr|li)\b.*?</\1>", re.S)
#: Words about the pair (see below) and where a form goes on to (the page's own address).
REASONS = re.compile(r'<ul class="reasons">.*?</ul>|name="next" value="[^"]*"', re.S)
TOTAL = re.compile(r'data-total="(\d+)"')


@pytest.fixture(scope="module")
def worlds(
    tmp_path_factory: pytest.TempPathFactory, start_service: Any
) -> Iterator[tuple[Any, dict[str, Any], dict[str, Any]]]:
    root = tmp_path_factory.mktemp("pages-disclosure")
    world = rule._make_world(root / "with" / "data", with_confidential=True)
    rule._make_world(root / "without" / "data", with_confidential=False)
    options = {"keys": rule.KEYS, "evaluate": False, "precompute": False}
    with (
        start_service(root / "with", dataset=root / "with" / "data", **options) as with_,
        start_service(root / "without", dataset=root / "without" / "data", **options) as without,
    ):
        for service in (with_, without):
            staff = {"X-API-Key": service["keys"]["staff"]}
            assert service["client"].post("/v1/events", json=rule.EVENT, headers=staff).is_success
        yield world, with_, without


def _session(service: dict[str, Any], own: str) -> TestClient:
    browser = TestClient(service["app"])
    token = CSRF.search(browser.get("/sign-in").text)
    assert token is not None
    signed = browser.post(
        "/sign-in", data={"csrf": token.group(1), "api_key": service["keys"][own]}
    )
    assert signed.status_code == 200
    return browser


def _urls(own: str, world: Any) -> Iterator[str]:
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, PageRoute) or "GET" not in (route.methods or set()):
                continue
            names = re.findall(r"\{(\w+)\}", route.path)
            try:
                choices = [PAGE_VALUES.get(n) or rule._path_values(n, own, world) for n in names]
            except LookupError as exc:
                pytest.fail(f"{route.path}: cannot fill the path parameter {exc.args[0]}")
            for values in itertools.product(*choices):
                url = route.path
                for name, value in zip(names, values, strict=True):
                    url = url.replace("{" + name + "}", value)
                yield url
                if route.path == "/buyers/{buyer_id}/suppliers":
                    for other in rule.TARGETS:
                        yield f"{url}?why={other}"
                if route.path == "/firms":
                    yield "/firms?q=firm"


def _leaks(text: str, own: str, world: Any) -> Iterator[str]:
    text = TOKENS.sub("", text)
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    others = [f for f in world.firms if f != own]
    # A value the firm holds itself (its own founding year, say) says nothing of another's.
    values = frozenset().union(*(world.private[f] for f in others)) - world.private[own]
    found = rule._private_pattern(values)
    hit = found.search(plain)
    if hit:
        yield f"a private value of another firm: {hit.group(1)!r}"
    if rule.EXACT_DISTANCE.search(plain):
        yield "an exact distance"
    secrets = {(b, c) for b, c in world.confidential if b != own}
    # A recommendation's reasons are words about the pair, as in the API's answers, where they
    # are a list beside the record, not fields of it (they are checked for values above).
    for record in RECORD.finditer(REASONS.sub("", text)):
        words = set(re.findall(r"[A-Za-z0-9_]+", html.unescape(record.group(0))))
        pairs = {(b, c) for b, c in secrets if b in words and c in words}
        if pairs:
            yield f"a confidential demand {sorted(pairs)[0]} in {record.group(0)[:200]!r}"


@pytest.mark.parametrize("own", rule.KEY_FIRMS)
def test_firm_sessions_learn_nothing_confidential_from_pages(
    worlds: tuple[Any, dict[str, Any], dict[str, Any]], own: str
) -> None:
    world, with_, without = worlds
    browsers = [_session(with_, own), _session(without, own)]
    problems: list[str] = []
    seen = 0
    for url in _urls(own, world):
        seen += 1
        answers = [b.get(url, follow_redirects=False) for b in browsers]
        codes = [a.status_code for a in answers]
        assert codes[0] < 500, f"{url}: {answers[0].text[:300]}"
        if codes[0] != codes[1]:
            problems.append(f"{url}: {codes[0]} with the confidential demands, {codes[1]} without")
        totals = [TOTAL.findall(a.text) for a in answers]
        if totals[0] != totals[1]:
            problems.append(f"{url}: counts {totals[0]} with the confidential demands, {totals[1]}")
        if "text/html" in answers[0].headers.get("content-type", ""):
            problems += [f"{url}: {leak}" for leak in _leaks(answers[0].text, own, world)]
    assert seen > 40, "the walk made too few requests"
    assert not problems, f"{len(problems)} disclosures, e.g.\n" + "\n".join(problems[:25])


def test_firm_sessions_are_refused_staff_pages(
    worlds: tuple[Any, dict[str, Any], dict[str, Any]],
) -> None:
    _, service, _ = worlds
    browser = _session(service, "S01")
    for url in ("/audit", "/gaps", "/match-lists", "/events", "/imports", "/events/1"):
        assert browser.get(url).status_code == 403, url
    for url in ("/introductions", "/introductions?p=2"):
        assert browser.get(url).status_code == 403, url
    # Another firm's portal pages answer as the API does: 403, never its data.
    assert browser.get("/buyers/B03/suppliers").status_code == 403
    assert browser.get("/suppliers/S02/buyers").status_code == 403


INTRO_FORM = re.compile(r'<form method="post" action="/introductions".*?</form>', re.S)
FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def test_asking_for_an_introduction_tells_a_firm_nothing_more(
    worlds: tuple[Any, dict[str, Any], dict[str, Any]],
) -> None:
    """Each firm presses every "ask for an introduction" button its pages show (the masked
    rows of other firms' confidential demands): the pages it lands on, and its pages after,
    name none of those buyers. (Last in the module: it records requests in the first world.)"""
    world, with_, _ = worlds
    problems: list[str] = []
    asked = 0
    for own in rule.KEY_FIRMS:
        browser = _session(with_, own)
        for url in _urls(own, world):
            page = browser.get(url, follow_redirects=False)
            for form in INTRO_FORM.findall(page.text):
                fields = dict(FIELD.findall(form))
                done = browser.post("/introductions", data={**fields, "message": "xin gặp"})
                assert done.status_code == 200, f"{own} {url}: {done.text[:300]}"
                asked += 1
                after = browser.get(url).text
                for text in (done.text, after):
                    problems += [f"{own} {url}: {leak}" for leak in _leaks(text, own, world)]
                assert INTRO_FORM.search(after) is None or len(INTRO_FORM.findall(after)) < len(
                    INTRO_FORM.findall(page.text)
                ), "the row asked about still offers its button"
    assert asked, "no masked demand offered an introduction"
    assert not problems, f"{len(problems)} disclosures, e.g.\n" + "\n".join(problems[:25])
