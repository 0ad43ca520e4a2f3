"""Localisation gaps, near-miss suppliers, concentration and programme indicators.

Registered on the top-level ``ketnoi`` application by :mod:`ketnoi.api.cli`. Each command loads the
dataset, calls one :mod:`programme` report, and prints it as a table (``--json`` for JSON), and
``--out`` also writes it as CSV or XLSX. ``--lang vi`` says the table and the file in Vietnamese
(headers, names, code words, ``254.400``); JSON keeps the raw values. The definitions are in
``docs/programme.md``.
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
    print_table,
    shown_cell,
    shown_header,
    shown_number,
    write_tables,
)
from ketnoi.api._cli_text import say

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


def _show(frame: pd.DataFrame, title: str, columns: list[str], rows: int, lang: str) -> None:
    """Print the first ``rows`` rows of ``columns`` as a rich table, its words in ``lang``."""
    shown, total = (shown_number(n, lang) for n in (min(rows, len(frame)), len(frame)))
    caption = say("rows_shown", lang, shown=shown, total=total)
    # At 80 columns every column counts: one weighting for every row is said once, below.
    if "weighting" in columns and frame["weighting"].nunique() == 1:
        columns = [c for c in columns if c != "weighting"]
        caption += f"; {shown_header('weighting', lang)}: {frame['weighting'].iloc[0]}"
    cells = [
        [shown_cell(c, r[c], lang) for c in columns] for r in frame.head(rows).to_dict("records")
    ]
    numeric = [frame[c].dtype.kind in "biuf" or c in SHARE_COLUMNS for c in columns]
    headers = [shown_header(c, lang) for c in columns]
    print_table(title, caption, headers, numeric, cells)


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
    ``lang`` too, with ``dataset``'s names), then print them as JSON (raw: codes, fractions)
    or call ``show`` with the frames as said in ``lang`` (the file's words)."""
    said = {n: programme.report_in_language(f, dataset, lang) for n, f in frames.items()}
    if out is not None:
        write_tables(out, said, lang=lang, sep=sep)
    if as_json:
        if len(frames) == 1:
            print_json(records(next(iter(frames.values()))))
        else:
            print_json({name: records(frame) for name, frame in frames.items()})
        return
    show(said)


def _ask(report: Any, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """Run a report; an unknown category or a bad argument ends with its message, exit 1."""
    try:
        frame: pd.DataFrame = report(*args, **kwargs)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    except ValueError as exc:
        raise fail(str(exc)) from None
    return frame


def _one_phrase(frame: pd.DataFrame) -> pd.DataFrame:
    """What is lacking as one phrase ("certification IATF 16949", "công đoạn hàn"): the kind in
    a column of its own does not fit 80 columns beside the numbers."""
    out = frame.copy()
    out["lacking"] = out["lacking_kind"] + " " + out["lacking"]
    return out


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
    # The group's name where it has one (a category, a buyer), else its key.
    group = programme.LOCALISATION_GROUPS[by]
    keys = [c for c in group if c.endswith("_name")][:1] or list(group[:1])
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
    title = say("localisation_by", lang, by=say(f"by_{by}", lang))
    title += say("of_category", lang, value=category) if category else ""
    _report(
        {"localisation": table},
        out,
        as_json,
        lambda said: _show(said["localisation"], title, shown, rows, lang),
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
        # Names beside the ids: a buyer's and a category's (said in the file's language).
        firms = dict(zip(dataset.firms["firm_id"], dataset.firms["name"], strict=True))
        cats = dict(zip(dataset.categories["category_id"], dataset.categories["name"], strict=True))
        table.insert(
            table.columns.get_loc("buyer_id") + 1, "buyer_name", table["buyer_id"].map(firms)
        )
        table.insert(
            table.columns.get_loc("category_id") + 1,
            "category_name",
            table["category_id"].map(cats),
        )
        shown = ["lacking", "supplier_name", "buyer_name", "category_name", "volume"]
        title = say("near_miss_pairs", lang)
        _report(
            {"near_misses": table},
            out,
            as_json,
            lambda said: _show(_one_phrase(said["near_misses"]), title, shown, rows, lang),
            lang,
            sep,
            dataset=dataset,
        )
        return
    table = _ask(programme.near_miss_targets, dataset, category=category)
    whole = _ask(programme.localisation, dataset, "all", category=category)
    overall = programme.report_in_language(whole, dataset, lang).iloc[0]

    def show(said: dict[str, pd.DataFrame]) -> None:
        shown = [
            "lacking",
            "suppliers",
            "demands",
            "volume",
            "demands_newly_covered",
            "rate_if_gained",
        ]
        _show(
            _one_phrase(said["near_miss_targets"]), say("support_targets", lang), shown, rows, lang
        )
        console.print(
            say(
                "rate_if_all_gained",
                lang,
                rate=shown_number(overall["localisation_rate"], lang, share=True),
                weighting=overall["weighting"],
                gained=shown_number(overall["rate_if_near_misses_gained"], lang, share=True),
            ),
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
            say("concentration_categories", lang),
            ["category_name", "links", "hhi", "top_supplier_name", "top_supplier_id", "top_share"],
        ),
        "single-sourced": (
            programme.single_sourced,
            say("single_sourced", lang),
            ["buyer_name", "category_name", "supplier_name", "supplier_id", "since"],
        ),
        "suppliers": (
            programme.sole_suppliers,
            say("sole_suppliers", lang),
            ["supplier_name", "supplier_id", "supplier_local", "sole_source_pairs", "buyers"],
        ),
    }
    chosen = list(reports) if view == "all" else [view]
    frames = {name: reports[name][0](dataset) for name in chosen}

    def show(said: dict[str, pd.DataFrame]) -> None:
        for name in chosen:
            _show(said[name], reports[name][1], reports[name][2], rows, lang)

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

    def show(said: dict[str, pd.DataFrame]) -> None:
        # Every year does not fit 80 columns: the last observed year and the years with a
        # target (projected in italics); --json and --out carry every year.
        years = list(dict.fromkeys(zip(table["year"], table["basis"], strict=True)))
        observed = [y for y in years if y[1] == "observed"]
        targeted = set(table.loc[table["target"].notna(), "year"])
        shown = [*observed[-1:], *(y for y in years if y[0] in targeted and y[1] != "observed")]
        shown = list(dict.fromkeys(shown or years[-1:]))[:4]
        narrow = Table(
            title=say("indicators_title", lang),
            caption=say("years_caption", lang, n=len(years)),
        )
        narrow.add_column(shown_header("indicator", lang))
        for year, basis in shown:
            narrow.add_column(
                f"[i]{year}[/]" if basis == "projected" else str(year), justify="right"
            )
        cells = table.set_index(["indicator", "year", "basis"])
        for name in programme.INDICATORS:
            row = [programme.INDICATOR_NAMES[name][0 if lang == "en" else 1]]
            for year, basis in shown:
                key = (name, year, basis)
                if key not in cells.index:
                    row.append("")
                    continue
                value, target, on_track = cells.loc[key, ["value", "target", "on_track"]]
                share = name.endswith(("_share", "_rate"))
                text = shown_cell("localisation_rate" if share else name, value, lang)
                if not pd.isna(target):
                    goal = f"{target:.0%}" if share else shown_number(target, lang)
                    text += f" {'[green]✓' if on_track else '[red]✗'}[/] /{goal}"
                row.append(text)
            narrow.add_row(*row)
        console.print(narrow)

    _report({"indicators": table}, out, as_json, show, lang, sep, dataset=dataset)
