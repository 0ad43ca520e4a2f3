"""Pictures and the computations behind them: graph/_plot.py (with the shared figure policy of
graph/_figures.py and the HTML view of graph/_network_html.py) and matcher/_plot.py.

Figures are checked by what they hold (axes, artists, points, labels), never by pixels.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything else touches matplotlib: tests never open windows

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ketnoi import (
    graph,  # noqa: E402
    matcher,  # noqa: E402
)

HANOI = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"


@pytest.fixture(scope="module")
def hanoi() -> graph.Dataset:
    return graph.load_dataset(HANOI)


@pytest.fixture(scope="module")
def fitted(hanoi: graph.Dataset) -> matcher.Matcher:
    return matcher.Matcher().fit(hanoi)


@pytest.fixture(scope="module")
def cheap_methods() -> dict:
    methods = matcher.evaluation_methods()
    return {name: methods[name] for name in ("popular", "l3")}


@pytest.fixture(scope="module")
def evaluation(hanoi: graph.Dataset) -> matcher.EvaluationResult:
    methods = matcher.evaluation_methods()
    chosen = {name: methods[name] for name in ("popular", "l3", "model")}
    return matcher.evaluate(hanoi, "temporal", k=10, seeds=1, methods=chosen)


# -- the optional dependency ------------------------------------------------------------------
def test_importing_the_packages_does_not_import_matplotlib() -> None:
    code = "import sys, graph, matcher; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    "draw",
    [
        lambda: graph.plot_hubs(pd.DataFrame({"centrality": [1.0]})),
        lambda: matcher.plot_recall_curve(pd.DataFrame({"a": [0.1]})),
    ],
    ids=["graph", "matcher"],
)
def test_a_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch, draw) -> None:
    # None in sys.modules makes "import matplotlib..." raise ImportError, as if not installed.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=re.escape('pip install "ketnoi[notebooks]"')):
        draw()


# -- graph pictures ---------------------------------------------------------------------------
def test_plot_firm_counts_stacks_one_container_per_column() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": list("abcde"),
            "sector": ["x", "x", "y", "z", "x"],
            "ownership": ["fdi", "domestic", "domestic", "domestic", "jv"],
        }
    )
    fig = graph.plot_firm_counts(graph.firm_counts(firms, "sector", split="ownership"))
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert len(ax.containers) == 3  # domestic, fdi, jv
    assert len(ax.patches) == 3 * 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y", "z"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["domestic", "fdi", "jv"]
    # Stacked: x's bars end at 1 (domestic), 2 (+fdi), 3 (+jv).
    ends = [p.get_x() + p.get_width() for p in ax.patches if p.get_y() < 0.5 and p.get_y() > -0.5]
    assert ends == [1.0, 2.0, 3.0]
    assert ax.get_title() == "Firms by sector"


def test_plot_firm_counts_top_and_given_axes() -> None:
    firms = pd.DataFrame({"firm_id": list("abcd"), "sector": ["x", "x", "y", "z"]})
    fig = Figure()
    ax = fig.subplots()
    out = graph.plot_firm_counts(graph.firm_counts(firms, "sector"), top=2, ax=ax)
    assert out is fig
    assert len(ax.patches) == 2 and ax.get_legend() is None


def test_plot_firm_map_on_tiny(tiny: Path) -> None:
    dataset = graph.load_dataset(tiny)
    fig = graph.plot_firm_map(dataset, "ownership")
    ax = fig.axes[0]
    # tiny has 5 domestic firms, 2 fdi and 1 jv: three groups, largest first, then 2 parks.
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [5, 2, 1, 2]
    assert [t.get_text() for t in ax.texts] == list(dataset.parks["name"])
    assert ax.get_xlabel() == "longitude" and ax.get_ylabel() == "latitude"
    park_xy = ax.collections[-1].get_offsets()
    assert park_xy[:, 0].tolist() == pytest.approx(dataset.parks["lon"].tolist())
    assert ax.get_title() == "8 firms by ownership"


def test_plot_firm_map_skips_firms_without_coordinates_and_merges_small_groups() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": list("abcdef"),
            "name": list("ABCDEF"),
            "role": ["supplier", "buyer", *["supplier"] * 4],
            "sector": ["s1", "s1", "s1", "s2", "s3", "s4"],
            "lat": [21.0, 21.1, 21.2, 21.3, 21.4, None],
            "lon": [105.8] * 5 + [None],
        }
    )
    links = pd.DataFrame({"supplier_id": ["a"], "buyer_id": ["b"]})
    dataset = graph.Dataset.from_frames(firms=firms, links=links)
    fig = graph.plot_firm_map(dataset, "sector", max_groups=2)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["s1 (3)", "other (2)"]  # s4's only firm has no coordinates
    assert ax.get_title() == "5 firms by sector (1 without coordinates not shown)"


def test_plot_firm_map_colours_by_communities(hanoi: graph.Dataset) -> None:
    groups = graph.communities(hanoi)
    fig = graph.plot_firm_map(hanoi, groups, missing="no links", label_parks=False)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("0 (") and labels[-1] == "no links (351)"
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(hanoi.firms)
    assert len(ax.texts) == 0


def test_plot_degree_distribution_by_hand() -> None:
    table = pd.DataFrame(
        {
            "role": ["supplier", "supplier", "supplier", "both", "buyer"],
            "n_buyers": [1, 1, 0, 3, 0],
            "n_suppliers": [0, 0, 0, 2, 5],
        }
    )
    ax = graph.plot_degree_distribution(table).axes[0]
    suppliers, buyers = ax.get_lines()
    assert suppliers.get_xdata().tolist() == [1, 3] and suppliers.get_ydata().tolist() == [2, 1]
    assert buyers.get_xdata().tolist() == [2, 5] and buyers.get_ydata().tolist() == [1, 1]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["suppliers: buyers supplied (1 with none)", "buyers: suppliers (0 with none)"]


def test_plot_degree_distribution_of_hanoi_counts_every_linked_supplier(
    hanoi: graph.Dataset,
) -> None:
    table = graph.degree_table(hanoi)
    line = graph.plot_degree_distribution(table).axes[0].get_lines()[0]
    suppliers = table[table["role"].isin(graph.SUPPLIER_ROLES)]
    assert int(np.sum(line.get_ydata())) == int((suppliers["n_buyers"] > 0).sum())


def _chain() -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_node("b", kind="firm", ownership="fdi", name="Buyer")
    G.add_node("t1", kind="firm", ownership="domestic")
    G.add_node("t2", kind="firm", ownership="jv")
    G.add_node("s", kind="firm", ownership="domestic")
    G.add_edges_from([("t1", "b"), ("t2", "b"), ("s", "t2"), ("s", "t1")], kind="supplies_to")
    return G


def test_tier_layout_puts_tiers_in_columns_and_suppliers_near_customers() -> None:
    H = graph.tier_graph(_chain(), "b")
    pos = graph.tier_layout(H)
    assert pos["b"] == (0.0, 0.0)
    assert {pos["t1"], pos["t2"]} == {(-1.0, -1.0), (-1.0, 1.0)}
    assert pos["s"] == (-2.0, 0.0)  # between its two customers


def test_tier_layout_needs_tiers() -> None:
    G = nx.DiGraph()
    G.add_edge("a", "b")
    with pytest.raises(ValueError, match="tier"):
        graph.tier_layout(G)


def test_plot_tiers_draws_every_firm_and_edge() -> None:
    H = graph.tier_graph(_chain(), "b")
    ax = graph.plot_tiers(H).axes[0]
    segments = ax.collections[0].get_segments()
    # tier_graph keeps one layered edge per supplier-customer step: t1->b, t2->b, s->t1, s->t2.
    assert len(segments) == H.number_of_edges() == 4
    points = sum(len(c.get_offsets()) for c in ax.collections[1:])
    assert points == 4
    assert [t.get_text() for t in ax.get_xticklabels()] == ["buyer", "Tier 1", "Tier 2"]
    texts = [t.get_text() for t in ax.texts]
    assert "b Buyer" in texts and "t1" in texts and "s" not in texts  # tier 2 unlabelled


def test_plot_tiers_of_a_hanoi_buyer(hanoi: graph.Dataset) -> None:
    H = graph.tier_graph(hanoi, "hn-b002", max_depth=2)
    ax = graph.plot_tiers(H, color_by="sector").axes[0]
    assert sum(len(c.get_offsets()) for c in ax.collections[1:]) == H.number_of_nodes()
    assert ax.get_legend().get_title().get_text() == "sector"


def test_plot_hubs_labels_bars(hanoi: graph.Dataset) -> None:
    table = graph.hubs(hanoi, "degree", top=5)
    ax = graph.plot_hubs(table).axes[0]
    assert len(ax.patches) == 5
    assert [p.get_width() for p in ax.patches] == table["centrality"].tolist()
    first = ax.get_yticklabels()[0].get_text()
    assert first.startswith(str(table.index[0]))


# -- the offline HTML view --------------------------------------------------------------------
def _cx(page: str, node: str) -> float:
    pattern = rf'<circle cx="([-\d.]+)" cy="[-\d.]+" r="\d+" fill="[^"]+" data-id="{node}">'
    match = re.search(pattern, page)
    assert match, node
    return float(match.group(1))


def test_network_html_is_self_contained_and_complete() -> None:
    H = graph.tier_graph(_chain(), "b")
    page = graph.network_html(H, title="Chain of b")
    assert page.count("<circle") == 4 and page.count("<line") == 4
    for outside in ("http://", "https://", "src=", "<link", "@import"):
        assert outside not in page
    assert page.count("<script") == 2  # the data and the code, both inline
    # Tiers by default: the buyer sits right of its suppliers.
    assert _cx(page, "b") > _cx(page, "t1") > _cx(page, "s")
    data = json.loads(re.search(r'type="application/json">(.*?)</script>', page, re.S).group(1))
    assert data["b"] == {"name": "Buyer", "tier": 0, "ownership": "fdi"}


def test_network_html_escapes_firm_names() -> None:
    G = nx.DiGraph()
    G.add_node("x", name="</script><script>alert(1)</script> & <b>")
    G.add_node("y")
    G.add_edge("x", "y")
    page = graph.network_html(G)
    assert page.count("<script") == 2 and "alert(1)</script>" not in page
    assert "&lt;b&gt;" in page


def test_network_html_needs_a_position_for_every_node() -> None:
    G = nx.path_graph(3)
    with pytest.raises(ValueError, match="position"):
        graph.network_html(G, pos={0: (0, 0), 1: (1, 0)})


def test_write_network_html_makes_the_folder(tmp_path: Path, hanoi: graph.Dataset) -> None:
    H = graph.tier_graph(hanoi, "hn-b001")
    out = graph.write_network_html(H, tmp_path / "views" / "b001.html", color_by="sector")
    page = out.read_text(encoding="utf-8")
    assert page.count("<circle") == H.number_of_nodes()
    assert page.count("<line") == H.number_of_edges()


# -- matcher computations ---------------------------------------------------------------------
def test_recall_curve_matches_evaluate_at_each_k(
    hanoi: graph.Dataset, evaluation: matcher.EvaluationResult, cheap_methods: dict
) -> None:
    methods = matcher.evaluation_methods()
    chosen = {name: methods[name] for name in ("popular", "l3", "model")}
    curve = matcher.recall_curve(hanoi, ks=[1, 10, 30], methods=chosen)
    assert curve.columns.tolist() == ["popular", "l3", "model"]
    assert curve.loc[10].to_dict() == pytest.approx(
        evaluation.metrics["recall_at_k"].to_dict(), abs=1e-12
    )
    at_one = matcher.evaluate(hanoi, "temporal", k=1, seeds=1, methods=cheap_methods)
    assert curve.loc[1, ["popular", "l3"]].tolist() == pytest.approx(
        at_one.metrics["recall_at_k"].tolist(), abs=1e-12
    )
    for method in curve.columns:
        assert curve[method].is_monotonic_increasing
    assert ((curve >= 0) & (curve <= 1)).all().all()


def test_recall_curve_random_holdout_follows_the_seed(
    hanoi: graph.Dataset, cheap_methods: dict
) -> None:
    curve = matcher.recall_curve(hanoi, "random", ks=[5], methods=cheap_methods, seed=1)
    result = matcher.evaluate(hanoi, "random", k=5, seeds=2, methods=cheap_methods)
    seed_one = result.per_seed[result.per_seed["seed"] == 1].set_index("method")
    assert curve.loc[5].to_dict() == pytest.approx(seed_one["recall_at_k"].to_dict(), abs=1e-12)


def test_recall_curve_checks_its_arguments(hanoi: graph.Dataset, cheap_methods: dict) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        matcher.recall_curve(hanoi, ks=[0, 5], methods=cheap_methods)
    with pytest.raises(ValueError, match="holdout"):
        matcher.recall_curve(hanoi, "future", methods=cheap_methods)


def test_feature_importance_of_one_pair_is_its_explanation(fitted: matcher.Matcher) -> None:
    best = fitted.recommend("hn-b001", k=1).iloc[0]
    table = matcher.feature_importance(fitted, ["hn-b001"], k=1)
    explained = fitted.explain(best["supplier_id"], "hn-b001")
    by_hand = {c["feature"]: c["contribution"] for c in explained["contributions"]}
    assert table.attrs["pairs"] == 1
    assert set(table.index) == set(matcher.FEATURES)
    for feature, row in table.iterrows():
        assert row["mean_contribution"] == pytest.approx(by_hand[feature], abs=1e-4)
        assert row["mean_abs_contribution"] == pytest.approx(abs(by_hand[feature]), abs=1e-4)


def test_feature_importance_averages_over_the_sampled_recommendations(
    fitted: matcher.Matcher,
) -> None:
    table = matcher.feature_importance(fitted, k=5, max_buyers=20, seed=1)
    again = matcher.feature_importance(fitted, k=5, max_buyers=20, seed=1)
    pd.testing.assert_frame_equal(table, again)
    assert 0 < table.attrs["pairs"] <= 100
    assert table["mean_abs_contribution"].is_monotonic_decreasing
    assert (table["mean_abs_contribution"] >= table["mean_contribution"].abs() - 1e-12).all()
    assert table.loc["fit_level", "description"] == matcher.FEATURES["fit_level"]


def test_explanation_text_reads_out_reasons_weights_and_blockers(
    fitted: matcher.Matcher, hanoi: graph.Dataset
) -> None:
    best = fitted.recommend("hn-b001", k=1).iloc[0]
    text = matcher.explanation_text(fitted.explain(best["supplier_id"], "hn-b001"), top=3)
    lines = text.splitlines()
    assert lines[0].startswith(f"{best['supplier_id']} for hn-b001")
    assert all(f"  - {reason}" in lines for reason in best["reasons"])
    weights = [line for line in lines if re.match(r"  [+-]\d", line)]
    assert len(weights) == 3
    # Each weight says its feature in plain words, and the id in brackets for analysts.
    for line in weights:
        feature = line.rsplit("[", 1)[1].rstrip("]")
        assert matcher.feature_name(feature) in line and matcher.feature_name(feature) != feature
    assert lines[-1] == "Blocks: none"
    supplier = hanoi.active_links.query("buyer_id == 'hn-b001'")["supplier_id"].iloc[0]
    linked = matcher.explanation_text(fitted.explain(supplier, "hn-b001"))
    assert "already an active supplier of this buyer" in linked.splitlines()[-1]


# -- matcher pictures -------------------------------------------------------------------------
def test_plot_evaluation_groups_bars_by_method(evaluation: matcher.EvaluationResult) -> None:
    ax = matcher.plot_evaluation(evaluation).axes[0]
    assert len(ax.containers) == 2
    assert all(len(c) == 3 for c in ax.containers)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["popular", "l3", "model"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["recall@10", "NDCG@10"]
    heights = [bar.get_height() for bar in ax.containers[0]]
    assert heights == pytest.approx(evaluation.metrics["recall_at_k"].tolist())
    assert len(ax.texts) == 6  # each bar's value written on it


def test_plot_evaluation_rejects_unknown_metrics(evaluation: matcher.EvaluationResult) -> None:
    with pytest.raises(KeyError, match="precision"):
        matcher.plot_evaluation(evaluation, ["precision"])


def test_plot_recall_curve_one_line_per_method() -> None:
    curve = pd.DataFrame(
        {"popular": np.linspace(0, 0.3, 50), "model": np.linspace(0, 0.6, 50)},
        index=pd.Index(range(1, 51), name="k"),
    )
    ax = matcher.plot_recall_curve(curve).axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["popular", "model"]
    assert all(len(line.get_xdata()) == 50 for line in lines)
    assert ax.get_xlim() == (1.0, 50.0) and ax.get_ylabel() == "recall@k"


def test_plot_reliability_of_an_evaluation(evaluation: matcher.EvaluationResult) -> None:
    ax = matcher.plot_reliability(evaluation).axes[0]
    diagonal, observed = ax.get_lines()
    assert diagonal.get_xdata().tolist() == [0, 1] and diagonal.get_ydata().tolist() == [0, 1]
    seen = evaluation.reliability[evaluation.reliability["count"] > 0]
    assert observed.get_ydata().tolist() == pytest.approx(seen["observed_rate"].tolist())
    assert len(ax.texts) == len(seen)
    assert "model" in ax.get_title()


def test_plot_reliability_needs_a_curve(evaluation: matcher.EvaluationResult) -> None:
    import dataclasses

    bare = dataclasses.replace(evaluation, reliability=None)
    with pytest.raises(ValueError, match="no reliability curve"):
        matcher.plot_reliability(bare)


def test_plot_feature_importance_and_explanation(fitted: matcher.Matcher) -> None:
    table = matcher.feature_importance(fitted, ["hn-b001", "hn-b002"], k=5)
    ax = matcher.plot_feature_importance(table, top=6).axes[0]
    assert len(ax.patches) == 6
    # Features in plain words, not their ids.
    names = [matcher.feature_name(f) for f in table.index[:6]]
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    assert table["name"].iloc[:6].tolist() == names
    assert "(10 recommended pairs)" in ax.get_title()

    best = fitted.recommend("hn-b001", k=1).iloc[0]
    explained = fitted.explain(best["supplier_id"], "hn-b001")
    ax = matcher.plot_explanation(explained, top=4).axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([c["contribution"] for c in explained["contributions"][:4]])
    negative = [p for p, width in zip(ax.patches, widths, strict=True) if width < 0]
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in negative}
    assert colours <= {"#c44e52"}
