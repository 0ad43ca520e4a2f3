"""Printable agendas: one A4 page per firm in its language, reasons without secrets or scores,
interpreters and the lunch break, from the library, the command line and the routes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ketnoi import graph, matcher, programme
from ketnoi.api._agendas import render_agendas
from ketnoi.api.cli import app

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: A number as a score would print: 0.216, 0,216, 2.9e-05 (not 1.000.000, Vietnamese grouping).
SCORE = re.compile(r"(?<![\d.,])0[.,]\d{2,}|\d(\.\d+)?e-\d+")


@pytest.fixture(scope="module")
def fitted() -> matcher.Matcher:
    return matcher.Matcher().fit(graph.load_dataset(TINY))


def _event(**extra: object) -> programme.EventSpec:
    people = (
        # B1's delegation speaks Japanese only: its meetings need an interpreter.
        programme.Participant("B1", "buyer", ("ja",)),
        programme.Participant("B2", "buyer", ("vi", "ko")),
        programme.Participant("S1", "supplier", ("vi",)),
        programme.Participant("S2", "supplier", ("vi",)),
        programme.Participant("S3", "supplier", ("vi",)),
        programme.Participant("S5", "supplier", ("vi",)),
    )
    values: dict = dict(
        slots=4,
        tables=2,
        max_meetings=3,
        interpreters=1,
        slot_labels=("09:00", "09:30", "13:00", "13:30"),
        lunch_after=2,
        lunch_label="12:00–13:00",
        name="Hội chợ thử",
        locks=(programme.MeetingLock("B2", "S3"),),
    )
    values.update(extra)
    return programme.EventSpec(people, **values)


@pytest.fixture(scope="module")
def schedule(fitted: matcher.Matcher) -> programme.EventSchedule:
    return programme.schedule_event(_event(), fitted)


def _pages(
    schedule: programme.EventSchedule, fitted: matcher.Matcher
) -> dict[str, programme.FirmAgenda]:
    pages = programme.firm_agendas(schedule.spec, schedule.meetings, fitted, fitted.dataset_)
    return {p.firm_id: p for p in pages}


def test_each_firm_reads_its_meetings_in_its_language(
    schedule: programme.EventSchedule, fitted: matcher.Matcher
) -> None:
    pages = _pages(schedule, fitted)
    assert list(pages) == ["B1", "B2", "S1", "S2", "S3", "S5"]
    assert pages["B1"].lang == "en" and pages["S1"].lang == "vi"
    for page in pages.values():
        held = schedule.meetings[schedule.meetings[f"{page.side}_id"] == page.firm_id].sort_values(
            "slot"
        )
        lines = [line for line in page.lines if line.kind == "meeting"]
        assert [(line.time, line.table) for line in lines] == list(
            zip(held["slot_label"], held["table"], strict=True)
        )
        assert all(line.partner_name and line.reasons for line in lines)
    b1 = [line for line in pages["B1"].lines if line.kind == "meeting"]
    assert b1 and all(line.interpreter == "interpreter Japanese – Vietnamese" for line in b1)


def test_the_lunch_break_sits_between_morning_and_afternoon(
    schedule: programme.EventSchedule, fitted: matcher.Matcher
) -> None:
    for page in _pages(schedule, fitted).values():
        kinds = [(line.kind, line.slot) for line in page.lines]
        lunch = kinds.index(("lunch", None))
        assert all(slot <= 2 for _, slot in kinds[:lunch])
        assert all(slot > 2 for _, slot in kinds[lunch + 1 :])


def test_a_supplier_does_not_read_its_buyers_confidential_demand(
    schedule: programme.EventSchedule, fitted: matcher.Matcher
) -> None:
    # B2's demand for screws is confidential; S3 (locked to meet B2) makes screws.
    pages = _pages(schedule, fitted)
    s3 = next(line for line in pages["S3"].lines if line.partner_id == "B2")
    b2 = next(line for line in pages["B2"].lines if line.partner_id == "S3")
    assert not any("vít" in r or "screw" in r for r in s3.reasons), s3.reasons
    assert any(r.startswith("sản xuất vít") for r in b2.reasons), b2.reasons
    # The buyer reads its own page: the reasons speak to it.
    assert any("quý doanh nghiệp" in r for r in b2.reasons), b2.reasons
    assert not any("bên mua" in r for r in b2.reasons), b2.reasons
    # Distances are banded for every firm, as on any other answer to a firm.
    assert not any(re.search(r"cách (<1|\d+) km", r) for r in s3.reasons + b2.reasons)


def test_the_html_shows_no_score_and_escapes_names(
    schedule: programme.EventSchedule, fitted: matcher.Matcher
) -> None:
    pages = list(_pages(schedule, fitted).values())
    evil = pages[0].__class__(**{**pages[0].__dict__, "firm_name": "<script>x</script>"})
    html = render_agendas([evil, *pages[1:]], grid=schedule.grid("vi"), lang="vi")
    assert "<script>x" not in html and "&lt;script&gt;" in html
    assert not SCORE.search(re.sub(r"<style>.*?</style>", "", html, flags=re.S))
    assert html.count('<section class="agenda') == 6
    assert "Nghỉ trưa" in html and "Lunch break" in html  # S1 in Vietnamese, B1 in English
    # The organisers' grid names the firms.
    assert "Công ty TNHH Hoshino Việt Nam / " in html


def _worst_page() -> programme.FirmAgenda:
    """A firm with 12 meetings, each with long names, profile and three long reasons."""
    reason = "sản xuất chi tiết nhôm đúc áp lực (HS 761699), mặt hàng bên mua có nhu cầu"
    lines = [
        programme.AgendaMeeting(
            kind="meeting",
            time=f"{9 + t // 3:02d}:{(t % 3) * 20:02d}",
            slot=t + 1,
            table=t + 10,
            partner_id=f"hn-s{t:04d}",
            partner_name="Công ty TNHH Linh kiện Điện tử Chính xác Đông Anh Việt Nam",
            partner_profile="linh kiện điện tử · vốn đầu tư Nhật Bản · Khu công nghiệp Thăng "
            "Long (TLIP) · sản xuất mô-đun camera, bảng mạch in, đầu nối và công tắc điện",
            partner_contact="Nguyễn Văn An · 0912 345 678 · an.nguyen@example.vn",
            reasons=(reason, "chưa có chứng nhận IATF 16949, IPC-A-610 mà bên mua yêu cầu", reason),
            interpreter="phiên dịch tiếng Nhật – tiếng Việt",
        )
        for t in range(12)
    ]
    lines.insert(6, programme.AgendaMeeting(kind="lunch", time="12:00–13:00"))
    return programme.FirmAgenda(
        "Hội chợ công nghiệp hỗ trợ Hà Nội 2026",
        "hn-b001",
        "Công ty TNHH Sản xuất Linh kiện Ô tô Takemura Việt Nam",
        "buyer",
        "vi",
        tuple(lines),
    )


def _pdf_pages(html: str, folder: Path) -> int:
    source, pdf = folder / "agendas.html", folder / "agendas.pdf"
    source.write_text(html, encoding="utf-8")
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium prints the PDF (.ci/run installs it)")
def test_every_agenda_prints_on_one_a4_page(
    schedule: programme.EventSchedule, fitted: matcher.Matcher, tmp_path: Path
) -> None:
    pages = [_worst_page(), *_pages(schedule, fitted).values()]
    assert _pdf_pages(render_agendas(pages), tmp_path) == len(pages)


def test_schedule_writes_the_agendas_with_a_lunch_break(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("firm_id,side,languages\nB1,,ja\nB2,,\nS1,,\nS2,,\nS3,,\nS5,,\n")
    out = tmp_path / "fair.html"
    result = CliRunner().invoke(
        app,
        [
            "schedule", str(TINY), "--participants", str(people), "--slots", "6",
            "--tables", "2", "--max-meetings", "3", "--interpreters", "1",
            "--start", "09:00", "--minutes", "60", "--lunch", "12:00",
            "--name", "Hội chợ thử", "--agendas", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 6 agendas and the grid" in result.output.replace("\n", "")
    html = out.read_text(encoding="utf-8")
    assert "Lịch gặp gỡ: Hội chợ thử" in html
    # 09:00, 10:00, 11:00, the break, then 13:00: no slot runs into lunch.
    assert "12:00–13:00" in html and ">13:00<" in html and ">12:00<" not in html
    bad = CliRunner().invoke(
        app,
        [
            "schedule", str(TINY), "--participants", str(people), "--slots", "2",
            "--tables", "2", "--max-meetings", "2", "--lunch", "12:00",
        ],
    )  # fmt: skip
    assert bad.exit_code == 2 and "--lunch needs --start" in bad.output


def test_agenda_tables_carry_no_score(schedule: programme.EventSchedule) -> None:
    agendas = schedule.agendas()
    assert "score" not in agendas.columns
    assert isinstance(agendas, pd.DataFrame)
