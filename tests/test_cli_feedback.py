"""``ketnoi conversion`` and ``ketnoi evaluate --outcomes``, run through the typer app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from ketnoi.api.cli import app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_the_command() -> None:
    code, out, _ = run("conversion", "--help")
    assert code == 0 and "top k" in out


def test_backtest_report_as_json() -> None:
    code, out, _ = run("conversion", str(TINY), "--json")
    assert code == 0
    rows = {r["event_id"]: r for r in json.loads(out)}
    assert set(rows) == {"ev-2024-hanoi", "all"}
    # tiny: S1 met B1 and S5 declined B1 at ev-2024-hanoi; both were B1's candidates before.
    assert (rows["all"]["pairs"], rows["all"]["met"], rows["all"]["declined"]) == (2, 1, 1)
    assert rows["all"]["ranked"] == 2


def test_match_list_files_are_credited(tmp_path: Path) -> None:
    handed_out = tmp_path / "list.csv"
    pd.DataFrame({"buyer_id": ["B1", "B1"], "supplier_id": ["S1", "S5"], "rank": [1, 11]}).to_csv(
        handed_out, index=False, encoding="utf-8-sig"
    )
    out = tmp_path / "report.xlsx"
    code, stdout, _ = run(
        "conversion", str(TINY), "--match-list", str(handed_out), "--out", str(out), "--json"
    )
    assert code == 0
    total = json.loads(stdout)[-1]
    assert (total["ranked"], total["recommended"], total["recommended_met"]) == (2, 1, 1)
    sheet = pd.read_excel(out, sheet_name="conversion")
    assert sheet["recommended"].tolist() == [1, 1]


def test_scheduled_meetings_files_are_credited(tmp_path: Path) -> None:
    schedule = tmp_path / "meetings.csv"
    pd.DataFrame({"slot": [1], "buyer_id": ["B1"], "supplier_id": ["S1"]}).to_csv(
        schedule, index=False
    )
    code, stdout, _ = run(
        "conversion", str(TINY), "--match-list", str(schedule), "--meetings", str(schedule)
    )
    assert code == 1  # a schedule is no match list: no rank column
    code, stdout, _ = run("conversion", str(TINY), "--meetings", str(schedule), "--json")
    assert code == 0
    total = json.loads(stdout)[-1]
    assert (total["scheduled"], total["scheduled_met"], total["scheduled_contracted"]) == (1, 1, 0)
    bad = tmp_path / "bad.csv"
    bad.write_text("buyer,supplier\nB1,S1\n", encoding="utf-8")
    code, _, err = run("conversion", str(TINY), "--meetings", str(bad))
    assert code == 1 and "not a schedule's meetings" in err


def test_a_bad_match_list_is_named(tmp_path: Path) -> None:
    no_rank = tmp_path / "no-rank.csv"
    no_rank.write_text("buyer_id,supplier_id\nB1,S1\n", encoding="utf-8")
    code, _, err = run("conversion", str(TINY), "--match-list", str(no_rank))
    assert code == 1 and "no-rank.csv: not a match list: no column(s) rank" in err
    bad_rank = tmp_path / "bad-rank.csv"
    bad_rank.write_text("buyer_id,supplier_id,rank\nB1,S1,1\nB1,S5,first\n", encoding="utf-8")
    code, _, err = run("conversion", str(TINY), "--match-list", str(bad_rank))
    assert code == 1 and "bad-rank.csv:3: rank: not a rank" in err


def test_no_outcomes_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "outcomes.csv").unlink()
    code, _, err = run("conversion", str(folder))
    assert code == 1 and "no outcomes recorded" in err


def test_evaluate_with_the_outcome_free_control() -> None:
    code, out, _ = run(
        "evaluate",
        str(TINY),
        "--seeds",
        "1",
        "--outcomes",
        "--methods",
        "model,model_without_outcomes",
        "--json",
    )
    assert code == 0, out
    assert set(json.loads(out)["methods"]) == {"model", "model_without_outcomes"}
    code, _, err = run("evaluate", str(TINY), "--methods", "model_without_outcomes")
    assert code == 2 and "unknown method" in err
