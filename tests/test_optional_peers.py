"""Without the optional ``implicit`` package, evaluation leaves iALS out with a note instead of
crashing halfway (issue 14: ``ketnoi evaluate`` and notebook 02 after ``.[notebooks]``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketnoi import graph, matcher
from ketnoi.api.cli import app

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.fixture
def without_implicit(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry makes every import of the package fail, as on a machine without it.
    for name in [n for n in sys.modules if n == "implicit" or n.startswith("implicit.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "implicit", None)


def test_evaluation_leaves_als_out_with_a_note(without_implicit: None) -> None:
    with pytest.warns(UserWarning, match="als left out: it needs the implicit package"):
        methods = matcher.evaluation_methods()
    assert "als" not in methods and {"ease", "rp3beta", "popular"} <= set(methods)
    result = matcher.evaluate(
        graph.load_dataset(TINY), holdout="random", k=5, seeds=1, methods=methods
    )
    assert "als" not in set(result.to_frame().index)


def test_the_command_says_so_and_runs(without_implicit: None) -> None:
    out = CliRunner().invoke(
        app, ["evaluate", str(TINY), "--holdout", "random", "--methods", "popular,ease"]
    )
    assert out.exit_code == 0, out.output
    assert "note: als left out" in out.output
    assert 'pip install -e ".[ml]"' in out.output  # the extra named, not eaten as markup
