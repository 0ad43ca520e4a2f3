"""The ``ketnoi`` command line.

Commands validate their input, call one library function and print what comes back; the logic
lives in :mod:`graph` and :mod:`matcher`. Errors in the user's data or arguments end with a
message and exit code 1 (2 for usage errors), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ketnoi import graph, matcher
from ketnoi.api import (
    _cli_adapt,
    _cli_events,
    _cli_feedback,
    _cli_match_list,
    _cli_model,
    _cli_programme,
    _cli_resolution,
)
from ketnoi.api._cli_common import (
    DEMO_DIR,
    DatabaseOpt,
    DatasetArg,
    JsonOpt,
    KOpt,
    LangOpt,
    ModelOpt,
    ask,
    check_lang,
    console,
    err,
    fail,
    load_or_exit,
    matcher_for,
    print_json,
    storage_engine,
)
from ketnoi.api._cli_text import explain_heading, explain_labels, row_heading
from ketnoi.graph._version import ketnoi_version

app = typer.Typer(
    name="ketnoi",
    help="ketnoi: supply-chain linkage matching for supporting-industry programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"ketnoi {ketnoi_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version_: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """ketnoi: supply-chain linkage matching for supporting-industry programmes."""


@app.command()
def validate(
    source: DatasetArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Check a dataset against the data contract and report every problem at once."""
    report = graph.validate_dataset(source)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "problems": [
                    {
                        "file": p.file,
                        "line": p.line,
                        "column": p.column,
                        "reason": p.reason,
                        "severity": p.severity,
                    }
                    for p in report.problems
                ],
            }
        )
    else:
        for problem in report.problems:
            console.print(str(problem), highlight=False, soft_wrap=True, markup=False)
    if not report.ok:
        raise fail(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if not as_json and report.dataset is not None:
        counts = report.dataset.summary()
        shown = ", ".join(f"{n} {k}" for k, n in counts.items() if not k.startswith("firms_"))
        console.print(f"ok: {shown}; {len(report.warnings)} warning(s)", highlight=False)


def _cell(key: str, value: Any) -> str:
    """A figure as it reads at 80 columns: shares as percentages, long lists as counts."""
    if isinstance(value, float):
        return f"{value:.1%}" if key.endswith("share") else f"{value:,.3g}"
    if isinstance(value, list):
        return f"{len(value)} (--json lists them)" if len(value) > 5 else ", ".join(map(str, value))
    if isinstance(value, dict):
        if len(value) > 15:
            return f"{len(value)} entries (--json lists them)"
        return ", ".join(f"{k}: {_cell(str(k), v)}" for k, v in value.items())
    return str(value)


def summary_table(summary: dict[str, Any]) -> Table:
    """A rich table of a graph summary: figures and small breakdowns, long lists as counts
    (``--json`` has every id)."""
    table = Table(title="Supply network", show_header=True)
    table.add_column("figure")
    table.add_column("value", overflow="fold")
    for key, value in summary.items():
        table.add_row(str(key), _cell(str(key), value))
    return table


@app.command("graph-stats")
def graph_stats(
    source: DatasetArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summary statistics of the supply network: counts, tiers, degrees, unlinked firms."""
    summary = graph.graph_summary(load_or_exit(source))
    if as_json:
        print_json(summary)
    else:
        console.print(summary_table(summary))


@app.command("export-graph")
def export_graph(
    source: DatasetArg,
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    format_: Annotated[
        str, typer.Option("--format", help="graphml or json (node-link).")
    ] = "graphml",
) -> None:
    """Write the supply graph as GraphML or node-link JSON."""
    if format_ not in {"graphml", "json"}:
        raise fail(f"--format must be graphml or json, not '{format_}'", 2)
    supply = graph.build_supply_graph(load_or_exit(source))
    graph.export_graph(supply, out, format=format_)
    console.print(
        f"wrote {out} ({supply.number_of_nodes()} nodes, {supply.number_of_edges()} edges)",
        highlight=False,
    )


def print_rows(frame: Any, as_json: bool, lang: str = "en") -> None:
    """Recommendation rows as JSON records (reasons a list) or one readable block per row."""
    if as_json:
        print_json(json.loads(frame.to_json(orient="records", force_ascii=False)))
        return
    if frame.empty:
        console.print("no candidates", highlight=False)
        return
    for row in frame.to_dict("records"):
        rank = "existing" if row.get("existing") is True else f"{row['rank']}."
        head = f"{row['supplier_id']} {row.get('supplier_name') or ''}".strip()
        if "supplier_name" not in row:
            head = row["supplier_id"]
        if frame["supplier_id"].nunique() == 1 and frame["buyer_id"].nunique() > 1:
            head = f"{row['buyer_id']} {row.get('buyer_name') or ''}".strip()
        console.print(f"[bold]{rank} {head}[/] ({row_heading(row, lang)})", highlight=False)
        for reason in row["reasons"]:
            console.print(f"   - {reason}", highlight=False, markup=False)


@app.command()
def recommend(
    source: DatasetArg,
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer's firm_id.")],
    k: KOpt = 10,
    model: ModelOpt = None,
    lang: LangOpt = "en",
    category: Annotated[str | None, typer.Option(help="Only suppliers of this category.")] = None,
    park: Annotated[
        str | None, typer.Option(help="Only suppliers in this park (its id or name).")
    ] = None,
    certification: Annotated[
        str | None, typer.Option(help="Only suppliers holding this certification.")
    ] = None,
    ownership: Annotated[
        str | None,
        typer.Option(help="Only suppliers of this ownership: local (all but fdi), domestic, ..."),
    ] = None,
    sector: Annotated[str | None, typer.Option(help="Only suppliers of this sector.")] = None,
    tier: Annotated[int, typer.Option(min=1, max=6, help="1 = direct suppliers.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """New suppliers for a buyer, best first, with reasons."""
    check_lang(lang)
    fitted = matcher_for(source, model)
    rows = ask(
        fitted.recommend,
        buyer,
        k,
        lang=lang,
        category=category,
        park=park,
        certification=certification,
        ownership=ownership,
        sector=sector,
        tier=tier,
    )
    print_rows(rows, as_json, lang)


@app.command("suggest-buyers")
def suggest_buyers(
    source: DatasetArg,
    supplier: Annotated[str, typer.Option("--supplier", help="The supplier's firm_id.")],
    k: KOpt = 10,
    model: ModelOpt = None,
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
) -> None:
    """Buyers a supplier should approach, best first, with reasons."""
    check_lang(lang)
    fitted = matcher_for(source, model)
    rows = ask(fitted.suggest_buyers, supplier, k, lang=lang)
    print_rows(rows, as_json, lang)


@app.command()
def chain(
    source: DatasetArg,
    buyer: Annotated[str, typer.Option("--buyer", help="The chain's root buyer.")],
    depth: Annotated[int, typer.Option(min=1, max=6, help="How many tiers.")] = 3,
    k: Annotated[int, typer.Option(min=1, max=50, help="Recommendations per firm.")] = 5,
    model: ModelOpt = None,
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
) -> None:
    """The tiered supply chain upstream of a buyer: existing and recommended suppliers."""
    check_lang(lang)
    fitted = matcher_for(source, model)
    rows = ask(fitted.chain, buyer, depth=depth, k=k, lang=lang)
    print_rows(rows, as_json, lang)


@app.command()
def explain(
    source: DatasetArg,
    supplier: Annotated[str, typer.Option("--supplier", help="The supplier's firm_id.")],
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer's firm_id.")],
    model: ModelOpt = None,
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
) -> None:
    """Why, or why not yet, a supplier-buyer pair: score, contributions, blockers."""
    check_lang(lang)
    fitted = matcher_for(source, model)
    report = ask(fitted.explain, supplier, buyer, lang=lang)
    if as_json:
        print_json(report)
        return
    console.print(explain_heading(report, supplier, buyer, lang), highlight=False)
    words = explain_labels(lang)
    for title in ("reasons", "blockers"):
        items = report[title]
        console.print(f"[bold]{words[title]}[/]: " + ("; ".join(items) if items else words["none"]))
    table = Table(title=words["contributions"])
    for column in ("feature", "value", "contribution"):
        table.add_column(words[column])
    for item in report["contributions"][:12]:
        name = matcher.feature_name(item["feature"], lang)
        raw = item["value"]
        value = f"{raw:.4g}" if isinstance(raw, int | float) else str(raw)
        weight = f"{item['contribution']:+.3f}"
        if lang == "vi":  # the decimal comma
            value, weight = value.replace(".", ","), weight.replace(".", ",")
        if raw is None:  # a value the data do not give (a capacity nobody reported)
            value = words["unknown"]
        table.add_row(name, value, weight)
    console.print(table)


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the Hanoi demo world into an empty database.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Worker processes.")] = 1,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Folder of the embedded database (KETNOI_DATA_DIR)."),
    ] = None,
) -> None:
    """Run the HTTP service on the database of KETNOI_DATA_DIR (or KETNOI_DATABASE_URL)."""
    import os

    import uvicorn

    from ketnoi.api import storage
    from ketnoi.api._cli_serve import DEMO_KEY_DAYS, demo_key, serve_workers
    from ketnoi.api.service import ServiceSettings, create_app

    if data_dir is not None:
        # Workers are separate processes: they read the folder from the environment.
        os.environ["KETNOI_DATA_DIR"] = str(data_dir)
    settings = ServiceSettings()
    engine = storage.make_engine(settings.database_url, settings.data_dir)
    storage.upgrade(engine)
    if demo:
        if storage.dataset_from_db(engine).firms.empty:
            storage.load_into(engine, load_or_exit(DEMO_DIR), actor="cli")
            console.print(f"loaded the demo world {DEMO_DIR}", highlight=False)
        key, kept = demo_key(engine, settings.data_dir)
        when = "kept from an earlier start" if kept else f"expires in {DEMO_KEY_DAYS:g} days"
        console.print(f"staff key ({when}): {key}", highlight=False, soft_wrap=True)
    console.print(
        f"workbench: http://{host}:{port}/ (sign in with a key"
        + (", the staff key above)" if demo else ")"),
        highlight=False,
    )
    console.print(
        f"OpenAPI docs: http://{host}:{port}/docs (the model trains first; allow a few seconds)",
        highlight=False,
    )
    if workers > 1:  # forked by gunicorn, sharing one model fitted here
        engine.dispose()
        serve_workers(settings, host, port, workers)
    else:
        uvicorn.run(create_app(settings, engine=engine), host=host, port=port)


keys_app = typer.Typer(help="Create and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="staff, analyst or firm.")],
    firm: Annotated[str | None, typer.Option("--firm", help="The firm_id (role firm).")] = None,
    expires: Annotated[
        float | None, typer.Option("--expires", min=0, help="Days until the key expires.")
    ] = None,
    label: Annotated[str, typer.Option("--label", help="Whose key, what for.")] = "",
    database: DatabaseOpt = None,
) -> None:
    """Make an API key and print it: the only time it is shown."""
    from ketnoi.api import storage

    with storage_engine(database) as engine:
        try:
            key = storage.create_key(engine, role, firm, expires, label, actor="cli")
        except ValueError as exc:
            raise fail(str(exc)) from None
        info = storage.verify_key(engine, key)
    console.print(key, highlight=False, soft_wrap=True)
    if info is not None:
        err.print(f"key id {info.id} ({info.role}); revoke with `ketnoi keys revoke {info.id}`")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id.", min=1)],
    database: DatabaseOpt = None,
) -> None:
    """Revoke a key for good."""
    from ketnoi.api import storage

    with storage_engine(database) as engine:
        revoked = storage.revoke_key(engine, key_id, actor="cli")
    if not revoked:
        raise fail(f"no key {key_id}, or it was revoked already")
    console.print(f"revoked key {key_id}", highlight=False)


@app.command()
def load(
    source: DatasetArg,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Soft-delete rows the dataset lacks (outcomes are kept)."),
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Import a dataset into the database in one transaction: all or nothing."""
    from ketnoi.api import storage

    dataset = load_or_exit(source)
    with storage_engine(database) as engine:
        try:
            counts = storage.load_into(engine, dataset, replace=replace, actor="cli")
        except graph.DatasetError as exc:
            for problem in exc.problems:
                err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
            raise fail(
                "the database with this dataset merged in would not be valid; nothing was"
                " loaded (--replace drops the rows the dataset lacks)"
            ) from None
    for name, n in counts.items():
        console.print(
            f"{name}: {n['inserted']} new, {n['updated']} updated, {n['unchanged']} unchanged,"
            f" {n['deleted']} deleted",
            highlight=False,
        )


@app.command()
def dump(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the contract CSV files to.")],
    database: DatabaseOpt = None,
) -> None:
    """Write the database back as a dataset folder (extra columns and outcomes included)."""
    from ketnoi.api import storage

    with storage_engine(database) as engine:
        written = storage.dump(engine, out_dir)
    console.print(f"wrote {len(written)} file(s) to {out_dir}", highlight=False)


# Programme tools live in their own modules, one sub-application each; their commands join
# the top level (``ketnoi schedule``, ``ketnoi localisation``...), not a group.
for _module in (
    _cli_adapt,
    _cli_model,
    _cli_match_list,
    _cli_events,
    _cli_programme,
    _cli_feedback,
    _cli_resolution,
):
    app.registered_commands.extend(_module.app.registered_commands)
    for _group in _module.app.registered_groups:
        app.registered_groups.append(_group)


def main() -> None:
    """Entry point of the ``ketnoi`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
