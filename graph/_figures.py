"""The figure policy every picture of ketnoi shares: how a figure is made, its colours, its labels.

Every ``plot_*`` function of :mod:`ketnoi.graph`, :mod:`ketnoi.matcher` and
:mod:`ketnoi.programme` draws on a figure from :func:`new_figure` (or :func:`new_grid` for
several axes) and returns it, so a notebook shows it and a test can count its artists. pyplot
makes each figure (so that Jupyter's display hooks know how to render it) and is told to forget
it at once: nothing piles up in pyplot's global list over many calls, and a notebook shows a
returned figure exactly once. matplotlib is an optional dependency (the ``notebooks`` extra)
imported only when a picture is drawn, so importing a ketnoi package never needs it.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "GREY",
    "INSTALL_HINT",
    "group_order",
    "grouped",
    "new_figure",
    "new_grid",
    "palette",
    "pyplot",
    "short_label",
]

#: How to get matplotlib, named in the error a picture raises without it.
INSTALL_HINT = 'pip install "ketnoi[notebooks]"'
#: Colour of the group that collects everything beyond the largest groups, and of unknowns.
GREY = "#b0b0b0"


def pyplot() -> ModuleType:
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib: {INSTALL_HINT}") from exc
    return plt


def new_figure(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure and axes to draw on: ``ax``'s own, or a new figure that pyplot let go of."""
    plt = pyplot()
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = plt.figure(figsize=figsize, layout="constrained")
    # Closed at once: pyplot forgets it (no leak over many calls, no second copy shown at the
    # end of a notebook cell), while the backend still renders it when it is displayed.
    plt.close(fig)
    return fig, fig.subplots()


def new_grid(n: int, ncols: int, size: tuple[float, float]) -> tuple[Figure, list[Axes]]:
    """A new figure with ``n`` axes in rows of ``ncols``, each ``size`` inches; as
    :func:`new_figure`, pyplot lets go of it at once."""
    plt = pyplot()
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = plt.figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    plt.close(fig)
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for extra in axes[n:]:
        fig.delaxes(extra)
    return fig, axes[:n]


def palette(n: int) -> list[str]:
    """``n`` distinct colours as hex: matplotlib's tab10, or tab20 beyond ten."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [to_hex(cmap(i % cmap.N)) for i in range(n)]


def grouped(labels: pd.Series, max_groups: int, other: str = "other") -> pd.Series:
    """Labels with all but the ``max_groups - 1`` largest groups merged into ``other``.

    Examples
    --------
    >>> grouped(pd.Series(["a", "a", "b", "c"]), 2).tolist()
    ['a', 'a', 'other', 'other']
    """
    counts = labels.value_counts()
    order = sorted(counts.index, key=lambda v: (-int(counts[v]), str(v)))
    if len(order) <= max_groups:
        return labels
    keep = set(order[: max_groups - 1])
    return labels.where(labels.isin(keep), other)


def group_order(labels: pd.Series, last: tuple[str, ...]) -> list[str]:
    """The distinct labels, largest group first, those in ``last`` (other, unknown) at the end.

    Examples
    --------
    >>> group_order(pd.Series(["unknown", "b", "a", "a", "unknown", "unknown"]), ("unknown",))
    ['a', 'b', 'unknown']
    """
    counts = labels.value_counts()
    order = sorted(counts.index, key=lambda v: (v in last, -int(counts[v]), str(v)))
    return [str(v) for v in order]


def short_label(text: object, width: int = 32) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut.

    Examples
    --------
    >>> short_label("Công ty Cơ khí Đông Anh", 10)
    'Công ty C…'
    """
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"
