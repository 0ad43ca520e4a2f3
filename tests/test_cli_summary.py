"""``ketnoi graph-stats`` reads at 80 columns: counts and shares, the ids in ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ketnoi.api.cli import app

HANOI = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"


def test_graph_stats_summarises_and_json_has_the_details() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["graph-stats", str(HANOI)], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    table = shown.stdout
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "hn-s0003" not in table  # 322 firm ids inline before
    assert len(table.splitlines()) < 60
    assert "firms_without_links" in table and "322 (--json lists them)" in table
    assert "41.8%" in table  # a share as a percentage, not 0.41825396825396827
    details = json.loads(runner.invoke(app, ["graph-stats", str(HANOI), "--json"]).stdout)
    assert len(details["firms_without_links"]["ids"]) == 322
