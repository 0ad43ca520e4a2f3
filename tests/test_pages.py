"""The workbench's pages without a browser: sessions, CSRF, roles, both languages, the flows.

The browser tests (``tests/test_browser.py``) drive the same flows in Chromium; these run
everywhere in seconds and walk every page route.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from ketnoi.api import storage
from ketnoi.api.pages import MESSAGES, ROUTERS
from ketnoi.api.pages._i18n import Translator, format_number, format_share
from ketnoi.api.pages._web import PageRoute

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
#: Path parameters of page routes, filled for the tiny world.
FILL = {
    "firm_id": "S2",
    "buyer_id": "B1",
    "supplier_id": "S1",
    "list_id": "1",
    "event_id": "1",
    "report": "localisation",
}


def csrf_of(client: TestClient, path: str = "/sign-in") -> str:
    match = CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, key: str, lang: str = "en") -> None:
    client.cookies.clear()
    token = csrf_of(client)
    answer = client.post("/sign-in", data={"csrf": token, "api_key": key, "next": "/"})
    assert answer.status_code == 200 and answer.url.path == "/", answer.text[:500]
    if lang:
        client.post("/lang", data={"csrf": csrf_of(client, "/"), "lang": lang, "next": "/"})


@pytest.fixture(scope="module")
def client(service: dict[str, Any]) -> Iterator[TestClient]:
    """A browser-like client of the module's service: its own cookie jar."""
    with TestClient(service["app"]) as own:
        yield own


def page_routes(app: Any, method: str = "GET") -> list[str]:
    """Every page route's path (``app``: the service, which serves them all)."""
    assert any(getattr(r, "path", "") == "/static" for r in app.routes)
    return sorted(
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, PageRoute) and method in (route.methods or set())
    )


def filled(path: str, **more: str) -> str:
    for name, value in {**FILL, **more}.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no value to fill {path}"
    return path


# -- the catalogue and formats -----------------------------------------------------------------
def test_every_string_is_in_both_languages() -> None:
    for key, (en, vi) in MESSAGES.items():
        assert en.strip() and vi.strip(), key
        assert set(re.findall(r"\{(\w+)\}", en)) == set(re.findall(r"\{(\w+)\}", vi)), key
    # Written as Vietnamese: most strings carry Vietnamese letters (diacritics).
    marked = [vi for _, vi in MESSAGES.values() if re.search(r"[à-ỹđĐ]", vi)]
    assert len(marked) > 0.8 * len(MESSAGES)


def test_numbers_and_shares_by_locale() -> None:
    assert format_number(1234.5, "vi") == "1.234,5"
    assert format_number(1234.5, "en") == "1,234.5"
    assert format_share(0.5, "vi") == "50,0%"
    assert Translator("vi")("sign_in") == "Đăng nhập"


def test_pages_stay_out_of_the_openapi_document(service: dict[str, Any]) -> None:
    spec = service["client"].get("/openapi.json").json()
    pages = page_routes(service["app"]) + page_routes(service["app"], "POST")
    assert pages and not set(pages) & set(spec["paths"])
    assert all(not p.startswith("/v1") for p in pages)


# -- signing in and out -------------------------------------------------------------------------
def test_a_page_sends_a_visitor_to_sign_in(client: TestClient) -> None:
    client.cookies.clear()
    answer = client.get("/firms?q=a", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/firms%3Fq%3Da"


def test_sign_in_makes_a_new_http_only_session_and_sign_out_ends_it(
    client: TestClient, service: dict[str, Any]
) -> None:
    client.cookies.clear()
    first = client.get("/sign-in")
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie
    before = first.cookies["ketnoi_session"]
    token = CSRF.search(first.text).group(1)  # type: ignore[union-attr]
    bad = client.post("/sign-in", data={"csrf": token, "api_key": "kn_nothing"})
    assert bad.status_code == 401 and "không hợp lệ" in bad.text  # Vietnamese by default
    good = client.post(
        "/sign-in",
        data={"csrf": token, "api_key": service["keys"]["staff"]},
        follow_redirects=False,
    )
    assert good.status_code == 303
    after = good.cookies["ketnoi_session"]
    assert after != before, "signing in must change the session id"
    assert client.get("/firms").status_code == 200
    assert service["keys"]["staff"] not in client.get("/").text
    client.post("/sign-out", data={"csrf": csrf_of(client, "/")})
    assert client.get("/firms", follow_redirects=False).status_code == 303
    # The old id is dead too.
    client.cookies.set("ketnoi_session", after)
    assert client.get("/firms", follow_redirects=False).status_code == 303


def test_a_revoked_key_ends_its_session(service: dict[str, Any]) -> None:
    from ketnoi.api import storage

    engine = service["engine"]
    key = storage.create_key(engine, "analyst", label="to revoke")
    info = storage.verify_key(engine, key)
    assert info is not None
    with TestClient(service["app"]) as browser:
        sign_in(browser, key)
        assert browser.get("/audit").status_code == 200
        storage.revoke_key(engine, info.id)
        assert browser.get("/audit", follow_redirects=False).status_code == 303


# -- CSRF ----------------------------------------------------------------------------------------
def test_every_form_is_refused_without_its_csrf_token(
    client: TestClient, service: dict[str, Any], table_fingerprint: Any
) -> None:
    sign_in(client, service["keys"]["staff"])
    before = table_fingerprint(service["engine"])
    posts = page_routes(service["app"], "POST")
    assert {"/sign-in", "/sign-out", "/lang", "/outcomes", "/match-lists", "/imports"} <= set(posts)
    for path in posts:
        data = {"supplier_id": "S1", "buyer_id": "B1", "outcome": "met", "buyer_ids": "B1"}
        for token in (None, "forged"):
            sent = data if token is None else {**data, "csrf": token}
            answer = client.post(filled(path), data=sent)
            assert answer.status_code == 403, f"POST {path} with csrf={token}: {answer.status_code}"
            assert "reload the page" in answer.text
    assert table_fingerprint(service["engine"]) == before
    assert client.get("/firms").status_code == 200, "a refused form must not end the session"


# -- every page, both languages, every role ------------------------------------------------------
ROLES_OF = {
    "/": {"staff", "analyst", "firm"},
    "/firms": {"staff", "analyst", "firm"},
    "/audit": {"staff", "analyst"},
    "/gaps": {"staff", "analyst"},
    "/match-lists": {"staff", "analyst"},
    "/events": {"staff", "analyst"},
    "/imports": {"staff"},
    "/introductions": {"staff"},
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_page_renders_for_staff_in_both_languages(
    client: TestClient, service: dict[str, Any], lang: str
) -> None:
    sign_in(client, service["keys"]["staff"], lang)
    staff = {"X-API-Key": service["keys"]["staff"]}
    made = client.post("/v1/match-lists", json={"buyer_ids": ["B1"], "k": 3}, headers=staff)
    assert made.status_code == 201
    event = {"participants": [{"firm_id": f} for f in ("B1", "S1", "S3")], "slots": 2}
    assert client.post("/v1/events", json={**event, "tables": 2, "max_meetings": 2},
                       headers=staff).status_code == 201  # fmt: skip
    job, _ = storage.create_job(service["engine"], "test", "staff", {})
    storage.finish_job(service["engine"], job.id, result={"body": {}, "tables": {}})
    for path in page_routes(service["app"]):
        if path == "/sign-in":
            continue
        url = filled(path, job_id=job.id).replace("/agendas/S2", "/agendas/S1")
        answer = client.get(url)
        assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:300]}"
        if "text/html" in answer.headers["content-type"]:
            assert f'<html lang="{lang}">' in answer.text
            assert "Content-Security-Policy" in answer.headers
    home = client.get("/").text
    assert ("Tổng quan chương trình" in home) == (lang == "vi")


@pytest.mark.parametrize(
    ("name", "role"), [("analyst", "analyst"), ("firm_b1", "firm"), ("firm_s1", "firm")]
)
def test_each_role_reaches_the_pages_the_api_gives_it(
    service: dict[str, Any], name: str, role: str
) -> None:
    with TestClient(service["app"]) as browser:
        sign_in(browser, service["keys"][name])
        for path, roles in ROLES_OF.items():
            code = browser.get(path).status_code
            assert code == (200 if role in roles else 403), f"{name} {path}: {code}"
        for path in ("/match-lists/1", "/events/1", "/gaps/localisation/file"):
            assert browser.get(path).status_code in ((200,) if role != "firm" else (403,))
        token = csrf_of(browser, "/")
        made = browser.post("/match-lists", data={"csrf": token, "buyer_ids": "B1"})
        assert made.status_code == 403


# -- the flows -------------------------------------------------------------------------------
def test_search_ignores_accents(client: TestClient, service: dict[str, Any]) -> None:
    sign_in(client, service["keys"]["staff"])
    for query in ("co khi", "Cơ khí", "CO KHI"):
        page = client.get("/firms", params={"q": query}).text
        assert "Cơ khí Chính xác Đức Thành" in page, query
        assert 'data-total="1"' in page
    partial = client.get("/firms", params={"q": "co khi"}, headers={"HX-Request": "true"}).text
    assert "<html" not in partial and "Đức Thành" in partial


def test_a_buyers_suppliers_read_in_vietnamese_and_an_outcome_is_recorded(
    client: TestClient, service: dict[str, Any]
) -> None:
    sign_in(client, service["keys"]["staff"], "vi")
    page = client.get("/buyers/B1/suppliers").text
    assert "Nhà cung cấp mới cho" in page and "cách 15 km" in page
    why = client.get("/buyers/B1/suppliers", params={"why": "S4"}).text
    assert "Cần khắc phục" in why
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    done = client.post(
        "/outcomes",
        data={
            "csrf": token,
            "supplier_id": "S3",
            "buyer_id": "B1",
            "outcome": "contacted",
            "next": "/buyers/B1/suppliers",
        },  # fmt: skip
    )
    assert done.status_code == 200 and "Đã ghi nhận: Đã liên hệ" in done.text
    staff = {"X-API-Key": service["keys"]["staff"]}
    recorded = client.get("/v1/outcomes", params={"buyer_id": "B1"}, headers=staff).json()
    assert any(o["supplier_id"] == "S3" and o["outcome"] == "contacted" for o in recorded["items"])


def test_an_outcome_reads_with_its_own_date(client: TestClient, service: dict[str, Any]) -> None:
    """The outcomes table says when the meeting happened (the outcome's date), not when the
    row was recorded; a row without a date says when it was recorded."""
    staff = {"X-API-Key": service["keys"]["staff"]}
    body = {"supplier_id": "S5", "buyer_id": "B2", "outcome": "met", "date": "2024-08-26"}
    assert client.post("/v1/outcomes", json=body, headers=staff).status_code == 201
    sign_in(client, service["keys"]["staff"], "vi")
    page = client.get("/suppliers/S5/buyers").text
    table = page[page.index('id="outcomes-h"') :]
    assert "26/08/2024" in table


def test_a_firm_reads_that_another_firms_links_are_private(
    start_service: Any, tmp_path: Any
) -> None:
    """A firm key sees only its own links: on another firm's profile the links section says
    they are private, never "none" (B1 has links); staff see them."""
    with start_service(tmp_path, evaluate=False) as service:
        s3 = storage.create_key(service["engine"], "firm", "S3")
        with TestClient(service["app"]) as browser:
            sign_in(browser, s3, "vi")
            page = browser.get("/firms/B1").text
            links = page[page.index('id="links-h"') :]
            assert "chỉ hiển thị cho chính doanh nghiệp" in links
        with TestClient(service["app"]) as browser:
            sign_in(browser, service["keys"]["staff"], "vi")
            links = browser.get("/firms/B1").text
            links = links[links.index('id="links-h"') :]
            assert "chỉ hiển thị" not in links and "<table" in links


def test_a_match_list_is_previewed_saved_and_downloaded(
    client: TestClient, service: dict[str, Any]
) -> None:
    sign_in(client, service["keys"]["staff"])
    token = csrf_of(client, "/match-lists")
    form = {"csrf": token, "buyer_ids": "B1 B2", "k": "2", "lang": "vi", "label": "hội chợ"}
    preview = client.post("/match-lists", data={**form, "action": "preview"})
    assert preview.status_code == 200 and "Preview: 4 pairs (not saved)" in preview.text
    saved = client.post("/match-lists", data={**form, "action": "save"})
    assert saved.status_code == 200 and re.search(r"/match-lists/\d+$", str(saved.url))
    answer = client.get(f"{saved.url.path}/file", params={"format": "xlsx"})
    assert answer.headers["content-disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    rows = list(book["match list"].iter_rows(values_only=True))
    assert "buyer_id" in rows[0] and len(rows) == 5


def test_a_broken_workbook_shows_its_problems(client: TestClient, service: dict[str, Any]) -> None:
    sign_in(client, service["keys"]["staff"])
    token = csrf_of(client, "/imports")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "firms"
    sheet.append(["firm_id", "name", "role"])
    sheet.append(["X1", "", "nobody"])
    data = io.BytesIO()
    book.save(data)
    answer = client.post(
        "/imports", data={"csrf": token}, files={"file": ("broken.xlsx", data.getvalue())}
    )
    assert answer.status_code == 422
    assert "problems: nothing was loaded" in answer.text
    assert "required sheet is missing" in answer.text and answer.text.count("<tr>") > 2


# -- the event planner ---------------------------------------------------------------------------
def _plan(client: TestClient, **more: str) -> Any:
    token = csrf_of(client, "/events")
    form = {"csrf": token, "name": "hội chợ", "participants": "B1, B2 S1 S3", "slots": "2"}
    return client.post("/events", data={**form, "tables": "2", "max_meetings": "2", **more})


def _placed(event: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int, bool]]:
    return {
        (m["buyer_id"], m["supplier_id"]): (m["slot"], m["table"], m["locked"])
        for m in event["meetings"]
    }


def test_an_event_is_planned_with_languages_and_a_meeting_locked_and_unlocked(
    client: TestClient, service: dict[str, Any]
) -> None:
    sign_in(client, service["keys"]["staff"], "vi")
    planned = _plan(client, languages="B1: de", interpreters="1")
    assert planned.status_code == 200 and re.search(r"/events/\d+$", str(planned.url))
    page = planned.text
    assert "Ngôn ngữ giao tiếp" in page and "<td>de" in page  # B1 sends a German speaker
    assert "theo hồ sơ doanh nghiệp" in page  # the others: their profiles' languages
    assert '<th scope="col">Bàn 1</th>' in page  # the grid's columns in the page's language
    event_id = planned.url.path.rsplit("/", 1)[1]
    staff = {"X-API-Key": service["keys"]["staff"]}
    before = client.get(f"/v1/events/{event_id}", headers=staff).json()
    assert before["spec"]["participants"][0]["languages"] == ["de"]
    assert before["spec"]["interpreters"] == 1
    (buyer, supplier), (slot, _, _) = next(iter(_placed(before).items()))
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    pair = {"csrf": token, "buyer_id": buyer, "supplier_id": supplier, "slot": str(slot)}
    locked = client.post(f"/events/{event_id}/locks", data={**pair, "action": "lock"})
    assert locked.status_code == 200 and "Đã xếp lịch lại" in locked.text
    after = client.get(f"/v1/events/{event_id}", headers=staff).json()
    assert after["spec"]["locks"] == [{"buyer_id": buyer, "supplier_id": supplier, "slot": slot}]
    # Locking a meeting where it is moves nothing: every published meeting keeps its place.
    assert {p: v[:2] for p, v in _placed(after).items()} == {
        p: v[:2] for p, v in _placed(before).items()
    }
    assert _placed(after)[(buyer, supplier)][2] is True and after["summary"]["moved"] == 0
    assert f'aria-label="Mở khóa cuộc gặp giữa {buyer} và {supplier}"' in locked.text
    again = client.post(f"/events/{event_id}/schedule", data={"csrf": token})
    assert again.status_code == 200
    kept = client.get(f"/v1/events/{event_id}", headers=staff).json()
    assert _placed(kept) == _placed(after), "planning again keeps the locked and the published"
    client.post(f"/events/{event_id}/locks", data={**pair, "action": "unlock"})
    unlocked = client.get(f"/v1/events/{event_id}", headers=staff).json()
    assert unlocked["spec"]["locks"] == [] and not any(m["locked"] for m in unlocked["meetings"])


def test_a_bad_participant_or_language_line_is_named(
    client: TestClient, service: dict[str, Any]
) -> None:
    sign_in(client, service["keys"]["staff"])
    answer = _plan(client, participants="B1 S1:seller")
    assert answer.status_code == 422 and "“S1:seller” is not a participant" in answer.text
    answer = _plan(client, languages="S9: en")
    assert answer.status_code == 422 and "“S9: en” is not a line of languages" in answer.text


def test_a_large_event_is_planned_as_a_job_whose_progress_the_page_shows(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(service["app"]) as client:  # its own start-up: a running job runner
        _a_large_event_as_a_job(client, service, monkeypatch)


def _a_large_event_as_a_job(
    client: TestClient, service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, service["keys"]["staff"])
    monkeypatch.setattr(service["app"].state.settings, "event_job_participants", 2)
    started = _plan(client)
    assert started.status_code == 200 and "/jobs/" in started.url.path
    job_id = started.url.path.rsplit("/", 1)[1]
    assert 'id="job"' in started.text
    job = service["app"].state.jobs.wait(job_id)
    assert job is not None and job.state == "finished", job
    partial = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    target = partial.headers["HX-Redirect"]
    assert re.fullmatch(r"/events/\d+", target)
    assert client.get(f"/jobs/{job_id}").url.path == target
    assert "hội chợ" in client.get(target).text


# -- the firm search's filters -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "elec"}, {"T1", "S1", "S4"}),  # pcb and pcba sit under elec
        ({"category": "8534"}, {"S1", "S4"}),  # an HS code: printed circuit boards
        ({"category": "73"}, {"S2", "S3", "S5"}),  # HS chapter 73: every metal part
        ({"category": "73", "ownership": "jv"}, {"S3"}),
        ({"ownership": "fdi", "country": "kr"}, {"B2"}),
        ({"country": "JP"}, {"B1"}),
        ({"category": "nothing"}, set()),
    ],
)
def test_firm_search_filters_by_category_or_hs_code_ownership_and_country(
    client: TestClient, service: dict[str, Any], query: dict[str, str], expected: set[str]
) -> None:
    staff = {"X-API-Key": service["keys"]["staff"]}
    answer = client.get("/v1/firms", params=query, headers=staff).json()
    assert {firm["firm_id"] for firm in answer["items"]} == expected
    sign_in(client, service["keys"]["staff"])
    page = client.get("/firms", params=query).text
    assert f'data-total="{len(expected)}"' in page
    assert set(re.findall(r'href="/firms/(\w+)"', page)) == expected


def test_firm_search_pages_keep_their_filters(client: TestClient, service: dict[str, Any]) -> None:
    staff = {"X-API-Key": service["keys"]["staff"]}
    assert client.get("/v1/firms", params={"country": "JPN"}, headers=staff).status_code == 422
    sign_in(client, service["keys"]["staff"])
    page = client.get("/firms", params={"ownership": "domestic", "country": "VN"}).text
    assert '<option value="domestic" selected>' in page and 'name="country" value="VN"' in page


# -- introductions to a masked demand's buyer ------------------------------------------------------
FORM_FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def test_a_supplier_asks_for_an_introduction_and_staff_read_the_buyer(
    start_service: Any, tmp_path: Any
) -> None:
    """S3 makes screws; with B1's screw demand confidential, S3's page of buyers shows it as
    "a buyer (kept confidential)" with a button: the request is recorded, the row then reads
    "request sent", and nowhere is B1 named to S3. Staff read the request with B1 named."""
    with start_service(tmp_path, evaluate=False) as service:
        _introduction_flow(service)


def _introduction_flow(service: dict[str, Any]) -> None:
    engine = service["engine"]
    staff = {"X-API-Key": service["keys"]["staff"]}
    secret = {"confidential": True}
    made = service["client"].patch("/v1/demands/B1/screw", json=secret, headers=staff)
    assert made.status_code == 200, made.text
    s3 = storage.create_key(engine, "firm", "S3")
    buyer = ("B1", "Công ty TNHH Hoshino Việt Nam")

    def secret_kept(page: str) -> bool:
        # S3 may be suggested to B1 for its public demand (stamp): no row names B1 and screw.
        rows = re.findall(r'<li class="rec">.*?</li>\s*(?=<li class="rec">|</ol>)', page, re.S)
        screw = [r for r in rows if "screw" in r]
        return bool(screw) and not any(name in r for r in screw for name in buyer)

    with TestClient(service["app"]) as browser:
        sign_in(browser, s3, "vi")
        page = browser.get("/suppliers/S3/buyers").text
        assert "Một bên mua (thông tin được bảo mật)" in page and "Nhờ cán bộ" in page
        form = page[page.index('action="/introductions"') :]
        fields = dict(FORM_FIELD.findall(form[: form.index("</form>")]))
        assert fields["reference"].startswith("intro_") and fields["category_id"] == "screw"
        assert secret_kept(page)
        # Said in Vietnamese: the buyer's sector and the category by their Vietnamese names.
        masked = page[page.index("Một bên mua (thông tin được bảo mật)") :]
        masked = masked[: masked.index("</li>")]
        assert "trong ngành điện tử" in masked and "electronics" not in masked
        assert '<span class="hint">screw</span>' not in masked
        done = browser.post("/introductions", data={**fields, "message": "xin gặp"})
        assert done.status_code == 200 and done.url.path == "/suppliers/S3/buyers"
        assert "Đã gửi yêu cầu: cán bộ chương trình sẽ giới thiệu" in done.text
        again = browser.get("/suppliers/S3/buyers").text
        assert "Đã gửi yêu cầu" in again and 'action="/introductions"' not in again
        assert secret_kept(done.text) and secret_kept(again)
        assert "Đã gửi yêu cầu" in again[again.index("Một bên mua") :]
        # In English too; and the staff page stays closed to the firm.
        browser.post("/lang", data={"csrf": csrf_of(browser, "/"), "lang": "en", "next": "/"})
        assert "Request sent" in browser.get("/suppliers/S3/buyers").text
        assert browser.get("/introductions").status_code == 403
        # A forged reference is refused, and recorded nothing.
        forged = {**fields, "reference": "intro_" + "0" * 32, "csrf": csrf_of(browser, "/")}
        assert browser.post("/introductions", data=forged).status_code == 404
    for lang, heading in (("en", "Introduction requests"), ("vi", "Yêu cầu giới thiệu")):
        with TestClient(service["app"]) as browser:
            sign_in(browser, service["keys"]["staff"], lang)
            listed = browser.get("/introductions").text
            assert heading in listed and 'data-total="1"' in listed
            assert buyer[1] in listed and "Công ty Liên doanh Vít Sông Hồng" in listed
            assert "xin gặp" in listed


def test_an_unknown_value_reads_as_a_word_in_the_explanation(
    client: TestClient, service: dict[str, Any]
) -> None:
    """S4 gives no capacity for B1's demand: its value is "unknown", not a dash or "None"."""
    for lang, word in (("en", "unknown"), ("vi", "không rõ")):
        sign_in(client, service["keys"]["staff"], lang)
        page = client.get("/pairs/S4/B1").text
        row = re.search(
            r"<tr><td>[^<]*(?:capacity|công suất|năng lực)[^<]*</td><td>([^<]*)</td>", page
        )
        assert row and row.group(1) == word, page[page.find("<table") :][:1500]
        assert "None" not in page
