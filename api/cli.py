"""The ``ketnoi`` command line.

Commands validate their input, call one library function and print what comes back; the logic
lives in :mod:`graph` and :mod:`matcher`. Errors in the user's data or arguments end with a
message and exit code 1 (2 for usage errors), never a traceback.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import graph

app = typer.Typer(
    name="ketnoi",
    help="ketnoi: supply-chain linkage matching for supporting-industry programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

DEMO_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"

DatasetArg = Annotated[
    Path, typer.Argument(help="Dataset: a folder of contract CSV files or an .xlsx workbook.")
]


def ketnoi_version() -> str:
    """The installed distribution's version (or the source tree's, uninstalled)."""
    try:
        return version("ketnoi")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0+unknown"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` to standard error and return the exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def load_or_exit(source: Path) -> graph.Dataset:
    """Load a dataset, or print every problem and exit 1."""
    try:
        dataset = graph.load_dataset(source)
    except graph.DatasetError as exc:
        for problem in exc.problems:
            err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
        raise fail(f"{len(exc.problems)} problem(s) in {source}; nothing was loaded") from None
    for problem in dataset.warnings:
        err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
    return dataset


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


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to standard output (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


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


def summary_table(summary: dict[str, Any]) -> Table:
    """A rich table of the scalar figures and small breakdowns of a graph summary."""
    table = Table(title="Supply network", show_header=True)
    table.add_column("figure")
    table.add_column("value", overflow="fold")
    for key, value in summary.items():
        if isinstance(value, dict):
            if len(value) > 15:
                continue
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = f"{len(value)} firm(s)" if len(value) > 10 else ", ".join(map(str, value))
        table.add_row(str(key), str(value))
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


@app.command()
def serve(
    demo: Annotated[bool, typer.Option("--demo", help="Use the bundled Hanoi demo world.")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Dataset to serve.")] = None,
) -> None:
    """Load a dataset and report on it (the HTTP service comes with the service issue)."""
    source = DEMO_DIR if demo else data_dir
    if source is None:
        raise fail("give --demo or --data-dir DIR", 2)
    dataset = load_or_exit(source)
    console.print(f"ketnoi {ketnoi_version()}: loaded {source}", highlight=False)
    console.print(summary_table(graph.graph_summary(dataset)))


def main() -> None:
    """Entry point of the ``ketnoi`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
