"""Pictures of the supply network for notebooks and reports.

Every ``plot_*`` function draws on a new matplotlib :class:`~matplotlib.figure.Figure` (or on
the ``ax`` given) and returns the figure, as the shared figure policy of
:mod:`ketnoi.graph._figures` makes it. The offline HTML view of a network is in
:mod:`ketnoi.graph._network_html`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from ketnoi.graph._analysis import UNKNOWN, firm_labels
from ketnoi.graph._contract import BUYER_ROLES, SUPPLIER_ROLES
from ketnoi.graph._dataset import Dataset
from ketnoi.graph._figures import GREY, group_order, grouped, new_figure, palette, short_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_degree_distribution",
    "plot_firm_counts",
    "plot_firm_map",
    "plot_hubs",
    "plot_tiers",
    "tier_layout",
]


# -- counts -------------------------------------------------------------------------------------
def plot_firm_counts(
    counts: pd.DataFrame,
    *,
    top: int | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Horizontal bars of a :func:`firm_counts` table, stacked where it is split.

    Parameters
    ----------
    counts : DataFrame
        From :func:`firm_counts`: one bar per row, one stacked segment per column.
    top : int, optional
        Draw only the first ``top`` rows (the largest groups).
    title : str, optional
        Axes title; default "Firms by <index name>".
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One bar container per column; the largest group at the top.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketnoi.graph import firm_counts
    >>> firms = pd.DataFrame({"firm_id": ["a", "b", "c"], "sector": ["x", "y", "x"]})
    >>> fig = plot_firm_counts(firm_counts(firms, "sector"))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['x', 'y']
    """
    table = counts if top is None else counts.head(top)
    fig, ax = new_figure(ax, (7.0, 0.9 + 0.32 * max(len(table), 1)))
    y = np.arange(len(table))
    left = np.zeros(len(table))
    colours = palette(len(table.columns))
    for colour, column in zip(colours, table.columns, strict=True):
        values = table[column].to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=colour, label=str(column))
        left += values
    ax.set_yticks(y, [short_label(v) for v in table.index])
    ax.invert_yaxis()
    ax.set_xlabel("firms")
    ax.set_title(title or f"Firms by {table.index.name or 'group'}")
    if len(table.columns) > 1:
        ax.legend(title=table.columns.name or None, fontsize="small", loc="lower right")
    return fig


# -- map ----------------------------------------------------------------------------------------
def plot_firm_map(
    dataset: Dataset,
    color_by: str | pd.Series = "sector",
    *,
    max_groups: int = 10,
    missing: str = UNKNOWN,
    label_parks: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Firms as points at their longitude and latitude, parks as labelled triangles.

    Parameters
    ----------
    dataset : Dataset
        Firms without coordinates are left out (the title says how many).
    color_by : str or Series
        A firm column (``sector``, ``ownership``, ``park`` ...) or a series indexed by
        ``firm_id``, such as :func:`communities`.
    max_groups : int
        Colours for the largest ``max_groups - 1`` groups; the rest share one grey "other".
    missing : str
        Legend label of firms with no value (for communities: firms with no links).
    label_parks : bool
        Draw the parks of ``parks.csv`` that have coordinates, with their names.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One scatter collection per group (firms), then one for the parks.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> fig = plot_firm_map(tiny, "ownership")
    >>> sum(len(c.get_offsets()) for c in fig.axes[0].collections)  # 8 firms, 2 parks
    10
    """
    fig, ax = new_figure(ax, (8.0, 7.0))
    firms = dataset.firms
    lat = pd.to_numeric(firms["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(firms["lon"], errors="coerce").to_numpy(dtype=float)
    placed = ~(np.isnan(lat) | np.isnan(lon))
    labels = firm_labels(firms, color_by).replace(UNKNOWN, missing)
    labels = grouped(labels, max_groups)
    tail = ("other", missing)
    order = group_order(labels[placed], tail)
    colours = dict(zip(order, palette(len(order)), strict=True))
    for group in order:
        mask = placed & (labels == group).to_numpy()
        grey = group in tail
        ax.scatter(
            lon[mask],
            lat[mask],
            s=9,
            color=GREY if grey else colours[group],
            alpha=0.5 if grey else 0.8,
            linewidths=0,
            label=f"{short_label(group, 24)} ({int(mask.sum())})",
            zorder=1 if grey else 2,
        )
    if label_parks and "parks" in dataset.present:
        parks = dataset.parks
        p_lat = pd.to_numeric(parks["lat"], errors="coerce").to_numpy(dtype=float)
        p_lon = pd.to_numeric(parks["lon"], errors="coerce").to_numpy(dtype=float)
        ok = ~(np.isnan(p_lat) | np.isnan(p_lon))
        ax.scatter(p_lon[ok], p_lat[ok], marker="^", s=70, color="black", zorder=3, label="park")
        for name, x, y in zip(parks["name"][ok], p_lon[ok], p_lat[ok], strict=True):
            ax.annotate(
                short_label(name, 30),
                (x, y),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=7,
                zorder=4,
            )
    if placed.any():
        # Degrees of longitude shrink with latitude; this keeps the map's shapes true.
        ax.set_aspect(1.0 / math.cos(math.radians(float(np.mean(lat[placed])))))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    by = color_by if isinstance(color_by, str) else (color_by.name or "group")
    hidden = int((~placed).sum())
    note = f" ({hidden} without coordinates not shown)" if hidden else ""
    ax.set_title(f"{int(placed.sum())} firms by {by}{note}")
    ax.legend(fontsize="x-small", markerscale=1.5, loc="best", framealpha=0.8)
    return fig


# -- degrees ------------------------------------------------------------------------------------
def plot_degree_distribution(degrees: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """How many firms have how many partners, on log-log axes.

    Parameters
    ----------
    degrees : DataFrame
        From :func:`degree_table`. Suppliers (role supplier or both) are counted by buyers
        supplied, buyers (role buyer or both) by suppliers; without a ``role`` column every
        firm counts in both.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Two lines of points (suppliers, buyers): x the number of partners, y the number of
        firms with it. Firms with none cannot sit on a log axis; the legend counts them.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"role": ["supplier", "supplier", "buyer"],
    ...                       "n_buyers": [1, 1, 0], "n_suppliers": [0, 0, 2]})
    >>> line = plot_degree_distribution(table).axes[0].get_lines()[0]
    >>> line.get_xdata().tolist(), line.get_ydata().tolist()
    ([1], [2])
    """
    fig, ax = new_figure(ax, (6.5, 4.5))
    role = degrees["role"] if "role" in degrees.columns else None
    series = (
        ("suppliers: buyers supplied", SUPPLIER_ROLES, "n_buyers", "o"),
        ("buyers: suppliers", BUYER_ROLES, "n_suppliers", "s"),
    )
    for label, roles, column, marker in series:
        values = degrees[column] if role is None else degrees.loc[role.isin(roles), column]
        counts = values[values > 0].value_counts().sort_index()
        none = int((values == 0).sum())
        ax.plot(
            counts.index.to_numpy(),
            counts.to_numpy(),
            marker=marker,
            linestyle="none",
            alpha=0.8,
            label=f"{label} ({none} with none)",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("distinct partners on active links")
    ax.set_ylabel("firms")
    ax.set_title("Degree distribution")
    ax.legend(fontsize="small")
    return fig


# -- tiers --------------------------------------------------------------------------------------
def tier_layout(H: nx.DiGraph) -> dict[Hashable, tuple[float, float]]:
    """Positions for a :func:`tier_graph`: tiers as columns, the buyer on the right.

    Tier ``t`` sits at ``x = -t``; within a tier, firms are spread over ``y`` in [-1, 1]
    (0 for a lone firm) and ordered by the mean height of the firms they supply, which keeps
    a supplier near its customers and edges from crossing more than they must.

    Parameters
    ----------
    H : networkx.DiGraph
        Nodes with an integer ``tier`` attribute; edges supplier -> customer.

    Returns
    -------
    dict
        ``{node: (x, y)}``.

    Examples
    --------
    >>> import networkx as nx
    >>> H = nx.DiGraph()
    >>> H.add_nodes_from([("b", {"tier": 0}), ("t1", {"tier": 1}), ("t2", {"tier": 1}),
    ...                   ("s", {"tier": 2})])
    >>> H.add_edges_from([("t1", "b"), ("t2", "b"), ("s", "t2")])
    >>> tier_layout(H)
    {'b': (0.0, 0.0), 't1': (-1.0, -1.0), 't2': (-1.0, 1.0), 's': (-2.0, 0.0)}
    """
    tiers: dict[int, list[Hashable]] = {}
    for node, tier in H.nodes(data="tier"):
        if tier is None:
            raise ValueError(f"node {node!r} has no tier attribute")
        tiers.setdefault(int(tier), []).append(node)
    pos: dict[Hashable, tuple[float, float]] = {}
    for tier in sorted(tiers):
        nodes = tiers[tier]

        def height(node: Hashable) -> float:
            placed = [pos[c][1] for c in H.successors(node) if c in pos]
            return float(np.mean(placed)) if placed else 0.0

        nodes = sorted(nodes, key=lambda n: (height(n), str(n)))
        ys = np.linspace(-1.0, 1.0, len(nodes)) if len(nodes) > 1 else np.zeros(1)
        for node, y in zip(nodes, ys, strict=True):
            pos[node] = (float(-tier), float(y))
    return pos


def plot_tiers(
    H: nx.DiGraph,
    *,
    color_by: str = "ownership",
    label_tiers: int = 1,
    ax: Axes | None = None,
) -> Figure:
    """Draw a buyer's supply chain tier by tier (from :func:`tier_graph`).

    Parameters
    ----------
    H : networkx.DiGraph
        A :func:`tier_graph`: nodes with ``tier`` and firm attributes.
    color_by : str
        Node attribute that colours the firms (``ownership``, ``sector``, ``park`` ...).
    label_tiers : int
        Write firm ids up to this tier (the buyer is always named); deeper tiers are too
        crowded to read.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One line collection (a segment per edge) and one scatter per colour group (a point
        per firm); the x ticks name the tiers.

    Examples
    --------
    >>> import networkx as nx
    >>> from ketnoi.graph import tier_graph
    >>> G = nx.DiGraph()
    >>> G.add_edges_from([("s1", "t1"), ("t1", "b1"), ("s2", "b1")], kind="supplies_to")
    >>> fig = plot_tiers(tier_graph(G, "b1"))
    >>> len(fig.axes[0].collections[0].get_segments())
    3
    """
    from matplotlib.collections import LineCollection

    n_tiers = 1 + max((int(t) for _, t in H.nodes(data="tier")), default=0)
    fig, ax = new_figure(ax, (2.2 + 2.2 * n_tiers, 7.0))
    pos = tier_layout(H)
    segments = [(pos[u], pos[v]) for u, v in H.edges()]
    ax.add_collection(LineCollection(segments, colors="#999999", linewidths=0.5, alpha=0.6))
    nodes = list(H.nodes)
    raw = pd.Series([H.nodes[n].get(color_by) for n in nodes], index=nodes, dtype=object)
    labels = raw.map(lambda v: UNKNOWN if v is None or v == "" else str(v))
    order = group_order(labels, (UNKNOWN,))
    colours = dict(zip(order, palette(len(order)), strict=True))
    for group in order:
        members = [n for n in nodes if labels[n] == group]
        xy = np.array([pos[n] for n in members], dtype=float).reshape(-1, 2)
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=[60 if H.nodes[n]["tier"] == 0 else 18 for n in members],
            color=GREY if group == UNKNOWN else colours[group],
            label=f"{group} ({len(members)})",
            zorder=2,
        )
    root = H.graph.get("buyer_id")
    for node in nodes:
        tier = int(H.nodes[node]["tier"])
        if node == root or tier == 0:
            name = H.nodes[node].get("name_en") or H.nodes[node].get("name") or node
            ax.annotate(
                short_label(f"{node} {name}", 28),
                pos[node],
                xytext=(6, 0),
                textcoords="offset points",
                fontsize=8,
                va="center",
            )
        elif tier <= label_tiers:
            ax.annotate(str(node), pos[node], xytext=(3, 2), textcoords="offset points", fontsize=6)
    ax.set_xticks(
        [-t for t in range(n_tiers)], ["buyer", *(f"Tier {t}" for t in range(1, n_tiers))]
    )
    ax.set_yticks([])
    ax.set_xlim(-(n_tiers - 1) - 0.5, 1.2)
    ax.set_ylim(-1.1, 1.1)
    ax.set_title(f"Supply chain of {root or 'the buyer'}: {len(nodes) - 1} upstream firms")
    ax.legend(fontsize="x-small", loc="upper left", title=color_by)
    return fig


# -- hubs ---------------------------------------------------------------------------------------
def plot_hubs(table: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Bars of the firms :func:`hubs` found, most central at the top.

    Parameters
    ----------
    table : DataFrame
        From :func:`hubs` (a ``centrality`` column; ``name`` and ``role`` label the bars).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One bar per firm, labelled ``firm_id name (role)``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"name": ["A", "B"], "centrality": [0.5, 0.2]},
    ...                      index=pd.Index(["a", "b"], name="firm_id"))
    >>> len(plot_hubs(table).axes[0].patches)
    2
    """
    fig, ax = new_figure(ax, (7.0, 0.9 + 0.32 * max(len(table), 1)))
    labels = []
    for firm, row in table.iterrows():
        name = short_label(row.get("name", ""), 30)
        role = f" ({row['role']})" if "role" in row and row["role"] else ""
        labels.append(f"{firm} {name}{role}")
    y = np.arange(len(table))
    ax.barh(y, table["centrality"].to_numpy(dtype=float), color="#4c72b0")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("centrality")
    ax.set_title("Most central firms")
    return fig
