"""The workbench in a real browser: Debian's Chromium driven by playwright, against a real
``ketnoi serve`` on a loopback port, on the tiny world (CI stays well inside its time).

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (``.ci/run``
installs it with apt). Where it is absent the tests skip, saying so.
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

# The screenshot script's server, page list and sign-in: a page it shows that breaks fails here.
_spec = importlib.util.spec_from_file_location(
    "ketnoi_screenshots", Path(__file__).resolve().parents[1] / "docs" / "screenshots.py"
)
assert _spec is not None and _spec.loader is not None
shots = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = shots
_spec.loader.exec_module(shots)

CHROMIUM = shots.CHROMIUM
AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``ketnoi serve`` on the tiny world, with a key per role, on a free loopback port."""
    folder = tmp_path_factory.mktemp("browser")
    with shots.serve(folder, TINY, timeout=120, firms=("B1", "S1")) as running:
        yield running


def _api(server: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    return shots.api(server, method, path, body)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = shots.launch(playwright)
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


sign_in = shots.sign_in


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


def test_lock_a_meeting_from_the_grid_and_plan_again(page: Any, server: dict[str, Any]) -> None:
    event = {"participants": [{"firm_id": f} for f in ("B1", "B2", "S1", "S3")], "slots": 2}
    made = _api(server, "POST", "/v1/events", {**event, "tables": 2, "max_meetings": 2})
    first = made["meetings"][0]
    pair = f"{first['buyer_id']}/{first['supplier_id']}"
    sign_in(page, server["keys"]["staff"], lang="vi")
    page.goto(f"/events/{made['id']}")
    row = page.locator(f"table.meetings tr[data-pair='{pair}']")
    row.locator("button[value=lock]").click()
    page.wait_for_selector(".flash")
    assert "Đã xếp lịch lại" in page.inner_text(".flash")
    row = page.locator(f"table.meetings tr[data-pair='{pair}']")
    assert "locked" in (row.get_attribute("class") or "")
    assert row.locator("button[value=unlock]").is_visible()
    page.click("button.replan")
    page.wait_for_selector(".flash")
    saved = _api(server, "GET", f"/v1/events/{made['id']}")
    placed = {(m["buyer_id"], m["supplier_id"]): (m["slot"], m["table"]) for m in saved["meetings"]}
    before = {(m["buyer_id"], m["supplier_id"]): (m["slot"], m["table"]) for m in made["meetings"]}
    assert placed == before, "locking and planning again moved published meetings"
    mine = (first["buyer_id"], first["supplier_id"])
    assert next(m for m in saved["meetings"] if (m["buyer_id"], m["supplier_id"]) == mine)["locked"]
    locked = page.locator(f"table.meetings tr[data-pair='{pair}']")
    assert "locked" in (locked.get_attribute("class") or "")


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


@pytest.fixture(scope="module")
def main_pages(server: dict[str, Any]) -> list[str]:
    """The screenshot script's pages, filled for the tiny world (an event and a list saved)."""
    values = shots.seed(server, shots.WORLDS["tiny"])
    return [shots.filled(path, values) for _, path in shots.PAGES]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_main_pages_have_no_serious_accessibility_violations(
    page: Any, server: dict[str, Any], main_pages: list[str], lang: str
) -> None:
    sign_in(page, server["keys"]["staff"], lang=lang)
    problems = []
    for path in main_pages:
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
        page.wait_for_load_state("networkidle")  # the parts htmx asks for after the page
        problems += [f"{path}: {v}" for v in axe_violations(page)]
    page.click("form[action='/sign-out'] button")
    page.wait_for_url("**/sign-in**")
    problems += [f"/sign-in: {v}" for v in axe_violations(page)]
    assert not problems, "\n".join(problems)


def test_chromium_is_the_systems(browser: Any) -> None:
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
    assert browser.version
