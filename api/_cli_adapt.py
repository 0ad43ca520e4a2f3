"""Adapters for public supplier data: ``ketnoi adapt osh`` and ``ketnoi adapt edges``.

Registered on the top-level ``ketnoi`` application by :mod:`ketnoi.api.cli`. Each reads someone
else's file into a folder of contract files that ``ketnoi validate`` accepts, with
``adapt_report.json`` beside them (problems, rows left out, name pairs to review, where each firm
came from). The folder is written whole or not at all.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from ketnoi import graph
from ketnoi.api._cli_common import console, err, fail, print_json
from ketnoi.graph._adapt_common import AdaptResult
from ketnoi.graph._adapt_edges import adapt_edges
from ketnoi.graph._adapt_osh import adapt_osh
from ketnoi.graph._problems import sort_key

app = typer.Typer()
adapt = typer.Typer(
    help="Public supplier data into the data contract (Open Supply Hub, edge lists with names).",
    no_args_is_help=True,
)
app.add_typer(adapt, name="adapt")

InputArg = Annotated[Path, typer.Argument(help="The file to read: CSV or XLSX.")]
OutOpt = Annotated[
    Path, typer.Option("--out", help="Folder to write the contract files to (new or empty).")
]
CategoriesOpt = Annotated[
    Path | None,
    typer.Option(
        "--categories",
        help="The world's categories.csv (or a world folder holding one): product text is"
        " matched to them.",
    ),
]
LangOpt = Annotated[
    str, typer.Option("--lang", help="Language of the summary and the problems: en or vi.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]

_SUMMARY = {
    "en": "wrote {firms} firm(s), {links} link(s) to {out}; {left} row(s) left out, {review}"
    " pair(s) to review, {warnings} warning(s): see adapt_report.json",
    "vi": "đã ghi {firms} doanh nghiệp, {links} liên kết vào {out}; {left} dòng bị bỏ qua,"
    " {review} cặp cần xem xét, {warnings} cảnh báo: xem adapt_report.json",
}
#: The adapters' reasons in Vietnamese: (English pattern, Vietnamese template with its groups).
_REASONS_VI: tuple[tuple[str, str], ...] = (
    (r"not an Open Supply Hub download: no column (.+)",
     r"không phải tệp tải về từ Open Supply Hub: thiếu cột \1"),
    (r"unknown column: kept in source_extra", "cột không xác định: giữ lại trong source_extra"),
    (r"unknown column: kept in the links' source_extra",
     "cột không xác định: giữ lại trong source_extra của liên kết"),
    (r"empty: the row names no facility", "trống: dòng không nêu cơ sở sản xuất nào"),
    (r"empty: facility (.+) has no name", r"trống: cơ sở \1 không có tên"),
    (r"(.+) is not a coordinate: lat and lng kept in source_extra",
     r"\1 không phải tọa độ: lat và lng giữ lại trong source_extra"),
    (r"(.+) is not a head count: kept in source_extra",
     r"\1 không phải số lao động: giữ lại trong source_extra"),
    (r"contributor (.+): type unknown, not taken as a buyer \(give its type in a"
     r" contributor-types table\)",
     r"bên đóng góp \1: chưa rõ loại, không coi là bên mua (ghi loại của họ trong bảng"
     r" --contributor-types)"),
    (r"an anonymous Brand / Retailer lists some facilities: no buyer can be made of a"
     r" contributor without a name",
     "một nhãn hàng / nhà bán lẻ ẩn danh liệt kê một số cơ sở: không thể tạo bên mua từ bên"
     " đóng góp không có tên"),
    (r"needs columns 'name' and 'type' \(contributor types\)",
     "cần các cột 'name' và 'type' (loại bên đóng góp)"),
    (r"no (.+) column: the header needs supplier and buyer \(or Nhà cung cấp, Khách hàng\)",
     r"thiếu cột \1: dòng tiêu đề cần có Nhà cung cấp và Khách hàng (hoặc supplier, buyer)"),
    (r"empty: a link needs both firms", "trống: một liên kết cần đủ hai doanh nghiệp"),
    (r"(.+) and (.+) are the same firm: a firm does not supply itself",
     r"\1 và \2 là cùng một doanh nghiệp: doanh nghiệp không tự cung cấp cho mình"),
    (r"(.+) read as category (.+) \((.+)\): check it",
     r"\1 được hiểu là ngành hàng \2 (\3): hãy kiểm tra"),
    (r"(.+) matches no category: the link is kept without one",
     r"\1 không khớp ngành hàng nào: liên kết được giữ, không có ngành hàng"),
    (r"(.+): no categories given \(--categories\), the link is kept without one",
     r"\1: chưa có danh mục ngành hàng (--categories), liên kết được giữ, không có ngành hàng"),
    (r"(.+) is not a year from 1900 to (\d+): left empty",
     r"\1 không phải năm từ 1900 đến \2: để trống"),
    (r"the same link as row (\d+): merged into it", r"trùng liên kết ở dòng \1: đã gộp vào đó"),
    (r"cells right of the last header", "có ô nằm bên phải cột tiêu đề cuối cùng"),
    (r"(\d+) cells for (\d+) headers", r"\1 ô cho \2 cột tiêu đề"),
    (r"file is empty \(no header row\)", "tệp trống (không có dòng tiêu đề)"),
    (r"the workbook has no rows", "tệp Excel không có dòng nào"),
    (r"not UTF-8 text \(byte (\d+)\)", r"không phải văn bản UTF-8 (byte \1)"),
    (r"unreadable CSV: (.+)", r"không đọc được CSV: \1"),
    (r"cannot be read: (.+)", r"không đọc được: \1"),
    (r"not a readable XLSX workbook: (.+)", r"không phải tệp Excel (XLSX) đọc được: \1"),
)  # fmt: skip


def problem_text(problem: graph.Problem, lang: str) -> str:
    """A problem as a line, its reason in ``lang`` (an unknown reason stays as it is)."""
    if lang == "vi":
        for pattern, template in _REASONS_VI:
            if re.fullmatch(pattern, problem.reason):
                reason = re.sub(pattern, template, problem.reason)
                return str(dataclasses.replace(problem, reason=reason)).replace(
                    "warning: ", "cảnh báo: "
                )
    return str(problem)


_NOTHING = {
    "en": "nothing read from {file}: no firm could be made; nothing was written",
    "vi": "không đọc được gì từ {file}: không tạo được doanh nghiệp nào; chưa ghi gì",
}


def _categories(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    file = path / "categories.csv" if path.is_dir() else path
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise fail(f"--categories: {file} cannot be read: {exc}", 2) from None
    missing = {"category_id", "name"} - set(frame.columns)
    if missing:
        raise fail(f"--categories: {file} has no column {', '.join(sorted(missing))}", 2)
    return frame


def _check(path: Path, out: Path, lang: str) -> None:
    if lang not in {"en", "vi"}:
        raise fail(f"--lang must be en or vi, not '{lang}'", 2)
    if not path.is_file():
        raise fail(f"{path} is not a file", 2)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise fail(f"--out {out} exists and is not an empty folder", 2)


def _write(result: AdaptResult, path: Path, out: Path, lang: str, as_json: bool) -> None:
    problems = sorted(result.problems, key=sort_key)
    for problem in problems:
        err.print(problem_text(problem, lang), highlight=False, soft_wrap=True, markup=False)
    if result.frames.get("firms") is None or result.frames["firms"].empty:
        raise fail(_NOTHING[lang].format(file=path.name))
    try:
        dataset = result.dataset()
    except graph.DatasetError as exc:  # an adapter bug, said plainly rather than half-written
        for problem in exc.problems:
            err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
        raise fail(f"the adapted data fails the contract; nothing was written to {out}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".adapt-", dir=out.parent))
    try:
        dataset.to_dir(staging)
        result.problems = problems
        result.write_report(staging / "adapt_report.json")
        if out.exists():
            out.rmdir()  # checked empty before the work began
        staging.rename(out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    if as_json:
        print_json(result.report())
        return
    console.print(
        _SUMMARY[lang].format(
            firms=len(dataset.firms),
            links=len(dataset.links),
            out=out,
            left=sum(1 for r in result.rejected if "merged_into_line" not in r),
            review=sum(1 for r in result.review if "left" in r),
            warnings=sum(1 for p in problems if p.severity == "warning"),
        ),
        highlight=False,
        soft_wrap=True,
    )


@adapt.command("osh")
def adapt_osh_command(
    path: InputArg,
    out: OutOpt,
    categories: CategoriesOpt = None,
    contributor_types: Annotated[
        Path | None,
        typer.Option(
            "--contributor-types",
            help="CSV or XLSX 'name, type' of contributors' Open Supply Hub types: a"
            " 'Brand / Retailer' that lists a facility becomes its buyer.",
        ),
    ] = None,
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
) -> None:
    """Read an Open Supply Hub facility download (CSV or XLSX) into contract files."""
    _check(path, out, lang)
    if contributor_types is not None and not contributor_types.is_file():
        raise fail(f"--contributor-types: {contributor_types} is not a file", 2)
    result = adapt_osh(path, _categories(categories), contributor_types)
    _write(result, path, out, lang, as_json)


@adapt.command("edges")
def adapt_edges_command(
    path: InputArg,
    out: OutOpt,
    categories: CategoriesOpt = None,
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
) -> None:
    """Read an edge list by firm name (supplier, buyer[, category, year]) into contract files.

    Names are resolved to firms: equal once folded, or a match by entity resolution.
    """
    _check(path, out, lang)
    result = adapt_edges(path, _categories(categories))
    _write(result, path, out, lang, as_json)
