"""Helpers shared by the ``ketnoi`` commands: consoles, errors, loading, and options."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ketnoi import graph
from ketnoi.api._headers import SHARE_COLUMNS, YEAR_COLUMNS
from ketnoi.graph._values import json_value

console = Console()
err = Console(stderr=True)

DEMO_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"

DatasetArg = Annotated[
    Path, typer.Argument(help="Dataset: a folder of contract CSV files or an .xlsx workbook.")
]


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


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to standard output (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


LangOpt = Annotated[str, typer.Option("--lang", help="Language of the reasons: en or vi.")]
KOpt = Annotated[int, typer.Option("--k", min=1, max=1000, help="How many rows at most.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def matcher_for(source: Path, model: Path | None) -> Any:
    """Load the dataset, then load the model file onto it or fit a new matcher."""
    import warnings

    from ketnoi import matcher

    dataset = load_or_exit(source)
    if model is None:
        with console.status("fitting the matcher...", spinner="dots"):
            return matcher.Matcher().fit(dataset)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitted = matcher.load_matcher(model, dataset)
        except (matcher.ModelFileError, FileNotFoundError) as exc:
            raise fail(str(exc)) from None
    for warning in caught:
        err.print(f"warning: {warning.message}", highlight=False, soft_wrap=True)
    return fitted


def ask(query: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a matcher query; an unknown firm or category id ends with its message, exit 1."""
    try:
        return query(*args, **kwargs)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None


DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL (default: KETNOI_DATABASE_URL, else SQLite in KETNOI_DATA_DIR).",
    ),
]


@contextmanager
def storage_engine(database: str | None) -> Iterator[Any]:
    """An engine on the ketnoi database, its schema brought up to date, disposed after."""
    from ketnoi.api import storage

    engine = storage.make_engine(database)
    try:
        storage.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", help="A model file from `ketnoi train` (else fit on the data)."),
]


def check_lang(lang: str) -> None:
    if lang not in {"en", "vi"}:
        raise fail(f"--lang must be en or vi, not '{lang}'", 2)


FileLangOpt = Annotated[
    str,
    typer.Option(
        "--lang",
        help="Language of the --out file: en or vi (headers, decimal mark, CSV separator).",
    ),
]
SepOpt = Annotated[
    str | None,
    typer.Option(
        "--sep",
        help="Separator of a CSV --out: ',' or ';' (default ';' with --lang vi, as Excel "
        "expects in a Vietnamese locale; ',' with en).",
    ),
]


def check_out(out: Path | None, lang: str, sep: str | None) -> None:
    """Exit 2 before any work when ``--out``, ``--lang`` or ``--sep`` cannot be written."""
    from ketnoi.api._tables import SEPARATORS

    check_lang(lang)
    if sep is not None and sep not in SEPARATORS:
        raise fail(f"--sep must be ',' or ';', not '{sep}'", 2)
    if out is not None and out.suffix.lower() not in {".csv", ".xlsx"}:
        raise fail(f"{out}: the output must end in .csv or .xlsx", 2)


def write_tables(
    path: Path, sheets: dict[str, Any], *, lang: str = "en", sep: str | None = None, note: str = ""
) -> int:
    """Write frames to ``path`` with the one export writer, say so (path, rows), and return
    the number of rows written.

    One CSV (UTF-8 with a BOM; ``sep`` or the language's separator) when it ends in .csv and
    there is one frame, else an XLSX workbook with one sheet per frame. Exits with code 2 for
    any other suffix, or several frames asked for as one CSV.
    """
    from ketnoi.api._tables import tables_to_bytes

    check_out(path, lang, sep)
    suffix = path.suffix.lower()
    if suffix == ".csv" and len(sheets) != 1:
        raise fail(f"{path}: {len(sheets)} tables need an .xlsx workbook", 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tables_to_bytes(sheets, suffix[1:], lang=lang, sep=sep))
    rows = sum(len(frame) for frame in sheets.values())
    if len(sheets) == 1:
        told = f"{rows} rows"
    else:
        told = ", ".join(f"{len(frame)} rows in '{name}'" for name, frame in sheets.items())
    err.print(f"wrote {path}: {told}{note}", highlight=False, soft_wrap=True)
    return rows


def shown_cell(column: str, value: Any) -> str:
    """A table cell as a person reads it in the terminal (files and JSON keep raw values).

    Missing values show as a dash, shares as percentages, counts with thousands separators,
    lists as their first five items.
    """
    value = json_value(value)
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        shown = ", ".join(map(str, value[:5]))
        return shown + (f" (+{len(value) - 5})" if len(value) > 5 else "")
    if column in SHARE_COLUMNS and isinstance(value, float | int):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:.3f}"
    if isinstance(value, int):
        return str(value) if column in YEAR_COLUMNS else f"{value:,}"
    return str(value)
