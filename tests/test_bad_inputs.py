"""Bad input, as a clumsy user and a careful attacker send it (issue 11, items 6-13).

Every case runs on SQLite and on PostgreSQL (``backend``). Whatever arrives, the answer names
the file, sheet, row, field and reason; never a traceback, a 500 or a half-written database.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ketnoi import graph, programme
from ketnoi.api import storage
from ketnoi.api.service import ServiceSettings, create_app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"
NUL = "\x00"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# -- files ----------------------------------------------------------------------------------------
def zip_of(folder: Path, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for path in sorted(folder.glob("*.csv")):
            archive.write(path, path.name)
    return buffer.getvalue()


def damage(data: bytes, member: str) -> bytes:
    """``data`` with bytes in the middle of ``member``'s stored data flipped (headers intact)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    # The local header: 30 bytes, then the name and the extra field, then the data.
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    middle = start + info.compress_size // 2
    damaged = bytearray(data)
    for i in range(middle, middle + 4):
        damaged[i] ^= 0xFF
    return bytes(damaged)


def workbook_of(folder: Path, out: Path) -> Path:
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for path in sorted(folder.glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=path.stem, index=False)
    return out


def with_dimension(workbook: Path, sheet: str, ref: str, out: Path) -> Path:
    """A copy of ``workbook`` whose ``sheet`` claims the dimension ``ref``."""
    with zipfile.ZipFile(workbook) as source:
        names = source.namelist()
        sheets = re.findall(r'<sheet [^>]*name="([^"]+)"', source.read("xl/workbook.xml").decode())
        target = f"xl/worksheets/sheet{sheets.index(sheet) + 1}.xml"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as sink:
            for name in names:
                data = source.read(name)
                if name == target:
                    data = re.sub(
                        rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data
                    )
                sink.writestr(name, data)
    return out


def edit_csv(folder: Path, name: str, line: int, column: str, value: str) -> None:
    frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    frame.loc[line - 2, column] = value
    frame.to_csv(folder / name, index=False)


# -- the service on each backend ------------------------------------------------------------------
@pytest.fixture
def service(
    backend: str, tmp_path: Path, open_database: Any, table_fingerprint: Any
) -> Iterator[dict[str, Any]]:
    os.environ.pop("KETNOI_SECRET", None)
    with open_database(backend, tmp_path / "db") as engine:
        storage.load_into(engine, graph.load_dataset(TINY))
        key = storage.create_key(engine, "staff")
        settings = ServiceSettings(data_dir=tmp_path / "db", precompute=False, evaluate=False)
        app = create_app(settings, engine=engine)
        with TestClient(app, raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            yield {"client": client, "engine": engine, "fingerprint": table_fingerprint}


def upload(client: TestClient, name: str, data: bytes) -> Any:
    return client.post("/v1/imports", files={"file": (name, data)})


def refused_unchanged(service: dict[str, Any], name: str, data: bytes) -> dict[str, Any]:
    """Upload, expect a 422 in the import's JSON, and the database untouched."""
    before = service["fingerprint"](service["engine"])
    response = upload(service["client"], name, data)
    assert response.status_code == 422, (response.status_code, response.text)
    body = response.json()
    assert body["ok"] is False and body["problems"], body
    assert "Traceback" not in response.text
    assert service["fingerprint"](service["engine"]) == before, "a refused import wrote rows"
    return body


# -- 6. damaged zip files -------------------------------------------------------------------------
@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_damaged_zip_member_is_a_422_naming_it(service: dict[str, Any], method: int) -> None:
    data = damage(zip_of(TINY, method), "firms.csv")  # flipped deflate bytes; or a bad CRC
    body = refused_unchanged(service, "world.zip", data)
    assert "firms.csv" in body["detail"] and "damaged" in body["detail"], body
    assert any("'firms.csv' is damaged" in p["reason"] for p in body["problems"]), body


def test_a_damaged_workbook_part_is_a_422_naming_it(
    service: dict[str, Any], tmp_path: Path
) -> None:
    book = workbook_of(TINY, tmp_path / "world.xlsx").read_bytes()
    body = refused_unchanged(service, "world.xlsx", damage(book, "xl/worksheets/sheet1.xml"))
    assert "xl/worksheets/sheet1.xml" in body["detail"], body


def test_validate_reports_a_damaged_sheet_by_name(tmp_path: Path) -> None:
    book = workbook_of(TINY, tmp_path / "world.xlsx")
    (tmp_path / "bad.xlsx").write_bytes(damage(book.read_bytes(), "xl/worksheets/sheet3.xml"))
    report = graph.validate_dataset(tmp_path / "bad.xlsx")
    assert not report.ok
    # The damaged part is named (openpyxl reads each sheet's head while opening the book).
    assert any("sheet3.xml" in p.reason or p.file.startswith("bad.xlsx[") for p in report.errors)


# -- 7. a workbook's <dimension> ------------------------------------------------------------------
def _validate_in_a_child(path: Path, timeout: float = 30) -> str:
    """``ketnoi validate --json`` in a process of its own, killed after ``timeout`` s."""
    command = [sys.executable, "-m", "ketnoi.api.cli", "validate", str(path), "--json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"validate took more than {timeout} s")
    return done.stdout + done.stderr


def test_a_huge_claimed_dimension_is_read_by_the_real_rows(
    service: dict[str, Any], tmp_path: Path
) -> None:
    import openpyxl

    # A sheet of notes (read, as every sheet is, though no contract file) of 20,000 short rows
    # claiming to be A1:XFD1048576: padded to the claim, 330 million cells (minutes of CPU).
    book = openpyxl.load_workbook(workbook_of(TINY, tmp_path / "world.xlsx"))
    notes = book.create_sheet("notes")
    for row in range(1, 20_001):
        notes.cell(row=row, column=1, value="x")
    book.save(tmp_path / "world.xlsx")
    huge = with_dimension(tmp_path / "world.xlsx", "notes", "A1:XFD1048576", tmp_path / "huge.xlsx")
    assert huge.stat().st_size < 300_000
    assert '"ok": true' in _validate_in_a_child(huge, timeout=30)
    started = time.monotonic()
    assert graph.load_dataset(huge).fingerprint() == graph.load_dataset(TINY).fingerprint()
    assert time.monotonic() - started < 8
    started = time.monotonic()
    response = upload(service["client"], "huge.xlsx", huge.read_bytes())
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 20


def test_a_stale_dimension_drops_no_row(tmp_path: Path) -> None:
    book = workbook_of(TINY, tmp_path / "world.xlsx")
    stale = with_dimension(book, "firms", "A1:C2", tmp_path / "stale.xlsx")
    assert graph.load_dataset(stale).fingerprint() == graph.load_dataset(TINY).fingerprint()


def test_a_sheet_past_the_cell_budget_is_a_problem_not_a_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl

    from ketnoi.graph import _read

    book = openpyxl.load_workbook(workbook_of(TINY, tmp_path / "world.xlsx"))
    for row in range(2, 40):  # stray cells far to the right: each row 16,384 cells wide
        book["links"].cell(row=row, column=16384, value="x")
    book.save(tmp_path / "wide.xlsx")
    monkeypatch.setattr(_read, "MAX_SHEET_CELLS", 100_000)
    report = graph.validate_dataset(tmp_path / "wide.xlsx")
    assert not report.ok
    [problem] = [p for p in report.errors if p.file == "wide.xlsx[links]"]
    assert "more than 100,000 cells" in problem.reason and problem.line is not None


def test_cells_past_the_header_are_reported_not_dropped(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(workbook_of(TINY, tmp_path / "world.xlsx"))
    width = book["firms"].max_column
    book["firms"].cell(row=3, column=width + 2, value="a note")
    book.save(tmp_path / "notes.xlsx")
    report = graph.validate_dataset(tmp_path / "notes.xlsx")
    assert [(p.file, p.line) for p in report.errors] == [("notes.xlsx[firms]", 3)]


# -- 8. NUL characters ----------------------------------------------------------------------------
def test_nul_in_a_body_is_a_422_naming_the_field(service: dict[str, Any]) -> None:
    client = service["client"]
    before = service["fingerprint"](service["engine"])
    firm = {"firm_id": "nul-1", "name": f"Công ty{NUL}X", "role": "buyer"}
    response = client.post("/v1/firms", json=firm)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "name"]
    assert "name" in response.json()["detail"] and "NUL" in response.json()["detail"]
    response = client.patch("/v1/firms/B1", json={"sector": NUL})
    assert response.status_code == 422 and "sector" in response.json()["detail"], response.text
    assert service["fingerprint"](service["engine"]) == before


def test_nul_in_a_query_or_path_is_a_422_naming_it(service: dict[str, Any]) -> None:
    client = service["client"]
    response = client.get("/v1/firms", params={"sector": f"electronics{NUL}"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "sector"]
    response = client.get("/v1/firms/B1%00")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["path", "firm_id"]
    response = client.patch("/v1/firms/B1%00x", json={"sector": "x"})
    assert response.status_code == 422 and "firm_id" in response.json()["detail"]


def test_nul_in_an_imported_cell_names_file_row_and_column(
    service: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "nul"
    shutil.copytree(TINY, folder)
    edit_csv(folder, "firms.csv", 3, "name", f"Công ty{NUL}B2")
    report = graph.validate_dataset(folder)
    assert [(p.file, p.line, p.column) for p in report.errors] == [("firms.csv", 3, "name")]
    assert "NUL" in report.errors[0].reason
    body = refused_unchanged(service, "nul.zip", zip_of(folder))
    assert [(p["file"], p["line"], p["column"]) for p in body["problems"]] == [
        ("firms.csv", 3, "name")
    ]


# -- 9. Unicode normalisation ---------------------------------------------------------------------
def test_nfd_text_in_requests_means_the_same_as_nfc(service: dict[str, Any]) -> None:
    client = service["client"]
    sector, firm_id = "cơ khí chính xác", "cơ-khí-đông-anh"
    created = client.post(
        "/v1/firms",
        json={"firm_id": nfd(firm_id), "name": nfd("Cơ khí Đông Anh"), "role": "supplier"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["firm_id"] == firm_id  # stored NFC
    assert client.patch(f"/v1/firms/{firm_id}", json={"sector": sector}).status_code == 200
    response = client.get(f"/v1/firms/{nfd(firm_id)}")
    assert response.status_code == 200, response.text
    found = client.get("/v1/firms", params={"sector": nfd(sector)}).json()
    assert [f["firm_id"] for f in found["items"]] == [firm_id]


def test_nfd_text_in_an_imported_file_is_stored_nfc(
    service: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "nfd"
    shutil.copytree(TINY, folder)
    edit_csv(folder, "firms.csv", 2, "sector", nfd("điện tử"))
    response = upload(service["client"], "nfd.zip", zip_of(folder))
    assert response.status_code == 200, response.text
    found = service["client"].get("/v1/firms", params={"sector": "điện tử"}).json()
    assert [f["firm_id"] for f in found["items"]] == ["B1"]


# -- 10. event limits, one place ------------------------------------------------------------------
def test_schedule_is_held_to_the_routes_limits(tmp_path: Path) -> None:
    from ketnoi.api.cli import app
    from ketnoi.api.service import _schemas_events

    assert programme.EVENT_LIMITS.slots == _schemas_events.MAX_SLOTS
    assert programme.EVENT_LIMITS.tables == _schemas_events.MAX_TABLES
    participants = tmp_path / "people.csv"
    participants.write_text("firm_id\nB1\nS1\n")
    for option in ("--slots", "--tables"):
        args = ["schedule", str(TINY), "--participants", str(participants)]
        args += ["--slots", "4", "--tables", "4", "--max-meetings", "2"]
        args[args.index(option) + 1] = "100000"
        started = time.monotonic()
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert f"{option} must be at most" in result.output
        assert time.monotonic() - started < 5
    spec = programme.EventSpec(
        participants=(programme.Participant("B1", "buyer"),),
        slots=100000,
        tables=3,
        max_meetings=2,
    )
    with pytest.raises(programme.EventError, match="at most 48"):
        programme.schedule_event(spec, None, graph.load_dataset(TINY))  # type: ignore[arg-type]


# -- 12. a server error is JSON -------------------------------------------------------------------
def test_a_server_error_has_the_json_error_shape(service: dict[str, Any]) -> None:
    # A real failure below the routes: the table the route reads is gone.
    with service["engine"].begin() as connection:
        connection.exec_driver_sql("DROP TABLE capabilities")
    response = service["client"].get("/v1/capabilities")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"detail"}
    assert "capabilities" not in response.json()["detail"]  # no SQL, no traceback


# -- 13. demo keys, file modes, stale uploads -----------------------------------------------------
def test_the_demo_key_is_kept_and_expires(tmp_path: Path, open_database: Any) -> None:
    from ketnoi.api._cli_serve import DEMO_KEY_FILE, demo_key

    with open_database("sqlite", tmp_path) as engine:
        first, kept = demo_key(engine, tmp_path)
        assert not kept
        again, kept = demo_key(engine, tmp_path)
        assert (again, kept) == (first, True)
        info = storage.verify_key(engine, first)
        assert info is not None and info.expires_at is not None
        assert stat.S_IMODE((tmp_path / DEMO_KEY_FILE).stat().st_mode) == 0o600
        (tmp_path / DEMO_KEY_FILE).unlink()  # lost: a new key, and the old one stops working
        new, kept = demo_key(engine, tmp_path)
        assert new != first and not kept
        assert storage.verify_key(engine, first) is None


def test_the_database_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        engine = storage.make_engine(data_dir=tmp_path / "data")
        storage.upgrade(engine)
        storage.load_into(engine, graph.load_dataset(TINY))
        engine.dispose()
    finally:
        os.umask(old)
    for path in (tmp_path / "data").glob("ketnoi.db*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_uploads_left_by_a_killed_import_are_removed_at_start(
    service: dict[str, Any], tmp_path: Path
) -> None:
    from ketnoi.api.service._routes_imports import clean_stale_uploads

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    stale = Path(tempfile.gettempdir()) / f"ketnoi-import-{gone}-test"
    live = tmp_path / f"ketnoi-import-{os.getpid()}-live"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "demands.csv").write_text("confidential\n")
    try:
        app = create_app(
            ServiceSettings(data_dir=tmp_path, precompute=False, evaluate=False),
            engine=service["engine"],
        )
        with TestClient(app):
            assert not stale.exists()
        assert clean_stale_uploads(tmp_path) == [] and live.exists()
        os.utime(live, (0, 0))  # a day old: stale whoever made it
        assert clean_stale_uploads(tmp_path) == [live]
    finally:
        shutil.rmtree(stale, ignore_errors=True)
