"""Matchmaking events in pictures: the slot-by-table grid, meetings per firm, and what the
optimiser gains over the first-come baseline.

Two small computations the pictures need live here too: :func:`meetings_per_firm` (every
participant's meetings, none left out) and :func:`compare_schedules` (the figures of several
schedules of one event side by side). As every picture of ketnoi
(:mod:`ketnoi.graph._figures`), each ``plot_*`` function returns a matplotlib ``Figure`` that
pyplot no longer tracks and imports matplotlib (the optional ``notebooks`` extra) only when it
draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ketnoi.graph._figures import new_figure, new_grid
from ketnoi.programme._events import EventSchedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "compare_schedules",
    "meetings_per_firm",
    "plot_meetings_per_firm",
    "plot_schedule_comparison",
    "plot_schedule_grid",
]

_SIDE_COLOURS = {"buyer": "#dd8452", "supplier": "#4c72b0"}


# -- computations -------------------------------------------------------------------------------
def meetings_per_firm(schedule: EventSchedule) -> pd.DataFrame:
    """How many meetings each participant has, and their total match score.

    Parameters
    ----------
    schedule : EventSchedule

    Returns
    -------
    pandas.DataFrame
        One row per participant in registration order, those without a meeting included:
        ``firm_id``, ``firm_name``, ``side``, ``meetings`` and ``score`` (the sum of its
        meetings' scores, 0 without one).

    Examples
    --------
    >>> import pandas as pd
    >>> from ketnoi.programme import EventSchedule, EventSpec, Participant
    >>> spec = EventSpec((Participant("B1", "buyer"), Participant("S1", "supplier"),
    ...                   Participant("S2", "supplier")), slots=2, tables=1, max_meetings=2)
    >>> meetings = pd.DataFrame({"buyer_id": ["B1"], "supplier_id": ["S1"], "score": [0.5]})
    >>> done = EventSchedule(spec, meetings, "optimal", "decomposition", 2, 1, 0.5)
    >>> meetings_per_firm(done)[["firm_id", "side", "meetings", "score"]]
      firm_id      side  meetings  score
    0      B1     buyer         1    0.5
    1      S1  supplier         1    0.5
    2      S2  supplier         0    0.0
    """
    meetings = schedule.meetings
    rows = []
    for p in schedule.spec.participants:
        mine = meetings[meetings[f"{p.side}_id"] == p.firm_id]
        rows.append(
            {
                "firm_id": p.firm_id,
                "firm_name": schedule.names.get(p.firm_id, ""),
                "side": p.side,
                "meetings": len(mine),
                "score": float(mine["score"].sum()),
            }
        )
    columns = ["firm_id", "firm_name", "side", "meetings", "score"]
    return pd.DataFrame(rows, columns=columns).astype({"meetings": int, "score": float})


def compare_schedules(schedules: Mapping[str, EventSchedule]) -> pd.DataFrame:
    """The figures of several schedules of one event, side by side.

    Parameters
    ----------
    schedules : mapping of name to EventSchedule
        For instance ``{"optimal": ..., "greedy": ...}`` from :func:`schedule_event` with
        ``method="optimal"`` and ``method="greedy"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by name, in the mapping's order: ``meetings``, ``suppliers`` (taking part),
        ``covered`` (suppliers with at least one meeting), ``coverage`` (their share),
        ``score`` (total match score), ``mean_score`` (per meeting; NaN without meetings),
        ``status`` and ``method``.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketnoi.programme import EventSchedule, EventSpec, Participant
    >>> spec = EventSpec((Participant("B1", "buyer"),), slots=1, tables=1, max_meetings=1)
    >>> two = pd.DataFrame({"score": [0.5, 0.25]})
    >>> a = EventSchedule(spec, two, "optimal", "decomposition", 4, 2, 0.75)
    >>> b = EventSchedule(spec, two.head(1), "heuristic", "greedy", 4, 1, 0.5)
    >>> table = compare_schedules({"optimal": a, "greedy": b})
    >>> table["meetings"].tolist(), table["coverage"].tolist(), table["score"].tolist()
    ([2, 1], [0.5, 0.25], [0.75, 0.5])
    """
    rows = {}
    for name, s in schedules.items():
        n = len(s.meetings)
        rows[name] = {
            "meetings": n,
            "suppliers": s.suppliers,
            "covered": s.covered,
            "coverage": s.covered / s.suppliers if s.suppliers else float("nan"),
            "score": float(s.score),
            "mean_score": float(s.score) / n if n else float("nan"),
            "status": s.status,
            "method": s.method,
        }
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("schedule")
    return frame.astype({"meetings": int, "suppliers": int, "covered": int})


# -- pictures -----------------------------------------------------------------------------------
def plot_schedule_grid(schedule: EventSchedule, *, ax: Axes | None = None) -> Figure:
    """The event's slot-by-table grid as a heat map: each meeting coloured by its match score.

    Parameters
    ----------
    schedule : EventSchedule
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        An image with one row per slot and one column per table (empty cells blank), each
        held cell labelled ``buyer_id`` over ``supplier_id`` (``*`` where an interpreter is
        needed), and a colour bar of the match score.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketnoi.programme import EventSchedule, EventSpec, Participant
    >>> spec = EventSpec((Participant("B1", "buyer"), Participant("S1", "supplier")),
    ...                  slots=2, tables=2, max_meetings=1)
    >>> meetings = pd.DataFrame({"slot": [2], "table": [1], "buyer_id": ["B1"],
    ...                          "supplier_id": ["S1"], "score": [0.5],
    ...                          "interpreter": [False]})
    >>> fig = plot_schedule_grid(EventSchedule(spec, meetings, "optimal", "x", 1, 1, 0.5))
    >>> fig.axes[0].images[0].get_array().filled(-1).tolist()
    [[-1.0, -1.0], [0.5, -1.0]]
    """
    spec = schedule.spec
    fig, ax = new_figure(ax, (1.6 + 0.78 * spec.tables, 1.4 + 0.5 * spec.slots))
    scores = np.full((spec.slots, spec.tables), np.nan)
    meetings = schedule.meetings
    for m in meetings.to_dict("records"):
        slot, table = int(m["slot"]) - 1, int(m["table"]) - 1
        scores[slot, table] = float(m["score"])
        mark = " *" if m.get("interpreter") else ""
        ax.text(
            table,
            slot,
            f"{m['buyer_id']}\n{m['supplier_id']}{mark}",
            ha="center",
            va="center",
            fontsize=5.5,
        )
    image = ax.imshow(
        np.ma.masked_invalid(scores),
        cmap="YlGn",
        vmin=0.0,
        vmax=max(float(np.nanmax(scores)) if len(meetings) else 1.0, 1e-9),
        aspect="auto",
    )
    fig.colorbar(image, ax=ax, label="match score", shrink=0.8)
    ax.set_xticks(range(spec.tables), [str(t + 1) for t in range(spec.tables)], fontsize=7)
    ax.set_yticks(range(spec.slots), [spec.label(t) for t in range(spec.slots)], fontsize=7)
    ax.set_xlabel("table")
    ax.set_ylabel("slot")
    # Thin white lines between cells keep neighbouring meetings apart.
    ax.set_xticks(np.arange(-0.5, spec.tables), minor=True)
    ax.set_yticks(np.arange(-0.5, spec.slots), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    interpreted = int(meetings["interpreter"].sum()) if len(meetings) else 0
    note = f", {interpreted} with an interpreter (*)" if interpreted else ""
    ax.set_title(
        f"{len(meetings)} meetings in {spec.slots} slots at {spec.tables} tables{note}"
        f" ({schedule.method})"
    )
    return fig


def plot_meetings_per_firm(schedule: EventSchedule, *, ax: Axes | None = None) -> Figure:
    """A histogram of meetings per participant, buyers and suppliers side by side.

    Parameters
    ----------
    schedule : EventSchedule
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One bar container per side (buyers, then suppliers) with a bar for every count from
        0 to the most meetings any participant has: how many firms of that side have it.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketnoi.programme import EventSchedule, EventSpec, Participant
    >>> spec = EventSpec((Participant("B1", "buyer"), Participant("S1", "supplier"),
    ...                   Participant("S2", "supplier")), slots=2, tables=1, max_meetings=2)
    >>> meetings = pd.DataFrame({"buyer_id": ["B1"], "supplier_id": ["S1"], "score": [0.5]})
    >>> fig = plot_meetings_per_firm(EventSchedule(spec, meetings, "optimal", "x", 2, 1, 0.5))
    >>> [[int(p.get_height()) for p in c] for c in fig.axes[0].containers]
    [[0, 1], [1, 1]]
    """
    fig, ax = new_figure(ax, (7.0, 4.0))
    table = meetings_per_firm(schedule)
    most = int(table["meetings"].max()) if len(table) else 0
    counts = np.arange(most + 1)
    width = 0.4
    for i, side in enumerate(("buyer", "supplier")):
        mine = table.loc[table["side"] == side, "meetings"]
        heights = mine.value_counts().reindex(counts, fill_value=0).to_numpy()
        ax.bar(
            counts + (i - 0.5) * width,
            heights,
            width=width,
            color=_SIDE_COLOURS[side],
            label=f"{side}s ({len(mine)})",
        )
    ax.set_xticks(counts)
    ax.set_xlabel("meetings")
    ax.set_ylabel("firms")
    suppliers = table[table["side"] == "supplier"]
    met = int((suppliers["meetings"] > 0).sum())
    ax.set_title(
        f"Meetings per firm: {met} of {len(suppliers)} suppliers meet a buyer ({schedule.method})"
    )
    ax.legend(fontsize="small")
    return fig


def plot_schedule_comparison(schedules: Mapping[str, EventSchedule]) -> Figure:
    """What each schedule of one event achieves: total match score and suppliers covered.

    Parameters
    ----------
    schedules : mapping of name to EventSchedule
        As for :func:`compare_schedules`, e.g. the optimiser's and the greedy baseline's.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, one bar per schedule in each: the total match score, and the suppliers
        with at least one meeting (a dashed line marks all suppliers taking part). Each bar
        is labelled with its value and, after the first schedule, its change from the first.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketnoi.programme import EventSchedule, EventSpec, Participant
    >>> spec = EventSpec((Participant("B1", "buyer"),), slots=1, tables=1, max_meetings=1)
    >>> two = pd.DataFrame({"score": [0.5, 0.25]})
    >>> a = EventSchedule(spec, two, "optimal", "decomposition", 4, 2, 0.75)
    >>> b = EventSchedule(spec, two.head(1), "heuristic", "greedy", 4, 1, 0.5)
    >>> fig = plot_schedule_comparison({"optimal": a, "greedy": b})
    >>> [[float(p.get_height()) for p in ax.patches] for ax in fig.axes]
    [[0.75, 0.5], [2.0, 1.0]]
    """
    fig, (score_ax, cover_ax) = new_grid(2, 2, (4.25, 3.8))  # first: says if matplotlib is missing
    table = compare_schedules(schedules)
    names = list(table.index)
    x = np.arange(len(names))
    # The first schedule is the reference (grey); the others are measured against it.
    colours = ["#8c8c8c", "#55a868", "#4c72b0", "#dd8452"]
    colour = [colours[i % len(colours)] for i in range(len(names))]
    panels = (
        (score_ax, "score", "total match score", "{:.1f}"),
        (cover_ax, "covered", "suppliers with a meeting", "{:.0f}"),
    )
    for ax, column, label, fmt in panels:
        values = table[column].to_numpy(dtype=float)
        bars = ax.bar(x, values, color=colour)
        first = values[0] if len(values) else float("nan")
        notes = [
            fmt.format(v) + ("" if i == 0 or not first else f" ({(v - first) / first:+.0%})")
            for i, v in enumerate(values)
        ]
        ax.bar_label(bars, notes, padding=2, fontsize=8)
        ax.set_xticks(x, names)
        ax.set_ylabel(label)
        ax.set_title(label.capitalize())
        ax.margins(y=0.15)
    if len(table):
        everyone = float(table["suppliers"].max())
        cover_ax.axhline(everyone, color="#555555", linestyle="--", linewidth=1)
        cover_ax.annotate(
            f"{everyone:.0f} taking part",
            (x[0] - 0.4, everyone),
            xytext=(0, 3),
            textcoords="offset points",
            ha="left",
            fontsize=7,
        )
    fig.suptitle("What each schedule achieves for the same event")
    return fig
