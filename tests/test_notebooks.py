"""Every notebook in notebooks/ runs top to bottom, none is committed with outputs, and the
analyst guide names only what exists.

Notebooks are found by globbing, so a new notebook is checked as soon as it is added. Each runs
in its own kernel (``python3``, from ipykernel) from the notebooks folder, as Jupyter would run
it, with a per-cell time limit so that a hanging cell fails the test instead of hanging CI.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

from ketnoi import graph, matcher, programme

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GUIDE = ROOT / "docs" / "analyst-guide.md"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
#: Seconds a notebook may take as a whole, and any one cell.
TIMEOUT = 120


def _id(path: Path) -> str:
    return path.stem


def test_the_analyst_notebooks_are_there() -> None:
    names = {path.name for path in PATHS}
    assert {
        "01_network_overview.ipynb",
        "02_match_quality.ipynb",
        "03_localisation_gaps.ipynb",
        "04_event_planning.ipynb",
        "05_programme_indicators.ipynb",
    } <= names


@pytest.mark.parametrize("path", PATHS, ids=_id)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: outputs or execution counts in cell(s) {dirty}; strip them"
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=_id)
def test_notebook_runs_top_to_bottom(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    # Files a notebook writes (the HTML network view) go here, never into the repository.
    monkeypatch.setenv("KETNOI_NOTEBOOK_OUT", str(tmp_path))
    # The kernel keeps ipykernel's inline backend (non-interactive, drawn by Agg), so every
    # figure is really rendered to PNG, as an analyst would see it.
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, where one fails
    seconds = time.perf_counter() - started
    assert seconds < TIMEOUT, f"{path.name} took {seconds:.0f} s, over the {TIMEOUT} s budget"
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "error"
    ]
    assert not errors
    # A cell that ends in a picture shows it exactly once (a pyplot figure that is also
    # returned would show twice; a figure that fails to draw would show none).
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and ".plot_" in cell.source.strip().splitlines()[-1]:
            images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert len(images) == 1, f"{path.name} cell {index}: {len(images)} images"
    for page in tmp_path.glob("*.html"):
        assert "http://" not in page.read_text(encoding="utf-8")  # the view works offline


# -- the analyst guide ------------------------------------------------------------------------
#: The packages the guide writes names with (``graph.hubs``, ``programme.localisation``).
PACKAGES = {"graph": graph, "matcher": matcher, "programme": programme}
#: The names the analyst helpers added; each must be in the guide with an example.
ANALYST_NAMES = {
    "graph": [
        "HUB_MEASURES",
        "communities",
        "community_summary",
        "degree_table",
        "firm_counts",
        "hubs",
        "network_html",
        "plot_degree_distribution",
        "plot_firm_counts",
        "plot_firm_map",
        "plot_hubs",
        "plot_tiers",
        "tier_layout",
        "unlinked_firms",
        "write_network_html",
    ],
    "matcher": [
        "explanation_text",
        "feature_importance",
        "plot_evaluation",
        "plot_explanation",
        "plot_feature_importance",
        "plot_recall_curve",
        "plot_reliability",
        "recall_curve",
    ],
    "programme": [
        "plot_localisation",
        "plot_near_miss_gains",
        "plot_concentration",
        "plot_sole_suppliers",
        "plot_programme_indicators",
        "localisation",
        "near_miss_targets",
        "category_concentration",
        "sole_suppliers",
        "programme_indicators",
        "suggest_event_participants",
        "participants_from_frame",
        "meetings_per_firm",
        "compare_schedules",
        "plot_schedule_grid",
        "plot_meetings_per_firm",
        "plot_schedule_comparison",
        "schedule_event",
        "conversion_report",
    ],
}


def test_every_name_the_guide_uses_exists() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    # "programme.md" is a link to a page, not a name.
    used = set(re.findall(r"\b(graph|matcher|programme)\.(?!md\b)([A-Za-z_][A-Za-z0-9_]*)", text))
    missing = sorted(f"{p}.{n}" for p, n in used if not hasattr(PACKAGES[p], n))
    assert not missing, f"docs/analyst-guide.md names what does not exist: {missing}"


def test_the_guide_shows_every_analyst_name_in_an_example() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    examples = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    for package, names in ANALYST_NAMES.items():
        module = PACKAGES[package]
        for name in names:
            assert name in module.__all__
            if name.isupper():
                assert f"{package}.{name}" in text
            else:
                assert f"{package}.{name}(" in examples, f"no example of {package}.{name}"
