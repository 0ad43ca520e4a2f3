"""Localisation gaps, near-miss suppliers, concentration and programme indicators.

Registered on the top-level ``ketnoi`` application by :mod:`ketnoi.api.cli`. Each command loads the
dataset, calls one :mod:`graph` report, and prints it as a table (``--json`` for JSON), and
``--out`` also writes it as CSV or XLSX. The definitions are in ``docs/programme.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from ketnoi import graph, programme
from ketnoi.api._cli_common import (
    SHARE_COLUMNS,
    DatasetArg,
    FileLangOpt,
    JsonOpt,
    SepOpt,
    check_out,
    console,
    fail,
    load_or_exit,
    print_json,
    shown_cell,
    write_tables,
)

app = typer.Typer()

OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Also write the report to FILE.csv or FILE.xlsx.")
]
CategoryOpt = Annotated[
    str | None,
    typer.Option("--category", help="Only demands for this category_id and its sub-categories."),
]
RowsOpt = Annotated[
    int,
    typer.Option("--rows", min=1, max=100_000, help="Rows shown in the table (files get all)."),
]

_CONCENTRATION_VIEWS = ("categories", "single-sourced", "suppliers", "all")


def _show(frame: pd.DataFrame, title: str, columns: list[str], rows: int) -> None:
    """Print the first ``rows`` rows of ``columns`` as a rich table."""
    table = Table(title=title, caption=f"{min(rows, len(frame))} of {len(frame)} row(s)")
    for column in columns:
        numeric = frame[column].dtype.kind in "biuf" or column in SHARE_COLUMNS
        table.add_column(column.replace("_", " "), justify="right" if numeric else "left")
    for record in frame.head(rows).to_dict("records"):
        table.add_row(*(shown_cell(c, record[c]) for c in columns))
    console.print(table)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: missing values as null, tuples as lists."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", force_ascii=False))
    return rows


def _report(
    frames: dict[str, pd.DataFrame],
    out: Path | None,
    as_json: bool,
    show: Any,
    lang: str = "en",
    sep: str | None = None,
    *,
    dataset: graph.Dataset,
) -> None:
    """Write ``frames`` to ``out`` if given (in ``lang``, CSV split by ``sep``; their words in
    ``lang`` too, with ``dataset``'s names), then print them as JSON or with ``show``."""
    if out is not None:
        said = {n: programme.report_in_language(f, dataset, lang) for n, f in frames.items()}
        write_tables(out, said, lang=lang, sep=sep)
    if as_json:
        if len(frames) == 1:
            print_json(records(next(iter(frames.values()))))
        else:
            print_json({name: records(frame) for name, frame in frames.items()})
        return
    show()


def _ask(report: Any, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """Run a report; an unknown category or a bad argument ends with its message, exit 1."""
    try:
        frame: pd.DataFrame = report(*args, **kwargs)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    except ValueError as exc:
        raise fail(str(exc)) from None
    return frame


@app.command("localisation")
def localisation(
    source: DatasetArg,
    by: Annotated[
        str,
        typer.Option("--by", help="Group demands by category, sector, buyer, origin or all."),
    ] = "category",
    category: CategoryOpt = None,
    gaps: Annotated[
        bool, typer.Option("--gaps", help="Only groups with no qualified local supplier.")
    ] = False,
    rows: RowsOpt = 30,
    out: OutOpt = None,
    lang: FileLangOpt = "en",
    sep: SepOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Localisation of demand: qualified and linked local suppliers, the share of demand they
    cover (and the linked share sourced locally today), and the gaps."""
    check_out(out, lang, sep)
    if by not in programme.LOCALISATION_GROUPS:
        raise fail(f"--by must be one of {', '.join(programme.LOCALISATION_GROUPS)}, not '{by}'", 2)
    dataset = load_or_exit(source)
    table = _ask(programme.localisation, dataset, by, category=category)
    if gaps:
        table = table[table["gap"]].reset_index(drop=True)
    keys = [c for c in programme.LOCALISATION_GROUPS[by] if not c.endswith("_name")][:1]
    shown = [
        *keys,
        "demands",
        "weighting",
        "qualified_local_suppliers",
        "linked_local_suppliers",
        "localisation_rate",
        "linked_rate",
        "rate_if_near_misses_gained",
        "gap_demands",
    ]
    title = f"Localisation by {by}" + (f" (category {category})" if category else "")
    _report(
        {"localisation": table},
        out,
        as_json,
        lambda: _show(table, title, shown, rows),
        lang,
        sep,
        dataset=dataset,
    )


@app.command("near-misses")
def near_misses(
    source: DatasetArg,
    category: CategoryOpt = None,
    pairs: Annotated[
        bool,
        typer.Option("--pairs", help="One row per near-miss supplier and demand instead."),
    ] = False,
    rows: RowsOpt = 30,
    out: OutOpt = None,
    lang: FileLangOpt = "en",
    sep: SepOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Local suppliers one certification or process short of a demand, grouped by what they
    lack, with the localisation rate if they gained it."""
    check_out(out, lang, sep)
    dataset = load_or_exit(source)
    if pairs:
        table = _ask(programme.near_misses, dataset, category=category)
        shown = ["lacking_kind", "lacking", "supplier_id", "buyer_id", "category_id", "volume"]
        title = "Near-miss suppliers"
        _report(
            {"near_misses": table},
            out,
            as_json,
            lambda: _show(table, title, shown, rows),
            lang,
            sep,
            dataset=dataset,
        )
        return
    table = _ask(programme.near_miss_targets, dataset, category=category)
    overall = _ask(programme.localisation, dataset, "all", category=category).iloc[0]

    def show() -> None:
        shown = [
            "lacking_kind",
            "lacking",
            "suppliers",
            "demands",
            "volume",
            "demands_newly_covered",
            "rate_if_gained",
        ]
        _show(table, "Support targets: what near-miss suppliers lack", shown, rows)
        console.print(
            f"localisation rate {shown_cell('localisation_rate', overall['localisation_rate'])} "
            f"({overall['weighting']}-weighted); if every near-miss supplier gained what it "
            f"lacks: {shown_cell('rate_if_gained', overall['rate_if_near_misses_gained'])}",
            highlight=False,
        )

    _report({"near_miss_targets": table}, out, as_json, show, lang, sep, dataset=dataset)


@app.command("concentration")
def concentration(
    source: DatasetArg,
    view: Annotated[
        str,
        typer.Option(
            "--view",
            help="categories (concentration index), single-sourced (buyer-category pairs), "
            "suppliers (sole sources), or all (an .xlsx --out gets one sheet each).",
        ),
    ] = "all",
    rows: RowsOpt = 20,
    out: OutOpt = None,
    lang: FileLangOpt = "en",
    sep: SepOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Single-sourced buyers, the suppliers many buyers depend on, and each category's
    Herfindahl-Hirschman concentration over its suppliers' active links."""
    check_out(out, lang, sep)
    if view not in _CONCENTRATION_VIEWS:
        raise fail(f"--view must be one of {', '.join(_CONCENTRATION_VIEWS)}, not '{view}'", 2)
    dataset = load_or_exit(source)
    reports = {
        "categories": (
            programme.category_concentration,
            "Concentration by category",
            ["category_name", "links", "hhi", "top_supplier_name", "top_supplier_id", "top_share"],
        ),
        "single-sourced": (
            programme.single_sourced,
            "Buyers with a single supplier for a category",
            ["buyer_name", "category_name", "supplier_name", "supplier_id", "since"],
        ),
        "suppliers": (
            programme.sole_suppliers,
            "Suppliers that buyers depend on alone",
            ["supplier_name", "supplier_id", "supplier_local", "sole_source_pairs", "buyers"],
        ),
    }
    chosen = list(reports) if view == "all" else [view]
    frames = {name: reports[name][0](dataset) for name in chosen}

    def show() -> None:
        for name in chosen:
            _show(frames[name], reports[name][1], reports[name][2], rows)

    _report(frames, out, as_json, show, lang, sep, dataset=dataset)


@app.command("indicators")
def indicators(
    source: DatasetArg,
    start: Annotated[
        int | None, typer.Option("--start", min=1900, max=2100, help="First year.")
    ] = None,
    end: Annotated[int | None, typer.Option("--end", min=1900, max=2100, help="Last year.")] = None,
    targets: Annotated[
        Path | None,
        typer.Option(
            "--targets",
            help="JSON or TOML {indicator: {year: value}} replacing those indicators' targets.",
        ),
    ] = None,
    out: OutOpt = None,
    lang: FileLangOpt = "en",
    sep: SepOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The programme's indicators year by year against its targets (1,000 local
    supporting-industry firms in 2026 and 1,200 by 2030, over 40% internationally certified)."""
    check_out(out, lang, sep)
    goals = None
    if targets is not None:
        try:
            goals = programme.ProgrammeTargets.from_file(targets)
        except (OSError, ValueError) as exc:
            raise fail(str(exc)) from None
    dataset = load_or_exit(source)
    table = _ask(programme.programme_indicators, dataset, goals, start=start, end=end)

    def show() -> None:
        # Every year does not fit 80 columns: the last observed year and the years with a
        # target (projected in italics); --json and --out carry every year.
        years = list(dict.fromkeys(zip(table["year"], table["basis"], strict=True)))
        observed = [y for y in years if y[1] == "observed"]
        targeted = set(table.loc[table["target"].notna(), "year"])
        shown = [*observed[-1:], *(y for y in years if y[0] in targeted and y[1] != "observed")]
        shown = list(dict.fromkeys(shown or years[-1:]))[:4]
        narrow = Table(
            title="Programme indicators (projected years in italics)",
            caption=f"{len(years)} years in --json and --out",
        )
        narrow.add_column("indicator")
        for year, basis in shown:
            narrow.add_column(
                f"[i]{year}[/]" if basis == "projected" else str(year), justify="right"
            )
        cells = table.set_index(["indicator", "year", "basis"])
        for name in programme.INDICATORS:
            row = [programme.INDICATOR_NAMES[name][0]]
            for year, basis in shown:
                key = (name, year, basis)
                if key not in cells.index:
                    row.append("")
                    continue
                value, target, on_track = cells.loc[key, ["value", "target", "on_track"]]
                share = name.endswith(("_share", "_rate"))
                text = shown_cell("localisation_rate" if share else name, value)
                if not pd.isna(target):
                    goal = f"{target:.0%}" if share else f"{target:,.0f}"
                    text += f" {'[green]✓' if on_track else '[red]✗'}[/] /{goal}"
                row.append(text)
            narrow.add_row(*row)
        console.print(narrow)

    _report({"indicators": table}, out, as_json, show, lang, sep, dataset=dataset)
