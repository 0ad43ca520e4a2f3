"""Printable agendas: one A4 page per firm, in its language, and the organisers' grid.

:func:`render_agendas` is the one renderer: ``ketnoi agendas``, ``GET
/v1/events/{id}/agendas/{firm_id}?format=html`` and the workbench's pages call it with the pages
of :func:`ketnoi.programme.firm_agendas`. The HTML prints as it is (Chromium's print-to-PDF on A4
gives one page per firm, which ``tests/test_agendas.py`` checks); nothing is loaded from outside
the file.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2
import pandas as pd

from ketnoi import programme

__all__ = ["render_agendas"]

_TEMPLATE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
@page { size: A4; margin: 10mm; }
@page grid { size: A4 landscape; margin: 8mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 8.5pt;
       line-height: 1.15; color: #111; margin: 0; }
/* A full day (more than eight meetings) in smaller type, so that it stays on one sheet. */
section.dense { font-size: 7.5pt; }
section.dense .profile, section.dense .contact, section.dense ul { font-size: 6.5pt; }
section.agenda { page-break-after: always; break-after: page; }
section.agenda:last-of-type { page-break-after: auto; break-after: auto; }
header h1 { font-size: 12pt; margin: 0 0 1mm 0; }
header p { margin: 0 0 2mm 0; color: #333; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border-bottom: 0.3mm solid #bbb; padding: 0.6mm 1mm; vertical-align: top;
         text-align: left; }
th { font-size: 7.5pt; color: #444; border-bottom: 0.5mm solid #444; }
tr { page-break-inside: avoid; break-inside: avoid; }
td.time { font-weight: bold; }
td.table { text-align: center; }
td.lang { font-size: 7pt; }
col.time { width: 13mm; } col.table { width: 9mm; } col.lang { width: 24mm; }
col.partner { width: 72mm; }
.name { font-weight: bold; }
.profile, .contact { font-size: 7pt; color: #333; }
ul { margin: 0; padding-left: 3mm; font-size: 7.5pt; }
tr.lunch td { background: #eee; font-style: italic; }
.interpreter { font-weight: bold; }
section.grid { page: grid; break-before: page; }
section.grid table { font-size: 6.5pt; }
section.grid th, section.grid td { border: 0.2mm solid #999; padding: 0.6mm; }
</style>
</head>
<body>
{% for page in pages %}
<section class="agenda{% if page.meetings > 8 %} dense{% endif %}" data-firm="{{ page.firm_id }}">
<header>
<h1>{{ page.text("title") }}{% if page.event %}: {{ page.event }}{% endif %}</h1>
<p><strong>{{ page.firm_name }}</strong> ({{ page.text(page.side) }}) ·
{% if page.meetings == 1 %}{{ page.text("one_meeting") }}
{% else %}{{ page.text("meetings", n=page.meetings) }}{% endif %}</p>
</header>
{% if page.meetings == 0 %}
<p>{{ page.text("none") }}</p>
{% else %}
<table>
<colgroup><col class="time"><col class="table"><col class="partner"><col>
<col class="lang"></colgroup>
<thead><tr><th>{{ page.text("time") }}</th><th>{{ page.text("table") }}</th>
<th>{{ page.text("partner") }}</th><th>{{ page.text("why") }}</th>
<th>{{ page.text("language") }}</th></tr></thead>
<tbody>
{% for line in page.lines %}
{% if line.kind == "lunch" %}
<tr class="lunch"><td class="time">{{ line.time }}</td>
<td colspan="4">{{ page.text("lunch") }}</td></tr>
{% else %}
<tr data-partner="{{ line.partner_id }}">
<td class="time">{{ line.time }}</td>
<td class="table">{{ line.table }}</td>
<td><div class="name">{{ line.partner_name }}</div>
{% if line.partner_profile %}<div class="profile">{{ line.partner_profile }}</div>{% endif %}
{% if line.partner_contact %}<div class="contact">{{ page.text("contact") }}:
{{ line.partner_contact }}</div>{% endif %}</td>
<td>{% if line.reasons %}<ul>
{% for reason in line.reasons %}<li>{{ reason }}</li>{% endfor %}
</ul>{% endif %}</td>
<td class="lang">{% if line.interpreter %}
<span class="interpreter">{{ line.interpreter }}</span>
{% else %}{{ line.language }}{% endif %}</td>
</tr>
{% endif %}
{% endfor %}
</tbody>
</table>
{% endif %}
</section>
{% endfor %}
{% if grid is not none %}
<section class="grid">
<h1>{{ grid_title }}</h1>
<table>
<thead><tr>{% for column in grid.columns %}<th>{{ column }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in grid.itertuples(index=False) %}
<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
</table>
</section>
{% endif %}
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render_agendas(
    pages: Sequence[programme.FirmAgenda],
    *,
    title: str = "",
    grid: pd.DataFrame | None = None,
    lang: str = "en",
) -> str:
    """One HTML document: each firm's agenda on its own A4 page, then the organisers' grid.

    Parameters
    ----------
    pages : sequence of FirmAgenda
        From :func:`ketnoi.programme.firm_agendas` (each in its own language).
    title : str
        The document's title (default: the event's name).
    grid : DataFrame, optional
        :func:`ketnoi.programme.event_grid` (names, not ids), printed landscape at the end for
        the organisers; never on a firm's copy.
    lang : {"en", "vi"}
        The language of the document's frame and of the grid's heading.

    Returns
    -------
    str
        The HTML, every value escaped (a firm may call itself ``<script>``).
    """
    event = pages[0].event if pages else ""
    if grid is not None and lang == "vi":
        grid = grid.rename(
            columns=lambda c: (
                "giờ" if c == "slot" else c.replace("table ", "bàn ") if isinstance(c, str) else c
            )
        )
    return _ENV.from_string(_TEMPLATE).render(
        pages=list(pages),
        title=title or event or programme.agenda_text("title", lang),
        grid=grid,
        grid_title=programme.agenda_text("grid", lang),
        lang=lang,
    )
