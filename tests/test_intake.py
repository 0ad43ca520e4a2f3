"""Intake of officers' workbooks: titles, merged headers, several sheets, both languages."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from ketnoi.graph._intake import (
    load_mappings,
    merged_ranges,
    parse_vn_number,
    parse_year,
    read_intake,
    save_mappings,
)


def _officers_workbook(path: Path) -> Path:
    """A fair's registration list as a department keeps it: two title rows, a merged title,
    a header 'Liên hệ' merged over phone and e-mail, an unlabelled tax-code column, numbers
    with dots, dates as text; and an English sheet of the same fair."""
    book = openpyxl.Workbook()
    vi = book.active
    vi.title = "Danh sách DN"
    vi.append(["DANH SÁCH DOANH NGHIỆP THAM GIA HỘI CHỢ CÔNG NGHIỆP HỖ TRỢ 2025"])
    vi.merge_cells("A1:H1")
    vi.append(["Sở Công Thương Hà Nội"])
    vi.append([])
    vi.append(
        [
            "STT",
            "Tên doanh nghiệp",
            "",
            "Số lao động",
            "Năm thành lập",
            "Liên hệ",
            "",
            "Sản phẩm chính",
        ]
    )
    vi.merge_cells("F4:G4")
    vi.append(
        [
            1,
            "Công ty TNHH Cơ khí Chính xác Hà Nội",
            "0100233488",
            "1.250",
            "15/03/2005",
            "024 3855 1234",
            "info@ckcx.vn",
            "khuôn mẫu, chi tiết dập",
        ]
    )
    vi.append(
        [
            2,
            "CÔNG TY CỔ PHẦN NHỰA ĐÔNG ANH",
            "0314409058-002",
            "85",
            "2011",
            "0912 345 678",
            "sales@nhuada.vn",
            "linh kiện nhựa",
        ]
    )
    vi.append(
        [3, "Cty TNHH Điện tử Sao Mai", "0100233480", "khoảng 200", "năm 2010", "", "", "bo mạch"]
    )
    vi.append([4, "", "0100109106", "40", "", "", "", "ốc vít"])
    en = book.create_sheet("Foreign buyers")
    en.append(["Company name", "Tax code", "Employees", "Founded", "Email"])
    en.append(["Hoshino Vietnam Co., Ltd", "0100112437", "2,500", "2005-04-01", "buy@hoshino.jp"])
    book.save(path)
    return path


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    return _officers_workbook(tmp_path / "hoi-cho-2025.xlsx")


def test_vietnamese_numbers_and_dates_as_text() -> None:
    assert parse_vn_number("1.234.567") == 1234567
    assert parse_vn_number("12,5") == 12.5
    assert parse_vn_number("1,250,000") == 1250000
    assert parse_vn_number("1.5") == 1.5  # not a thousands group: a decimal point
    assert parse_year("15/03/2005") == parse_year("2005-03-15") == 2005
    assert parse_year("năm 2010") is None


def test_merged_ranges_come_from_the_sheet_xml(workbook: Path) -> None:
    ranges = merged_ranges(workbook)
    assert sorted(ranges["Danh sách DN"]) == [(1, 0, 1, 7), (4, 5, 4, 6)]
    assert ranges["Foreign buyers"] == []


def test_the_proposed_mapping_finds_the_header_below_the_titles(workbook: Path) -> None:
    result = read_intake(workbook, "hoi-cho-2025")
    vi = result.mappings["Danh sách DN"]
    assert vi.header_line == 4
    fields = [c.field for c in vi.columns]
    # STT is no field; the unlabelled column is read from its cells; 'Liên hệ' merged over
    # two columns: the phone and e-mail columns told apart by their cells.
    assert fields == ["", "name", "tax_code", "employees", "founded", "phone", "email", "products"]
    assert vi.columns[2].why == "cells look like tax codes"
    en = result.mappings["Foreign buyers"]
    assert [c.field for c in en.columns] == ["name", "tax_code", "employees", "founded", "email"]


def test_every_row_keeps_its_source_and_nothing_is_lost(workbook: Path) -> None:
    result = read_intake(workbook, "hoi-cho-2025")
    assert [(r.sheet, r.line) for r in result.records] == [
        ("Danh sách DN", 5),
        ("Danh sách DN", 6),
        ("Danh sách DN", 7),
        ("Danh sách DN", 8),
        ("Foreign buyers", 2),
    ]
    first = result.records[0]
    assert first.source == "hoi-cho-2025"
    assert first.fields["employees"] == 1250 and first.fields["founded"] == 2005
    assert first.raw["Liên hệ"] == "024 3855 1234" and first.raw["Liên hệ (7)"] == "info@ckcx.vn"
    assert result.records[1].fields["tax_code"] == "0314409058-002"
    assert result.records[4].fields["employees"] == 2500
    said = {(p.line, p.column, p.severity, p.reason) for p in result.problems}
    assert said == {
        (7, "column 3", "warning", "tax code '0100233480' check digit 0 should be 8"),
        (7, "Số lao động", "error", "'khoảng 200' is not a head count"),
        (7, "Năm thành lập", "error", "'năm 2010' is not a year"),
        (8, None, "error", "the row has no firm name"),
    }
    assert all(p.file == "hoi-cho-2025.xlsx[Danh sách DN]" for p in result.problems)
    # The refused cells are still in the record, raw.
    assert result.records[2].raw["Số lao động"] == "khoảng 200"


def test_an_edited_mapping_is_read_back_and_used(workbook: Path, tmp_path: Path) -> None:
    proposed = read_intake(workbook, "hoi-cho-2025").mappings
    path = tmp_path / "mapping.json"
    save_mappings(proposed, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    # The officer says column F is the contact person's phone after all (kept as the phone),
    # that the founding year is not to be imported, and drops 'Sản phẩm chính'.
    columns = data["sheets"]["Danh sách DN"]["columns"]
    columns[4]["field"], columns[7]["field"] = "", ""
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    mappings, problems = load_mappings(path)
    assert problems == []
    again = read_intake(workbook, "hoi-cho-2025", mappings)
    first = again.records[0]
    assert first.fields["phone"] == "024 3855 1234" and "products" not in first.fields
    assert "founded" not in first.fields and first.raw["Năm thành lập"] == "15/03/2005"
    assert first.raw["Sản phẩm chính"] == "khuôn mẫu, chi tiết dập"  # kept raw


def test_an_unknown_field_in_the_mapping_file_is_named(workbook: Path, tmp_path: Path) -> None:
    path = tmp_path / "mapping.json"
    save_mappings(read_intake(workbook, "x").mappings, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["sheets"]["Foreign buyers"]["columns"][0]["field"] = "nom"
    path.write_text(json.dumps(data), encoding="utf-8")
    _, problems = load_mappings(path)
    assert [(p.file, p.column) for p in problems] == [("mapping.json", "Company name")]
    assert "unknown field 'nom'" in problems[0].reason


def test_a_damaged_workbook_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    result = read_intake(path, "broken")
    assert result.records == [] and len(result.problems) == 1
    assert result.problems[0].file == "broken.xlsx"
