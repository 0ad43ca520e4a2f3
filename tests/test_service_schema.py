"""Schemathesis against the service's own OpenAPI schema: bad input of every kind is a 4xx.

Every operation in ``/openapi.json`` (routes added later included, with no change here) is
called in process with a staff key, on cases schemathesis makes from the schema: the schema's
examples, its boundary values (``k`` = 0, 101, 10^11, over-long ids, wrong types: the
"coverage" phase) and a bounded number of random valid and invalid requests. The only check
is "not a server error": every answer must be below 500. An exception inside the app fails
the test with its traceback and a ``curl`` line that repeats the request.

A second pass fixes the path ids to rows the tiny world holds (B1, S1, pcb, ...), so that the
read routes get past their 404 and their query parameters are fuzzed for real.

``KETNOI_SCHEMA_EXAMPLES`` changes the number of random cases per operation (default 25).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from ketnoi import graph  # noqa: E402
from ketnoi.api import storage  # noqa: E402
from ketnoi.api.service import ServiceSettings, create_app  # noqa: E402

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
EXAMPLES = int(os.environ.get("KETNOI_SCHEMA_EXAMPLES", "25"))

#: Ids of rows in the tiny world, by path parameter name (for the second pass).
KNOWN_IDS = {
    "buyer_id": "B1",
    "supplier_id": "S1",
    "firm_id": "B1",
    "category_id": "pcba",
    "park_id": "thang-long",
}

BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _make_world(folder: Path) -> tuple[Any, str]:
    engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
    storage.upgrade(engine)
    storage.load_into(engine, graph.load_dataset(TINY))
    return engine, storage.create_key(engine, "staff", label="schemathesis")


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """Two services on two copies of the tiny world: one per pass, so that the first pass's
    deletes and updates never take the second pass's known rows away."""
    mp = pytest.MonkeyPatch()
    mp.delenv("KETNOI_SECRET", raising=False)
    out = {}
    for name in ("all", "reads"):
        folder = tmp_path_factory.mktemp(f"schema-{name}")
        engine, key = _make_world(folder)
        app = create_app(ServiceSettings(data_dir=folder), engine=engine)
        out[name] = {"app": app, "engine": engine, "headers": {"Authorization": f"Bearer {key}"}}
    yield out
    for world in out.values():
        world["engine"].dispose()
    mp.undo()


@pytest.fixture(scope="module")
def world(worlds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return worlds["all"]


@pytest.fixture(scope="module")
def read_world(worlds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return worlds["reads"]


@pytest.fixture(scope="module")
def api_schema(world: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", world["app"])


@pytest.fixture(scope="module")
def read_schema(read_world: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", read_world["app"])


schema = schemathesis.pytest.from_fixture("api_schema")
# Only GET operations: the second pass must not delete or rewrite the rows it reads. (The
# filter goes on the lazy schema: a filter on the fixture's schema is replaced by this one.)
reads = schemathesis.pytest.from_fixture("read_schema").include(method="GET")


@schema.parametrize()
@BOUNDED
def test_no_server_errors(case: Any, world: dict[str, Any]) -> None:
    case.call_and_validate(headers=world["headers"], checks=[not_a_server_error])


@reads.parametrize()
@BOUNDED
def test_no_server_errors_on_known_rows(case: Any, read_world: dict[str, Any]) -> None:
    for name in case.path_parameters or {}:
        if name in KNOWN_IDS:
            case.path_parameters[name] = KNOWN_IDS[name]
    case.call_and_validate(headers=read_world["headers"], checks=[not_a_server_error])


def test_fuzzed_writes_leave_the_database_a_valid_dataset(world: dict[str, Any]) -> None:
    """After the first pass's writes (runs after it, on its world): every retrain still works,
    i.e. the database's live rows are still a valid dataset."""
    storage.dataset_from_db(world["engine"])


#: Every create route with a required name, and a body for it whose name is only separators.
NAMED = [
    ("/v1/firms", {"firm_id": "sep-firm", "name": "\x1f", "role": "supplier"}),
    ("/v1/categories", {"category_id": "sep-cat", "name": "\x1f"}),
    ("/v1/parks", {"park_id": "sep-park", "name": "\x1c\x1d"}),
]


@pytest.mark.parametrize(("url", "body"), NAMED, ids=[u for u, _ in NAMED])
def test_a_name_of_separators_only_is_refused(
    url: str, body: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.delenv("KETNOI_SECRET", raising=False)
    engine, key = _make_world(tmp_path)
    app = create_app(ServiceSettings(data_dir=tmp_path, precompute=False), engine=engine)
    if url not in app.openapi()["paths"]:
        pytest.skip(f"no POST {url}")
    with TestClient(app) as client:
        response = client.post(url, json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422, response.text
    try:
        storage.dataset_from_db(engine)  # what every retrain and every start-up does first
    except graph.DatasetError as exc:
        pytest.fail(f"POST {url} {body!r} -> {response.status_code}, and then: {exc}")
    finally:
        engine.dispose()


def test_the_schema_bounds_every_integer_parameter(read_world: dict[str, Any]) -> None:
    """Every integer query or path parameter has a maximum, so no request asks unbounded work."""
    document = read_world["app"].openapi()
    unbounded = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                spec = parameter.get("schema", {})
                kinds = [spec, *spec.get("anyOf", [])]
                if any(s.get("type") == "integer" and "maximum" not in s for s in kinds):
                    unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert not unbounded, f"integer parameters without a maximum: {unbounded}"


def test_k_of_10_to_the_11_is_a_4xx_on_every_route_that_takes_k(
    read_world: dict[str, Any],
) -> None:
    """k, page, page_size, depth, tier = 10^11 on every GET route that has them: a 4xx with a
    message, answered at once (not a worker busy for ever)."""
    from fastapi.testclient import TestClient

    with TestClient(read_world["app"]) as client:
        paths = client.get("/openapi.json").json()["paths"]
        checked = 0
        for path, item in paths.items():
            for parameter in item.get("get", {}).get("parameters", []):
                if parameter["name"] not in {"k", "page_size", "depth", "page", "tier"}:
                    continue
                url = re.sub(r"\{(\w+)\}", lambda m: KNOWN_IDS.get(m[1], "B1"), path)
                started = time.perf_counter()
                response = client.get(
                    url, params={parameter["name"]: 10**11}, headers=read_world["headers"]
                )
                assert time.perf_counter() - started < 5, (url, parameter["name"])
                assert 400 <= response.status_code < 500, (url, parameter["name"], response.text)
                assert response.json()["detail"], response.text
                checked += 1
    assert checked >= 5
