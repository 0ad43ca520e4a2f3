"""Pictures of the programme reports: localisation rates, near-miss what-ifs, concentration,
and the programme's indicators against its targets.

Each function draws a table that a report function returns (:func:`localisation`,
:func:`near_miss_targets`, :func:`category_concentration`, :func:`sole_suppliers`,
:func:`programme_indicators`) and computes nothing of its own beyond choosing rows, so a chart
always shows the figures the ``ketnoi`` commands and the service report. As every
picture of ketnoi (:mod:`ketnoi.graph._figures`), each ``plot_*`` function returns a matplotlib
``Figure`` that pyplot no longer tracks, and imports matplotlib (the optional ``notebooks``
extra) only when it draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ketnoi.graph._figures import new_figure, new_grid, palette, short_label
from ketnoi.programme._indicators import SHARE_INDICATORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_concentration",
    "plot_localisation",
    "plot_near_miss_gains",
    "plot_programme_indicators",
    "plot_sole_suppliers",
]

#: The rates :func:`plot_localisation` draws side by side: column, legend label, colour.
_RATES = (
    ("linked_rate", "linked today", "#4c72b0"),
    ("localisation_rate", "linked or qualified", "#55a868"),
    ("rate_if_near_misses_gained", "if near misses gained what they lack", "#c7e9c0"),
)
_LOCAL, _FOREIGN, _TARGET = "#4c72b0", "#dd8452", "#c44e52"

#: The default panels of :func:`plot_programme_indicators`: title, then the indicators drawn.
_PANELS: dict[str, tuple[str, ...]] = {
    "Local supporting-industry firms": ("local_supporting_firms",),
    "Share internationally certified": ("certified_share",),
    "Local firms in FDI supply chains, by tier": (
        "tier_1_firms",
        "tier_2_firms",
        "tier_3plus_firms",
    ),
    "New links per year": ("new_links", "new_local_links"),
    "Localisation rate of demand": ("localisation_rate", "linked_rate"),
}
#: How an indicator reads in a legend.
_INDICATOR_LABELS = {
    "local_supporting_firms": "local supporting-industry firms",
    "certified_share": "internationally certified",
    "tier_1_firms": "tier 1",
    "tier_2_firms": "tier 2",
    "tier_3plus_firms": "tier 3 and deeper",
    "new_links": "all new links",
    "new_local_links": "with a local supplier",
    "localisation_rate": "linked or qualified",
    "linked_rate": "linked",
}


def _percent_axis(axis: object) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0))  # type: ignore[attr-defined]


# -- localisation -------------------------------------------------------------------------------
def _group_labels(table: pd.DataFrame) -> tuple[list[str], str]:
    """Bar labels of a :func:`localisation` table, and what the groups are."""
    if "buyer_id" in table.columns:
        names = table.get("buyer_name", pd.Series("", index=table.index)).fillna("")
        labels = [
            short_label(f"{b} {n}".strip(), 34)
            for b, n in zip(table["buyer_id"], names, strict=True)
        ]
        return labels, "buyer"
    if "category_id" in table.columns:
        names = table.get("category_name", table["category_id"]).fillna(table["category_id"])
        return [short_label(n, 34) for n in names], "category"
    if "sector" in table.columns:
        return [short_label(s, 34) for s in table["sector"]], "sector"
    if "country_of_origin" in table.columns:
        return [str(c) for c in table["country_of_origin"]], "buyer's country of origin"
    return ["all demands"] * len(table), "all demands"


def _weighting_label(table: pd.DataFrame) -> str:
    weighting = set(table["weighting"]) if "weighting" in table.columns else set()
    if weighting == {"volume"}:
        return "share of demand volume"
    if weighting == {"count"}:
        return "share of demands"
    return "share of demand (by volume where every demand has one)"


def plot_localisation(
    table: pd.DataFrame,
    *,
    what_if: bool = False,
    top: int | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Localisation rates per group as bars: the linked rate beside the localisation rate.

    Parameters
    ----------
    table : DataFrame
        From :func:`localisation` with any ``by`` (the bars are labelled by the group's key:
        buyer, category name, sector or country of origin).
    what_if : bool
        Add a third bar per group: ``rate_if_near_misses_gained``.
    top : int, optional
        Draw only the first ``top`` rows (the lowest rates, as :func:`localisation` sorts).
    title : str, optional
        Default "Localisation rate by <group>".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One bar container per rate (linked, linked or qualified[, if gained]), one bar per
        group in each, the first group at the top; the x axis in percent.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"sector": ["cars", "shoes"], "weighting": ["volume", "volume"],
    ...                       "linked_rate": [0.5, 0.75], "localisation_rate": [0.75, 1.0]})
    >>> ax = plot_localisation(table).axes[0]
    >>> [float(p.get_width()) for p in ax.containers[1]]
    [0.75, 1.0]
    """
    rows = table if top is None else table.head(top)
    rates = [r for r in _RATES if what_if or r[0] != "rate_if_near_misses_gained"]
    fig, ax = new_figure(ax, (7.5, 1.0 + 0.28 * len(rates) * max(len(rows), 1)))
    labels, group = _group_labels(rows)
    y = np.arange(len(rows))
    height = 0.8 / len(rates)
    for i, (column, label, colour) in enumerate(rates):
        values = rows[column].to_numpy(dtype=float)
        ax.barh(y - 0.4 + height * (i + 0.5), values, height=height, color=colour, label=label)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    _percent_axis(ax.xaxis)
    ax.set_xlabel(_weighting_label(rows))
    ax.set_title(title or f"Localisation rate by {group}")
    ax.legend(fontsize="small", loc="lower left")
    return fig


def plot_near_miss_gains(
    targets: pd.DataFrame,
    *,
    kind: str | None = None,
    top: int = 15,
    ax: Axes | None = None,
) -> Figure:
    """What each support target would add to the localisation rate: one bar per lacking item.

    Parameters
    ----------
    targets : DataFrame
        From :func:`near_miss_targets`.
    kind : {"certification", "process"}, optional
        Draw only items of this kind.
    top : int
        Draw the first ``top`` items (the most demands newly covered, as the table sorts).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One bar per item, the first at the top: its length the rise of the localisation rate
        in percentage points (``rate_if_gained - localisation_rate``), its label the rate
        reached, the near-miss suppliers that lack the item and the demands newly covered.

    Examples
    --------
    >>> import pandas as pd
    >>> targets = pd.DataFrame({"lacking_kind": ["certification"], "lacking": ["ISO 9001"],
    ...                         "suppliers": [3], "demands_newly_covered": [2],
    ...                         "localisation_rate": [0.90], "rate_if_gained": [0.95]})
    >>> ax = plot_near_miss_gains(targets).axes[0]
    >>> round(float(ax.patches[0].get_width()), 6)
    5.0
    """
    rows = targets if kind is None else targets[targets["lacking_kind"] == kind]
    rows = rows.head(top)
    fig, ax = new_figure(ax, (8.0, 1.2 + 0.32 * max(len(rows), 1)))
    gains = (rows["rate_if_gained"] - rows["localisation_rate"]).to_numpy(dtype=float) * 100
    y = np.arange(len(rows))
    mixed = rows["lacking_kind"].nunique() > 1
    labels = [
        f"{item} ({k})" if mixed else str(item)
        for item, k in zip(rows["lacking"], rows["lacking_kind"], strict=True)
    ]
    bars = ax.barh(y, gains, color="#55a868")
    notes = [
        f"{rate:.1%}, {n} suppliers, +{new} demands"
        for rate, n, new in zip(
            rows["rate_if_gained"], rows["suppliers"], rows["demands_newly_covered"], strict=True
        )
    ]
    ax.bar_label(bars, notes, padding=3, fontsize=7)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    if len(rows):
        ax.set_xlim(0, max(float(gains.max()), 0.1) * 1.6)  # room for the labels
    ax.set_xlabel("rise of the localisation rate (percentage points)")
    what = f"the {kind}" if kind else "what"
    today = f" (today {float(rows['localisation_rate'].iloc[0]):.1%})" if len(rows) else ""
    ax.set_title(f"If near-miss suppliers gained {what} they lack{today}")
    if rows.empty:
        ax.text(0.5, 0.5, "no near-miss suppliers", ha="center", transform=ax.transAxes)
    return fig


# -- concentration ------------------------------------------------------------------------------
def plot_concentration(
    table: pd.DataFrame,
    *,
    min_links: int = 1,
    top: int = 15,
    ax: Axes | None = None,
) -> Figure:
    """The most concentrated categories: bars of the concentration index (HHI).

    Parameters
    ----------
    table : DataFrame
        From :func:`category_concentration` (most concentrated first).
    min_links : int
        Leave out categories with fewer active links: one link always gives an index of 1,
        which says little.
    top : int
        Draw the first ``top`` categories left.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One bar per category (the most concentrated at the top), labelled with its links,
        suppliers and single-sourced buyers, and a dashed line at 0.25, above which a market
        is commonly called highly concentrated.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"category_id": ["a", "b"], "category_name": ["A", "B"],
    ...                       "links": [1, 4], "suppliers": [1, 2], "hhi": [1.0, 0.625],
    ...                       "single_sourced_buyers": [1, 2]})
    >>> [float(p.get_width()) for p in plot_concentration(table, min_links=2).axes[0].patches]
    [0.625]
    """
    rows = table[table["links"] >= min_links].head(top)
    fig, ax = new_figure(ax, (8.0, 1.2 + 0.32 * max(len(rows), 1)))
    y = np.arange(len(rows))
    names = rows["category_name"].fillna(rows["category_id"])
    bars = ax.barh(y, rows["hhi"].to_numpy(dtype=float), color="#8172b3")
    notes = [
        f"{n} links, {s} suppliers, single-sourced buyers: {b}"
        for n, s, b in zip(
            rows["links"], rows["suppliers"], rows["single_sourced_buyers"], strict=True
        )
    ]
    ax.bar_label(bars, notes, padding=3, fontsize=7)
    ax.axvline(0.25, color="#555555", linestyle="--", linewidth=1, label="highly concentrated")
    ax.set_yticks(y, [short_label(n, 34) for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.7)  # room for the labels; the index never exceeds 1
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("concentration index (HHI of suppliers' shares of active links)")
    at_least = f", {min_links}+ links" if min_links > 1 else ""
    ax.set_title(f"Most concentrated categories{at_least}")
    ax.legend(fontsize="small", loc="lower right")
    return fig


def plot_sole_suppliers(table: pd.DataFrame, *, top: int = 15, ax: Axes | None = None) -> Figure:
    """The suppliers buyers most depend on as their only source: bars of sole-source pairs.

    Parameters
    ----------
    table : DataFrame
        From :func:`sole_suppliers`.
    top : int
        Draw the first ``top`` suppliers (the most sole-source pairs).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One bar container for local suppliers and one for foreign-invested ones (a bar per
        supplier, the first at the top), labelled ``supplier_id name``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"supplier_id": ["s1", "s2"], "supplier_name": ["A", "B"],
    ...                       "supplier_local": [False, True], "sole_source_pairs": [3, 2]})
    >>> [[float(p.get_width()) for p in c] for c in plot_sole_suppliers(table).axes[0].containers]
    [[2.0], [3.0]]
    """
    rows = table.head(top)
    fig, ax = new_figure(ax, (7.5, 1.2 + 0.32 * max(len(rows), 1)))
    y = np.arange(len(rows))
    local = rows["supplier_local"].to_numpy(dtype=bool)
    pairs = rows["sole_source_pairs"].to_numpy(dtype=float)
    for mask, colour, label in ((local, _LOCAL, "local"), (~local, _FOREIGN, "foreign-invested")):
        ax.barh(y[mask], pairs[mask], color=colour, label=label)
    labels = [
        short_label(f"{s} {n}", 40)
        for s, n in zip(rows["supplier_id"], rows["supplier_name"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("buyer-category pairs with no other supplier")
    ax.set_title("Sole suppliers: the only source of a category for a buyer")
    ax.legend(fontsize="small", loc="lower right")
    return fig


# -- programme indicators -----------------------------------------------------------------------
def plot_programme_indicators(
    table: pd.DataFrame,
    *,
    panels: Mapping[str, Sequence[str]] | None = None,
    ncols: int = 3,
) -> Figure:
    """The programme's indicators year by year, with their targets and projections.

    Parameters
    ----------
    table : DataFrame
        From :func:`programme_indicators`.
    panels : mapping of title to indicators, optional
        One axes per entry, drawing those indicators; by default five (firms,
        certified share, firms by tier, new links, localisation rate). Panels none of whose
        indicators are in ``table`` are left out.
    ncols : int
        Axes per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel. In each, per indicator: a solid line with filled dots through the
        observed years, then a dashed line with hollow dots to the projected years (a
        projection carries the last three years' pace forward), and the targets as red
        diamonds labelled with their value. Shares are drawn in percent.

    Raises
    ------
    ValueError
        If no panel has an indicator in ``table``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"year": [2024, 2025, 2030],
    ...                       "indicator": ["local_supporting_firms"] * 3,
    ...                       "basis": ["observed", "observed", "projected"],
    ...                       "value": [900.0, 950.0, 1200.0],
    ...                       "target": [float("nan"), float("nan"), 1200.0]})
    >>> fig = plot_programme_indicators(table)
    >>> len(fig.axes), [len(line.get_xdata()) for line in fig.axes[0].get_lines()]
    (1, [2, 2, 1])
    """
    chosen = dict(_PANELS if panels is None else panels)
    present = set(table["indicator"])
    chosen = {t: [i for i in names if i in present] for t, names in chosen.items()}
    chosen = {t: names for t, names in chosen.items() if names}
    if not chosen:
        raise ValueError("none of the panels' indicators is in the table")
    fig, axes = new_grid(len(chosen), ncols, (4.6, 3.4))
    for ax, (title, names) in zip(axes, chosen.items(), strict=True):
        colours = palette(len(names))
        share = all(name in SHARE_INDICATORS for name in names)
        for name, colour in zip(names, colours, strict=True):
            rows = table[table["indicator"] == name].sort_values("year", kind="stable")
            seen = rows[rows["basis"] == "observed"]
            ahead = rows[rows["basis"] == "projected"]
            label = _INDICATOR_LABELS.get(name, name)
            ax.plot(seen["year"], seen["value"], marker="o", ms=3.5, color=colour, label=label)
            if len(ahead):
                # The projection starts from the last observed point, so the line reads on.
                bridge = pd.concat([seen.tail(1), ahead])
                ax.plot(
                    bridge["year"],
                    bridge["value"],
                    linestyle="--",
                    marker="o",
                    ms=4.5,
                    markerfacecolor="white",
                    color=colour,
                    label=f"{label}, projected" if len(names) > 1 else "projected",
                )
            goals = rows.dropna(subset=["target"])
            if len(goals):
                ax.plot(
                    goals["year"],
                    goals["target"],
                    linestyle="none",
                    marker="D",
                    ms=7,
                    color=_TARGET,
                    label=f"{label}, target" if len(names) > 1 else "target",
                    zorder=3,
                )
                for year, goal in zip(goals["year"], goals["target"], strict=True):
                    text = f"{goal:.0%}" if share else f"{goal:,.0f}"
                    ax.annotate(
                        text,
                        (year, goal),
                        xytext=(0, 7),
                        textcoords="offset points",
                        ha="center",
                        fontsize=7,
                        color=_TARGET,
                    )
        if share:
            # From zero to at least 100%: a 40-42% axis makes a flat line look like a fall.
            ax.set_ylim(0, max(1.0, ax.get_ylim()[1]))
            _percent_axis(ax.yaxis)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
    fig.suptitle("Programme indicators against targets (hollow dots: projected)")
    return fig
