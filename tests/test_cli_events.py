"""``ketnoi schedule``: the schedule, its files, locks, and errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ketnoi.api.cli import app

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
runner = CliRunner()


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("firm_id,side\nB1,\nB2,\nS1,\nS2,\nS3,\nS4,\nS5,\n", encoding="utf-8")
    return path


def run(*args: str) -> object:
    return runner.invoke(app, ["schedule", str(TINY), *args])


LIMITS = ("--slots", "2", "--tables", "2", "--max-meetings", "2")


def test_schedule_writes_a_workbook(people: Path, tmp_path: Path) -> None:
    out = tmp_path / "fair.xlsx"
    result = run("--participants", str(people), *LIMITS, "--start", "09:00", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 meetings; 3 of 5 suppliers met" in result.output and "optimal" in result.output
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["meetings", "agendas", "grid"]
    assert sheets["grid"]["slot"].tolist() == ["09:00", "09:30"]
    pairs = set(zip(sheets["meetings"]["buyer_id"], sheets["meetings"]["supplier_id"], strict=True))
    assert pairs == {("B1", "S1"), ("B1", "S3"), ("B2", "S5")}


def test_schedule_csv_of_one_table_and_a_lock(people: Path, tmp_path: Path) -> None:
    out = tmp_path / "agendas.csv"
    result = run(
        "--participants",
        str(people),
        *LIMITS,
        "--lock",
        "B1:S4@2",
        "--table",
        "agendas",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    agendas = pd.read_csv(out, encoding="utf-8-sig")
    s4 = agendas[agendas["firm_id"] == "S4"]
    assert s4[["slot", "counterpart_id"]].values.tolist() == [[2, "B1"]]


def test_greedy_and_json(people: Path) -> None:
    result = run("--participants", str(people), *LIMITS, "--greedy", "--json")
    assert result.exit_code == 0, result.output
    assert '"method": "greedy"' in result.output and '"status": "heuristic"' in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--slots", "0", "--tables", "1", "--max-meetings", "1"), 2, "--slots must be at least 1"),
        (
            ("--slots", "1", "--tables", "0", "--max-meetings", "1"),
            2,
            "--tables must be at least 1",
        ),
        ((*LIMITS, "--lock", "B1"), 2, "write BUYER:SUPPLIER"),
        ((*LIMITS, "--out", "x.txt"), 2, "must end in .csv or .xlsx"),
        ((*LIMITS, "--lock", "B1:S1@1", "--lock", "B1:S3@1"), 1, "B1 has two meetings locked"),
        ((*LIMITS, "--lock", "B1:S1@5"), 1, "slot 5 is not one of the event's slots 1-2"),
    ],
)
def test_bad_arguments_end_with_a_message(
    people: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result = run("--participants", str(people), *args)
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_bad_participant_file_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("firm_id,side\nB1,\nB2,supplier\nZZ,\n", encoding="utf-8")
    result = run("--participants", str(path), *LIMITS)
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "bad.csv:3: side: 'B2' is a buyer in the data and cannot take part as a supplier" in text
    assert "bad.csv:4: firm_id: 'ZZ' is not a firm in the data" in text
