"""The ketnoi command line, run as a user runs it: through the console entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ketnoi.api.cli import app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"
runner = CliRunner()

COMMANDS = [
    "validate",
    "graph-stats",
    "export-graph",
    "train",
    "recommend",
    "suggest-buyers",
    "chain",
    "explain",
    "match-list",
    "evaluate",
    "serve",
    "load",
    "dump",
    "keys",
]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version_and_help_on_every_command() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("ketnoi ")
    for command in COMMANDS:
        code, out, _ = run(command, "--help")
        assert code == 0, command
        assert "Usage" in out, command


def test_console_script_runs() -> None:
    exe = shutil.which("ketnoi")
    if exe is None:
        pytest.skip("the ketnoi console script is not installed (pip install -e .)")
    done = subprocess.run([exe, "validate", str(TINY)], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.startswith("ok: ")


def test_validate_reports_every_problem_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(TINY, broken)
    links = (
        (broken / "links.csv")
        .read_text()
        .replace("S3,B2,screw,2021,active", "S3,B9,screw,2031,active")
    )
    (broken / "links.csv").write_text(links)
    done = subprocess.run(
        [sys.executable, "-m", "ketnoi.api.cli", "validate", str(broken)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert "links.csv:5: buyer_id: 'B9' is not a firm_id in firms.csv" in done.stdout
    assert "links.csv:5: since: year 2031 is outside 1900-" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_recommend_json(tmp_path: Path) -> None:
    code, out, _ = run("recommend", str(TINY), "--buyer", "B1", "--k", "2", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2]
    assert isinstance(rows[0]["reasons"], list) and rows[0]["reasons"]


def test_unknown_buyer_is_a_clear_error() -> None:
    code, _, err = run("recommend", str(TINY), "--buyer", "NOPE")
    assert code == 1
    assert "'NOPE' is not a buyer" in err


def test_bad_arguments_are_usage_errors() -> None:
    assert run("recommend", str(TINY), "--buyer", "B1", "--k", "0")[0] == 2
    assert run("recommend", str(TINY), "--buyer", "B1", "--lang", "fr")[0] == 2
    assert run("evaluate", str(TINY), "--holdout", "sideways")[0] == 2


def test_train_then_reuse_the_model(tmp_path: Path) -> None:
    model = tmp_path / "tiny.joblib"
    code, out, _ = run("train", str(TINY), "--out", str(model))
    assert code == 0 and model.exists()
    code, out, _ = run(
        "explain", str(TINY), "--supplier", "S5", "--buyer", "B2", "--model", str(model), "--json"
    )
    assert code == 0
    assert json.loads(out)["blockers"][0] == "lacks IATF 16949, which the buyer requires"
    (tmp_path / "junk.joblib").write_bytes(b"junk")
    code, _, err = run(
        "recommend", str(TINY), "--buyer", "B1", "--model", str(tmp_path / "junk.joblib")
    )
    assert code == 1 and "not a readable ketnoi model file" in err


def test_match_list_csv_and_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "match.csv"
    code, _, _ = run("match-list", str(TINY), "--k", "2", "--out", str(out))
    assert code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a byte-order mark, for Excel
    rows = pd.read_csv(out, encoding="utf-8-sig")
    # The service's table: names next to ids, headers for people (issue 14).
    assert list(rows.columns) == [
        "list of",
        "buyer_id",
        "buyer",
        "supplier_id",
        "supplier",
        "category_id",
        "category",
        "rank",
        "score",
        "pinned",
        "reasons",
    ]
    # T1 needs PCBs: S1 supplies it already and S4 is unlisted, so it has no new supplier.
    assert set(rows["buyer_id"]) == {"B1", "B2"}
    assert rows.groupby("buyer_id")["rank"].max().max() <= 2
    assert rows["reasons"].str.contains(" | ", regex=False).any()
    xlsx = tmp_path / "match.xlsx"
    code, _, _ = run("match-list", str(TINY), "--buyers", "B1", "--out", str(xlsx))
    assert code == 0
    assert set(pd.read_excel(xlsx)["buyer_id"]) == {"B1"}


def match_list_pairs(tmp_path: Path, *options: str) -> pd.DataFrame:
    out = tmp_path / "match.csv"
    code, _, err = run("match-list", str(TINY), "--out", str(out), *options)
    assert code == 0, err
    return pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)


def test_match_list_cap_is_honoured(tmp_path: Path) -> None:
    free = match_list_pairs(tmp_path, "--k", "3", "--keep-declined")
    capped = match_list_pairs(tmp_path, "--k", "3", "--keep-declined", "--max-per-supplier", "1")
    assert free["supplier_id"].value_counts().max() > 1  # a plain top-k repeats S5
    assert capped["supplier_id"].value_counts().max() == 1
    assert set(capped["buyer_id"]) == {"B1", "B2"}


def test_match_list_pins_and_blocks(tmp_path: Path) -> None:
    rows = match_list_pairs(tmp_path, "--k", "2", "--pin", "B1:S2", "--block", "B2:S5")
    got = list(zip(rows["buyer_id"], rows["supplier_id"], rows["pinned"], strict=True))
    # S2 already supplies B1, so a plain top-k never lists it; a pin puts it first.
    assert got[0] == ("B1", "S2", "yes") and rows["rank"].iloc[0] == 1
    assert ("B2", "S5") not in {(b, s) for b, s, _ in got}  # B2's first choice, blocked
    assert rows.groupby("buyer_id")["rank"].max().max() <= 2
    code, _, err = run("match-list", str(TINY), "--out", str(tmp_path / "x.csv"), "--pin", "B1")
    assert code == 2 and "BUYER:SUPPLIER" in err
    code, _, err = run(
        "match-list", str(TINY), "--out", str(tmp_path / "x.csv"), "--pin", "B1:S2",
        "--block", "B1:S2",
    )  # fmt: skip
    assert code == 2 and "both pinned and blocked" in err


def test_match_list_leaves_declined_pairs_out_unless_kept(tmp_path: Path) -> None:
    # The tiny dataset's outcomes decline (B1, S5), B1's third choice.
    dropped = match_list_pairs(tmp_path, "--k", "3", "--buyers", "B1")
    kept = match_list_pairs(tmp_path, "--k", "3", "--buyers", "B1", "--keep-declined")
    assert "S5" not in set(dropped["supplier_id"])
    assert list(kept["supplier_id"]) == ["S1", "S3", "S5"]
    code, out, _ = run("match-list", "--help")
    assert "are left out unless --keep-declined" in " ".join(out.split())


def test_chain_and_suggest_buyers() -> None:
    code, out, _ = run("chain", str(TINY), "--buyer", "B1", "--json")
    assert code == 0
    chain = json.loads(out)
    assert {(r["supplier_id"], r["tier"]) for r in chain if r["existing"]} == {
        ("S2", 1),
        ("T1", 1),
        ("S1", 2),
    }
    code, out, _ = run("suggest-buyers", str(TINY), "--supplier", "S5", "--json")
    assert code == 0
    assert {r["buyer_id"] for r in json.loads(out)} == {"B1", "B2"}


def test_graph_stats_and_export(tmp_path: Path) -> None:
    code, out, _ = run("graph-stats", str(TINY), "--json")
    assert code == 0
    assert json.loads(out)
    target = tmp_path / "tiny.graphml"
    code, _, _ = run("export-graph", str(TINY), "--format", "graphml", "--out", str(target))
    assert code == 0 and target.stat().st_size > 0
    assert run("export-graph", str(TINY), "--format", "dot", "--out", str(target))[0] == 2


def test_evaluate_json() -> None:
    code, out, _ = run(
        "evaluate",
        str(TINY),
        "--holdout",
        "temporal",
        "--seeds",
        "1",
        "--methods",
        "model,l3",
        "--json",
    )
    assert code == 0
    result = json.loads(out)
    assert set(result["methods"]) == {"model", "l3"}


def test_load_then_dump_round_trip(tmp_path: Path) -> None:
    from ketnoi import graph

    url = f"sqlite:///{tmp_path / 'ketnoi.db'}"
    code, out, _ = run("load", str(TINY), "--database", url)
    assert code == 0 and "firms: 8 new" in out
    code, out, _ = run("load", str(TINY), "--database", url)
    assert code == 0 and "firms: 0 new, 0 updated, 8 unchanged" in out
    code, _, _ = run("dump", str(tmp_path / "out"), "--database", url)
    assert code == 0
    again = graph.load_dataset(tmp_path / "out")
    assert again.fingerprint() == graph.load_dataset(TINY).fingerprint()


def test_keys_create_and_revoke(tmp_path: Path) -> None:
    from ketnoi.api import storage

    url = f"sqlite:///{tmp_path / 'ketnoi.db'}"
    result = runner.invoke(app, ["keys", "create", "--role", "analyst", "--database", url])
    assert result.exit_code == 0
    key = result.stdout.strip()
    engine = storage.make_engine(url)
    info = storage.verify_key(engine, key)
    assert info is not None and info.role == "analyst"
    assert runner.invoke(app, ["keys", "revoke", str(info.id), "--database", url]).exit_code == 0
    assert storage.verify_key(engine, key) is None
    assert runner.invoke(app, ["keys", "revoke", str(info.id), "--database", url]).exit_code == 1
    bad = runner.invoke(app, ["keys", "create", "--role", "king", "--database", url])
    assert bad.exit_code == 1
    engine.dispose()
