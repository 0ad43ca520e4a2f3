"""Broken datasets, one per rule of the data contract, each with the exact problems it must report.

Every broken dataset is the valid ``fixtures/tiny`` folder with one thing changed, so each test
names the file, the spreadsheet line (header = 1), the column and the reason it expects; a wrong
line number fails the test. Line numbers of the tiny files, for reading the tests:

- firms: 2 B1 buyer, 3 B2 buyer, 4 T1 both, 5 S1, 6 S2, 7 S3, 8 S4, 9 S5 (suppliers)
- links: 2 T1>B1 pcba, 3 S1>T1 pcb, 4 S2>B1 stamp, 5 S3>B2 screw, 6 S5>B2 stamp, 7 S2>B2 stamp
- categories: 2 elec, 3 pcb (elec), 4 pcba (elec), 5 metal, 6 stamp, 7 screw, 8 printer
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketnoi import graph
from ketnoi.graph import (
    CONTRACT,
    FILE_ORDER,
    INTERNATIONAL_CERTIFICATIONS,
    LOCAL_OWNERSHIPS,
    Dataset,
    DatasetError,
    Problem,
    load_dataset,
    validate_dataset,
)

THIS_YEAR = dt.date.today().year
DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


# -- helpers ---------------------------------------------------------------------------------
def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]], delimiter: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)


def set_cell(folder: Path, name: str, line: int, column: str, value: str) -> None:
    """Set one cell, addressed as a spreadsheet shows it: line 1 is the header."""
    path = folder / f"{name}.csv"
    rows = read_rows(path)
    rows[line - 1][rows[0].index(column)] = value
    write_rows(path, rows)


def append_row(folder: Path, name: str, /, **values: str) -> int:
    """Append a row (unnamed columns empty); return its line number."""
    path = folder / f"{name}.csv"
    rows = read_rows(path)
    rows.append([values.get(column, "") for column in rows[0]])
    write_rows(path, rows)
    return len(rows)


def copy_row(folder: Path, name: str, line: int) -> int:
    path = folder / f"{name}.csv"
    rows = read_rows(path)
    rows.append(list(rows[line - 1]))
    write_rows(path, rows)
    return len(rows)


def drop_column(folder: Path, name: str, column: str) -> None:
    path = folder / f"{name}.csv"
    rows = read_rows(path)
    index = rows[0].index(column)
    write_rows(path, [row[:index] + row[index + 1 :] for row in rows])


def messages(source: Path) -> list[str]:
    return [str(p) for p in validate_dataset(source).problems]


def assert_loads_like_tiny(source: Path, tiny: Path) -> None:
    report = validate_dataset(source)
    assert [str(p) for p in report.problems] == []
    assert report.dataset is not None
    assert report.dataset.fingerprint() == load_dataset(tiny).fingerprint()


# -- the valid fixture -----------------------------------------------------------------------
def test_tiny_fixture_is_valid(tiny: Path) -> None:
    report = validate_dataset(tiny)
    assert report.ok
    assert report.problems == ()
    assert report.dataset is not None
    assert report.dataset.present == frozenset(FILE_ORDER)


def test_problem_format() -> None:
    assert str(Problem("firms.csv", 3, "lat", "bad")) == "firms.csv:3: lat: bad"
    assert str(Problem("firms.csv", None, None, "gone")) == "firms.csv: gone"
    assert str(Problem("links.csv", 4, None, "row")) == "links.csv:4: row"
    warning = Problem("x.xlsx[firms]", 2, "lat", "far", severity="warning")
    assert str(warning) == "x.xlsx[firms]:2: lat: warning: far"


# -- files -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["firms", "links"])
def test_missing_required_file(tiny_copy: Path, name: str) -> None:
    (tiny_copy / f"{name}.csv").unlink()
    assert messages(tiny_copy) == [f"{name}.csv: required file is missing"]


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert messages(missing) == [f"{missing}: no such file or folder"]


def test_a_csv_file_is_not_a_dataset(tiny: Path) -> None:
    assert messages(tiny / "firms.csv") == [
        "firms.csv: expected a folder of CSV files or an .xlsx workbook"
    ]


def test_unreadable_file_is_reported_not_raised(tiny_copy: Path) -> None:
    (tiny_copy / "parks.csv").unlink()
    (tiny_copy / "parks.csv").mkdir()
    assert messages(tiny_copy) == ["parks.csv: cannot be read: Is a directory"]


@pytest.mark.parametrize("content", [b"", b"  \r\n\n", b"\xef\xbb\xbf", b"\n,,\n"])
@pytest.mark.parametrize("name", ["parks", "firms"])
def test_empty_file(tiny_copy: Path, name: str, content: bytes) -> None:
    (tiny_copy / f"{name}.csv").write_bytes(content)
    # No "required file is missing" on top: the file is there, it is empty.
    assert messages(tiny_copy) == [f"{name}.csv: file is empty (no header row)"]


def test_header_only_optional_file_is_an_empty_table(tiny_copy: Path) -> None:
    path = tiny_copy / "outcomes.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    dataset = load_dataset(tiny_copy)
    assert dataset.outcomes.empty
    assert "outcomes" in dataset.present
    assert list(dataset.outcomes.columns) == list(CONTRACT["outcomes"].column_names)


def test_header_only_firms_leaves_every_link_unknown(tiny_copy: Path) -> None:
    path = tiny_copy / "firms.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    errors = messages(tiny_copy)
    assert "links.csv:2: supplier_id: 'T1' is not a firm_id in firms.csv" in errors
    assert all("is not a firm_id in firms.csv" in e for e in errors)


def test_link_only_dataset_loads(tiny_copy: Path) -> None:
    for name in FILE_ORDER:
        if name not in {"firms", "links"}:
            (tiny_copy / f"{name}.csv").unlink()
    dataset = load_dataset(tiny_copy)
    assert dataset.present == frozenset({"firms", "links"})
    assert not dataset.has_profiles
    assert len(dataset.links) == 6
    # Without categories.csv the category ids in use become a flat list of categories.
    assert sorted(dataset.categories["category_id"]) == ["pcb", "pcba", "screw", "stamp"]
    assert set(dataset.categories["parent_id"]) == {""}
    # Without parks.csv, park is free text and kept as written.
    assert set(dataset.firms["park"]) == {"thang-long", "quang-minh", ""}


def test_park_is_free_text_without_parks_file(tiny_copy: Path) -> None:
    (tiny_copy / "parks.csv").unlink()
    set_cell(tiny_copy, "firms", 2, "park", "KCN  Thăng Long ")
    dataset = load_dataset(tiny_copy)
    assert dataset.firms.loc[0, "park"] == "KCN Thăng Long"


def test_park_is_checked_against_parks_file(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "firms", 2, "park", "KCN Thăng Long")
    assert messages(tiny_copy) == [
        "firms.csv:2: park: 'KCN Thăng Long' is not a park_id in parks.csv"
    ]


# -- columns and headers ---------------------------------------------------------------------
REQUIRED_COLUMNS = [(n, c) for n in FILE_ORDER for c in CONTRACT[n].required_columns]


@pytest.mark.parametrize(("name", "column"), REQUIRED_COLUMNS)
def test_missing_required_column(tiny_copy: Path, name: str, column: str) -> None:
    drop_column(tiny_copy, name, column)
    # One problem, not one per row that refers to the now key-less file.
    assert messages(tiny_copy) == [f"{name}.csv:1: {column}: required column is missing"]


REFERENCED = {(target, column) for s in CONTRACT.values() for _, target, column in s.references}


@pytest.mark.parametrize(("name", "column"), REQUIRED_COLUMNS)
def test_empty_required_value(tiny_copy: Path, name: str, column: str) -> None:
    set_cell(tiny_copy, name, 2, column, "  ")
    errors = messages(tiny_copy)
    if (name, column) in REFERENCED:
        # The row's key is gone, so what referred to it is unknown now: reported as well.
        assert f"{name}.csv:2: {column}: required value is empty" in errors
        assert all(e.endswith("required value is empty") or "is not a" in e for e in errors)
    else:
        assert errors == [f"{name}.csv:2: {column}: required value is empty"]


def test_empty_required_value_exact(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "firms", 3, "name", "")
    assert messages(tiny_copy) == ["firms.csv:3: name: required value is empty"]


def test_duplicate_header(tiny_copy: Path) -> None:
    path = tiny_copy / "firms.csv"
    rows = read_rows(path)
    rows[0][3] = "Name"  # name_en -> a second "name" (headers compare case-insensitively)
    write_rows(path, rows)
    assert messages(tiny_copy) == ["firms.csv:1: name: duplicate header (columns 2 and 4)"]


def test_headers_are_matched_loosely(tiny_copy: Path, tiny: Path) -> None:
    path = tiny_copy / "links.csv"
    rows = read_rows(path)
    rows[0] = ["Supplier ID", " buyer_id", "CATEGORY_ID", "since", "Status"]
    write_rows(path, rows)
    assert_loads_like_tiny(tiny_copy, tiny)


def test_cell_without_header(tiny_copy: Path) -> None:
    path = tiny_copy / "links.csv"
    rows = read_rows(path)
    rows[0].append("")
    for row in rows[1:]:
        row.append("")
    rows[3][-1] = "oops"
    write_rows(path, rows)
    assert messages(tiny_copy) == ["links.csv:1: column 6 has no header"]


def test_row_longer_than_header(tiny_copy: Path) -> None:
    path = tiny_copy / "links.csv"
    rows = read_rows(path)
    rows[4].append("extra")
    write_rows(path, rows)
    assert messages(tiny_copy) == ["links.csv:5: row has 6 cells, the header 5"]


def test_short_rows_are_padded(tiny_copy: Path, tiny: Path) -> None:
    path = tiny_copy / "outcomes.csv"
    rows = read_rows(path)
    rows[2] = rows[2][:-1]  # the last cell (reason) is empty anyway
    write_rows(path, rows)
    assert_loads_like_tiny(tiny_copy, tiny)


# -- cell values -----------------------------------------------------------------------------
CELL_CASES = [
    # (file, line, column, value, expected problems)
    ("firms", 5, "role", "vendor", ["'vendor' is not one of: supplier, buyer, both"]),
    ("firms", 3, "ownership", "private", ["'private' is not one of: domestic, soe, jv, fdi"]),
    (
        "outcomes",
        2,
        "outcome",
        "won",
        ["'won' is not one of: contacted, met, negotiating, contracted, declined"],
    ),
    ("links", 6, "status", "paused", ["'paused' is not one of: active, ended"]),
    (
        "firms",
        2,
        "country_of_origin",
        "Japan",
        ["'Japan' is not an ISO 3166 alpha-2 country code (e.g. JP, KR, VN)"],
    ),
    (
        "firms",
        2,
        "country_of_origin",
        "J1",
        ["'J1' is not an ISO 3166 alpha-2 country code (e.g. JP, KR, VN)"],
    ),
    ("capabilities", 3, "capacity", "lots", ["'lots' is not a number"]),
    ("capabilities", 3, "capacity", "inf", ["'inf' is not a number"]),
    ("capabilities", 3, "capacity", "-5", ["-5 is below the minimum 0"]),
    ("demands", 4, "volume", "1O00", ["'1O00' is not a number"]),
    ("firms", 2, "employees", "12.5", ["'12.5' is not a whole number"]),
    ("firms", 2, "employees", "-1", ["-1 is below the minimum 0"]),
    ("firms", 2, "employees", "1e20", ["'1e20' is too large for a whole number"]),
    ("firms", 2, "founded", "1899", [f"year 1899 is outside 1900-{THIS_YEAR}"]),
    (
        "firms",
        2,
        "founded",
        str(THIS_YEAR + 1),
        [f"year {THIS_YEAR + 1} is outside 1900-{THIS_YEAR}"],
    ),
    ("firms", 2, "founded", "2005.5", ["'2005.5' is not a whole number"]),
    ("links", 3, "since", "soon", ["'soon' is not a number"]),
    ("firms", 2, "lat", "95", ["latitude 95 is outside -90..90"]),
    ("firms", 2, "lon", "-181", ["longitude -181 is outside -180..180"]),
    ("parks", 3, "lat", "north", ["'north' is not a number"]),
    ("firms", 2, "lon", "", ["latitude and longitude must be given together"]),
    ("firms", 2, "listed", "maybe", ["'maybe' is not true or false"]),
    ("demands", 2, "confidential", "2", ["'2' is not true or false"]),
    ("outcomes", 2, "date", "10/05/2024", ["'10/05/2024' is not a date (YYYY-MM-DD)"]),
    ("outcomes", 2, "date", "2024-13-01", ["'2024-13-01' is not a date (YYYY-MM-DD)"]),
    (
        "outcomes",
        3,
        "date",
        f"{THIS_YEAR + 1}-01-01",
        [f"'{THIS_YEAR + 1}-01-01' is in a future year"],
    ),
]


@pytest.mark.parametrize(
    ("name", "line", "column", "value", "reasons"),
    CELL_CASES,
    ids=[f"{c[0]}.{c[2]}={c[3]}" for c in CELL_CASES],
)
def test_bad_cell(
    tiny_copy: Path, name: str, line: int, column: str, value: str, reasons: list[str]
) -> None:
    set_cell(tiny_copy, name, line, column, value)
    report = validate_dataset(tiny_copy)
    expected = [f"{name}.csv:{line}: {column}: {reason}" for reason in reasons]
    assert [str(p) for p in report.problems] == expected
    assert report.dataset is None
    with pytest.raises(DatasetError) as caught:
        load_dataset(tiny_copy)
    assert [str(p) for p in caught.value.problems] == [str(p) for p in report.problems]


GOOD_CASES = [
    # (file, line, column, value written, value loaded)
    ("firms", 5, "role", " Supplier ", "supplier"),
    ("firms", 2, "country_of_origin", "jp", "JP"),
    ("firms", 2, "employees", "2,500", 2500),
    ("firms", 2, "employees", "2500.0", 2500),
    ("firms", 2, "founded", "1900", 1900),
    ("firms", 2, "founded", str(THIS_YEAR), THIS_YEAR),
    ("firms", 2, "listed", "No", False),
    ("firms", 2, "listed", "có", True),
    ("firms", 2, "listed", "", True),  # the contract's default
    ("demands", 2, "confidential", "", False),
    ("links", 2, "status", "", "active"),
    ("firms", 2, "name", "  Công   ty\tHoshino ", "Công ty Hoshino"),
    ("firms", 2, "tax_code", "0100000001", "0100000001"),  # text: leading zeros kept
]


@pytest.mark.parametrize(("name", "line", "column", "value", "loaded"), GOOD_CASES)
def test_good_cell(
    tiny_copy: Path, name: str, line: int, column: str, value: str, loaded: object
) -> None:
    set_cell(tiny_copy, name, line, column, value)
    dataset = load_dataset(tiny_copy)
    assert dataset.frame(name)[column].iloc[line - 2] == loaded


def test_outside_vietnam_is_a_warning_only(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "firms", 2, "lat", "35.68")
    set_cell(tiny_copy, "firms", 2, "lon", "139.69")
    report = validate_dataset(tiny_copy)
    expected = ["firms.csv:2: lat: warning: (35.6800, 139.6900) lies outside Vietnam"]
    assert [str(p) for p in report.problems] == expected
    assert report.ok
    assert report.errors == ()
    assert report.dataset is not None
    assert [str(p) for p in report.dataset.warnings] == expected
    assert report.dataset.firms.loc[0, "lat"] == pytest.approx(35.68)


def test_outside_vietnam_park_is_a_warning(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "parks", 3, "lat", "-33.9")
    assert messages(tiny_copy) == [
        "parks.csv:3: lat: warning: (-33.9000, 105.7731) lies outside Vietnam"
    ]


def test_lat_without_lon(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "firms", 4, "lon", "")
    set_cell(tiny_copy, "parks", 2, "lat", "")
    assert messages(tiny_copy) == [
        "firms.csv:4: lon: latitude and longitude must be given together",
        "parks.csv:2: lat: latitude and longitude must be given together",
    ]


# -- keys ------------------------------------------------------------------------------------
KEY_CASES = [
    ("terms", 3, "term=precision engineering"),
    ("firms", 9, "firm_id=S5"),
    ("parks", 2, "park_id=thang-long"),
    ("categories", 8, "category_id=printer"),
    ("category_inputs", 2, "input_category_id=pcb, output_category_id=pcba"),
    ("capabilities", 3, "firm_id=S1, category_id=pcb"),
    ("demands", 3, "firm_id=B1, category_id=stamp"),
    ("links", 4, "supplier_id=S2, buyer_id=B1, category_id=stamp"),
]


@pytest.mark.parametrize(("name", "first", "shown"), KEY_CASES)
def test_duplicate_key(tiny_copy: Path, name: str, first: int, shown: str) -> None:
    assert {name for name, _, _ in KEY_CASES} == {n for n in FILE_ORDER if CONTRACT[n].key}
    line = copy_row(tiny_copy, name, first)
    key = CONTRACT[name].key[0]
    assert messages(tiny_copy) == [
        f"{name}.csv:{line}: {key}: duplicate key ({shown}); first on line {first}"
    ]


def test_duplicate_key_only_differs_in_other_columns(tiny_copy: Path) -> None:
    line = append_row(tiny_copy, "capabilities", firm_id="S1", category_id="pcb", capacity="1")
    assert messages(tiny_copy) == [
        f"capabilities.csv:{line}: firm_id: duplicate key (firm_id=S1, category_id=pcb); "
        "first on line 3"
    ]


def test_links_without_category_share_one_key(tiny_copy: Path) -> None:
    append_row(tiny_copy, "links", supplier_id="S4", buyer_id="B2")
    line = append_row(tiny_copy, "links", supplier_id="S4", buyer_id="B2", since="2020")
    assert messages(tiny_copy) == [
        f"links.csv:{line}: supplier_id: duplicate key (supplier_id=S4, buyer_id=B2, "
        "category_id=); first on line 8"
    ]


def test_outcomes_have_no_key(tiny_copy: Path) -> None:
    copy_row(tiny_copy, "outcomes", 2)
    assert len(load_dataset(tiny_copy).outcomes) == 3


def test_keys_compare_after_normalisation(tiny_copy: Path) -> None:
    append_row(tiny_copy, "parks", park_id=" thang-long ", name="Thăng Long 2")
    assert messages(tiny_copy) == [
        "parks.csv:4: park_id: duplicate key (park_id=thang-long); first on line 2"
    ]


# -- references ------------------------------------------------------------------------------
REFERENCES = [(n, c, t, tc) for n in FILE_ORDER for c, t, tc in CONTRACT[n].references]


@pytest.mark.parametrize(("name", "column", "target", "target_column"), REFERENCES)
def test_unknown_reference(
    tiny_copy: Path, name: str, column: str, target: str, target_column: str
) -> None:
    set_cell(tiny_copy, name, 2, column, "ZZ")
    assert messages(tiny_copy) == [
        f"{name}.csv:2: {column}: 'ZZ' is not a {target_column} in {target}.csv"
    ]


def test_every_reference_is_covered() -> None:
    referencing = {(n, c) for n, c, _, _ in REFERENCES}
    assert ("firms", "park") in referencing
    assert ("links", "category_id") in referencing
    assert len(REFERENCES) == 13


# -- links and roles -------------------------------------------------------------------------
def test_link_from_a_buyer(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "links", 2, "supplier_id", "B2")
    assert messages(tiny_copy) == [
        "links.csv:2: supplier_id: firm 'B2' has role 'buyer', not supplier or both"
    ]


def test_link_to_a_supplier(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "links", 3, "buyer_id", "S4")
    assert messages(tiny_copy) == [
        "links.csv:3: buyer_id: firm 'S4' has role 'supplier', not buyer or both"
    ]


def test_link_roles_both_ways_at_once(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "links", 5, "supplier_id", "B1")
    set_cell(tiny_copy, "links", 5, "buyer_id", "S1")
    assert messages(tiny_copy) == [
        "links.csv:5: buyer_id: firm 'S1' has role 'supplier', not buyer or both",
        "links.csv:5: supplier_id: firm 'B1' has role 'buyer', not supplier or both",
    ]


def test_firm_with_role_both_may_supply_and_buy(tiny_copy: Path) -> None:
    append_row(tiny_copy, "links", supplier_id="T1", buyer_id="B2", category_id="pcba")
    append_row(tiny_copy, "links", supplier_id="S4", buyer_id="T1", category_id="pcb")
    assert messages(tiny_copy) == []


def test_bad_role_is_reported_once(tiny_copy: Path) -> None:
    # S1 supplies T1 on links.csv:3; its broken role must not also fail that link.
    set_cell(tiny_copy, "firms", 5, "role", "vendor")
    assert messages(tiny_copy) == [
        "firms.csv:5: role: 'vendor' is not one of: supplier, buyer, both"
    ]


def test_self_link(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "links", 2, "buyer_id", "T1")  # T1 is 'both': only the loop is wrong
    assert messages(tiny_copy) == ["links.csv:2: buyer_id: a firm cannot supply itself"]


# -- taxonomy --------------------------------------------------------------------------------
def test_parent_cycle(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "categories", 2, "parent_id", "pcba")
    assert messages(tiny_copy) == [
        "categories.csv:2: parent_id: parent_id forms a cycle: elec -> pcba -> elec"
    ]


def test_longer_parent_cycle_is_reported_once(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "categories", 5, "parent_id", "printer")
    set_cell(tiny_copy, "categories", 8, "parent_id", "screw")
    assert messages(tiny_copy) == [
        "categories.csv:5: parent_id: parent_id forms a cycle: metal -> printer -> screw -> metal"
    ]


def test_self_parent(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "categories", 5, "parent_id", "metal")
    assert messages(tiny_copy) == [
        "categories.csv:5: parent_id: parent_id forms a cycle: metal -> metal"
    ]


def test_category_input_self_loop(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "category_inputs", 3, "output_category_id", "pcba")
    assert messages(tiny_copy) == [
        "category_inputs.csv:3: output_category_id: a category cannot be an input to itself"
    ]


# -- encodings and CSV dialects --------------------------------------------------------------
def test_not_utf8(tiny_copy: Path) -> None:
    path = tiny_copy / "firms.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # Line 3 re-typed by a legacy Vietnamese Windows program: code page 1258 bytes.
    lines[2] = "B2,Công ty Cơ khí Hà,buyer,,,fdi,KR,,,,,,,,,,true,\n"
    lines[2] = lines[2].encode("cp1258")
    path.write_bytes(b"".join(x if isinstance(x, bytes) else x.encode("utf-8") for x in lines))
    assert messages(tiny_copy) == [
        "firms.csv:3: not valid UTF-8 (byte 0xf4); save the file as UTF-8 (Excel: 'CSV UTF-8')"
    ]


def test_not_utf8_after_a_byte_order_mark(tiny_copy: Path) -> None:
    path = tiny_copy / "links.csv"
    text = path.read_text(encoding="utf-8") + "S4,B2,pcb,2020,ended\n"
    path.write_bytes(codecs.BOM_UTF8 + text.replace("S4", "S\xe9").encode("latin-1"))
    assert messages(tiny_copy) == [
        "links.csv:8: not valid UTF-8 (byte 0xe9); save the file as UTF-8 (Excel: 'CSV UTF-8')"
    ]


def test_utf8_byte_order_mark(tiny_copy: Path, tiny: Path) -> None:
    for name in ("firms", "links"):
        path = tiny_copy / f"{name}.csv"
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    assert_loads_like_tiny(tiny_copy, tiny)
    set_cell(tiny_copy, "links", 3, "since", "1800")  # rewritten without the mark
    (tiny_copy / "links.csv").write_bytes(codecs.BOM_UTF8 + (tiny_copy / "links.csv").read_bytes())
    assert messages(tiny_copy) == [f"links.csv:3: since: year 1800 is outside 1900-{THIS_YEAR}"]


def test_utf16_tab_separated_from_excel_unicode_text(tiny_copy: Path, tiny: Path) -> None:
    path = tiny_copy / "firms.csv"
    rows = read_rows(path)
    text = "\r\n".join("\t".join(row) for row in rows) + "\r\n"
    path.write_bytes(text.encode("utf-16"))
    assert_loads_like_tiny(tiny_copy, tiny)


def _european(cell: str) -> str:
    return cell.replace(".", ",") if re.fullmatch(r"-?\d+\.\d+", cell) else cell


def test_semicolon_csv_from_european_excel(tiny_copy: Path, tiny: Path) -> None:
    # European (and Vietnamese) Excel: ';' between cells, ',' as the decimal mark.
    for name in ("firms", "parks", "capabilities"):
        path = tiny_copy / f"{name}.csv"
        rows = [[_european(cell) for cell in row] for row in read_rows(path)]
        write_rows(path, rows, delimiter=";")
    assert "21,1300" in (tiny_copy / "firms.csv").read_text(encoding="utf-8")
    assert_loads_like_tiny(tiny_copy, tiny)


def test_semicolon_csv_numbers(tiny_copy: Path) -> None:
    path = tiny_copy / "capabilities.csv"
    rows = read_rows(path)
    rows[1][2] = "20000,5"
    rows[2][2] = "1.250.000"
    rows[3][2] = "7.5"  # typed by hand with a point: still a decimal point
    rows[4][2] = "1.234,5"
    write_rows(path, rows, delimiter=";")
    capacity = load_dataset(tiny_copy).capabilities["capacity"].tolist()
    assert capacity[:4] == [20000.5, 1250000.0, 7.5, 1234.5]


def test_semicolon_csv_problems_keep_line_numbers(tiny_copy: Path) -> None:
    path = tiny_copy / "firms.csv"
    rows = read_rows(path)
    rows[6][rows[0].index("lat")] = "91,5"
    write_rows(path, [[_european(cell) for cell in row] for row in rows], delimiter=";")
    assert messages(tiny_copy) == ["firms.csv:7: lat: latitude 91,5 is outside -90..90"]


def test_crlf_line_endings(tiny_copy: Path, tiny: Path) -> None:
    for path in tiny_copy.glob("*.csv"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert_loads_like_tiny(tiny_copy, tiny)
    path = tiny_copy / "links.csv"
    path.write_bytes(path.read_bytes().replace(b"S3,B2", b"S3,S2"))
    assert messages(tiny_copy) == [
        "links.csv:5: buyer_id: firm 'S2' has role 'supplier', not buyer or both"
    ]


def test_multi_line_cell_counts_as_one_spreadsheet_row(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "firms", 2, "description", "Japanese\nprinter\nassembler")
    set_cell(tiny_copy, "firms", 8, "founded", "1850")
    # Physical line 10 of the file; row 8 in a spreadsheet.
    assert messages(tiny_copy) == [f"firms.csv:8: founded: year 1850 is outside 1900-{THIS_YEAR}"]
    set_cell(tiny_copy, "firms", 8, "founded", "2019")
    assert load_dataset(tiny_copy).firms.loc[0, "description"] == "Japanese printer assembler"


def test_blank_row_counts_as_a_spreadsheet_row(tiny_copy: Path) -> None:
    path = tiny_copy / "links.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(3, "\n")
    lines[6] = lines[6].replace("S5,B2", "S5,ZZ")
    path.write_text("".join(lines), encoding="utf-8")
    assert messages(tiny_copy) == ["links.csv:7: buyer_id: 'ZZ' is not a firm_id in firms.csv"]


def test_quotes_inside_cells(tiny_copy: Path) -> None:
    # An unquoted header, then a cell with an escaped quote and a comma, as Excel writes it.
    path = tiny_copy / "firms.csv"
    text = path.read_text(encoding="utf-8")
    text = text.replace("Japanese printer assembler", '"Makes ""good"" printers, and copiers"')
    path.write_text(text, encoding="utf-8")
    dataset = load_dataset(tiny_copy)
    assert dataset.firms.loc[0, "description"] == 'Makes "good" printers, and copiers'


def test_unterminated_quote_is_reported_not_swallowed(tiny_copy: Path) -> None:
    # Read leniently, the open quote would take the rows after it into one cell, silently.
    path = tiny_copy / "outcomes.csv"
    text = path.read_text(encoding="utf-8") + 'S2,B1,met,,,"never closed\nS3,B2,met,,,\n'
    path.write_text(text, encoding="utf-8")
    assert messages(tiny_copy) == ["outcomes.csv:4: unreadable CSV: unexpected end of data"]


# -- Unicode and normalisation ---------------------------------------------------------------
def test_decomposed_vietnamese_becomes_nfc(tiny_copy: Path, tiny: Path) -> None:
    path = tiny_copy / "firms.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    assert unicodedata.normalize("NFD", "Việt") in path.read_text(encoding="utf-8")
    dataset = load_dataset(tiny_copy)
    name = dataset.firms.loc[0, "name"]
    assert name == "Công ty TNHH Hoshino Việt Nam"
    assert unicodedata.is_normalized("NFC", name)
    assert dataset.fingerprint() == load_dataset(tiny).fingerprint()


def test_decomposed_ids_match_precomposed_references(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "parks", 2, "park_id", unicodedata.normalize("NFD", "thăng-long"))
    for line in (2, 4, 5):
        set_cell(tiny_copy, "firms", line, "park", "thăng-long")
    assert load_dataset(tiny_copy).parks.loc[0, "park_id"] == "thăng-long"


def test_certifications_are_normalised(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "firms", 3, "certifications", " iso 9001:2015 ; ISO9001; iatf 16949-2016")
    set_cell(tiny_copy, "demands", 2, "required_certifications", "Iso  14001:2015")
    dataset = load_dataset(tiny_copy)
    assert dataset.firms.loc[1, "certifications"] == ("ISO 9001", "IATF 16949")
    assert dataset.firms.loc[2, "certifications"] == ("ISO 9001", "IPC-A-610")  # tiny's own
    assert dataset.demands.loc[0, "required_certifications"] == ("ISO 14001",)


def test_lists_are_split_trimmed_and_deduplicated(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "firms", 2, "processes", " SMT assembly ;; final assembly;SMT assembly ")
    dataset = load_dataset(tiny_copy)
    assert dataset.firms.loc[0, "processes"] == ("SMT assembly", "final assembly")


# -- extra columns, export, round trip -------------------------------------------------------
def test_extra_columns_are_kept_and_written_back(tiny_copy: Path, tmp_path: Path) -> None:
    path = tiny_copy / "firms.csv"
    rows = read_rows(path)
    rows[0].append("ghi_chu")
    for number, row in enumerate(rows[1:], start=2):
        row.append(f"ghi chú {number}")
    write_rows(path, rows)
    dataset = load_dataset(tiny_copy)
    assert list(dataset.firms.columns) == [*CONTRACT["firms"].column_names, "ghi_chu"]
    assert dataset.firms.loc[0, "ghi_chu"] == "ghi chú 2"

    out = tmp_path / "out"
    dataset.to_dir(out)
    assert read_rows(out / "firms.csv")[0][-1] == "ghi_chu"
    again = load_dataset(out)
    assert again.firms["ghi_chu"].tolist() == dataset.firms["ghi_chu"].tolist()
    assert again.fingerprint() == dataset.fingerprint()


def test_round_trip_through_to_dir(tiny: Path, tmp_path: Path) -> None:
    dataset = load_dataset(tiny)
    written = dataset.to_dir(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(f"{n}.csv" for n in FILE_ORDER)
    again = load_dataset(tmp_path / "out")
    assert again.fingerprint() == dataset.fingerprint()
    pd.testing.assert_frame_equal(again.firms, dataset.firms)


def test_fingerprint_ignores_row_order(tiny_copy: Path, tiny: Path) -> None:
    path = tiny_copy / "links.csv"
    rows = read_rows(path)
    write_rows(path, [rows[0], *reversed(rows[1:])])
    assert_loads_like_tiny(tiny_copy, tiny)


# -- many problems at once -------------------------------------------------------------------
def test_several_faults_are_all_reported_sorted(tiny_copy: Path) -> None:
    set_cell(tiny_copy, "links", 7, "buyer_id", "B9")
    set_cell(tiny_copy, "firms", 9, "founded", "1700")
    set_cell(tiny_copy, "firms", 3, "role", "")
    set_cell(tiny_copy, "firms", 3, "lat", "95")
    set_cell(tiny_copy, "categories", 6, "parent_id", "stamp")
    copy_row(tiny_copy, "capabilities", 2)
    set_cell(tiny_copy, "firms", 6, "lat", "1.3")  # Singapore: a warning among the errors
    set_cell(tiny_copy, "firms", 6, "lon", "103.8")
    (tiny_copy / "outcomes.csv").write_text("")
    expected = [
        "capabilities.csv:8: firm_id: duplicate key (firm_id=T1, category_id=pcba); "
        "first on line 2",
        "categories.csv:6: parent_id: parent_id forms a cycle: stamp -> stamp",
        "firms.csv:3: lat: latitude 95 is outside -90..90",
        "firms.csv:3: role: required value is empty",
        "firms.csv:6: lat: warning: (1.3000, 103.8000) lies outside Vietnam",
        f"firms.csv:9: founded: year 1700 is outside 1900-{THIS_YEAR}",
        "links.csv:7: buyer_id: 'B9' is not a firm_id in firms.csv",
        "outcomes.csv: file is empty (no header row)",
    ]
    report = validate_dataset(tiny_copy)
    assert [str(p) for p in report.problems] == expected
    assert report.dataset is None
    with pytest.raises(DatasetError) as caught:
        load_dataset(tiny_copy)
    errors = [e for e in expected if ": warning: " not in e]
    assert [str(p) for p in caught.value.problems] == errors
    assert str(caught.value) == f"{len(errors)} problem(s) in the dataset:\n" + "\n".join(errors)


# -- XLSX workbooks --------------------------------------------------------------------------
_NUMERIC = {"int", "float", "year", "lat", "lon"}


def _excel_value(kind: str, cell: str) -> object:
    """A cell as Excel would hold it: numbers as numbers, booleans as booleans."""
    if cell and kind in _NUMERIC:
        return float(cell) if "." in cell else int(cell)
    if cell and kind == "bool":
        return cell == "true"
    if cell and kind == "date":
        return dt.datetime.fromisoformat(cell)
    return cell or None


def write_workbook(
    folder: Path,
    path: Path,
    edit: Callable[[openpyxl.Workbook], None] | None = None,
    titles: dict[str, str] | None = None,
) -> Path:
    """One sheet per CSV file of ``folder``, named like the file (or as ``titles`` says)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in FILE_ORDER:
        source = folder / f"{name}.csv"
        if not source.exists():
            continue
        rows = read_rows(source)
        sheet = book.create_sheet((titles or {}).get(name, name))
        sheet.append(rows[0])
        kinds = [CONTRACT[name].column(h).kind for h in rows[0]]
        for row in rows[1:]:
            sheet.append([_excel_value(k, c) for k, c in zip(kinds, row, strict=True)])
    if edit is not None:
        edit(book)
    book.save(path)
    return path


def test_workbook_loads_like_the_csv_folder(tiny: Path, tmp_path: Path) -> None:
    path = write_workbook(tiny, tmp_path / "tiny.xlsx")
    assert_loads_like_tiny(path, tiny)


def test_folder_holding_one_workbook(tiny: Path, tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    write_workbook(tiny, folder / "world.xlsx")
    assert_loads_like_tiny(folder, tiny)


def test_workbook_sheet_names_are_matched_loosely(tiny: Path, tmp_path: Path) -> None:
    titles = {"firms": "Firms", "links": "links.csv", "parks": " PARKS "}
    path = write_workbook(tiny, tmp_path / "tiny.xlsx", titles=titles)
    assert_loads_like_tiny(path, tiny)


def test_workbook_problems_name_sheet_and_row(tiny: Path, tmp_path: Path) -> None:
    def break_cells(book: openpyxl.Workbook) -> None:
        book["firms"]["I3"] = "north"  # lat of B2, spreadsheet row 3
        book["links"]["A4"] = "XX"  # supplier of S2>B1, row 4
        book["categories"].insert_rows(1)  # a blank row above the header shifts every row
        book["categories"]["D3"] = "pcb"  # elec's parent: row 3 after the shift

    path = write_workbook(tiny, tmp_path / "world.xlsx", break_cells)
    assert messages(path) == [
        "world.xlsx[categories]:3: parent_id: parent_id forms a cycle: elec -> pcb -> elec",
        "world.xlsx[firms]:3: lat: 'north' is not a number",
        "world.xlsx[links]:4: supplier_id: 'XX' is not a firm_id in world.xlsx[firms]",
    ]


def test_workbook_missing_sheet(tiny: Path, tmp_path: Path) -> None:
    def drop(book: openpyxl.Workbook) -> None:
        del book["links"]

    path = write_workbook(tiny, tmp_path / "world.xlsx", drop)
    assert messages(path) == ["world.xlsx[links]: required sheet is missing"]


def test_workbook_duplicate_header(tiny: Path, tmp_path: Path) -> None:
    def dup(book: openpyxl.Workbook) -> None:
        book["links"]["D1"] = "supplier_id"

    path = write_workbook(tiny, tmp_path / "world.xlsx", dup)
    assert messages(path) == [
        "world.xlsx[links]:1: supplier_id: duplicate header (columns 1 and 4)"
    ]


def test_damaged_workbook(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    errors = messages(path)
    assert errors[0].startswith("broken.xlsx: not a readable XLSX workbook")


# -- in-memory frames: the same checks -------------------------------------------------------
def test_from_frames_runs_the_same_checks() -> None:
    firms = pd.DataFrame(
        {"firm_id": ["s1", "b1"], "name": ["A", "B"], "role": ["supplier", "customer"]}
    )
    links = pd.DataFrame({"supplier_id": ["s1", "b1"], "buyer_id": ["b1", "x"]})
    with pytest.raises(DatasetError) as caught:
        Dataset.from_frames(firms=firms, links=links)
    assert [str(p) for p in caught.value.problems] == [
        "firms:3: role: 'customer' is not one of: supplier, buyer, both",
        "links:3: buyer_id: 'x' is not a firm_id in firms",
    ]


def test_from_frames_accepts_missing_values_and_lists() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": ["s1", "b1"],
            "name": ["A", "B"],
            "role": ["supplier", "buyer"],
            "name_en": ["A Ltd", float("nan")],
            "tax_code": [None, pd.NA],
            "processes": [["stamping", "welding"], None],
            "certifications": [("iso 9001:2015",), ()],
            "employees": [10, None],
        }
    )
    links = pd.DataFrame({"supplier_id": ["s1"], "buyer_id": ["b1"]})
    dataset = Dataset.from_frames(firms=firms, links=links)
    assert dataset.firms["name_en"].tolist() == ["A Ltd", ""]
    assert dataset.firms["tax_code"].tolist() == ["", ""]
    assert dataset.firms["processes"].tolist() == [("stamping", "welding"), ()]
    assert dataset.firms["certifications"].tolist() == [("ISO 9001",), ()]
    assert dataset.firms["employees"].tolist() == [10, pd.NA]


def test_from_frames_rejects_unknown_files() -> None:
    with pytest.raises(ValueError, match="unknown contract file"):
        Dataset.from_frames(suppliers=pd.DataFrame())


_IDS = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,6}", fullmatch=True)
_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")), min_size=1, max_size=20
).filter(lambda s: s.split() != [])
_OWNERSHIP = st.sampled_from(["domestic", "soe", "jv", "fdi", ""])
_CERTS = st.lists(
    st.sampled_from(["ISO 9001", "iso 9001:2015", "IATF16949", "oeko-tex", "GOTS", "ISO14001"]),
    max_size=3,
).map(";".join)


@st.composite
def firms_and_links(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = draw(st.lists(_IDS, min_size=2, max_size=8, unique=True))
    n = len(ids)
    roles = draw(st.lists(st.sampled_from(["supplier", "buyer", "both"]), min_size=n, max_size=n))
    located = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    firms = pd.DataFrame(
        {
            "firm_id": ids,
            "name": draw(st.lists(_TEXT, min_size=n, max_size=n)),
            "role": roles,
            "ownership": draw(st.lists(_OWNERSHIP, min_size=n, max_size=n)),
            "lat": [draw(st.floats(8.5, 23.0)) if here else None for here in located],
            "lon": [draw(st.floats(102.5, 109.5)) if here else None for here in located],
            "employees": draw(st.lists(st.none() | st.integers(0, 10**6), min_size=n, max_size=n)),
            "founded": draw(
                st.lists(st.none() | st.integers(1900, THIS_YEAR), min_size=n, max_size=n)
            ),
            "certifications": draw(st.lists(_CERTS, min_size=n, max_size=n)),
            "listed": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
            "description": draw(st.lists(_TEXT | st.just(""), min_size=n, max_size=n)),
        }
    )
    suppliers = [i for i, r in zip(ids, roles, strict=True) if r in graph.SUPPLIER_ROLES]
    buyers = [i for i, r in zip(ids, roles, strict=True) if r in graph.BUYER_ROLES]
    pairs = [(s, b) for s in suppliers for b in buyers if s != b]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=10)) if pairs else []
    links = pd.DataFrame(
        {
            "supplier_id": [s for s, _ in chosen],
            "buyer_id": [b for _, b in chosen],
            "since": draw(
                st.lists(st.integers(1990, THIS_YEAR), min_size=len(chosen), max_size=len(chosen))
            ),
        }
    )
    return firms, links


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(firms_and_links())
def test_random_valid_frames_load_and_round_trip(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    firms, links = frames
    dataset = Dataset.from_frames(firms=firms, links=links)
    assert dataset.warnings == ()
    assert len(dataset.firms) == len(firms)
    assert len(dataset.links) == len(links)
    assert set(dataset.links["status"]) <= {"active"}
    for certs in dataset.firms["certifications"]:
        assert all(c in INTERNATIONAL_CERTIFICATIONS for c in certs)
    with tempfile.TemporaryDirectory() as out:
        dataset.to_dir(out)
        again = load_dataset(out)
    assert again.fingerprint() == dataset.fingerprint()
    assert again.firms["name"].tolist() == dataset.firms["name"].tolist()


# -- the documentation follows the contract --------------------------------------------------
_KIND_WORDS = {
    "id": "text key",
    "text": "text",
    "int": "whole number",
    "float": "number",
    "bool": "true/false",
    "year": "year (1900 to this year)",
    "list": "`;`-separated list",
    "certs": "`;`-separated certifications",
    "choice": "one of a list",
    "country": "ISO 3166 alpha-2",
    "lat": "latitude (WGS84)",
    "lon": "longitude (WGS84)",
    "date": "date (YYYY-MM-DD)",
}


def contract_rows(name: str) -> list[tuple[str, str, str, str]]:
    """Column, type, allowed values and (contract) meaning of each column, as the doc shows them."""
    rows = []
    for column in CONTRACT[name].columns:
        shown = f"**{column.name}**" if column.required else column.name
        allowed = ", ".join(f"`{c}`" for c in column.choices)
        if column.minimum is not None:
            allowed = f"≥ {column.minimum:g}"
        if column.default not in (None, "", ()):
            default = str(column.default).lower()
            allowed = f"{allowed}; default `{default}`" if allowed else f"default `{default}`"
        rows.append((shown, _KIND_WORDS[column.kind], allowed, column.doc))
    return rows


def _section(doc: str, name: str) -> str:
    match = re.search(rf"^### `{name}\.csv`.*?(?=^### |^## |\Z)", doc, flags=re.S | re.M)
    assert match, f"docs/data-contract.md has no '### `{name}.csv`' section"
    return match.group(0)


def _table(section: str) -> list[list[str]]:
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines[:2] == ["| Column | Type | Allowed values | Meaning |", "|---|---|---|---|"]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


@pytest.mark.parametrize("name", FILE_ORDER)
def test_doc_column_table_matches_contract(name: str) -> None:
    section = _section(DOC.read_text(encoding="utf-8"), name)
    documented = _table(section)
    expected = contract_rows(name)
    shown = "\n".join(f"| {c} | {t} | {a} | {m} |" for c, t, a, m in expected)
    assert [row[:3] for row in documented] == [list(row[:3]) for row in expected], (
        f"the table of {name}.csv has drifted from graph.CONTRACT; it should read:\n{shown}"
    )
    for row, (_, _, _, meaning) in zip(documented, expected, strict=True):
        assert meaning in row[3] and row[3], f"{name}.csv: {row[0]} needs its meaning: {meaning!r}"
    spec = CONTRACT[name]
    assert ("**Required file.**" in section) == spec.required
    key = ", ".join(f"`{k}`" for k in spec.key) or "none"
    assert f"Re-load key: {key}\n" in section


def test_doc_lists_local_ownerships_and_certifications() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for ownership in LOCAL_OWNERSHIPS:
        assert f"`{ownership}`" in doc
    for certification in INTERNATIONAL_CERTIFICATIONS:
        assert f"`{certification}`" in doc
    listed = re.findall(r"^- `([^`]+)`$", doc, flags=re.M)
    assert sorted(listed) == sorted(INTERNATIONAL_CERTIFICATIONS)


def test_blank_lines_before_the_header_keep_spreadsheet_line_numbers(tmp_path):
    (tmp_path / "firms.csv").write_text("\n\nfirm_id,name,role\nA,Alpha,supplier\nB,,buyer\n")
    (tmp_path / "links.csv").write_text("supplier_id,buyer_id\nA,B\n")
    report = graph.validate_dataset(tmp_path)
    assert [str(p) for p in report.problems] == ["firms.csv:5: name: required value is empty"]
