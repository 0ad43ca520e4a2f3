"""The programme commands on the tiny dataset: tables, JSON, files, and clear errors.

tiny's demands (B1: pcba 10000, stamp 60000, screw 500000; B2: stamp 8000, screw 200000;
T1: pcb 15000) all have a local supplier that qualifies or is linked, so the localisation rate
is 1. Linked today: every demand but B1's screws (S3 supplies B2 only), so the linked rate is
(793000 - 500000) / 793000. S5 is one certificate (IATF 16949) short of B2's stamped parts.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ketnoi.api.cli import app

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    # Wide enough that rich tables do not wrap the words the tests look for.
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["localisation", "near-misses", "concentration", "indicators"])
def test_help(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0 and "Usage" in out


def test_localisation_json() -> None:
    code, out, _ = run("localisation", TINY, "--by", "all", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["demands"] == 6 and row["weighting"] == "volume"
    assert row["localisation_rate"] == 1.0
    assert row["linked_rate"] == pytest.approx(293000 / 793000)


def test_localisation_table_by_origin() -> None:
    code, out, _ = run("localisation", TINY, "--by", "origin")
    assert code == 0
    assert "Localisation by origin" in out
    # B1 (JP) has 70000 of its 570000 linked: 12.3%.
    assert "JP" in out and "12.3%" in out


def test_localisation_gaps_only_and_category() -> None:
    code, out, _ = run("localisation", TINY, "--gaps", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run("localisation", TINY, "--category", "metal", "--json")
    assert code == 0
    assert sorted(r["category_id"] for r in json.loads(out)) == ["screw", "stamp"]


def test_near_misses_targets_and_pairs() -> None:
    code, out, _ = run("near-misses", TINY, "--json")
    assert code == 0
    (target,) = json.loads(out)
    assert (target["lacking"], target["suppliers"], target["supplier_ids"]) == (
        "IATF 16949",
        1,
        ["S5"],
    )
    code, out, _ = run("near-misses", TINY)
    assert code == 0 and "IATF 16949" in out and "if every near-miss supplier" in out
    code, out, _ = run("near-misses", TINY, "--pairs", "--json")
    assert code == 0
    assert [(r["supplier_id"], r["buyer_id"]) for r in json.loads(out)] == [("S5", "B2")]


def test_concentration_views() -> None:
    code, out, _ = run("concentration", TINY, "--json")
    assert code == 0
    body = json.loads(out)
    assert set(body) == {"categories", "single-sourced", "suppliers"}
    assert len(body["single-sourced"]) == 5
    code, out, _ = run("concentration", TINY, "--view", "suppliers", "--json")
    assert code == 0
    assert json.loads(out)[0]["supplier_id"] == "S2"
    code, out, _ = run("concentration", TINY)
    assert code == 0 and "Concentration by category" in out


def test_indicators_json_and_table() -> None:
    code, out, _ = run("indicators", TINY, "--start", "2022", "--end", "2022", "--json")
    assert code == 0
    rows = json.loads(out)
    local = [r for r in rows if r["indicator"] == "local_supporting_firms"]
    assert [(r["year"], r["value"], r["target"]) for r in local] == [
        (2022, 6.0, None),
        (2026, 6.0, 1000.0),
        (2030, 6.0, 1200.0),
    ]
    code, out, _ = run("indicators", TINY)
    assert code == 0 and "local supporting-industry firms" in out


def test_indicators_and_concentration_read_at_80_columns() -> None:
    """The demo world's indicators fit an 80-column terminal (every year is in --json and
    --out), and the concentration tables name firms and categories, not only ids (issue 14)."""
    hanoi = str(TINY.parent / "hanoi")
    shown = runner.invoke(app, ["indicators", hanoi], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, shown.stdout
    assert "local supporting-industry firms" in shown.stdout and "2030" in shown.stdout
    assert "years in --json and --out" in shown.stdout
    shown = runner.invoke(app, ["concentration", hanoi, "--view", "categories"])
    assert shown.exit_code == 0, shown.output
    assert "Công ty" in shown.stdout and "hn-f007" in shown.stdout  # a name and its id


def test_out_writes_csv_and_xlsx(tmp_path: Path) -> None:
    csv = tmp_path / "loc.csv"
    code, _, err = run("localisation", TINY, "--by", "buyer", "--out", csv)
    assert code == 0 and "wrote" in err
    frame = pd.read_csv(io.StringIO(csv.read_bytes().decode("utf-8-sig")))
    assert sorted(frame["buyer_id"]) == ["B1", "B2", "T1"]
    # Shares as percentages where a person reads them (issue 14); JSON keeps the fraction.
    assert frame.set_index("buyer_id").loc["B1", "linked_rate"] == "12.3%"  # 70000 / 570000
    book = tmp_path / "conc.xlsx"
    code, _, _ = run("concentration", TINY, "--out", book)
    assert code == 0
    sheets = pd.read_excel(book, sheet_name=None)
    assert set(sheets) == {"categories", "single-sourced", "suppliers"}
    assert len(sheets["categories"]) == 4


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("localisation", TINY, "--by", "park"), 2, "--by must be one of"),
        (("localisation", TINY, "--category", "steel"), 1, "'steel' is not a category_id"),
        (("near-misses", TINY, "--category", "steel"), 1, "'steel' is not a category_id"),
        (("concentration", TINY, "--view", "hubs"), 2, "--view must be one of"),
        (("indicators", TINY, "--start", "2023", "--end", "2020"), 1, "after end"),
        (("localisation", TINY, "--out", "x.txt"), 2, "must end in .csv or .xlsx"),
        (("concentration", TINY, "--out", "x.csv"), 2, "need an .xlsx"),
        (("localisation", "/no/such/folder"), 1, "nothing was loaded"),
    ],
)
def test_bad_input_is_a_message_not_a_traceback(args: tuple, code: int, message: str) -> None:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_indicators_take_targets_from_a_file(tmp_path: Path) -> None:
    targets = tmp_path / "targets.json"
    targets.write_text('{"new_links": {"2024": 1}}', encoding="utf-8")
    code, out, _ = run("indicators", str(TINY), "--targets", str(targets), "--json")
    assert code == 0
    rows = [r for r in json.loads(out) if r["indicator"] == "new_links" and r["year"] == 2024]
    assert rows and rows[0]["target"] == 1.0
    targets.write_text('{"new_linkz": {"2024": 1}}', encoding="utf-8")
    code, _, err = run("indicators", str(TINY), "--targets", str(targets))
    assert code == 1 and "unknown indicator(s): new_linkz" in err
