"""Writing a supply graph to GraphML (Gephi, yEd, Cytoscape) or node-link JSON (d3, the web)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

__all__ = ["EXPORT_FORMATS", "export_graph"]

EXPORT_FORMATS: tuple[str, ...] = ("graphml", "json")

#: Separator for list attributes in GraphML, the same one the dataset's CSV files use.
LIST_SEPARATOR = ";"


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _python(value: object) -> object:
    """numpy and pandas scalars as the built-in value, so writers see int, float, bool, str."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str):
        return item()
    return value


def _graphml_value(value: object) -> object:
    # GraphML holds only scalars: a list becomes one ;-joined string, as in the contract files.
    if isinstance(value, list | tuple | set | frozenset):
        return LIST_SEPARATOR.join(str(_python(v)) for v in value)
    return _python(value)


def _graphml_attrs(data: dict) -> dict[str, Any]:
    # Missing values are dropped: GraphML has no null, and its readers fill the key's default.
    out = {}
    for name, value in data.items():
        value = _graphml_value(value)
        if not _is_missing(value):
            out[str(name)] = value
    return out


def _json_value(value: object) -> object:
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    value = _python(value)
    if _is_missing(value):
        return None
    return value


def _scalar_copy(G: nx.Graph) -> nx.Graph:
    H = G.__class__()
    H.graph.update(_graphml_attrs(G.graph))
    H.add_nodes_from((n, _graphml_attrs(d)) for n, d in G.nodes(data=True))
    if G.is_multigraph():
        H.add_edges_from(
            (u, v, k, _graphml_attrs(d)) for u, v, k, d in G.edges(keys=True, data=True)
        )
    else:
        H.add_edges_from((u, v, _graphml_attrs(d)) for u, v, d in G.edges(data=True))
    return H


def _write_json(G: nx.Graph, path: Path) -> None:
    data = nx.node_link_data(G, edges="edges")
    # allow_nan=False: a NaN that slipped through would make the file unreadable in browsers.
    path.write_text(json.dumps(_json_value(data), ensure_ascii=False, allow_nan=False), "utf-8")


def export_graph(G: nx.Graph, path: str | Path, format: str = "graphml") -> Path:
    """Write a graph to a file.

    Parameters
    ----------
    G : networkx graph
        Typically from :func:`build_supply_graph` or :func:`link_graph`. It is not changed.
    path : str or Path
        File to write; its folder must exist.
    format : {"graphml", "json"}, default "graphml"
        ``graphml``: lists and tuples become ``;``-joined strings and missing values (None,
        NaN, NA) are left out, since GraphML attributes are scalars. ``json``: networkx
        node-link data (nodes under ``"nodes"``, edges under ``"edges"``) with lists kept and
        missing values as ``null``; read it back with
        ``nx.node_link_graph(data, edges="edges")``. Edge keys of a multigraph are kept
        (GraphML writes them as edge ids): read GraphML back with
        ``nx.read_graphml(path, force_multigraph=True)``, or two edges of different kinds
        between the same nodes collapse into one.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        For an unknown format.

    Examples
    --------
    >>> import networkx as nx, tempfile, pathlib
    >>> G = nx.DiGraph()
    >>> G.add_node("s1", kind="firm", processes=["stamping", "welding"])
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> H = nx.read_graphml(export_graph(G, folder / "g.graphml"))
    >>> H.nodes["s1"]["processes"]
    'stamping;welding'
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}")
    path = Path(path)
    if format == "graphml":
        # infer_numeric_types: an attribute that is int on some nodes and float on others is
        # declared once as double instead of twice under one name.
        nx.write_graphml(_scalar_copy(G), path, infer_numeric_types=True)
    else:
        _write_json(G, path)
    return path
