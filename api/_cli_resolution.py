"""Firms from many lists, one register: ``ketnoi intake``, ``duplicates``, ``merge``, ``unmerge``.

They act on the service database (the one ``ketnoi serve`` uses: ``KETNOI_DATABASE_URL``, else
SQLite in ``KETNOI_DATA_DIR``), where source records, remembered decisions and aliases live; a
dataset folder can be put into it first with ``ketnoi load``. Registered on the top-level
``ketnoi`` application by :mod:`ketnoi.api.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ketnoi import graph
from ketnoi.api._cli_common import (
    DatabaseOpt,
    JsonOpt,
    check_lang,
    console,
    err,
    fail,
    print_json,
    storage_engine,
)
from ketnoi.api.storage._intake_categories import register_categories
from ketnoi.api.storage._resolution import ACCEPT, REVIEW

app = typer.Typer()

#: What the commands say, in English and Vietnamese.
_WORDS = {
    "en": {
        "matched": "matched",
        "proposed": "to review",
        "created": "new firm",
        "remembered": "answered before",
        "summary": "{source}: {matched} matched, {proposed} to review, {created} new firm(s);"
        " {remembered} answered by earlier decisions",
        "queue_empty": "no pair waits for review",
        "record": "record",
        "firm": "firm",
        "score": "probability",
        "evidence": "evidence",
        "decided": "review {id}: {decision}",
        "merged": "merge {id}: {absorbed} merged into {survivor}; moved {moved}",
        "unmerged": "merge {id} undone: {absorbed} restored",
        "mapping_written": "proposed column mapping written to {path}: check it (edit 'field' "
        "where it is wrong), then run the same command again; nothing was loaded",
        "categories_written": "suggested categories for the products written to {path}: check"
        " each row's category_id (or empty it), then run the same command again; nothing was"
        " loaded",
        "row": "row",
        "products": "products",
        "category": "suggested category",
        "hs": "HS code",
        "chosen": "chosen",
    },
    "vi": {
        "matched": "đã khớp",
        "proposed": "chờ xem xét",
        "created": "doanh nghiệp mới",
        "remembered": "đã quyết định trước",
        "summary": "{source}: {matched} đã khớp, {proposed} chờ xem xét, {created} doanh"
        " nghiệp mới; {remembered} theo quyết định trước đây",
        "queue_empty": "không có cặp nào chờ xem xét",
        "record": "bản ghi",
        "firm": "doanh nghiệp",
        "score": "xác suất",
        "evidence": "căn cứ",
        "decided": "cặp {id}: {decision}",
        "merged": "gộp {id}: {absorbed} đã gộp vào {survivor}; đã chuyển {moved}",
        "unmerged": "đã hoàn tác gộp {id}: khôi phục {absorbed}",
        "mapping_written": "đã ghi đề xuất ánh xạ cột vào {path}: hãy kiểm tra (sửa 'field' chỗ"
        " chưa đúng) rồi chạy lại đúng lệnh này; chưa nạp gì",
        "categories_written": "đã ghi gợi ý danh mục cho sản phẩm vào {path}: hãy kiểm tra"
        " category_id từng dòng (hoặc để trống) rồi chạy lại đúng lệnh này; chưa nạp gì",
        "row": "dòng",
        "products": "sản phẩm",
        "category": "danh mục gợi ý",
        "hs": "mã HS",
        "chosen": "đã chọn",
    },
}

LangOpt = Annotated[str, typer.Option("--lang", help="Language of the messages: en or vi.")]


#: Why a record went where it went, in Vietnamese (the blocking rules' names stay as they are).
_RULES_VI = {
    "tax_code": "mã số thuế",
    "new firm": "doanh nghiệp mới",
    "same record": "bản ghi đã gặp",
    "decided before": "đã quyết định trước",
    "score": "điểm khớp",
    "branch of": "chi nhánh của",
}


def _listed(chosen: list[dict[tuple[str, int], dict[str, str]]]) -> list[list[dict[str, Any]]]:
    """Confirmed categories per list, as JSON rows (``sheet``, ``line``, the choice)."""
    return [[{"sheet": s, "line": n, **c} for (s, n), c in sorted(x.items())] for x in chosen]


def _say(lang: str, key: str, **values: Any) -> str:
    return _WORDS[lang][key].format(**values)


def _rule(lang: str, rule: str) -> str:
    if lang != "vi":
        return rule
    for english, vietnamese in _RULES_VI.items():
        if rule.startswith(english):
            return vietnamese + rule[len(english) :]
    return rule


def _mapping_path(mapping: Path | None, source: str) -> Path:
    if mapping is not None:
        return mapping
    from ketnoi.api import storage

    folder = storage.StorageSettings().data_dir / "mappings"
    return folder / f"{source}.json"


def _choices_path(mapping: Path, file: Path) -> Path:
    """A list's category choices, next to its source's column mapping."""
    return mapping.with_name(f"{mapping.stem}.{file.stem}.categories.json")


def _show_choices(lang: str, file: Path, rows: list[dict[str, Any]]) -> None:
    """The suggested categories and HS codes, with their scores, for a person to confirm."""
    table = Table(
        _say(lang, "row"),
        _say(lang, "products"),
        _say(lang, "category"),
        _say(lang, "hs"),
        _say(lang, "chosen"),
        title=file.name,
    )
    for row in rows:
        named = "name_vi" if lang == "vi" else "name"
        suggested = "\n".join(
            f"{s['category_id']} {s[named] or s['name']} ({s['score']:.2f})"
            for s in row["suggestions"]
        )
        hs = row["hs"]
        heading = f"{hs['hs_code']} {hs['description'][:40]} ({hs['score']:.2f})" if hs else ""
        table.add_row(
            f"[{row['sheet']}] {row['line']}",
            row["products"],
            suggested,
            heading,
            f"{row['category_id']} {row['hs_code']}".strip(),
        )
    console.print(table)


@app.command()
def intake(
    files: Annotated[list[Path], typer.Argument(help="Officers' lists: .xlsx workbooks.")],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="The column mapping file (JSON). Missing: the proposed mapping is written there"
            " for you to check, and nothing is loaded. Default: the source's saved mapping in"
            " KETNOI_DATA_DIR/mappings.",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="The lists' source (default: the file name).")
    ] = None,
    accept_mapping: Annotated[
        bool,
        typer.Option(
            "--accept-mapping",
            help="Load at once with the proposed mapping and categories (both saved).",
        ),
    ] = False,
    role: Annotated[
        str, typer.Option("--role", help="Role of the firms a list creates: supplier, buyer, both.")
    ] = "supplier",
    accept: Annotated[
        float, typer.Option("--accept", min=0, max=1, help="Match without asking at or above.")
    ] = ACCEPT,
    review: Annotated[
        float, typer.Option("--review", min=0, max=1, help="Ask a person at or above.")
    ] = REVIEW,
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Bring officers' lists into the register: each row matched, proposed or made a firm."""
    from ketnoi.api import storage

    check_lang(lang)
    if not 0 <= review <= accept <= 1:
        raise fail(f"--review {review} must not be above --accept {accept}", 2)
    name = source or files[0].stem
    path = _mapping_path(mapping, name)
    mappings, problems = graph.load_mappings(path) if path.exists() else ({}, [])
    results = []
    for file in files:
        if not file.is_file():
            raise fail(f"{file}: no such file")
        result = graph.read_intake(file, name, mappings or None)
        problems.extend(result.problems)
        results.append((file, result))
    written = not path.exists()
    if written:  # proposed, for the person to check; used for this source's next lists too
        proposed: dict[str, graph.SheetMapping] = {}
        for _, result in results:
            proposed.update(result.mappings)
        path.parent.mkdir(parents=True, exist_ok=True)
        graph.save_mappings(proposed, path)
    for problem in problems:
        err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise fail(f"{len(errors)} problem(s) (column mapping: {path}); nothing was loaded")
    if written and accept_mapping:
        mappings, _ = graph.load_mappings(path)  # re-read: the file is what was used
        results = [(f, graph.read_intake(f, name, mappings)) for f, _ in results]
    summaries = []
    with storage_engine(database) as engine:
        # Products in free text: the suggested categories go to a choices file next to the
        # mapping, for the person to confirm as they confirm the mapping; read back to load.
        known = register_categories(engine)
        chosen, waiting, shown = [], [], []
        for file, result in results:
            choices = _choices_path(path, file)
            if not choices.exists():
                suggested = graph.category_choices(result.records, known)
                if suggested:
                    graph.save_category_choices(suggested, choices)
                    shown.append({"file": file.name, "choices": str(choices), "rows": suggested})
                    if not as_json:
                        _show_choices(lang, file, suggested)
                    if not accept_mapping:
                        waiting.append(choices)
            confirmed, unreadable = (
                graph.load_category_choices(choices, known) if choices.exists() else ({}, [])
            )
            for problem in unreadable:
                err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
            if [p for p in unreadable if p.severity == "error"]:
                raise fail(f"{choices}: {len(unreadable)} problem(s); nothing was loaded")
            chosen.append(confirmed)
        if (written and not accept_mapping) or waiting:
            if as_json:
                print_json({"mapping": str(path), "categories": shown, "loaded": False})
            if written and not accept_mapping:
                console.print(_say(lang, "mapping_written", path=path), highlight=False)
            for choices in waiting:
                console.print(_say(lang, "categories_written", path=choices), highlight=False)
            return
        for (file, result), confirmed in zip(results, chosen, strict=True):
            try:
                summary = storage.intake_records(
                    engine,
                    result.records,
                    actor="cli",
                    file=file.name,
                    role=role,
                    accept=accept,
                    review=review,
                    categories=confirmed,
                )
            except graph.DatasetError as exc:
                for problem in exc.problems:
                    err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
                raise fail(f"{file}: the register would not be valid; nothing was loaded") from None
            except storage.Invalid as exc:
                raise fail(str(exc), 2) from None
            summaries.append(summary)
    if as_json:
        print_json(
            [
                {**s.__dict__, "counts": s.counts(), "categories": confirmed}
                for s, confirmed in zip(summaries, _listed(chosen), strict=True)
            ]
        )
        return
    for summary in summaries:
        for what in ("matched", "created", "proposed"):
            for item in getattr(summary, what):
                target = item.get("firm_id") or ", ".join(item.get("candidates", []))
                console.print(
                    f"{_say(lang, what):>16}  [{item['sheet']}] {item['line']:>5}  {item['name']}"
                    f"  -> {target} ({_rule(lang, item['rule'])})",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
        counts = summary.counts()
        console.print(_say(lang, "summary", source=summary.source, **counts), soft_wrap=True)


def _side(values: dict[str, Any]) -> str:
    shown = [values.get(k, "") for k in ("name", "tax_code", "address", "phone", "email")]
    return "\n".join(str(v) for v in shown if v)


def _evidence(evidence: dict[str, Any]) -> str:
    return "\n".join(
        f"{field}: {item.get('level')} ({item.get('weight', 0):+.1f})"
        for field, item in evidence.items()
        if isinstance(item, dict) and item.get("level") != "missing"
    )


@app.command()
def duplicates(
    decide: Annotated[
        tuple[int, str],
        typer.Option(
            "--decide",
            help="Answer one review: its id and match or distinct (remembered for re-uploads).",
        ),
    ] = (0, ""),
    role: Annotated[
        str, typer.Option("--role", help="Role of a firm a 'distinct' answer creates.")
    ] = "supplier",
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """The review queue (pairs between the thresholds, evidence side by side), or answer one."""
    from ketnoi.api import storage

    check_lang(lang)
    review_id, verdict = decide
    with storage_engine(database) as engine:
        if review_id:
            if verdict not in ("match", "distinct"):
                raise fail(f"--decide {review_id} needs match or distinct, not '{verdict}'", 2)
            try:
                done = storage.decide_review(engine, review_id, verdict, "cli", role=role)
            except (storage.NotFound, storage.Conflict) as exc:
                raise fail(str(exc)) from None
            if as_json:
                print_json(done)
            else:
                console.print(_say(lang, "decided", **done), highlight=False, soft_wrap=True)
            return
        queue = storage.review_queue(engine)
    if as_json:
        print_json(queue)
        return
    if not queue:
        console.print(_say(lang, "queue_empty"))
        return
    table = Table("id", _say(lang, "score"), _say(lang, "record"), _say(lang, "firm"))
    table.add_column(_say(lang, "evidence"))
    for q in queue:
        rec = q["record"]
        where = f"{rec['source']} [{rec['sheet']}] {rec['line']}"
        table.add_row(
            str(q["id"]),
            f"{q['match_probability']:.2f}" if q["match_probability"] is not None else "",
            f"{where}\n{_side(rec)}",
            f"{q['firm'].get('firm_id', '')}\n{_side(q['firm'])}",
            _evidence(q["evidence"]),
        )
    console.print(table)


@app.command()
def merge(
    survivor: Annotated[str, typer.Argument(help="The firm that stays (its id is kept).")],
    absorbed: Annotated[str, typer.Argument(help="The firm merged into it (its id: an alias).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log.")] = "",
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Merge two firms: links, capabilities, demands, outcomes... move to the survivor."""
    from ketnoi.api import storage

    check_lang(lang)
    with storage_engine(database) as engine:
        try:
            done = storage.merge_firms(engine, survivor, absorbed, "cli", reason=reason)
        except (storage.NotFound, storage.Conflict) as exc:
            raise fail(str(exc)) from None
        except graph.DatasetError as exc:
            for problem in exc.problems:
                err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
            raise fail("the merged register would not be valid; nothing was changed") from None
    if as_json:
        print_json(done.__dict__)
        return
    moved = ", ".join(f"{n} {t}" for t, n in sorted(done.moved.items())) or "0"
    console.print(
        _say(lang, "merged", id=done.id, absorbed=absorbed, survivor=survivor, moved=moved),
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def unmerge(
    merge_id: Annotated[int, typer.Argument(min=1, help="The merge's id (from `ketnoi merge`).")],
    lang: LangOpt = "en",
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Undo a merge: exactly the rows it moved go back; later writes are kept."""
    from ketnoi.api import storage

    check_lang(lang)
    with storage_engine(database) as engine:
        try:
            done = storage.unmerge_firms(engine, merge_id, "cli")
        except (storage.NotFound, storage.Conflict) as exc:
            raise fail(str(exc)) from None
        except graph.DatasetError as exc:
            for problem in exc.problems:
                err.print(str(problem), highlight=False, soft_wrap=True, markup=False)
            raise fail("the register would not be valid; nothing was changed") from None
    if as_json:
        print_json(done.__dict__)
        return
    console.print(_say(lang, "unmerged", id=merge_id, absorbed=done.absorbed_id), highlight=False)
