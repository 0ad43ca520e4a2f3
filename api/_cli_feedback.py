"""The feedback loop: ``ketnoi conversion``.

Registered on the top-level ``ketnoi`` application by :mod:`ketnoi.api.cli`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from ketnoi.api._cli_common import (
    DatasetArg,
    FileLangOpt,
    JsonOpt,
    SepOpt,
    check_out,
    err,
    fail,
    load_or_exit,
    print_json,
    print_table,
    shown_cell,
    shown_header,
    write_tables,
)
from ketnoi.api._cli_text import say
from ketnoi.api._progress import BACKTEST_STEP, progress_bar

app = typer.Typer()

#: Header of the rank column in match lists written by ``ketnoi match-list`` or exported by
#: the service, in English or Vietnamese.
_RANK_HEADERS = ("rank", "thứ hạng")

_SHOWN = {
    "event_id": "event",
    "start": "start",
    "pairs": "pairs",
    "met": "met",
    "negotiating": "negotiating",
    "contracted": "contracted",
    "declined": "declined",
    "recommended": "in top k",
    "recommended_contracted": "top-k contracts",
    "share_of_contracts_from_top_k": "share of contracts",
}

#: The report's rows that are no event of the data, as a Vietnamese reader is told them.
_EVENT_VI = {"(no event)": "(ngoài sự kiện)", "all": "tất cả"}  # programme._conversion's labels


def read_rankings(paths: list[Path]) -> pd.DataFrame:
    """The pairs and ranks of match-list files (CSV or XLSX), or exit 1 naming the problem."""
    frames = []
    for path in paths:
        try:
            if path.suffix.lower() == ".xlsx":
                frame = pd.read_excel(path, sheet_name=0, dtype=str)
            else:
                # ',' or ';' (a Vietnamese export): let the reader tell which.
                frame = pd.read_csv(
                    path, dtype=str, encoding="utf-8-sig", sep=None, engine="python"
                )
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise fail(f"{path}: cannot read a match list: {exc}") from None
        rank = next((c for c in _RANK_HEADERS if c in frame.columns), None)
        missing = [c for c in ("buyer_id", "supplier_id") if c not in frame.columns]
        if rank is None:
            missing.append("rank")
        if missing:
            raise fail(f"{path}: not a match list: no column(s) {', '.join(missing)}")
        ranks = pd.to_numeric(frame[rank], errors="coerce")
        bad = ranks.isna() | (ranks < 1)
        if bad.any():
            line = int(bad.to_numpy().argmax()) + 2  # the header is line 1
            raise fail(f"{path}:{line}: {rank}: not a rank (a whole number from 1)")
        frames.append(
            pd.DataFrame(
                {
                    "buyer_id": frame["buyer_id"].str.strip(),
                    "supplier_id": frame["supplier_id"].str.strip(),
                    "rank": ranks.astype(int),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def read_meetings(paths: list[Path]) -> pd.DataFrame:
    """The pairs of event schedules (the meetings table of `ketnoi schedule`), or exit 1."""
    frames = []
    for path in paths:
        try:
            if path.suffix.lower() == ".xlsx":
                frame = pd.read_excel(path, sheet_name="meetings", dtype=str)
            else:
                # ',' or ';' (a Vietnamese export): let the reader tell which.
                frame = pd.read_csv(
                    path, dtype=str, encoding="utf-8-sig", sep=None, engine="python"
                )
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise fail(f"{path}: cannot read the meetings of a schedule: {exc}") from None
        missing = [c for c in ("buyer_id", "supplier_id") if c not in frame.columns]
        if missing:
            raise fail(f"{path}: not a schedule's meetings: no column(s) {', '.join(missing)}")
        frames.append(frame[["buyer_id", "supplier_id"]].apply(lambda c: c.str.strip()))
    return pd.concat(frames, ignore_index=True)


@app.command("conversion")
def conversion(
    source: DatasetArg,
    k: Annotated[
        int, typer.Option("--k", min=1, max=1000, help="A pair is recommended at rank <= k.")
    ] = 10,
    match_lists: Annotated[
        list[Path] | None,
        typer.Option(
            "--match-list",
            help="A match list handed out (CSV or XLSX from `ketnoi match-list` or the "
            "service); repeat for several. Default: backtest what ketnoi would have ranked.",
        ),
    ] = None,
    meetings: Annotated[
        list[Path] | None,
        typer.Option(
            "--meetings",
            help="The meetings of an event schedule (CSV, or the XLSX of `ketnoi schedule`); "
            "repeat for several. Their pairs count as scheduled by ketnoi.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the report to FILE.csv or .xlsx.")
    ] = None,
    lang: FileLangOpt = "en",
    sep: SepOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What came of the recommended pairs, per event and overall: met, negotiating, contracted,
    and how many contracts came from pairs ketnoi ranked in its top k."""
    from ketnoi import programme

    check_out(out, lang, sep)
    dataset = load_or_exit(source)
    if dataset.outcomes.empty:
        raise fail(f"{source}: no outcomes recorded, so nothing to report")
    if match_lists:
        rankings = read_rankings(match_lists)
        origin = say("from_match_lists", lang, n=len(match_lists))
    else:
        with progress_bar(err, BACKTEST_STEP) as advance:  # the words of the service's job
            rankings = programme.backtest_rankings(dataset, k=max(k, 50), progress=advance)
        origin = say("from_backtest", lang)
    scheduled = read_meetings(meetings) if meetings else None
    report = programme.conversion_report(dataset.outcomes, rankings, k=k, meetings=scheduled)
    if out is not None:
        write_tables(out, {"conversion": report}, lang=lang, sep=sep)
    if as_json:
        print_json(json.loads(report.to_json(orient="records", force_ascii=False)))
        return
    headers = [h if lang == "en" else shown_header(c, lang) for c, h in _SHOWN.items()]
    cells = []
    for row in report.to_dict("records"):
        if lang == "vi":  # the rows' own labels; the file keeps the codes, its join keys
            row["event_id"] = _EVENT_VI.get(row["event_id"], row["event_id"])
        cells.append([shown_cell(c, row[c], lang) for c in _SHOWN])
    numeric = [c not in {"event_id", "start"} for c in _SHOWN]
    print_table(say("conversion_title", lang, k=k, origin=origin), "", headers, numeric, cells)
