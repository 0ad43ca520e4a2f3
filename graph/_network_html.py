"""An offline HTML view of a (small) network: one self-contained page that opens in any browser.

:func:`network_html` needs no matplotlib at all: it writes one HTML page (inline SVG and a few
lines of inline JavaScript, no network access) coloured like the figures of :mod:`ketnoi.graph`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ketnoi.graph._analysis import UNKNOWN
from ketnoi.graph._figures import GREY, group_order
from ketnoi.graph._plot import tier_layout
from ketnoi.graph._values import json_value

__all__ = ["network_html", "write_network_html"]

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


def _info_value(value: Any) -> Any:
    """A node attribute for the page's info box: plain, with a list shown as one line."""
    value = json_value(value)
    return "; ".join(map(str, value)) if isinstance(value, list) else value


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
    order = group_order(groups, (UNKNOWN,))[: len(_TAB10)]
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
            f'fill="{colours.get(group, GREY)}" data-id="{esc(str(n))}">'
            f"<title>{esc(str(n))}: {esc(str(label))}</title></circle>"
        )
        info[str(n)] = {k: _info_value(attrs[k]) for k in _INFO if attrs.get(k) not in (None, "")}
    key = "".join(
        f'<div><span style="background:{colours.get(g, GREY)}"></span>{esc(g)}</div>'
        for g in group_order(groups, (UNKNOWN,))
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
