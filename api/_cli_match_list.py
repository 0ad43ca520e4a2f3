"""``ketnoi match-list``: one file, or a folder of parts ranked here or on a Dask cluster.

Registered on the top-level ``ketnoi`` application by :mod:`ketnoi.api.cli`. ``--out FILE.csv``
or ``FILE.xlsx`` writes the whole list in one file, as the service does. ``--out FOLDER`` (no
suffix) writes it in parts, ``part-00000.csv``, ``part-00001.csv``, ..., each a complete CSV
of the export writer with its own header, written as each part finishes; ``--dask`` runs the
parts on Dask (a local cluster on 127.0.0.1, or the scheduler of ``--scheduler``). The parts
are :func:`ketnoi.matcher.plan_match_list`'s, and ``plan.json`` in the folder says what they
are; ``--resume`` keeps the parts an interrupted run of the same plan already wrote.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ketnoi.api._cli_common import (
    DatasetArg,
    KOpt,
    LangOpt,
    ModelOpt,
    SepOpt,
    ask,
    check_lang,
    check_out,
    err,
    fail,
    matcher_for,
    write_tables,
)

app = typer.Typer()

#: The file in a parts folder that names the plan its parts belong to.
PLAN_FILE = "plan.json"


def _pairs_option(values: list[str] | None, option: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values or ():
        buyer, sep, supplier = value.partition(":")
        if not (sep and buyer.strip() and supplier.strip()):
            raise fail(f"{option} takes BUYER:SUPPLIER (two firm_ids), not '{value}'", 2)
        pairs.append((buyer.strip(), supplier.strip()))
    return tuple(pairs)


def _write_atomic(path: Path, data: bytes) -> None:
    # A part is whole or absent: a run killed mid-write leaves no half file to resume from.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(data)
    os.replace(partial, path)


def _plan_facts(plan: Any, fitted: Any, sep: str | None) -> dict[str, Any]:
    buyers = hashlib.sha256("\n".join("\t".join(p) for p in plan.parts).encode()).hexdigest()
    return {
        "spec": plan.spec.params(),
        "parts": len(plan.parts),
        "buyers": sum(len(p) for p in plan.parts),
        "buyers_sha256": buyers,
        "declined": sorted(map(list, plan.declined)),
        "sep": sep,
        "model_version": fitted.version_,
        "data_fingerprint": getattr(fitted, "data_fingerprint_", None),
    }


def write_parts(
    fitted: Any,
    plan: Any,
    out: Path,
    *,
    client: Any = None,
    sep: str | None = None,
    resume: bool = False,
    note: str = "",
) -> int:
    """Write ``plan``'s parts to ``out/part-NNNNN.csv`` as they finish; return the rows written.

    With ``resume``, parts already in ``out`` are kept when ``out/plan.json`` names the same
    plan (same spec, buyers, model and data); otherwise the folder must hold no parts.
    """
    from rich.progress import Progress

    from ketnoi import matcher
    from ketnoi.api._exports import match_list_sheets, names_from_dataset
    from ketnoi.api._tables import tables_to_bytes

    lang = plan.spec.lang
    facts = _plan_facts(plan, fitted, sep)
    out.mkdir(parents=True, exist_ok=True)
    plan_file = out / PLAN_FILE
    done: list[int] = []
    existing = sorted(out.glob("part-*.csv"))
    if existing:
        if not resume:
            raise fail(f"{out} already holds parts of a match list: --resume, or a new folder", 2)
        try:
            same = json.loads(plan_file.read_text()) == json.loads(json.dumps(facts))
        except (OSError, ValueError):
            same = False
        if not same:
            raise fail(f"{out} holds parts of another match list (see {PLAN_FILE})", 2)
        done = [int(p.stem.split("-")[1]) for p in existing]
    _write_atomic(plan_file, json.dumps(facts, indent=1).encode())
    about = {
        "created_at": datetime.now(UTC),
        "model_version": fitted.version_,
        "data_fingerprint": facts["data_fingerprint"],
        "k": plan.spec.k,
    }
    rows = 0
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("ranking buyers", total=len(plan), completed=len(done))
        for number, part in matcher.iter_match_list(fitted, plan, client=client, skip=done):
            named = names_from_dataset(part, fitted.dataset_, lang)
            table = match_list_sheets(named.to_dict("records"), about, lang)["match list"]
            data = tables_to_bytes({"match list": table}, "csv", lang=lang, sep=sep)
            _write_atomic(out / f"part-{number:05d}.csv", data)
            rows += len(table)
            bar.advance(task)
    kept = f", {len(done)} kept from an earlier run" if done else ""
    err.print(
        f"wrote {out}: {rows} rows in {len(plan) - len(done)} parts{kept}{note}",
        highlight=False,
        soft_wrap=True,
    )
    return rows


@app.command("match-list")
def match_list(
    source: DatasetArg,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="FILE.csv or FILE.xlsx to write; or a FOLDER (no suffix) for the list in parts.",
        ),
    ],
    buyers: Annotated[
        str | None, typer.Option("--buyers", help="Comma-separated buyer firm_ids (default: all).")
    ] = None,
    k: KOpt = 10,
    model: ModelOpt = None,
    lang: LangOpt = "en",
    max_per_supplier: Annotated[
        int | None,
        typer.Option(
            "--max-per-supplier",
            min=1,
            help="The cap: no supplier on more buyers' lists than this (taken in rank order).",
        ),
    ] = None,
    pins: Annotated[
        list[str] | None,
        typer.Option(
            "--pin",
            metavar="BUYER:SUPPLIER",
            help="Put this pair first on the buyer's list, whatever its rank (repeatable).",
        ),
    ] = None,
    blocks: Annotated[
        list[str] | None,
        typer.Option(
            "--block",
            metavar="BUYER:SUPPLIER",
            help="Never put this pair on the list (repeatable).",
        ),
    ] = None,
    keep_declined: Annotated[
        bool,
        typer.Option(
            "--keep-declined",
            help="Keep pairs an outcome in the data declined (by default they are left out).",
        ),
    ] = False,
    sep: SepOpt = None,
    dask: Annotated[
        bool,
        typer.Option(
            "--dask",
            help="Rank the parts on Dask: a local cluster on 127.0.0.1, or --scheduler's.",
        ),
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="A running Dask scheduler (tcp://host:8786); implies --dask.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Workers of the local cluster (default: cores)."),
    ] = None,
    part_buyers: Annotated[
        int | None,
        typer.Option("--part-buyers", min=1, help="Buyers per part (default: one batch)."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Keep the parts an interrupted run already wrote."),
    ] = False,
) -> None:
    """Top-k new suppliers for every buyer (or the given ones), written to CSV or XLSX.

    The same match list as the service's (matcher.build_match_list). Pairs with a declined
    outcome in the data are left out unless --keep-declined. --max-per-supplier, --pin and
    --block cap the suppliers, pin pairs first and block pairs as the service does. The file
    is the service's: names, headers and reasons in --lang (an .xlsx also says how it was made).
    With a FOLDER as --out the list is written in parts of buyers as they finish (CSV files of
    the same table), ranked here or with --dask on a Dask cluster; the cap needs one process.
    """
    from rich.progress import Progress

    from ketnoi import matcher
    from ketnoi.api._exports import match_list_sheets, names_from_dataset

    parted = out.suffix == ""
    dask = dask or scheduler is not None
    if parted:
        check_lang(lang)
        check_out(None, lang, sep)
    else:
        check_out(out, lang, sep)
    if dask and not parted:
        raise fail("--dask writes the list in parts: give a FOLDER (no suffix) as --out", 2)
    if not parted and (resume or part_buyers):
        raise fail("--resume and --part-buyers go with a FOLDER as --out", 2)
    ids = tuple(b.strip() for b in buyers.split(",") if b.strip()) if buyers else None
    spec = matcher.MatchListSpec(
        buyer_ids=ids,
        k=k,
        max_per_supplier=max_per_supplier,
        lang=lang,
        pins=_pairs_option(pins, "--pin"),
        blocks=_pairs_option(blocks, "--block"),
    )
    try:
        spec.check()
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    fitted = matcher_for(source, model)
    declined = () if keep_declined else None
    if parted:
        try:
            plan = ask(
                matcher.plan_match_list, fitted, spec, part_buyers=part_buyers, declined=declined
            )
        except ValueError as exc:
            raise fail(str(exc), 2) from None
        if not dask:
            write_parts(fitted, plan, out, sep=sep, resume=resume)
            return
        if importlib.util.find_spec("distributed") is None:
            raise fail("--dask needs Dask: pip install 'ketnoi[dask]'")
        with matcher.dask_client(scheduler, n_workers=workers) as client:
            where = scheduler or "a local cluster"
            write_parts(
                fitted, plan, out, client=client, sep=sep, resume=resume, note=f" on {where}"
            )
        return
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("ranking buyers", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        rows = ask(matcher.build_match_list, fitted, spec, declined=declined, progress=advance)
    # The service's workbook, row for row: names in the list's language, an "about" sheet.
    named = names_from_dataset(rows, fitted.dataset_, lang)
    facts = {
        "created_at": datetime.now(UTC),
        "model_version": fitted.version_,
        "data_fingerprint": getattr(fitted, "data_fingerprint_", None),
        "k": k,
        "max_per_supplier": max_per_supplier,
    }
    sheets = match_list_sheets(named.to_dict("records"), facts, lang)
    if out.suffix.lower() == ".csv":
        sheets = {"match list": sheets["match list"]}
    n_buyers = rows["buyer_id"].nunique()
    note = f" cho {n_buyers} bên mua" if lang == "vi" else f" for {n_buyers} buyers"
    write_tables(out, sheets, lang=lang, sep=sep, note=note)
