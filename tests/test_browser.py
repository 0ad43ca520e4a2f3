"""The workbench in a real browser: Debian's Chromium driven by playwright, against a real
``ketnoi serve`` on a loopback port, on the tiny world (CI stays well inside its time).

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (``.ci/run``
installs it with apt). Where it is absent the tests skip, saying so.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

CHROMIUM = os.environ.get("KETNOI_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.slow,
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``ketnoi serve`` on the tiny world, with a key per role, on a free loopback port."""
    from ketnoi import graph
    from ketnoi.api import storage

    folder = tmp_path_factory.mktemp("browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETNOI_")}
    env.update(KETNOI_DATA_DIR=str(folder), KETNOI_EVALUATE="false")
    saved_secret = os.environ.pop("KETNOI_SECRET", None)
    try:
        engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
        storage.upgrade(engine)
        storage.load_into(engine, graph.load_dataset(TINY))
        keys = {
            "staff": storage.create_key(engine, "staff"),
            "analyst": storage.create_key(engine, "analyst"),
            "firm_b1": storage.create_key(engine, "firm", "B1"),
            "firm_s1": storage.create_key(engine, "firm", "S1"),
        }
        engine.dispose()
    finally:
        if saved_secret is not None:
            os.environ["KETNOI_SECRET"] = saved_secret
    port = _free_port()
    command = [sys.executable, "-c", "from ketnoi.api.cli import main; main()", "serve"]
    command += ["--port", str(port), "--data-dir", str(folder)]
    log = open(folder / "serve.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/v1/health", timeout=2) as answer:
                    if json.load(answer)["model_loaded"]:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ketnoi serve did not start:\n" + (folder / "serve.log").read_text())
            time.sleep(0.3)
        yield {"base": base, "keys": keys, "folder": folder}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _api(server: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        server["base"] + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"X-API-Key": server["keys"]["staff"], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    # bypass_csp: axe-core is injected into the page by the test, which the pages' own
    # Content-Security-Policy (scripts from this site only) would rightly refuse.
    context = browser.new_context(
        base_url=server["base"], locale="en-GB", accept_downloads=True, bypass_csp=True
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def sign_in(page: Any, key: str, lang: str = "en") -> None:
    page.goto("/")
    assert "/sign-in" in page.url
    page.fill("#api_key", key)
    page.click("form[action='/sign-in'] button[type=submit]")
    page.wait_for_url("**/")
    if page.get_attribute("html", "lang") != lang:
        page.click(f"form.lang button[value='{lang}']")
        page.wait_for_selector(f"html[lang='{lang}']")


def axe_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} e.g. {v['nodes'][0]['html'][:120]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# -- the flows -----------------------------------------------------------------------------------
def test_sign_in_and_out(page: Any, server: dict[str, Any]) -> None:
    page.goto("/sign-in")
    page.fill("#api_key", "kn_not-a-key")
    page.click("form[action='/sign-in'] button[type=submit]")
    assert page.locator("[role=alert]").is_visible()
    sign_in(page, server["keys"]["staff"])
    assert page.locator("h1").inner_text() == "The programme at a glance"
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["ketnoi_session"]["httpOnly"] and cookies["ketnoi_session"]["sameSite"] == "Lax"
    page.click("text=Sign out")
    page.wait_for_url("**/sign-in**")
    page.goto("/firms")
    assert "/sign-in" in page.url


def test_search_with_and_without_diacritics(page: Any, server: dict[str, Any]) -> None:
    sign_in(page, server["keys"]["staff"])
    page.goto("/firms")
    for typed in ("co khi", "Cơ khí"):
        page.fill("#q", "")
        page.type("#q", typed, delay=20)  # htmx asks for the results once typing stops
        page.wait_for_function("document.querySelector('#results .count').dataset.total === '1'")
        assert "Cơ khí Chính xác Đức Thành" in page.inner_text("#results")


def test_a_buyers_reasons_in_vietnamese_why_not_yet_and_an_outcome(
    page: Any, server: dict[str, Any]
) -> None:
    sign_in(page, server["keys"]["staff"], lang="vi")
    page.goto("/buyers/B1/suppliers")
    assert "Nhà cung cấp mới cho" in page.inner_text("h1")
    assert "cách 15 km" in page.inner_text(".recs")
    page.locator(".rec", has_text="Vít Sông Hồng").locator("text=Vì sao chưa kết nối?").click()
    page.wait_for_selector("#why-panel .explanation")
    assert "Thành phần của điểm số" in page.inner_text("#why-panel")
    page.locator(".rec", has_text="Vít Sông Hồng").locator("button[value=met]").click()
    page.wait_for_selector(".flash")
    assert "Đã ghi nhận: Đã gặp" in page.inner_text(".flash")
    outcomes = _api(server, "GET", "/v1/outcomes?buyer_id=B1&supplier_id=S3")["items"]
    assert any(o["outcome"] == "met" and o["recorded_by"] for o in outcomes)
    report = _api(server, "GET", "/v1/programme/conversion")
    assert report, "the outcome reaches the feedback report"


def test_build_save_and_download_a_match_list(page: Any, server: dict[str, Any]) -> None:
    sign_in(page, server["keys"]["staff"])
    page.goto("/match-lists")
    page.fill("#buyer_ids", "B1, B2")
    page.fill("#k", "2")
    page.click("button[value=preview]")
    page.wait_for_selector("table.preview")
    assert page.locator("table.preview tbody tr").count() == 4
    page.click("button[value=save]")
    page.wait_for_selector("a[href$='format=xlsx&lang=vi']")
    assert "/match-lists/" in page.url
    with page.expect_download() as info:
        page.click("a[href$='format=xlsx&lang=vi']")
    book = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    rows = list(book["match list"].iter_rows(values_only=True))
    assert len(rows) == 5 and "buyer_id" in rows[0]
    assert "lý do" in " ".join(map(str, rows[0])).lower()  # Vietnamese headers


def test_print_an_agenda(page: Any, server: dict[str, Any]) -> None:
    event = {"participants": [{"firm_id": f} for f in ("B1", "S1", "S3")], "slots": 2}
    made = _api(server, "POST", "/v1/events", {**event, "tables": 2, "max_meetings": 2})
    sign_in(page, server["keys"]["staff"])
    page.goto(f"/events/{made['id']}")
    page.click("a[href$='/agendas/B1']")
    page.wait_for_selector("article.agenda")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("button[data-print]").is_visible()
    assert page.locator("article.agenda table").is_visible()


def test_a_broken_workbook_shows_its_problems(page: Any, server: dict[str, Any]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "firms"
    sheet.append(["firm_id", "name", "role"])
    sheet.append(["X1", "", "nobody"])
    path = server["folder"] / "broken.xlsx"
    book.save(path)
    sign_in(page, server["keys"]["staff"])
    page.goto("/imports")
    page.set_input_files("#file", str(path))
    page.click("form[action='/imports'] button[type=submit]")
    page.wait_for_selector("table.problems")
    assert page.locator("table.problems tbody tr").count() >= 1


def test_a_firm_cannot_reach_staff_pages_or_another_firm(page: Any, server: dict[str, Any]) -> None:
    sign_in(page, server["keys"]["firm_b1"])
    for path in ("/audit", "/gaps", "/match-lists", "/imports", "/events"):
        answer = page.goto(path)
        assert answer.status == 403, path
    assert page.goto("/suppliers/S1/buyers").status == 403
    assert page.goto("/buyers/B2/suppliers").status == 403
    assert page.goto("/buyers/B1/suppliers").status == 200
    profile = page.goto("/firms/S1")
    assert profile.status == 200
    text = page.inner_text("main")
    assert "0100000042" not in text and "Employees" not in text  # S1's tax code and size


def test_a_form_without_its_csrf_token_is_refused(page: Any, server: dict[str, Any]) -> None:
    sign_in(page, server["keys"]["staff"])
    query = "/v1/outcomes?buyer_id=B1&supplier_id=S1&outcome=met"
    before = _api(server, "GET", query)["total"]
    status = page.evaluate(
        """async () => (await fetch('/outcomes', {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'supplier_id=S1&buyer_id=B1&outcome=met'})).status"""
    )
    assert status == 403
    assert _api(server, "GET", query)["total"] == before


MAIN_PAGES = [
    "/sign-in",
    "/",
    "/firms?q=co+khi",
    "/firms/S2",
    "/buyers/B1/suppliers?why=S4",
    "/suppliers/S1/buyers",
    "/match-lists",
    "/events",
    "/gaps",
    "/imports",
    "/audit",
]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_main_pages_have_no_serious_accessibility_violations(
    page: Any, server: dict[str, Any], lang: str
) -> None:
    sign_in(page, server["keys"]["staff"], lang=lang)
    problems = []
    for path in MAIN_PAGES:
        if path == "/sign-in":
            continue
        page.goto(path)
        problems += [f"{path}: {v}" for v in axe_violations(page)]
    page.click("form[action='/sign-out'] button")
    page.wait_for_url("**/sign-in**")
    problems += [f"/sign-in: {v}" for v in axe_violations(page)]
    assert not problems, "\n".join(problems)


def test_chromium_is_the_systems(browser: Any) -> None:
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
    assert browser.version
