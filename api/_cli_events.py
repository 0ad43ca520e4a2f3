"""Matchmaking events: ``ketnoi schedule``.

Registered on the top-level ``ketnoi`` application by :mod:`ketnoi.api.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ketnoi.api._cli_common import (
    DatasetArg,
    FileLangOpt,
    JsonOpt,
    ModelOpt,
    SepOpt,
    check_out,
    console,
    err,
    fail,
    matcher_for,
    print_json,
    write_tables,
)

if TYPE_CHECKING:
    from ketnoi import programme

app = typer.Typer()

_TABLES = ("meetings", "agendas", "grid")


def _minutes_of(text: str, option: str) -> int:
    hours, sep, mins = text.partition(":")
    if not sep or not hours.isdigit() or not mins.isdigit() or int(hours) > 23 or int(mins) > 59:
        raise fail(f"{option} must be a time such as 09:00, not '{text}'", 2)
    return int(hours) * 60 + int(mins)


def _clock(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def slot_labels(
    start: str | None,
    minutes: int,
    slots: int,
    lunch: str | None = None,
    lunch_minutes: int = 60,
) -> tuple[tuple[str, ...], int | None, str]:
    """``HH:MM`` labels every ``minutes`` from ``start`` (none without a start), the slots
    before the lunch break and the break's label (no break without ``lunch``).

    A slot that would run into the break starts after it.
    """
    if start is None:
        if lunch is not None:
            raise fail("--lunch needs --start (the time of the first slot)", 2)
        return (), None, ""
    first = _minutes_of(start, "--start")
    times = [first + i * minutes for i in range(slots)]
    if lunch is None:
        return tuple(_clock(t) for t in times), None, ""
    noon = _minutes_of(lunch, "--lunch")
    before = sum(t + minutes <= noon for t in times)
    if not 0 < before < slots:
        raise fail(f"--lunch {lunch} does not fall between the first and the last slot", 2)
    resume = noon + lunch_minutes
    shifted = times[:before] + [resume + i * minutes for i in range(slots - before)]
    label = f"{_clock(noon)}–{_clock(resume)}"
    return tuple(_clock(t) for t in shifted), before, label


@app.command("schedule")
def schedule(
    source: DatasetArg,
    participants: Annotated[
        Path,
        typer.Option(
            "--participants",
            help="CSV or XLSX: firm_id[, side, languages, max_meetings], in registration order.",
        ),
    ],
    slots: Annotated[int, typer.Option("--slots", help="Time slots.")],
    tables: Annotated[int, typer.Option("--tables", help="Meetings held at once.")],
    max_meetings: Annotated[
        int, typer.Option("--max-meetings", help="Meetings per firm, at most.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="FILE.xlsx (meetings, agendas, grid) or FILE.csv (--table)."),
    ] = None,
    table: Annotated[
        str, typer.Option("--table", help="The table a .csv holds: meetings, agendas or grid.")
    ] = "meetings",
    interpreters: Annotated[int, typer.Option("--interpreters", help="Interpreters per slot.")] = 0,
    lock: Annotated[
        list[str] | None,
        typer.Option("--lock", help="A meeting to hold: BUYER:SUPPLIER or BUYER:SUPPLIER@SLOT."),
    ] = None,
    locks: Annotated[
        Path | None,
        typer.Option(
            "--locks", help="CSV or XLSX of meetings to hold: buyer_id, supplier_id[, slot]."
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Time of the first slot (HH:MM), for labels.")
    ] = None,
    minutes: Annotated[
        int, typer.Option("--minutes", min=1, max=240, help="Minutes per slot.")
    ] = 30,
    lunch: Annotated[
        str | None,
        typer.Option("--lunch", help="Start of the lunch break (HH:MM); needs --start."),
    ] = None,
    lunch_minutes: Annotated[
        int, typer.Option("--lunch-minutes", min=1, max=240, help="Minutes of the lunch break.")
    ] = 60,
    agendas: Annotated[
        Path | None,
        typer.Option(
            "--agendas",
            help="FILE.html: each firm's agenda on an A4 page (in its language), then the grid.",
        ),
    ] = None,
    include_linked: Annotated[
        bool, typer.Option("--include-linked", help="Also propose firms already linked.")
    ] = False,
    include_declined: Annotated[
        bool, typer.Option("--include-declined", help="Also propose pairs that declined.")
    ] = False,
    event_name: Annotated[
        str | None,
        typer.Option("--name", help="The event's name, on the agendas (default: the file's)."),
    ] = None,
    min_score: Annotated[
        float,
        typer.Option("--min-score", min=0, max=1, help="Propose no pair scoring below this."),
    ] = 0.0,
    greedy: Annotated[
        bool, typer.Option("--greedy", help="First come, first served instead of the optimiser.")
    ] = False,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=1, max=3600, help="Seconds the optimiser may take.")
    ] = 60.0,
    model: ModelOpt = None,
    lang: FileLangOpt = "en",
    sep: SepOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Schedule a matchmaking event: pick the meetings, place them in slots and at tables.

    First as many suppliers as possible get a meeting, then the total match score is as high as
    possible. Firms already linked and pairs that declined are not proposed unless asked.
    """
    from ketnoi import programme

    # The HTTP route's limits (one place: programme.EVENT_LIMITS), checked before any work.
    limits = programme.EVENT_LIMITS
    for name, value, most in (
        ("--slots", slots, limits.slots),
        ("--tables", tables, limits.tables),
        ("--max-meetings", max_meetings, limits.slots),
    ):
        if value < 1:
            raise fail(f"{name} must be at least 1, not {value}", 2)
        if value > most:
            raise fail(f"{name} must be at most {most}, not {value}", 2)
    if interpreters < 0:
        raise fail(f"--interpreters must be 0 or more, not {interpreters}", 2)
    if interpreters > limits.interpreters:
        raise fail(f"--interpreters must be at most {limits.interpreters}, not {interpreters}", 2)
    if table not in _TABLES:
        raise fail(f"--table must be one of {', '.join(_TABLES)}, not '{table}'", 2)
    check_out(out, lang, sep)
    labels, lunch_after, lunch_label = slot_labels(start, minutes, slots, lunch, lunch_minutes)
    if agendas is not None and agendas.suffix.lower() not in {".html", ".htm"}:
        raise fail(f"--agendas writes an .html file, not '{agendas.name}'", 2)
    held: list[programme.MeetingLock] = []
    for text in lock or []:
        try:
            held.append(programme.parse_lock(text))
        except ValueError as exc:
            raise fail(f"--lock: {exc}", 2) from None
    fitted = matcher_for(source, model)
    try:
        if locks is not None:
            held.extend(programme.read_locks(locks))
        people = programme.read_participants(participants, fitted.dataset_)
        spec = programme.EventSpec(
            participants=people,
            slots=slots,
            tables=tables,
            max_meetings=max_meetings,
            interpreters=interpreters,
            locks=tuple(held),
            slot_labels=labels,
            include_linked=include_linked,
            include_declined=include_declined,
            name=event_name or participants.stem,
            lunch_after=lunch_after,
            lunch_label=lunch_label,
            min_score=min_score,
        )
        with console.status("scheduling...", spinner="dots"):
            result = programme.schedule_event(
                spec,
                fitted,
                method="greedy" if greedy else "optimal",
                time_limit=time_limit,
            )
    except programme.EventError as exc:
        for line in str(exc).splitlines():
            err.print(line, highlight=False, soft_wrap=True, markup=False)
        raise fail("the event cannot be scheduled as given; nothing was written") from None
    sheets = result.sheets(lang)
    if out is not None:
        chosen = sheets if out.suffix.lower() == ".xlsx" else {table: sheets[table]}
        write_tables(out, chosen, lang=lang, sep=sep)
    if agendas is not None:
        write_agendas(agendas, result, fitted, lang)
    summary = result.summary()
    if as_json:
        print_json(
            {
                **summary,
                "meetings_table": sheets["meetings"].to_dict("records"),
                "unmet": result.unmet.to_dict("records"),
            }
        )
        return
    label = "ghi chú" if lang == "vi" else "note"
    for note in result.notes:
        said = programme.note_in_language(note, lang)
        err.print(f"{label}: {said}", highlight=False, soft_wrap=True, markup=False)
    if lang == "vi":
        told = (
            f"{summary['meetings']} cuộc gặp; {result.covered} trên {result.suppliers} nhà cung"
            f" cấp có cuộc gặp; tổng điểm {result.score:.3f}".replace(".", ",")
            + f" ({result.seconds:.2f} giây)".replace(".", ",")
        )
    else:
        told = (
            f"{summary['meetings']} meetings; {result.covered} of {result.suppliers} suppliers"
            f" met; total score {result.score:.3f}; {result.status} ({result.method},"
            f" {result.seconds:.2f} s)"
        )
    wrote = "đã ghi" if lang == "vi" else "wrote"
    console.print(told + (f"; {wrote} {out}" if out is not None else ""), highlight=False)
    _print_unmet(result, lang)


def write_agendas(path: Path, result: programme.EventSchedule, fitted: Any, lang: str) -> None:
    """Write the printable agendas and the organisers' grid, and say so."""
    from ketnoi import programme
    from ketnoi.api._agendas import render_agendas

    pages = programme.firm_agendas(result.spec, result.meetings, fitted, fitted.dataset_)
    html = render_agendas(pages, grid=result.grid(lang), lang=lang)
    path.write_text(html, encoding="utf-8")
    told = (
        "đã ghi {path}: {n} lịch gặp và bảng xếp bàn"
        if lang == "vi"
        else ("wrote {path}: {n} agendas and the grid")
    )
    console.print(told.format(path=path, n=len(pages)), highlight=False)


#: Why a participant has no meeting (:data:`ketnoi.programme.NO_MEETING`), in Vietnamese.
_NO_MEETING_VI = {
    "unknown": "mô hình chưa biết doanh nghiệp này (thêm sau khi huấn luyện): cần huấn luyện lại",
    "no_candidate": "không doanh nghiệp nào bên kia là ứng viên của nó (không phù hợp ngành hàng)",
    "closed": "mọi ứng viên bên kia đã giao dịch với nó hoặc đã từ chối",
    "weak": "mọi cặp ứng viên đều có điểm dưới mức tối thiểu của sự kiện",
    "interpreter": (
        "mọi đối tác có thể gặp đều cần phiên dịch, và phiên dịch viên đã được dành cho những"
        " cuộc gặp giúp nhiều nhà cung cấp hơn hoặc có điểm cao hơn"
    ),
    "full": (
        "lịch của các đối tác có thể gặp đã kín (giới hạn, lượt, bàn), dành cho những cuộc gặp"
        " giúp nhiều nhà cung cấp hơn hoặc có điểm cao hơn"
    ),
}
_SIDE_VI = {"buyer": "bên mua", "supplier": "nhà cung cấp"}


def _print_unmet(result: programme.EventSchedule, lang: str = "en") -> None:
    """Who got no meeting, and why, in ``lang`` (at most ten lines; --json lists them all)."""
    from ketnoi import programme

    unmet = result.unmet
    if unmet.empty:
        return
    vi = lang == "vi"
    reasons = {en: _NO_MEETING_VI[code] for code, en in programme.NO_MEETING.items()}
    told = "{n} doanh nghiệp không có cuộc gặp:" if vi else "{n} participants without a meeting:"
    console.print(told.format(n=len(unmet)), highlight=False)
    for row in unmet.head(10).to_dict("records"):
        name = f" {row['firm_name']}" if row["firm_name"] else ""
        side = _SIDE_VI.get(row["side"], row["side"]) if vi else row["side"]
        reason = reasons.get(row["reason"], row["reason"]) if vi else row["reason"]
        console.print(f"  {side} {row['firm_id']}{name}: {reason}", highlight=False, soft_wrap=True)
    if len(unmet) > 10:
        more = (
            "  ... và {n} doanh nghiệp khác (--json liệt kê đủ)"
            if vi
            else ("  ... and {n} more (--json lists them all)")
        )
        console.print(more.format(n=len(unmet) - 10), highlight=False)
