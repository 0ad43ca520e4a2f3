"""Everything written in Vietnamese is Vietnamese: reasons, blockers, agendas and the grid, on
the demo world, hold no English word from ketnoi's own English strings or the demo world's
English names (the list issue 14 pins)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from ketnoi import graph, matcher, programme
from ketnoi.api._agendas import render_agendas
from ketnoi.api._cli_text import _WORDS
from ketnoi.api._exports import _ABOUT, EXPORTS, ExportWorld
from ketnoi.api._headers import _VI as _HEADERS_VI
from ketnoi.api._headers import header, is_key_column
from ketnoi.api._tables import tables_to_bytes
from ketnoi.api.cli import app
from ketnoi.matcher import FEATURE_NAMES
from ketnoi.matcher._explain import _BLOCKERS
from ketnoi.matcher._index import FirmIndex
from ketnoi.matcher._reasons import _TEMPLATES, pair_reasons
from ketnoi.programme._agenda import _TEXT, LANGUAGE_NAMES

ROOT = Path(__file__).resolve().parents[1]
#: Words Vietnamese writes as English does: codes, loanwords and units.
SHARED = {"iso", "iatf", "ipc", "rohs", "smt", "cnc", "edm", "pcb", "tlip", "abs", "pvc"}
SHARED |= {"laser", "carton", "camera", "lithium", "ion", "micro"}
# Loanwords of the demo world's Vietnamese category names, certification codes, and the
# abbreviations Vietnamese tables use as they are (chỉ số HHI, top k, giờ UTC).
SHARED |= {"kraft", "polycarbonate", "polyester", "reach", "hhi", "top", "utc"}


@pytest.fixture(scope="module")
def hanoi() -> graph.Dataset:
    return graph.load_dataset(ROOT / "fixtures" / "hanoi")


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]{3,}", text)}


def english_words(dataset: graph.Dataset) -> set[str]:
    """Every word of ketnoi's English strings and of ``dataset``'s English names."""
    texts = [en for en, _ in _TEMPLATES.values()] + [en for en, _ in _BLOCKERS.values()]
    texts += [en for en, _ in _TEXT.values()] + [en for en, _ in LANGUAGE_NAMES.values()]
    texts += [en for en, _ in _WORDS.values()] + [en for en, _ in FEATURE_NAMES.values()]
    texts += list(_ABOUT["en"].values()) + [c.replace("_", " ") for c in _HEADERS_VI]
    texts += list(dataset.categories["name"]) + list(dataset.parks["name"])
    texts += list(dataset.firms["sector"]) + list(dataset.terms["term"])
    texts += [p for ps in dataset.firms["processes"] for p in ps]
    texts += [p for ps in dataset.demands["required_processes"] for p in ps]
    words = set().union(*(_words(re.sub(r"\{\w+\}", " ", t)) for t in texts))
    # Words that are Vietnamese too (place names: "Long", "Anh") are no evidence of English.
    vietnamese = set().union(*(_words(vi) for _, vi in _TEMPLATES.values()))
    vietnamese |= set().union(*(_words(vi) for vi in matcher.vietnamese_names(dataset).values()))
    return words - vietnamese - SHARED


@pytest.fixture(scope="module")
def english(hanoi: graph.Dataset) -> set[str]:
    return english_words(hanoi)


def _untranslated(texts: list[str], english: set[str]) -> set[str]:
    return set().union(*(_words(t) for t in texts)) & english if texts else set()


def test_every_reason_and_blocker_in_vietnamese(hanoi: graph.Dataset, english: set[str]) -> None:
    index = FirmIndex.from_dataset(hanoi)
    rows = index.demand_rows
    rng = np.random.default_rng(0)
    said: list[str] = []
    untranslated: list[str] = []  # the same reasons without the glossary: the check must bite
    # Every demand with requirements, against suppliers in a park, with every signal firing.
    demand_rows = np.flatnonzero(rows["required_processes"].map(len) > 0)[:60]
    in_park = np.flatnonzero(index.supplier_park != "")
    for d in demand_rows:
        s = int(rng.choice(in_park))
        features = {
            "fit_level": int(rng.integers(1, 3)),
            "capacity_ratio": 0.3,
            "n_international_certs": 1,
            "distance_km": 3.0,
            "same_park": 1,
            "same_origin_buyers": math.log1p(2),
            "similar_demand_buyers": math.log1p(3),
            "outcome_good": 1,
            "supplier_popularity": math.log1p(5),
            "ease_rank": math.log(3),
        }
        said += pair_reasons(
            index,
            features,
            buyer=int(rows["buyer"].iloc[d]),
            supplier=s,
            demand_row=int(d),
            shared_buyers=2,
            offers=np.array([int(rows["category"].iloc[d])]),
            past_link=True,
            lang="vi",
            limit=20,
        )
        untranslated += pair_reasons(
            index,
            features,
            buyer=int(rows["buyer"].iloc[d]),
            supplier=s,
            demand_row=int(d),
            shared_buyers=2,
            offers=np.array([int(rows["category"].iloc[d])]),
            lang="vi",
            limit=20,
            terms={},
        )
    values = {"items": "hàn, mạ", "capacity": "5.000", "volume": "8.000", "km": "70", "limit": "60"}
    said += [vi.format(**values) for _, vi in _BLOCKERS.values()]
    assert not _untranslated(said, english)
    assert _untranslated(untranslated, english)  # e.g. "có năng lực printing"


def test_every_agenda_and_the_grid_in_vietnamese(hanoi: graph.Dataset, english: set[str]) -> None:
    people = programme.read_participants(
        ROOT / "fixtures" / "events" / "hanoi-fair-participants.csv", hanoi
    )
    buyers = [p.firm_id for p in people if p.side == "buyer"]
    suppliers = [p.firm_id for p in people if p.side == "supplier"]
    names = dict(zip(hanoi.firms["firm_id"], hanoi.firms["name"], strict=True))
    # Every supplier meets a buyer, interpreted where they share no language.
    meetings = pd.DataFrame(
        {
            "slot": [1 + i % 12 for i in range(len(suppliers))],
            "slot_label": [f"{9 + i % 12:02d}:00" for i in range(len(suppliers))],
            "table": [1 + i // 12 for i in range(len(suppliers))],
            "buyer_id": [buyers[i % len(buyers)] for i in range(len(suppliers))],
            "supplier_id": suppliers,
            "score": 0.5,
            "language": "",
            "interpreter": True,
            "locked": False,
        }
    )
    meetings["buyer_name"] = meetings["buyer_id"].map(names)
    meetings["supplier_name"] = meetings["supplier_id"].map(names)
    spec = programme.EventSpec(people, slots=12, tables=25, max_meetings=8, lunch_after=6)
    pages = programme.firm_agendas(spec, meetings, None, hanoi, lang="vi")
    html = render_agendas(pages, grid=programme.event_grid(spec, meetings, "vi"), lang="vi")
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", html, flags=re.S))
    # Firm names are the firms' own (some foreign): every other word must be Vietnamese.
    for name in names.values():
        text = text.replace(name, " ")
    assert "phiên dịch tiếng Nhật – tiếng Việt" in text
    assert not _untranslated([text], english)


def test_explain_and_recommend_in_vietnamese(english: set[str]) -> None:
    runner = CliRunner()
    tiny = str(ROOT / "fixtures" / "tiny")
    explained = runner.invoke(
        app, ["explain", tiny, "--supplier", "S5", "--buyer", "B2", "--lang", "vi"]
    )
    assert explained.exit_code == 0, explained.output
    # The whole of it, the table of contributions too: features in plain words, not their ids.
    text = explained.output
    assert "trở ngại: chưa có chứng nhận IATF 16949" in text
    assert "fit_level" not in text and "đáp ứng chứng chỉ bên mua yêu cầu" in text
    recommended = runner.invoke(app, ["recommend", tiny, "--buyer", "B1", "--lang", "vi"])
    assert recommended.exit_code == 0, recommended.output
    assert "(bậc 1, điểm 0," in recommended.output
    for output in (text, recommended.output):
        names = [n for n in re.findall(r"Công ty[^\n(]*", output)]
        for name in names:
            output = output.replace(name, " ")
        assert not _untranslated([output], english), output


def _cells(data: bytes, fmt: str) -> list[tuple[str, str]]:
    """(header, cell) of every cell of a written file: every sheet of a workbook, the CSV's
    one table read as Vietnamese Excel reads it (``;``)."""
    out = []
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        # A boolean cell is Excel's TRUE/FALSE, shown in Excel's own language: not our words.
        tables = [
            [
                ["" if isinstance(c.value, bool) else c.value for c in row]
                for row in sheet.iter_rows()
            ]
            for sheet in book
        ]
    else:
        text = data.decode("utf-8-sig")
        tables = [list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))]
    for rows in tables:
        if not rows:
            continue
        heads = ["" if h is None else str(h) for h in rows[0]]
        out += [("", h) for h in heads]
        for row in rows[1:]:
            out += [(h, "" if c is None else str(c)) for h, c in zip(heads, row, strict=False)]
    return out


def test_every_file_ketnoi_hands_out_in_vietnamese(hanoi: graph.Dataset) -> None:
    """Every registered export (the match list and its about sheet, the event's sheets, grid
    and agendas, every programme report) written in Vietnamese, both formats, as the CLI and
    the API write them (:data:`ketnoi.api._exports.EXPORTS`): no English word but the keys
    (``*_id`` columns keep their code names, in both languages) and the firms' own names."""
    tiny = graph.load_dataset(ROOT / "fixtures" / "tiny")
    english = english_words(hanoi) | english_words(tiny)
    world = ExportWorld(tiny, matcher.Matcher().fit(tiny))
    firm_names = set(tiny.firms["name"])
    keys = {header(c, "vi") for c in _HEADERS_VI | {"buyer_id": "", "supplier_id": ""}}
    keys = {h for h in keys if is_key_column(h)}
    leaks: dict[str, set[str]] = {}
    for name, export in EXPORTS.items():
        sheets = export.tables(world, "vi")
        for fmt in ("xlsx", "csv"):
            chosen = sheets if fmt == "xlsx" else dict(list(sheets.items())[:1])
            for head, cell in _cells(tables_to_bytes(chosen, fmt, lang="vi"), fmt):
                if is_key_column(head) or cell in keys or is_key_column(cell):
                    continue
                for firm in firm_names:
                    cell = cell.replace(firm, " ")
                found = _words(cell) & english
                if found:
                    leaks.setdefault(f"{name} ({fmt})", set()).update(found)
    assert leaks == {}
    # And the check bites: the same files in English are full of English words.
    sheets = EXPORTS["near-miss-targets"].tables(world, "en")
    cells = _cells(tables_to_bytes(sheets, "xlsx", lang="en"), "xlsx")
    assert {"certification"} <= set().union(*(_words(c) for _, c in cells)) & english


def test_the_match_list_command_writes_vietnamese(tmp_path: Path, hanoi: graph.Dataset) -> None:
    tiny = ROOT / "fixtures" / "tiny"
    english = english_words(hanoi) | english_words(graph.load_dataset(tiny))
    firm_names = set(graph.load_dataset(tiny).firms["name"])
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"list.{fmt}"
        args = ["match-list", str(tiny), "--out", str(out), "--k", "3", "--lang", "vi"]
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, done.output
        leaks: set[str] = set()
        for head, cell in _cells(out.read_bytes(), fmt):
            if is_key_column(head) or is_key_column(cell):
                continue
            for firm in firm_names:
                cell = cell.replace(firm, " ")
            leaks |= _words(cell) & english
        assert leaks == set(), fmt


#: Every command whose terminal output ``--lang vi`` says in Vietnamese: the programme reports
#: on the demo world (its names and glossary), the conversion report and an event on the tiny
#: one (outcomes and a schedule in a second), and explain with a value the data do not give
#: (S4's capacity for B1's demand).
SMALL_EVENT = ("--slots", "2", "--tables", "2", "--max-meetings", "2")
TERMINAL_COMMANDS: dict[str, tuple[str, ...]] = {
    "localisation": ("localisation", "hanoi"),
    "localisation by sector": ("localisation", "hanoi", "--by", "sector"),
    "near-misses": ("near-misses", "hanoi"),
    "near-miss pairs": ("near-misses", "hanoi", "--pairs"),
    "concentration": ("concentration", "hanoi"),
    "indicators": ("indicators", "hanoi"),
    "conversion": ("conversion", "tiny", "--k", "3"),
    "schedule": ("schedule", "tiny", "--participants", "PEOPLE", *SMALL_EVENT),
    "explain": ("explain", "tiny", "--supplier", "S4", "--buyer", "B1"),
}


def _terminal(args: tuple[str, ...], lang: str, people: Path) -> str:
    world = {"hanoi": str(ROOT / "fixtures" / "hanoi"), "tiny": str(ROOT / "fixtures" / "tiny")}
    argv = [world.get(a, str(people) if a == "PEOPLE" else a) for a in args]
    # Wide enough that no firm's name is wrapped (names are taken out before the check).
    done = CliRunner().invoke(app, [*argv, "--lang", lang], env={"COLUMNS": "250"})
    assert done.exit_code == 0, done.output
    return done.stdout


def test_every_terminal_table_in_vietnamese(
    hanoi: graph.Dataset, english: set[str], tmp_path: Path
) -> None:
    """What the reports and explain print with ``--lang vi``: headers, titles, captions, code
    words, names and numbers (``254.400``, ``41,8%``, "không rõ" for an unknown value) in
    Vietnamese; only firms' own names, ids and codes as they are."""
    tiny = graph.load_dataset(ROOT / "fixtures" / "tiny")
    english = english | english_words(tiny)
    people = tmp_path / "people.csv"
    people.write_text("firm_id,side\nB1,\nB2,\nS1,\nS2,\nS3,\nS4,\nS5,\n", encoding="utf-8")
    names = sorted(set(hanoi.firms["name"]) | set(tiny.firms["name"]), key=len, reverse=True)
    leaks: dict[str, set[str]] = {}
    said: dict[str, str] = {}
    for title, args in TERMINAL_COMMANDS.items():
        text = said[title] = _terminal(args, "vi", people)
        for name in names:
            text = text.replace(name, " ")
        # Ids (hn-s0516, ev-2024-hanoi) and option names (--json) are codes, not words.
        text = re.sub(r"\b[\w-]+-[\w-]+\b|--\w+", " ", text)
        found = _untranslated([text], english)
        if found:
            leaks[title] = found
    assert leaks == {}
    # Numbers as Vietnamese writes them; an unknown value as a word, never "None".
    assert re.search(r"\d\.\d{3}\b", said["indicators"]), said["indicators"]
    assert not re.search(r"\d,\d{3}\b", said["indicators"])
    assert re.search(r"\d,\d%", said["localisation"])
    assert "không rõ" in said["explain"] and "None" not in said["explain"]
    # And the check bites: the same commands in English are full of English words.
    for title in ("indicators", "near-misses"):
        assert _untranslated([_terminal(TERMINAL_COMMANDS[title], "en", people)], english)


def test_json_stays_raw_with_lang_vi() -> None:
    """``--json`` is for programs: codes and fractions whatever ``--lang`` says."""
    tiny = str(ROOT / "fixtures" / "tiny")
    done = CliRunner().invoke(app, ["near-misses", tiny, "--lang", "vi", "--json"])
    assert done.exit_code == 0, done.output
    (target,) = json.loads(done.stdout)
    assert target["lacking_kind"] == "certification" and target["weighting"] == "volume"
    assert 0 <= target["rate_if_gained"] <= 1
    explained = CliRunner().invoke(
        app, ["explain", tiny, "--supplier", "S4", "--buyer", "B1", "--lang", "vi", "--json"]
    )
    assert explained.exit_code == 0, explained.output
    values = {c["feature"]: c["value"] for c in json.loads(explained.stdout)["contributions"]}
    assert values["capacity_ratio"] is None


def test_a_group_without_a_sector_or_origin_reads_as_a_word_in_vietnamese() -> None:
    """Demands of firms that leave the sector or the country empty are grouped as "unknown":
    "không rõ" to a Vietnamese reader, in the terminal and in files."""
    tiny = graph.load_dataset(ROOT / "fixtures" / "tiny")
    for by in ("sector", "origin"):
        table = programme.localisation(tiny, by)
        table.iloc[0, 0] = "unknown"
        said = programme.report_in_language(table, tiny, "vi")
        assert said.iloc[0, 0] == "không rõ", by


def test_every_event_note_in_vietnamese(english: set[str]) -> None:
    """What the planner says beside a plan (``schedule``'s ``note:`` lines): every note said in
    Vietnamese has no English word, its English text is the note itself (the JSON API's), and
    the check bites on the English text."""
    from ketnoi.programme._event_notes import NOTE_TEMPLATES

    values = {"count": 3, "shown": "hn-s0001", "published": 12, "kept": 11, "gone": 1}
    english = english | {w for t in NOTE_TEMPLATES.values() for w in _words(t["en"])}
    for key, templates in NOTE_TEMPLATES.items():
        named = {k: v for k, v in values.items() if "{" + k + "}" in templates["en"]}
        note = programme.EventNote(key, **named)
        assert str(note) == templates["en"].format(**named)
        said = programme.note_in_language(note, "vi").replace("hn-s0001", " ")
        assert _untranslated([said], english) == set(), (key, said)
        assert _untranslated([str(note)], english), key
