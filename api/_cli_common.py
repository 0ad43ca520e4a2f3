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
from rich.segment import Segment
from rich.table import Table

from ketnoi import graph
from ketnoi.api._headers import SHARE_COLUMNS, YEAR_COLUMNS, header
from ketnoi.graph._values import json_value

console = Console()
err = Console(stderr=True)

_YES_NO = {"en": ("yes", "no"), "vi": ("có", "không")}

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


LangOpt = Annotated[
    str,
    typer.Option("--lang", help="Language of the reasons and of all that is printed: en or vi."),
]
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
        help="Language of the table shown and of the --out file: en or vi (headers, names, "
        "numbers such as 254.400, and the CSV separator; --json stays raw).",
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
    vi = lang == "vi"
    if len(sheets) == 1:
        told = f"{rows} dòng" if vi else f"{rows} rows"
    else:
        each = "{n} dòng trong '{name}'" if vi else "{n} rows in '{name}'"
        told = ", ".join(each.format(n=len(f), name=name) for name, f in sheets.items())
    wrote = "đã ghi" if vi else "wrote"
    err.print(f"{wrote} {path}: {told}{note}", highlight=False, soft_wrap=True)
    return rows


#: Key columns as a Vietnamese reader of the terminal is told them (files keep the code names,
#: which ``ketnoi conversion`` and people's lookups read back; a terminal is only read).
_KEYS_VI = {
    "buyer_id": "mã bên mua",
    "supplier_id": "mã nhà cung cấp",
    "top_supplier_id": "mã nhà cung cấp lớn nhất",
    "category_id": "mã nhóm sản phẩm",
    "firm_id": "mã doanh nghiệp",
    "event_id": "sự kiện",
}


def shown_header(column: str, lang: str = "en") -> str:
    """A terminal table's header for ``column``: the export's Vietnamese header with ``vi``
    (key columns in words too), the code name in words with ``en``.

    Examples
    --------
    >>> shown_header("linked_rate"), shown_header("linked_rate", "vi")
    ('linked rate', 'tỷ lệ đã liên kết')
    >>> shown_header("supplier_id", "vi")
    'mã nhà cung cấp'
    """
    if lang == "vi":
        return _KEYS_VI.get(column) or header(column, "vi").replace("_", " ")
    return column.replace("_", " ")


def _grouped(number: float, lang: str) -> str:
    """A whole number with thousands grouped as ``lang`` writes them (254,400 / 254.400)."""
    text = f"{number:,.0f}"
    return text.replace(",", ".") if lang == "vi" else text


def shown_number(value: float, lang: str = "en", *, share: bool = False) -> str:
    """A number as a person reads it in ``lang``: a share as a percentage (one decimal), a
    large or whole number grouped by thousands, a small fraction to 3 places; Vietnamese
    groups with ``.`` and writes a decimal comma.

    Examples
    --------
    >>> shown_number(254400.0, "vi"), shown_number(0.418, "vi", share=True)
    ('254.400', '41,8%')
    >>> shown_number(0.6862, "en"), shown_number(0.6862, "vi")
    ('0.686', '0,686')
    """
    if share:
        text = f"{value:.1%}"
    elif float(value).is_integer() or abs(value) >= 100:
        return _grouped(value, lang)
    else:
        text = f"{value:.3f}"
    return text.replace(".", ",") if lang == "vi" else text


def shown_cell(column: str, value: Any, lang: str = "en") -> str:
    """A table cell as a person reads it in the terminal, in ``lang`` (files and JSON keep raw
    values).

    Missing values show as a dash, shares as percentages, counts with thousands separators
    (``254.400`` in Vietnamese), yes/no in words, lists as their first five items.

    Examples
    --------
    >>> shown_cell("volume", 254400, "vi"), shown_cell("gap", True, "vi")
    ('254.400', 'có')
    """
    value = json_value(value)
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _YES_NO[lang][0 if value else 1]
    if isinstance(value, list):
        shown = ", ".join(map(str, value[:5]))
        return shown + (f" (+{len(value) - 5})" if len(value) > 5 else "")
    if column in SHARE_COLUMNS and isinstance(value, float | int):
        return shown_number(value, lang, share=True)
    if isinstance(value, float):
        return shown_number(value, lang)
    if isinstance(value, int):
        return str(value) if column in YEAR_COLUMNS else _grouped(value, lang)
    return str(value)


def print_table(
    title: str, caption: str, headers: list[str], numeric: list[bool], cells: list[list[str]]
) -> None:
    """Print a table of terminal cells made to be read at any width, 80 columns too.

    A number is never cut short (``43.276.9…`` misleads) while the terminal has room for every
    number whole; names, ids and headers wrap instead (an id folds rather than ending in ``…``).
    Where even that does not fit, rich shares the width out as it can.
    """

    def table(keep_numbers: bool) -> Table:
        out = Table(title=title, caption=caption)
        for i, head in enumerate(headers):
            widest = max((len(row[i]) for row in cells), default=1)
            out.add_column(
                head,
                justify="right" if numeric[i] else "left",
                min_width=widest if numeric[i] and keep_numbers else None,
                overflow="ellipsis" if numeric[i] else "fold",
            )
        for row in cells:
            out.add_row(*row)
        return out

    whole = table(keep_numbers=True)
    lines = console.render_lines(whole, pad=False)
    fits = max((Segment.get_line_length(line) for line in lines), default=0) <= console.width
    console.print(whole if fits else table(keep_numbers=False))
