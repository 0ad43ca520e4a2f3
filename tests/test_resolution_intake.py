"""Intake into the service database: source records kept apart from firms, matched by tax code
or score, proposed for review, or made into firms; decisions remembered so that a re-upload asks
nothing twice; conflicting tax codes never matched without a person. And the commands that do it
(``ketnoi intake``, ``duplicates``, ``merge``, ``unmerge``), end to end through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.cli import app
from ketnoi.api.storage import _resolution

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
#: The thresholds the scripted scores are written against.
THRESHOLDS = {"accept": 0.95, "review": 0.6}
HEADER = ["STT", "Tên doanh nghiệp", "Mã số thuế", "Địa chỉ", "Điện thoại"]


def workbook(path: Path, rows: list[list[Any]], title: str = "Danh sách") -> Path:
    """A list as an officer keeps it: a title row above the header, then the firms."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(["DANH SÁCH DOANH NGHIỆP HỘI CHỢ 2025"])
    sheet.append(HEADER)
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *row])
    book.save(path)
    return path


def records(path: Path, source: str = "hoi-cho-2025") -> list[graph.SourceRecord]:
    result = graph.read_intake(path, source)
    assert not [p for p in result.problems if p.severity == "error"], result.problems
    return result.records


@pytest.fixture
def engine(backend: str, tmp_path: Path, open_database: Any) -> Any:
    with open_database(backend, tmp_path / backend) as engine:
        storage.load_into(engine, graph.load_dataset(TINY), actor="test")
        yield engine


def scripted(probabilities: dict[tuple[int, str], float], conflict: frozenset[str] = frozenset()):
    """A scorer that gives the pairs (record position, firm) the probabilities given, judged by
    the real :func:`graph.decide`: the storage's decisions, tested apart from the scores."""

    def scored(recs: list[Any], firms: list[Any], accept: float, review: float):
        rows = [
            {
                "left_id": f"r{i}",
                "right_id": firm,
                "rule": "name",
                "match_probability": p,
                "match_weight": 0.0,
                "evidence": {"name": {"level": "similar", "weight": 1.5}},
                "left_is_branch": False,
                "right_is_branch": False,
                "tax_conflict": firm in conflict,
                "same_head_office": False,
            }
            for (i, firm), p in probabilities.items()
        ]
        return graph.decide(pd.DataFrame(rows), accept=accept, review=review), "scripted/1"

    return scored


def count(engine: Any, model: Any) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_tax_code_match_new_firm_and_every_row_kept(engine: Any, tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "list.xlsx",
        [
            ["CTY TNHH MẠCH IN HÀ NỘI", "0100000042", "Đông Anh, Hà Nội", ""],
            ["Công ty TNHH Nhựa Ánh Dương", "0100233488", "Sóc Sơn, Hà Nội", "0912 345 678"],
        ],
    )
    summary = storage.intake_records(engine, records(path), actor="test", file="list.xlsx")
    assert [m["firm_id"] for m in summary.matched] == ["S1"]
    assert summary.matched[0]["rule"] == "tax_code"
    assert [c["firm_id"] for c in summary.created] == ["S6"]  # the register's own pattern
    firm = storage.get_row(engine, storage.FIRMS, ["S6"])
    assert firm["name"] == "Công ty TNHH Nhựa Ánh Dương"
    assert firm["tax_code"] == "0100233488" and firm["phone"] == "0912 345 678"
    with Session(engine) as session:
        kept = session.scalars(select(storage.SourceRecord).order_by(storage.SourceRecord.id))
        rows = [(r.sheet, r.line, r.raw.get("Tên doanh nghiệp"), r.firm_id) for r in kept]
    assert rows == [
        ("Danh sách", 3, "CTY TNHH MẠCH IN HÀ NỘI", "S1"),
        ("Danh sách", 4, "Công ty TNHH Nhựa Ánh Dương", "S6"),
    ]
    storage.dataset_from_db(engine)  # the register is still a valid dataset


def test_a_reupload_asks_nothing_twice(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_resolution, "_scored", scripted({(0, "S2"): 0.8, (1, "S3"): 0.7}))
    path = workbook(
        tmp_path / "list.xlsx",
        [
            ["Cơ khí chính xác Đức Thành", "", "Đông Anh", ""],
            ["Vít Sông Hồng", "", "", ""],
        ],
    )
    first = storage.intake_records(engine, records(path), actor="test", **THRESHOLDS)
    assert len(first.proposed) == 2
    queue = storage.review_queue(engine)
    assert [(q["firm"]["firm_id"], q["match_probability"]) for q in queue] == [
        ("S2", 0.8),
        ("S3", 0.7),
    ]
    assert queue[0]["record"]["name"] == "Cơ khí chính xác Đức Thành"
    assert queue[0]["method_version"] == "scripted/1" and queue[0]["accept"] == 0.95
    # The same list again before anyone answered: no second question.
    again = storage.intake_records(engine, records(path), actor="test", **THRESHOLDS)
    assert again.remembered == 2
    assert len(storage.review_queue(engine)) == 2
    # Answered: one is S2, the other is not S3 (a new firm).
    assert storage.decide_review(engine, queue[0]["id"], "match", "test")["firm_id"] == "S2"
    made = storage.decide_review(engine, queue[1]["id"], "distinct", "test")
    assert made["created"] and made["firm_id"] == "S6"
    assert storage.review_queue(engine) == []
    # And again: everything is known, nothing is asked, no firm is made twice.
    decisions = count(engine, storage.ResolutionDecision)
    third = storage.intake_records(engine, records(path), actor="test", **THRESHOLDS)
    assert third.counts() == {
        "matched": 2,
        "proposed": 0,
        "created": 0,
        "remembered": 2,
        "capabilities": 0,
    }
    assert [m["firm_id"] for m in third.matched] == ["S2", "S6"]
    assert storage.review_queue(engine) == []
    assert count(engine, storage.ResolutionDecision) == decisions
    with pytest.raises(storage.Conflict, match="decided already"):
        storage.decide_review(engine, queue[0]["id"], "distinct", "test")


def test_a_persons_distinct_stands_for_the_same_pair(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two candidates: the person rejects one, then the other; only then is a firm made.
    monkeypatch.setattr(_resolution, "_scored", scripted({(0, "S2"): 0.8, (0, "S5"): 0.65}))
    path = workbook(tmp_path / "a.xlsx", [["Cơ khí Đức Thành Phú Nghĩa", "", "", ""]])
    storage.intake_records(engine, records(path), actor="test", **THRESHOLDS)
    first, second = storage.review_queue(engine)
    assert storage.decide_review(engine, first["id"], "distinct", "test")["created"] is False
    made = storage.decide_review(engine, second["id"], "distinct", "test")
    assert made["created"]
    decided = storage.get_review(engine, first["id"])
    assert (decided["decision"], decided["decided_by"]) == ("distinct", "test")


def test_conflicting_tax_codes_are_never_matched_automatically(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A near-certain score, but the record's valid tax code names another head office.
    monkeypatch.setattr(
        _resolution, "_scored", scripted({(0, "S2"): 0.999}, conflict=frozenset({"S2"}))
    )
    path = workbook(
        tmp_path / "a.xlsx",
        [["Công ty TNHH Cơ khí Chính xác Đức Thành", "0100233488", "", ""]],
    )
    summary = storage.intake_records(engine, records(path), actor="test", **THRESHOLDS)
    assert summary.matched == [] and len(summary.proposed) == 1
    assert [q["firm"]["firm_id"] for q in storage.review_queue(engine)] == ["S2"]


def test_conflicting_tax_codes_with_the_real_scorer(engine: Any, tmp_path: Path) -> None:
    # S2's name exactly, another valid code: never matched without a person.
    path = workbook(
        tmp_path / "a.xlsx",
        [["Công ty TNHH Cơ khí Chính xác Đức Thành", "0100233488", "", ""]],
    )
    summary = storage.intake_records(engine, records(path), actor="test")  # decide's defaults
    assert summary.matched == []
    with Session(engine) as session:
        auto = session.scalars(
            select(storage.ResolutionDecision).where(storage.ResolutionDecision.decision == "match")
        ).all()
    assert auto == []


def test_the_same_firm_twice_in_one_list_is_one_firm(engine: Any, tmp_path: Path) -> None:
    # No tax code, the same phone and district, the name written two ways: the second row is
    # scored against the firm the first one made (before, it became a second new firm).
    rows = [
        ["Công ty TNHH Nhựa Ánh Dương", "", "Xã Mai Lâm, Đông Anh, Hà Nội", "0912 345 678"],
        ["CTY TNHH NHUA ANH DUONG", "", "Mai Lam, H. Dong Anh, Ha Noi", "+84 912.345.678"],
        ["Công ty TNHH Cơ khí Bình Minh", "", "Sóc Sơn, Hà Nội", "0983 111 222"],
    ]
    summary = storage.intake_records(
        engine, records(workbook(tmp_path / "a.xlsx", rows)), actor="test"
    )
    assert [c["line"] for c in summary.created] == [3, 5]
    first = summary.created[0]["firm_id"]
    # Matched or asked (the tiny register gives the scorer little to learn from), but about
    # the firm the first row made, with the thresholds stored.
    (second,) = summary.matched + summary.proposed
    assert second["line"] == 4
    assert second.get("firm_id", first) == first and second.get("candidates", [first]) == [first]
    with Session(engine) as session:
        decision = session.scalars(
            select(storage.ResolutionDecision).where(storage.ResolutionDecision.firm_id == first)
        ).one()
    assert decision.decision in ("match", "review") and decision.accept == _resolution.ACCEPT
    assert decision.evidence["phone"]["level"] == "same"
    # The same list again: every row goes where it went, nothing is made or asked.
    again = storage.intake_records(
        engine, records(workbook(tmp_path / "b.xlsx", rows)), actor="test"
    )
    assert again.created == [] and again.remembered == 3


def test_within_one_list_between_thresholds_waits_for_review(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second row near the first one's firm, between the thresholds: asked, with the firm
    # the first row made as the candidate; the answer is remembered for a re-upload.
    def scored(recs: list[Any], firms: list[Any], accept: float, review: float):
        row = {
            "left_id": "r1",
            "right_id": "r0",
            "earlier": 0,
            "rule": "phone",
            "match_probability": 0.7,
            "match_weight": 1.2,
            "evidence": {"phone": {"level": "same", "weight": 6.0}},
            "left_is_branch": False,
            "right_is_branch": False,
            "tax_conflict": False,
            "same_head_office": False,
        }
        return graph.decide(pd.DataFrame([row]), accept=accept, review=review), "scripted/1"

    monkeypatch.setattr(_resolution, "_scored", scored)
    rows = [["Nhựa Ánh Dương", "", "", "0912 345 678"], ["Ánh Dương Plastic", "", "", "0912345678"]]
    path = workbook(tmp_path / "a.xlsx", rows)
    summary = storage.intake_records(engine, records(path), actor="test", **THRESHOLDS)
    (made,) = summary.created
    assert [p["candidates"] for p in summary.proposed] == [[made["firm_id"]]]
    (waiting,) = storage.review_queue(engine)
    assert waiting["firm"]["firm_id"] == made["firm_id"]
    assert storage.decide_review(engine, waiting["id"], "match", "test")["decision"] == "match"
    # A new list with the same two rows: the first is the same record, the second the answered
    # pair; nobody is asked again, and the answer (not the score) decides.
    path = workbook(tmp_path / "b.xlsx", rows)
    again = storage.intake_records(engine, records(path), actor="test", **THRESHOLDS)
    assert again.proposed == [] and again.created == []
    assert {m["firm_id"] for m in again.matched} == {made["firm_id"]}


def test_a_name_alone_equal_to_a_firms_is_proposed(tmp_path: Path, open_database: Any) -> None:
    # The demo world's "Công ty Cổ phần Nhựa Đức Giang" (hn-s0002), and a row with its name
    # only, typed the short way: asked about, with the evidence; before, silently a new firm.
    path = workbook(tmp_path / "a.xlsx", [["CTY CP NHUA DUC GIANG", "", "", ""]])
    with open_database("sqlite", tmp_path / "db") as engine:
        storage.load_into(engine, graph.load_dataset(TINY.parent / "hanoi"), actor="test")
        summary = storage.intake_records(engine, records(path), actor="test")
        assert summary.created == [] and summary.matched == []
        (proposed,) = summary.proposed
        assert "hn-s0002" in proposed["candidates"]
        queue = {q["firm"]["firm_id"]: q for q in storage.review_queue(engine)}
    assert queue["hn-s0002"]["evidence"]["brand"]["level"] == "same"
    assert queue["hn-s0002"]["evidence"]["phone"]["level"] == "missing"


def test_an_intake_that_would_break_the_register_writes_nothing(
    engine: Any, tmp_path: Path, table_fingerprint: Any
) -> None:
    before = table_fingerprint(engine)
    bad = graph.SourceRecord("x", "Danh sách", 3, {"Tên": "A"}, {"name": "A", "founded": 1200})
    with pytest.raises(graph.DatasetError):
        storage.intake_records(engine, [bad], actor="test")
    assert table_fingerprint(engine) == before


def test_words_that_are_not_columns_are_kept_in_extra(engine: Any, tmp_path: Path) -> None:
    # The tiny world has parks: a park written in words is not a park_id, so it is kept aside
    # (as are products), and the register stays a valid dataset with the new firm in it.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Tên doanh nghiệp", "Khu công nghiệp", "Sản phẩm chính", "Tỉnh"])
    sheet.append(["Công ty TNHH Nhựa Ánh Dương", "KCN Thăng Long", "khay nhựa", "Hà Nội"])
    sheet.append(["Công ty TNHH Cơ khí Bình Minh", "thang-long", "", ""])
    book.save(tmp_path / "parks.xlsx")
    summary = storage.intake_records(engine, records(tmp_path / "parks.xlsx"), actor="test")
    made = [storage.get_row(engine, storage.FIRMS, [c["firm_id"]]) for c in summary.created]
    assert made[0]["park"] == "" and made[0]["extra"]["intake_park"] == "KCN Thăng Long"
    assert made[0]["extra"]["intake_products"] == "khay nhựa"
    assert made[1]["park"] == "thang-long"
    registered = set(storage.dataset_from_db(engine).firms["firm_id"])
    assert {m["firm_id"] for m in made} <= registered


def test_next_firm_id_never_reuses_an_id() -> None:
    taken = [("hn-s0001", "supplier"), ("hn-s0002", "supplier"), ("hn-b0001", "buyer")]
    assert storage.next_firm_id(taken, "supplier") == "hn-s0003"
    assert storage.next_firm_id(taken, "buyer") == "hn-b0002"
    assert storage.next_firm_id([*taken, ("hn-s0003", "buyer")], "supplier") == "hn-s0004"


# -- the commands: ketnoi intake, duplicates, merge, unmerge ----------------------------------
runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KETNOI_DATA_DIR", str(tmp_path / "data"))
    url = f"sqlite:///{tmp_path / 'ketnoi.db'}"
    done = runner.invoke(app, ["load", str(TINY), "--database", url])
    assert done.exit_code == 0, done.output
    return url


def run(*args: str) -> Any:
    return runner.invoke(app, [*args])


def test_intake_writes_the_mapping_then_loads_with_it(database: str, tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "hoi-cho.xlsx",
        [
            ["CTY TNHH MẠCH IN HÀ NỘI", "0100000042", "Đông Anh, Hà Nội", ""],
            ["Công ty TNHH Nhựa Ánh Dương", "0100233488", "Sóc Sơn, Hà Nội", ""],
        ],
    )
    mapping = tmp_path / "mapping.json"
    first = run("intake", str(path), "--mapping", str(mapping), "--database", database)
    assert first.exit_code == 0, first.output
    assert "nothing was loaded" in first.output
    proposed = json.loads(mapping.read_text(encoding="utf-8"))
    fields = [c["field"] for c in proposed["sheets"]["Danh sách"]["columns"]]
    assert fields[1:3] == ["name", "tax_code"]
    engine = storage.make_engine(database)
    assert storage.review_queue(engine) == []
    assert storage.get_row(engine, storage.FIRMS, ["S1"])  # nothing new yet
    with pytest.raises(storage.NotFound):
        storage.get_row(engine, storage.FIRMS, ["S6"])
    # Edited by the officer: the address column left out; the file is read back and used.
    proposed["sheets"]["Danh sách"]["columns"][3]["field"] = ""
    mapping.write_text(json.dumps(proposed, ensure_ascii=False), encoding="utf-8")
    second = run(
        "intake", str(path), "--mapping", str(mapping), "--database", database, "--lang", "vi"
    )
    assert second.exit_code == 0, second.output
    assert "-> S1 (mã số thuế)" in second.output
    assert "-> S6 (doanh nghiệp mới)" in second.output
    assert "1 đã khớp" in second.output
    assert storage.get_row(engine, storage.FIRMS, ["S6"])["address"] == ""
    engine.dispose()


def test_a_bad_workbook_loads_nothing(
    database: str, tmp_path: Path, table_fingerprint: Any
) -> None:
    engine = storage.make_engine(database)
    before = table_fingerprint(engine)
    path = workbook(
        tmp_path / "bad.xlsx",
        [["Công ty TNHH Nhựa Ánh Dương", "0100233488", "", ""], ["", "0100000042", "Hà Nội", ""]],
    )
    done = run("intake", str(path), "--accept-mapping", "--database", database)
    assert done.exit_code == 1
    assert "bad.xlsx[Danh sách]:4" in done.output and "no firm name" in done.output
    assert "nothing was loaded" in done.output
    assert table_fingerprint(engine) == before
    engine.dispose()


def test_duplicates_decide_merge_and_unmerge(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table_fingerprint: Any
) -> None:
    monkeypatch.setattr(_resolution, "_scored", scripted({(0, "S2"): 0.8}))
    monkeypatch.setenv("COLUMNS", "200")  # the queue's table on one line per field
    path = workbook(tmp_path / "list.xlsx", [["Cơ khí chính xác Đức Thành", "", "", ""]])
    done = run(
        "intake",
        str(path),
        "--accept-mapping",
        "--accept",
        "0.95",
        "--review",
        "0.6",
        "--database",
        database,
    )
    assert done.exit_code == 0, done.output
    assert "to review" in done.output
    listed = run("duplicates", "--database", database)
    assert listed.exit_code == 0, listed.output
    assert "Cơ khí chính xác Đức Thành" in listed.output and "S2" in listed.output
    queue = json.loads(run("duplicates", "--json", "--database", database).output)
    decided = run("duplicates", "--decide", str(queue[0]["id"]), "match", "--database", database)
    assert decided.exit_code == 0, decided.output
    assert "no pair waits" in run("duplicates", "--database", database).output
    again = run("duplicates", "--decide", str(queue[0]["id"]), "distinct", "--database", database)
    assert again.exit_code == 1 and "decided already" in again.output

    engine = storage.make_engine(database)
    history = {"audit_log", "firm_merges", "firm_merge_moves"}
    before = {k: v for k, v in table_fingerprint(engine).items() if k not in history}
    merged = run("merge", "S1", "S4", "--reason", "same firm", "--database", database)
    assert merged.exit_code == 0, merged.output
    assert "merge 1: S4 merged into S1" in merged.output
    assert storage.get_row(engine, storage.FIRMS, ["S4"])["firm_id"] == "S1"
    assert run("merge", "S1", "S4", "--database", database).exit_code == 1
    undone = run("unmerge", "1", "--database", database)
    assert undone.exit_code == 0, undone.output
    after = {k: v for k, v in table_fingerprint(engine).items() if k not in history}
    assert after == before
    assert "undone already" in run("unmerge", "1", "--database", database).output
    engine.dispose()


def test_intake_shows_categories_for_products_then_keeps_the_confirmed_ones(
    database: str, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append(["Tên doanh nghiệp", "Mã số thuế", "Sản phẩm chính"])
    sheet.append(["Công ty TNHH Nhựa Ánh Dương", "0100233488", "Bảng mạch in PCB hai lớp"])
    sheet.append(["Công ty TNHH Cơ khí Bình Minh", "", "vit, bu long thep"])
    sheet.append(["Công ty TNHH Bao bì Sao Mai", "", ""])
    book.save(tmp_path / "hoi-cho.xlsx")
    mapping = tmp_path / "mapping.json"
    args = ["intake", str(tmp_path / "hoi-cho.xlsx"), "--mapping", str(mapping)]
    first = run(*args, "--database", database)
    assert first.exit_code == 0, first.output
    # Shown with their scores, and written for the person to confirm; nothing loaded yet.
    assert (
        "pcb" in first.output and "screw" in first.output and "nothing was loaded" in first.output
    )
    choices = tmp_path / "mapping.hoi-cho.categories.json"
    written = json.loads(choices.read_text(encoding="utf-8"))
    rows = {r["line"]: r for r in written["rows"]}
    assert set(rows) == {2, 3}  # the row without products is not asked about
    assert rows[2]["category_id"] == "pcb" and rows[2]["hs_code"] == "8534"
    assert rows[3]["suggestions"][0]["category_id"] == "screw"
    assert 0 < rows[3]["suggestions"][0]["score"] <= 1 and rows[3]["hs"]["hs_code"]
    # The officer confirms the first, corrects the second to stamped parts.
    written["rows"][1]["category_id"], written["rows"][1]["hs_code"] = "stamp", "7326"
    choices.write_text(json.dumps(written, ensure_ascii=False), encoding="utf-8")
    second = run(*args, "--database", database, "--json")
    assert second.exit_code == 0, second.output
    (summary,) = json.loads(second.output)
    assert [(c["line"], c["category_id"]) for c in summary["categories"]] == [
        (2, "pcb"),
        (3, "stamp"),
    ]
    engine = storage.make_engine(database)
    with Session(engine) as session:
        kept = {r.line: r.fields for r in session.scalars(select(storage.SourceRecord))}
    assert kept[2]["category_id"] == "pcb" and kept[3]["hs_code"] == "7326"
    assert "category_id" not in kept[4]
    made = {c["line"]: c["firm_id"] for c in summary["created"]}
    firm = storage.get_row(engine, storage.FIRMS, [made[3]])
    assert firm["extra"]["intake_category_id"] == "stamp"
    # A confirmed category is what the firm makes: a capability, so the matcher can suggest it.
    firms = {summary_row["firm_id"] for summary_row in summary["created"] + summary["matched"]}
    with Session(engine) as session:
        query = select(storage.Capability.firm_id, storage.Capability.category_id)
        capable = set(session.execute(query.where(storage.Capability.firm_id.in_(firms))))
    assert (made[3], "stamp") in capable and {c for _, c in capable} == {"pcb", "stamp"}
    assert summary["counts"]["capabilities"] == 2
    # Asked again, the same list adds nothing twice.
    third = run(*args, "--database", database, "--json")
    assert third.exit_code == 0, third.output
    assert json.loads(third.output)[0]["counts"]["capabilities"] == 0
    engine.dispose()


def test_a_choice_of_an_unknown_category_loads_nothing(database: str, tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", [["Công ty TNHH Nhựa Ánh Dương", "", "", ""]])
    mapping = tmp_path / "m.json"
    assert (
        run("intake", str(path), "--mapping", str(mapping), "--database", database).exit_code == 0
    )
    choices = tmp_path / "m.a.categories.json"
    bad = {"kind": "ketnoi category choices/1", "rows": [{"sheet": "Danh sách", "line": 3,
           "products": "", "category_id": "no-such"}]}  # fmt: skip
    choices.write_text(json.dumps(bad), encoding="utf-8")
    done = run("intake", str(path), "--mapping", str(mapping), "--database", database)
    assert done.exit_code == 1 and "no category 'no-such'" in done.output
    assert "nothing was loaded" in done.output
