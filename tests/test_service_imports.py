"""Imports over HTTP: a zip of CSV files or an XLSX workbook, validated as the CLI validates,
loaded all or nothing, bounded in size, and never unpacked outside its folder."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.cli import app as cli_app
from ketnoi.api.service import _routes_imports

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def service(tmp_path: Path, start_service: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """A service of each test's own: an import replaces the data."""
    with start_service(tmp_path, precompute=False) as running:
        yield running


def auth(service: dict[str, Any], role: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys'][role]}"} if role else {}


def tiny_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(TINY.glob("*.csv"))}


def zip_of(files: dict[str, str | bytes], links: dict[str, str] | None = None) -> bytes:
    """A zip holding ``files`` (name -> content) and symbolic links (name -> target)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16) | 0x20
            archive.writestr(info, target)
    return buffer.getvalue()


def upload(
    service: dict[str, Any],
    data: bytes,
    name: str = "tiny.zip",
    role: str | None = "staff",
    **params: Any,
) -> Any:
    kind = XLSX if name.endswith(".xlsx") else "application/zip"
    return service["client"].post(
        "/v1/imports",
        headers=auth(service, role),
        files={"file": (name, data, kind)},
        params=params,
    )


def row_counts(engine: Any) -> dict[str, tuple[int, int]]:
    """Per table: all rows and live rows (the audit log included)."""
    out = {}
    with Session(engine) as session:
        for model in [*storage._models.CONTRACT_MODELS.values(), storage.AuditEntry]:
            total = session.scalar(select(func.count()).select_from(model)) or 0
            live = total
            if hasattr(model, "deleted_at"):
                query = select(func.count()).select_from(model).where(model.deleted_at.is_(None))
                live = session.scalar(query) or 0
            out[model.__tablename__] = (total, live)
    return out


def cli_problems(source: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli_app, ["validate", str(source), "--json"])
    problems: list[dict[str, Any]] = json.loads(result.stdout)["problems"]
    return problems


WITH_S9 = {
    "firms.csv": "S9,Công ty TNHH Nhựa Bắc Ninh,supplier" + "," * 15 + "\n",
    "links.csv": "S9,B2,,2023,active\n",
}


def tiny_plus_s9() -> dict[str, str]:
    files = tiny_files()
    for name, line in WITH_S9.items():
        files[name] = files[name] + line
    return files


# -- roles ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "code"), [(None, 401), ("analyst", 403), ("firm_b1", 403)])
def test_only_staff_may_import(service: dict[str, Any], role: str | None, code: int) -> None:
    before = row_counts(service["engine"])
    response = upload(service, zip_of(tiny_plus_s9()), role=role)
    assert response.status_code == code
    assert response.json()["detail"]
    assert row_counts(service["engine"]) == before


# -- good uploads ---------------------------------------------------------------------------------
def test_good_zip_loads_and_is_audited(service: dict[str, Any]) -> None:
    response = upload(service, zip_of(tiny_plus_s9()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"]["firms"] == {"inserted": 1, "updated": 0, "unchanged": 8, "deleted": 0}
    assert body["counts"]["links"]["inserted"] == 1 and body["source"] == "tiny.zip"
    loaded = storage.dataset_from_db(service["engine"])
    assert "S9" in set(loaded.firms["firm_id"])
    audit = service["client"].get(
        "/v1/audit", headers=auth(service, "staff"), params={"entity": "dataset"}
    )
    entry = audit.json()["items"][0]
    assert entry["action"] == "load" and entry["actor_role"] == "staff"
    assert entry["detail"]["source"] == "upload:tiny.zip"
    assert entry["detail"]["counts"]["firms"]["inserted"] == 1
    assert entry["entity_key"] == body["fingerprint"]  # the uploaded dataset's fingerprint


def test_csv_files_in_one_folder_and_a_raw_body(service: dict[str, Any]) -> None:
    files = {f"tiny/{name}": text for name, text in tiny_plus_s9().items()}
    files["tiny/README.txt"] = "ignored"
    files["__MACOSX/tiny/._firms.csv"] = "ignored"
    assert upload(service, zip_of(files)).status_code == 200
    raw = service["client"].post(
        "/v1/imports",
        headers={**auth(service, "staff"), "Content-Type": "application/zip"},
        content=zip_of(tiny_files()),
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["counts"]["firms"] == {
        "inserted": 0,
        "updated": 0,
        "unchanged": 8,
        "deleted": 0,
    }


def test_xlsx_workbook_imports(service: dict[str, Any], tmp_path: Path) -> None:
    workbook = tmp_path / "world.xlsx"
    with pd.ExcelWriter(workbook, engine="openpyxl") as writer:
        for name, text in tiny_plus_s9().items():
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=name.removesuffix(".csv"), index=False)
    response = upload(service, workbook.read_bytes(), "world.xlsx")
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["firms"]["inserted"] == 1


def test_replace_soft_deletes_what_the_upload_lacks(service: dict[str, Any]) -> None:
    files = {
        name: "\n".join(line for line in text.splitlines() if "S5" not in line) + "\n"
        for name, text in tiny_files().items()
    }
    kept = upload(service, zip_of(files))
    assert kept.json()["counts"]["firms"]["deleted"] == 0
    replaced = upload(service, zip_of(files), replace="true")
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["counts"]["firms"]["deleted"] == 1
    assert "S5" not in set(storage.dataset_from_db(service["engine"]).firms["firm_id"])


# -- refused uploads ------------------------------------------------------------------------------
BROKEN_FIRMS = (
    "firm_id,name,role,lat,lon\n"
    "B1,Hoshino,buyer,21.13,105.78\n"
    "S1,Mạch in,king,21.14,\n"
    "S1,Mạch in lần hai,supplier,91,105\n"
)


def test_broken_zip_reports_every_problem_as_the_cli_does(
    service: dict[str, Any], tmp_path: Path
) -> None:
    files = {"firms.csv": BROKEN_FIRMS, "links.csv": "supplier_id,buyer_id\nS1,B9\n"}
    before = row_counts(service["engine"])
    response = upload(service, zip_of(files))
    assert response.status_code == 422
    body = response.json()
    folder = tmp_path / "broken"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    expected = cli_problems(folder)
    assert body["problems"] == expected and len(expected) >= 4
    assert body["ok"] is False and "nothing was loaded" in body["detail"]
    lines = [str(graph.Problem(**p)) for p in body["problems"]]
    assert any(line.startswith("firms.csv:3: role: ") for line in lines)
    assert any(line.startswith("links.csv:2: buyer_id: ") and "B9" in line for line in lines)
    assert row_counts(service["engine"]) == before


def test_broken_workbook_reports_sheet_problems_as_the_cli_does(
    service: dict[str, Any], tmp_path: Path
) -> None:
    workbook = tmp_path / "world.xlsx"
    with pd.ExcelWriter(workbook, engine="openpyxl") as writer:
        pd.read_csv(io.StringIO(BROKEN_FIRMS), dtype=str).to_excel(
            writer, sheet_name="firms", index=False
        )
    response = upload(service, workbook.read_bytes(), "world.xlsx")
    assert response.status_code == 422
    assert response.json()["problems"] == cli_problems(workbook)
    assert any(p["file"].startswith("world.xlsx[") for p in response.json()["problems"])


def test_failed_merge_leaves_the_database_as_it_was(service: dict[str, Any]) -> None:
    # Valid on its own, but S1 supplies in a link the database keeps: it cannot become a buyer.
    files = {
        "firms.csv": "firm_id,name,role\nS1,Công ty TNHH Mạch in Hà Nội,buyer\n",
        "links.csv": "supplier_id,buyer_id,category_id,since,status\n",
    }
    engine = service["engine"]
    before = row_counts(engine)
    fingerprint = storage.dataset_from_db(engine).fingerprint()
    response = upload(service, zip_of(files))
    assert response.status_code == 422, response.text
    body = response.json()
    assert "would not be valid" in body["detail"] and body["problems"]
    assert all(p["severity"] == "error" for p in body["problems"])
    assert row_counts(engine) == before
    assert storage.dataset_from_db(engine).fingerprint() == fingerprint


@pytest.mark.parametrize(
    ("files", "links", "words"),
    [
        ({"../evil.csv": "x"}, None, "'..'"),
        ({"..\\evil.csv": "x"}, None, "'..'"),
        ({"/tmp/evil.csv": "x"}, None, "absolute path"),
        ({"a/b/firms.csv": "x"}, None, "one folder deep"),
        ({}, {"parks2.csv": "/etc/passwd"}, "symbolic link"),
    ],
)
def test_unsafe_zip_paths_are_refused(
    service: dict[str, Any], files: dict[str, str], links: dict[str, str] | None, words: str
) -> None:
    everything = {**tiny_files(), **files}
    before = row_counts(service["engine"])
    response = upload(service, zip_of(everything, links))
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert problems and all(p["file"] == "tiny.zip" for p in problems)
    assert any(words in p["reason"] for p in problems)
    assert not (Path(tempfile.gettempdir()) / "evil.csv").exists()
    assert row_counts(service["engine"]) == before


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"a/firms.csv": "x", "b/links.csv": "x"}, "more than one folder"),
        ({"notes.txt": "x"}, "no .csv"),
    ],
)
def test_zips_that_are_not_datasets(
    service: dict[str, Any], files: dict[str, str], words: str
) -> None:
    response = upload(service, zip_of(files))
    assert response.status_code == 422
    assert words in response.json()["problems"][0]["reason"]


def test_not_a_zip_and_other_bad_bodies(service: dict[str, Any]) -> None:
    response = upload(service, b"firm_id,name,role\n", "firms.csv")
    assert response.status_code == 422
    assert "zip" in response.json()["problems"][0]["reason"]
    client, staff = service["client"], auth(service, "staff")
    other_field = client.post(
        "/v1/imports", headers=staff, data={"note": "x"}, files={"x": ("a", b"")}
    )
    assert other_field.status_code == 422 and "'file'" in other_field.json()["detail"]
    text = client.post(
        "/v1/imports", headers={**staff, "Content-Type": "text/plain"}, content=b"hello"
    )
    assert text.status_code == 415


def test_oversize_upload_is_413(service: dict[str, Any]) -> None:
    before = row_counts(service["engine"])
    data = b"\0" * (_routes_imports.MAX_UPLOAD_BYTES + 1)
    response = upload(service, data)
    assert response.status_code == 413
    assert "20 MB" in response.json()["detail"]
    assert row_counts(service["engine"]) == before


def test_oversize_stream_without_length_is_413(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_routes_imports, "MAX_UPLOAD_BYTES", 1000)

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"\0" * 4096

    response = service["client"].post(
        "/v1/imports",
        headers={**auth(service, "staff"), "Content-Type": "application/zip"},
        content=chunks(),
    )
    assert response.status_code == 413 and "1000 bytes" in response.json()["detail"]
    assert upload(service, b"\0" * 5000).status_code == 413  # the file, inside the envelope


def test_zip_bomb_is_refused_before_unpacking(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_routes_imports, "MAX_UNPACKED_BYTES", 10_000)
    response = upload(service, zip_of({**tiny_files(), "firms.csv": "a" * 50_000}))
    assert response.status_code == 413 and "unpacked" in response.json()["detail"]
