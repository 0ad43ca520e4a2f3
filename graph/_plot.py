"""Pictures of the supply network for notebooks and reports, and an offline HTML network view.

Every ``plot_*`` function draws on a new matplotlib :class:`~matplotlib.figure.Figure` (or on
the ``ax`` given) and returns the figure, so a notebook shows it and a test can count its
artists. pyplot makes each figure (so that Jupyter's display hooks know how to render it) and
is told to forget it at once: nothing piles up in pyplot's global list over many calls, and a
notebook shows a returned figure exactly once. matplotlib is an optional dependency (the
``notebooks`` extra) imported only when a picture is drawn, so importing ``ketnoi.graph`` never
needs it.

:func:`network_html` needs no matplotlib at all: it writes one self-contained HTML page (inline
SVG and a few lines of inline JavaScript, no network access) that opens in any browser.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from ketnoi.graph._analysis import UNKNOWN, _labels
from ketnoi.graph._contract import BUYER_ROLES, SUPPLIER_ROLES
from ketnoi.graph._dataset import Dataset

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "network_html",
    "plot_degree_distribution",
    "plot_firm_counts",
    "plot_firm_map",
    "plot_hubs",
    "plot_tiers",
    "tier_layout",
    "write_network_html",
]

INSTALL_HINT = 'pip install "ketnoi[notebooks]"'
#: Colour of the group that collects everything beyond the largest groups, and of unknowns.
_GREY = "#b0b0b0"


def _figure(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure and axes to draw on: ``ax``'s own, or a new figure that pyplot let go of."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib: {INSTALL_HINT}") from exc
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = plt.figure(figsize=figsize, layout="constrained")
    # Closed at once: pyplot forgets it (no leak over many calls, no second copy shown at the
    # end of a notebook cell), while the backend still renders it when it is displayed.
    plt.close(fig)
    return fig, fig.subplots()


def _palette(n: int) -> list[str]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [to_hex(cmap(i % cmap.N)) for i in range(n)]


def _grouped(labels: pd.Series, max_groups: int, other: str = "other") -> pd.Series:
    """Labels with all but the ``max_groups - 1`` largest groups merged into ``other``."""
    counts = labels.value_counts()
    order = sorted(counts.index, key=lambda v: (-int(counts[v]), str(v)))
    if len(order) <= max_groups:
        return labels
    keep = set(order[: max_groups - 1])
    return labels.where(labels.isin(keep), other)


def _group_order(labels: pd.Series, last: tuple[str, ...]) -> list[str]:
    counts = labels.value_counts()
    order = sorted(counts.index, key=lambda v: (v in last, -int(counts[v]), str(v)))
    return [str(v) for v in order]


def _short(text: object, width: int = 32) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


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
    fig, ax = _figure(ax, (7.0, 0.9 + 0.32 * max(len(table), 1)))
    y = np.arange(len(table))
    left = np.zeros(len(table))
    colours = _palette(len(table.columns))
    for colour, column in zip(colours, table.columns, strict=True):
        values = table[column].to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=colour, label=str(column))
        left += values
    ax.set_yticks(y, [_short(v) for v in table.index])
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
    fig, ax = _figure(ax, (8.0, 7.0))
    firms = dataset.firms
    lat = pd.to_numeric(firms["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(firms["lon"], errors="coerce").to_numpy(dtype=float)
    placed = ~(np.isnan(lat) | np.isnan(lon))
    labels = _labels(firms, color_by).replace(UNKNOWN, missing)
    labels = _grouped(labels, max_groups)
    tail = ("other", missing)
    order = _group_order(labels[placed], tail)
    colours = dict(zip(order, _palette(len(order)), strict=True))
    for group in order:
        mask = placed & (labels == group).to_numpy()
        grey = group in tail
        ax.scatter(
            lon[mask],
            lat[mask],
            s=9,
            color=_GREY if grey else colours[group],
            alpha=0.5 if grey else 0.8,
            linewidths=0,
            label=f"{_short(group, 24)} ({int(mask.sum())})",
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
                _short(name, 30),
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
    fig, ax = _figure(ax, (6.5, 4.5))
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
    fig, ax = _figure(ax, (2.2 + 2.2 * n_tiers, 7.0))
    pos = tier_layout(H)
    segments = [(pos[u], pos[v]) for u, v in H.edges()]
    ax.add_collection(LineCollection(segments, colors="#999999", linewidths=0.5, alpha=0.6))
    nodes = list(H.nodes)
    raw = pd.Series([H.nodes[n].get(color_by) for n in nodes], index=nodes, dtype=object)
    labels = raw.map(lambda v: UNKNOWN if v is None or v == "" else str(v))
    order = _group_order(labels, (UNKNOWN,))
    colours = dict(zip(order, _palette(len(order)), strict=True))
    for group in order:
        members = [n for n in nodes if labels[n] == group]
        xy = np.array([pos[n] for n in members], dtype=float).reshape(-1, 2)
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=[60 if H.nodes[n]["tier"] == 0 else 18 for n in members],
            color=_GREY if group == UNKNOWN else colours[group],
            label=f"{group} ({len(members)})",
            zorder=2,
        )
    root = H.graph.get("buyer_id")
    for node in nodes:
        tier = int(H.nodes[node]["tier"])
        if node == root or tier == 0:
            name = H.nodes[node].get("name_en") or H.nodes[node].get("name") or node
            ax.annotate(
                _short(f"{node} {name}", 28),
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
    fig, ax = _figure(ax, (7.0, 0.9 + 0.32 * max(len(table), 1)))
    labels = []
    for firm, row in table.iterrows():
        name = _short(row.get("name", ""), 30)
        role = f" ({row['role']})" if "role" in row and row["role"] else ""
        labels.append(f"{firm} {name}{role}")
    y = np.arange(len(table))
    ax.barh(y, table["centrality"].to_numpy(dtype=float), color="#4c72b0")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("centrality")
    ax.set_title("Most central firms")
    return fig


# -- offline HTML -------------------------------------------------------------------------------
_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 0; display: flex; height: 100vh; }}
#view {{ flex: 1; cursor: grab; }}
#side {{ width: 300px; padding: 12px; border-left: 1px solid #ddd; overflow: auto;
  font-size: 13px; }}
line {{ stroke: #999; stroke-opacity: .5; }}
line.on {{ stroke: #d62728; stroke-opacity: 1; }}
circle {{ stroke: #fff; stroke-width: .5; cursor: pointer; }}
circle.dim, line.dim {{ opacity: .12; }}
.key span {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
</style>
</head>
<body>
<svg id="view" viewBox="{viewbox}">
<g id="edges">{edges}</g>
<g id="nodes">{nodes}</g>
</svg>
<div id="side"><h3>{title}</h3><p>{n_nodes} firms, {n_edges} links. Click a firm to see its
partners; click the background to clear. Scroll to zoom, drag to pan.</p>
<div class="key">{key}</div><div id="info"></div></div>
<script id="data" type="application/json">{data}</script>
<script>
(function () {{
  var svg = document.getElementById("view"), info = document.getElementById("info");
  var data = JSON.parse(document.getElementById("data").textContent);
  var circles = svg.querySelectorAll("circle"), lines = svg.querySelectorAll("line");
  function clear() {{
    circles.forEach(function (c) {{ c.classList.remove("dim"); }});
    lines.forEach(function (l) {{ l.classList.remove("dim", "on"); }});
    info.innerHTML = "";
  }}
  function pick(id) {{
    var near = {{}}; near[id] = true;
    lines.forEach(function (l) {{
      var hit = l.dataset.u === id || l.dataset.v === id;
      l.classList.toggle("on", hit); l.classList.toggle("dim", !hit);
      if (hit) {{ near[l.dataset.u] = true; near[l.dataset.v] = true; }}
    }});
    circles.forEach(function (c) {{ c.classList.toggle("dim", !near[c.dataset.id]); }});
    var rows = Object.entries(data[id] || {{}}).map(function (kv) {{
      var cell = document.createElement("div");
      cell.textContent = kv[0] + ": " + kv[1];
      return cell.outerHTML;
    }});
    info.innerHTML = "<h4></h4>" + rows.join("");
    info.querySelector("h4").textContent = id;
  }}
  svg.addEventListener("click", function (e) {{
    if (e.target.tagName === "circle") {{ pick(e.target.dataset.id); }} else {{ clear(); }}
  }});
  var vb = svg.viewBox.baseVal, drag = null;
  svg.addEventListener("wheel", function (e) {{
    e.preventDefault();
    var f = e.deltaY > 0 ? 1.15 : 1 / 1.15, r = svg.getBoundingClientRect();
    var x = vb.x + vb.width * (e.clientX - r.left) / r.width;
    var y = vb.y + vb.height * (e.clientY - r.top) / r.height;
    vb.x = x - (x - vb.x) * f; vb.y = y - (y - vb.y) * f; vb.width *= f; vb.height *= f;
  }}, {{ passive: false }});
  svg.addEventListener("mousedown", function (e) {{ drag = [e.clientX, e.clientY]; }});
  window.addEventListener("mouseup", function () {{ drag = null; }});
  window.addEventListener("mousemove", function (e) {{
    if (!drag) {{ return; }}
    var r = svg.getBoundingClientRect();
    vb.x -= (e.clientX - drag[0]) * vb.width / r.width;
    vb.y -= (e.clientY - drag[1]) * vb.height / r.height;
    drag = [e.clientX, e.clientY];
  }});
}})();
</script>
</body>
</html>
"""

#: Node attributes shown in the HTML view's side panel, where a node has them.
_INFO = ("name", "name_en", "tier", "role", "ownership", "country_of_origin", "sector", "park")
#: Colours of the HTML view (matplotlib's tab10, so the page matches the figures).
_TAB10 = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def network_html(
    G: nx.Graph,
    *,
    pos: Mapping[Hashable, tuple[float, float]] | None = None,
    color_by: str = "ownership",
    title: str = "Supply network",
) -> str:
    """A self-contained HTML page showing a (small) network: inline SVG, no network access.

    Firms are circles coloured by an attribute, links are lines; hovering a firm shows its
    name, clicking it highlights its partners and lists its attributes, the wheel zooms and
    dragging pans. Everything (data, styles, script) is inside the page, so it opens offline
    and can be mailed as one file. Meant for hundreds of firms, not the whole network.

    Parameters
    ----------
    G : networkx graph
        For instance a :func:`tier_graph` or ``link_graph(dataset).subgraph(firm_ids)``.
    pos : mapping, optional
        ``{node: (x, y)}``; default :func:`tier_layout` where every node has a ``tier``,
        else ``nx.spring_layout(G, seed=0)``.
    color_by : str
        Node attribute that colours the circles (ten colours; the rest grey).
    title : str

    Returns
    -------
    str
        The HTML page.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("s1", "b1")
    >>> page = network_html(G, pos={"s1": (0, 0), "b1": (1, 0)})
    >>> page.count("<circle"), page.count("<line"), "src=" in page
    (2, 1, False)
    """
    if pos is None:
        tiered = len(G) > 0 and all(t is not None for _, t in G.nodes(data="tier"))
        pos = tier_layout(G) if tiered else nx.spring_layout(G, seed=0)  # type: ignore[arg-type]
    missing = [n for n in G.nodes if n not in pos]
    if missing:
        raise ValueError(f"pos has no position for {len(missing)} node(s), e.g. {missing[0]!r}")
    ids = [str(n) for n in G.nodes]
    if len(set(ids)) != len(ids):
        raise ValueError("node ids must stay distinct as text")
    xy = np.array([pos[n] for n in G.nodes], dtype=float).reshape(-1, 2)
    # SVG's y axis points down; flip so that the page matches the matplotlib figures.
    xy[:, 1] *= -1
    lo = xy.min(axis=0) if len(xy) else np.zeros(2)
    span = float(max(np.ptp(xy, axis=0).max() if len(xy) else 0.0, 1e-9))
    scaled = (xy - lo) / span * 1000.0  # a 1000-unit canvas, whatever the layout's units
    where = {n: scaled[i] for i, n in enumerate(G.nodes)}
    pad = 40.0
    width, height = (scaled.max(axis=0) if len(scaled) else np.zeros(2)) + 2 * pad
    values = [G.nodes[n].get(color_by) for n in G.nodes]
    groups = pd.Series([UNKNOWN if v in (None, "") else str(v) for v in values])
    order = _group_order(groups, (UNKNOWN,))[: len(_TAB10)]
    colours = {g: _TAB10[i] for i, g in enumerate(order) if g != UNKNOWN}
    esc = html.escape
    edges = "".join(
        f'<line x1="{where[u][0] + pad:.1f}" y1="{where[u][1] + pad:.1f}" '
        f'x2="{where[v][0] + pad:.1f}" y2="{where[v][1] + pad:.1f}" '
        f'data-u="{esc(str(u))}" data-v="{esc(str(v))}"/>'
        for u, v in G.edges()
    )
    nodes = []
    info: dict[str, dict[str, Any]] = {}
    for n, group in zip(G.nodes, groups, strict=True):
        attrs = G.nodes[n]
        label = attrs.get("name_en") or attrs.get("name") or n
        r = 9 if attrs.get("tier") == 0 else 5
        nodes.append(
            f'<circle cx="{where[n][0] + pad:.1f}" cy="{where[n][1] + pad:.1f}" r="{r}" '
            f'fill="{colours.get(group, _GREY)}" data-id="{esc(str(n))}">'
            f"<title>{esc(str(n))}: {esc(str(label))}</title></circle>"
        )
        info[str(n)] = {k: _plain(attrs[k]) for k in _INFO if attrs.get(k) not in (None, "")}
    key = "".join(
        f'<div><span style="background:{colours.get(g, _GREY)}"></span>{esc(g)}</div>'
        for g in _group_order(groups, (UNKNOWN,))
    )
    # "</" inside the JSON would end the script element early; "<\/" means the same to JSON.
    data = json.dumps(info, ensure_ascii=False, default=str).replace("<", "\\u003c")
    return _HTML.format(
        title=esc(title),
        viewbox=f"0 0 {width:.1f} {height:.1f}",
        edges=edges,
        nodes="".join(nodes),
        n_nodes=G.number_of_nodes(),
        n_edges=G.number_of_edges(),
        key=f"<p><b>{esc(color_by)}</b></p>{key}",
        data=data,
    )


def write_network_html(G: nx.Graph, path: str | Path, **options: Any) -> Path:
    """Write :func:`network_html` to ``path`` (UTF-8), creating its folder; return the path.

    Examples
    --------
    >>> import tempfile, networkx as nx
    >>> G = nx.path_graph(3)
    >>> out = write_network_html(G, Path(tempfile.mkdtemp()) / "net.html", title="Path")
    >>> out.read_text(encoding="utf-8").count("<circle")
    3
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(network_html(G, **options), encoding="utf-8")
    return path
