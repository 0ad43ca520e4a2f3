"""Charts as inline SVG, drawn on the server: no chart library, nothing for the browser to run.

Each chart is an ``<svg role="img">`` with a title naming what it shows; the same figures are
in a table beside it, so that a screen reader (and a printout) loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup, escape

__all__ = ["year_chart"]

_WIDTH, _HEIGHT, _PAD = 320, 120, 18


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def year_chart(
    title: str,
    points: Sequence[dict[str, Any]],
    show: Callable[[Any], str] = str,
) -> Markup:
    """Bars of ``value`` by ``year`` with each year's ``target`` as a tick.

    Parameters
    ----------
    title : str
        What the chart shows (its accessible name).
    points : sequence of dict
        ``year``, ``value`` and optionally ``target``, in year order.
    show : callable
        How a value is written in the bars' labels (the page's number format).

    Examples
    --------
    >>> svg = year_chart("Firms", [{"year": 2023, "value": 4}, {"year": 2024, "value": 6}])
    >>> svg.startswith('<svg') and 'role="img"' in svg and svg.count("<rect") == 2
    True
    """
    values = [_finite(p.get("value")) for p in points]
    targets = [_finite(p.get("target")) for p in points]
    top = max([v for v in values + targets if v is not None] + [0.0]) or 1.0
    n = max(len(points), 1)
    step = (_WIDTH - 2 * _PAD) / n
    bar = max(step * 0.6, 2.0)
    inner = _HEIGHT - 2 * _PAD
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{_PAD}" y1="{_HEIGHT - _PAD}" x2="{_WIDTH - _PAD}" y2="{_HEIGHT - _PAD}" '
        'class="axis"/>',
    ]
    for i, point in enumerate(points):
        x = _PAD + i * step + (step - bar) / 2
        value, target = values[i], targets[i]
        if value is not None:
            height = inner * value / top
            y = _HEIGHT - _PAD - height
            label = f"{point.get('year')}: {show(value)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'class="bar"><title>{escape(label)}</title></rect>'
            )
        if target is not None:
            y = _HEIGHT - _PAD - inner * target / top
            parts.append(
                f'<line x1="{x - 2:.1f}" y1="{y:.1f}" x2="{x + bar + 2:.1f}" y2="{y:.1f}" '
                'class="target"/>'
            )
        if i == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{_HEIGHT - 4}" text-anchor="middle">'
                f"{escape(str(point.get('year')))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
