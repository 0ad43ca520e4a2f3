"""Adapters for public supplier data (issue 15, section 4): Open Supply Hub and edge lists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from ketnoi.api.cli import app
from ketnoi.graph import load_dataset, validate_dataset
from ketnoi.graph._adapt_common import read_input_table, resolve_firm_names
from ketnoi.graph._adapt_edges import adapt_edges
from ketnoi.graph._adapt_osh import OSH_COLUMNS, adapt_osh

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "fixtures" / "adapters"
OSH = HERE / "osh_facilities.csv"
TYPES = HERE / "osh_contributor_types.csv"
EDGES = HERE / "edges_named.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def categories() -> pd.DataFrame:
    return pd.read_csv(ROOT / "fixtures/hanoi/categories.csv", dtype=str, keep_default_na=False)


def _to_xlsx(csv_path: Path, out: Path, title_rows: int = 0) -> Path:
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        sheet.append(list(row))
    book.save(out)
    return out


# -- Open Supply Hub ------------------------------------------------------------------------
def test_the_osh_sample_has_the_download_columns_in_order() -> None:
    header = OSH.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert tuple(header) == OSH_COLUMNS


def test_osh_brands_are_buyers_of_the_facilities_they_list(categories: pd.DataFrame) -> None:
    result = adapt_osh(OSH, categories, TYPES)
    firms, links = result.frames["firms"], result.frames["links"]
    by_id = firms.set_index("firm_id")
    assert set(by_id.loc[by_id["role"] == "buyer", "name"]) == {
        "Northwind Apparel",
        "Blue Ridge Outdoor",
    }
    # A researcher that lists a facility is not its buyer; an unknown type is reported.
    assert "Vietnam Textile Research Group" not in set(firms["name"])
    unknown = [p for p in result.problems if "Asia Footwear Audit Services" in p.reason]
    assert (
        unknown and unknown[0].severity == "warning" and unknown[0].column == "contributor (list)"
    )
    pairs = set(zip(links["supplier_id"], links["buyer_id"], strict=True))
    assert ("osh-vn2022187qwe9rt", "osh-b-northwind-apparel") in pairs
    assert ("osh-vn2022187qwe9rt", "osh-b-blue-ridge-outdoor") in pairs
    assert len(links) == 6
    # The closed label weaver's link has ended.
    ended = links[links["supplier_id"] == "osh-vn2021045zxc3vb"]
    assert list(ended["status"]) == ["ended"]
    # Products matched to the world's categories, in both capabilities and links.
    caps = result.frames["capabilities"]
    assert {"zippers", "labels", "outsoles"} <= set(caps["category_id"])
    assert set(links["category_id"]) - {""} <= set(result.frames["categories"]["category_id"])
    sh = by_id.loc["osh-vn2023091abc1de"]
    assert (sh["employees"], sh["lat"], sh["sector"]) == (3000, 20.9412, "Apparel")


def test_osh_rows_it_cannot_read_are_named_and_kept(categories: pd.DataFrame) -> None:
    result = adapt_osh(OSH, categories, TYPES)
    errors = [p for p in result.problems if p.severity == "error"]
    assert [(p.file, p.line, p.column) for p in errors] == [("osh_facilities.csv", 6, "os_id")]
    assert result.rejected[0]["line"] == 6 and result.rejected[0]["name"] == "Facility with no id"
    kim_bai = result.frames["firms"].set_index("firm_id").loc["osh-vn2020333poi8uy"]
    extra = json.loads(kim_bai["source_extra"])
    assert extra["lat"] == "north" and extra["number_of_workers"] == "about 300"
    assert pd.isna(kim_bai["lat"]) and pd.isna(kim_bai["lon"])
    warned = {(p.line, p.column) for p in result.problems if p.severity == "warning"}
    assert {(7, "lat"), (7, "number_of_workers")} <= warned
    # Columns the contract has no place for are kept, not dropped.
    song_hong = json.loads(result.frames["firms"].iloc[0]["source_extra"])
    assert song_hong["parent_company"] == "Song Hong Garment JSC"


def test_osh_xlsx_reads_as_the_csv_does(tmp_path: Path, categories: pd.DataFrame) -> None:
    from_csv = adapt_osh(OSH, categories, TYPES)
    from_xlsx = adapt_osh(_to_xlsx(OSH, tmp_path / "osh.xlsx"), categories, TYPES)
    for name in ("firms", "links", "capabilities"):
        pd.testing.assert_frame_equal(from_csv.frames[name], from_xlsx.frames[name])
    assert [(p.line, p.column) for p in from_xlsx.problems] == [
        (p.line, p.column) for p in from_csv.problems
    ]


def test_osh_long_form_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "osh_long.csv"
    path.write_text(
        "os_id,name,country_code,contributor (list),contributor_type,audit_grade\n"
        "VN1,Xưởng May A,VN,Brand One,Brand / Retailer,B\n"
        "VN1,,,Some Union,Union,\n"
        "VN1,,,Brand Two,Brand / Retailer,\n"
        "VN1,,,A Brand / Retailer|An Academic / Researcher / Journalist / Student,,\n",
        encoding="utf-8",
    )
    result = adapt_osh(path)
    assert sorted(result.frames["firms"]["name"]) == ["Brand One", "Brand Two", "Xưởng May A"]
    assert len(result.frames["links"]) == 2
    assert "categories" not in result.frames
    unknown = [p for p in result.problems if p.column == "audit_grade"]
    assert unknown and "unknown column" in unknown[0].reason
    assert any("anonymous Brand / Retailer" in p.reason for p in result.problems)
    assert not any("type unknown" in p.reason for p in result.problems)
    extra = json.loads(result.frames["firms"].iloc[0]["source_extra"])
    assert extra == {"country_code": "VN", "audit_grade": "B"}
    result.dataset()  # passes the contract


def test_a_file_that_is_not_an_osh_download_is_refused_whole(tmp_path: Path) -> None:
    result = adapt_osh(EDGES)
    assert result.frames == {}
    assert "not an Open Supply Hub download" in result.problems[0].reason
    assert len(result.rejected) == 10  # every row kept


# -- edge lists -----------------------------------------------------------------------------
def test_edge_list_names_resolve_to_firms(categories: pd.DataFrame) -> None:
    result = adapt_edges(EDGES, categories)
    firms = result.frames["firms"].set_index("firm_id")
    sources = result.sources
    precise = "f-cong-ty-tnhh-co-khi-chinh-xac-ha-noi"
    assert sorted(sources[precise]) == sorted(
        ["Công ty TNHH Cơ khí Chính xác Hà Nội", "CTY TNHH CO KHI CHINH XAC HA NOI"]
    )
    # Through entity resolution, not only folding: legal form and English name differ.
    assert "Nhua Thang Long JSC" in sources["f-cong-ty-cp-nhua-thang-long"]
    assert "Công ty TNHH Canon Việt Nam" in sources["f-canon-vietnam-co-ltd"]
    assert firms.loc["f-cong-ty-cp-nhua-thang-long", "role"] == "both"
    assert len(firms) == 7
    links = result.frames["links"]
    assert len(links) == 8
    read = dict(zip(links["since"], links["category_id"], strict=False))
    assert read[2017] == "corrugated" and read[2016] == "springs"


def test_edge_list_problems_name_row_and_column_and_lose_nothing(
    categories: pd.DataFrame,
) -> None:
    result = adapt_edges(EDGES, categories)
    errors = [(p.line, p.column) for p in result.problems if p.severity == "error"]
    assert errors == [(8, "Nhà cung cấp"), (10, "Khách hàng")]
    assert [r["line"] for r in result.rejected] == [8, 10]
    warned = {(p.line, p.column): p.reason for p in result.problems if p.severity == "warning"}
    assert "khoảng 2015" in warned[(7, "Năm")]
    assert "matches no category" in warned[(11, "Ngành hàng")]
    extras = [json.loads(e) for e in result.frames["links"]["source_extra"] if e]
    assert {"Năm": "khoảng 2015"} in extras and {"Ngành hàng": "qqqq"} in extras
    assert {"Ghi chú": "đơn hàng thử"} in extras


def test_edge_list_without_categories_keeps_links_uncategorised() -> None:
    result = adapt_edges(EDGES)
    assert set(result.frames["links"]["category_id"]) == {""}
    assert "categories" not in result.frames
    result.dataset()


def test_exact_folded_names_are_one_firm_even_in_a_tiny_list() -> None:
    names, review = resolve_firm_names(["Công ty Đông Á", "CONG TY DONG A"])
    assert names == {"Công ty Đông Á": "Công ty Đông Á", "CONG TY DONG A": "Công ty Đông Á"}
    assert review == []


def test_unreadable_inputs_are_problems_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "latin.csv").write_bytes("supplier,buyer\nC\xf4ng,B\n".encode("latin-1"))
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    for name in ("empty.csv", "latin.csv", "bad.xlsx"):
        table, problems = read_input_table(tmp_path / name)
        assert table is None and problems and problems[0].file.startswith(name)
        assert adapt_edges(tmp_path / name).frames == {}


# -- the command line -----------------------------------------------------------------------
def test_cli_adapt_osh_writes_a_folder_validate_accepts(tmp_path: Path) -> None:
    out = tmp_path / "osh"
    result = runner.invoke(
        app,
        ["adapt", "osh", str(OSH), "--out", str(out), "--categories", str(ROOT / "fixtures/hanoi"),
         "--contributor-types", str(TYPES)],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "osh_facilities.csv:6: os_id: empty" in result.stderr
    assert "1 row(s) left out" in result.stdout
    assert validate_dataset(out).ok
    world = load_dataset(out)
    assert len(world.firms) == 7 and len(world.links) == 6
    report = json.loads((out / "adapt_report.json").read_text(encoding="utf-8"))
    assert report["rejected_rows"][0]["line"] == 6


def test_cli_adapt_edges_in_vietnamese_and_json(tmp_path: Path) -> None:
    out = tmp_path / "edges"
    result = runner.invoke(app, ["adapt", "edges", str(EDGES), "--out", str(out), "--lang", "vi"])
    assert result.exit_code == 0, result.stderr
    # Without categories the two Cơ khí -> Canon rows are one link.
    assert "đã ghi 7 doanh nghiệp, 7 liên kết" in result.stdout
    assert "trùng liên kết ở dòng 2: đã gộp vào đó" in result.stderr
    assert validate_dataset(out).ok
    out2 = tmp_path / "edges2"
    result = runner.invoke(app, ["adapt", "edges", str(EDGES), "--out", str(out2), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["firms"] == 7


def test_cli_refuses_without_writing_anything(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["adapt", "edges", str(EDGES), "--out", str(taken)])
    assert result.exit_code == 2 and "not an empty folder" in result.stderr
    out = tmp_path / "out"
    result = runner.invoke(app, ["adapt", "edges", str(OSH), "--out", str(out)])
    assert result.exit_code == 1 and "nothing was written" in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no staging folder left behind
    result = runner.invoke(app, ["adapt", "osh", str(OSH), "--out", str(out), "--lang", "fr"])
    assert result.exit_code == 2
    shutil.rmtree(taken)


def test_every_adapter_problem_reads_in_vietnamese(
    tmp_path: Path, categories: pd.DataFrame
) -> None:
    from ketnoi.api._cli_adapt import problem_text

    long = tmp_path / "long.csv"
    long.write_text(
        "os_id,name,contributor (list),lat,lng,extra\nX1,,A Brand / Retailer,1,2,z\n",
        encoding="utf-8",
    )
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "latin.csv").write_bytes("supplier,buyer\nC\xf4ng,B\n".encode("latin-1"))
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    (tmp_path / "wide.csv").write_text("supplier,buyer\nA,B,C\n", encoding="utf-8")
    problems = [
        *adapt_osh(OSH, categories).problems,
        *adapt_osh(long).problems,
        *adapt_osh(EDGES).problems,
        *adapt_edges(EDGES, categories).problems,
        *adapt_edges(EDGES).problems,
        *adapt_edges(OSH).problems,
        *(p for n in ("empty.csv", "latin.csv", "bad.xlsx", "wide.csv")
          for p in adapt_edges(tmp_path / n).problems),
    ]  # fmt: skip
    assert len({p.reason.split(":")[0][:12] for p in problems}) >= 15
    untranslated = [str(p) for p in problems if problem_text(p, "vi") == str(p)]
    assert untranslated == []
    assert all(problem_text(p, "en") == str(p) for p in problems)


def test_a_pair_for_review_stays_two_firms_and_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    import ketnoi.graph._adapt_common as common

    def review_all(scored: pd.DataFrame) -> pd.DataFrame:
        # Scripted: every scored pair is one a person must decide.
        return scored.assign(decision="review", branch_id="")

    monkeypatch.setattr(common, "decide", review_all)
    names = [
        "Công ty CP Nhựa Thăng Long",
        "Công ty TNHH Nhựa Thăng Long",
        "Công ty TNHH Honda Việt Nam",
    ]
    firms, review = resolve_firm_names(names)
    assert firms[names[1]] == names[1]  # not merged
    pairs = {frozenset((r["left"], r["right"])) for r in review}
    assert frozenset(names[:2]) in pairs
    assert all(0 <= r["match_probability"] <= 1 and r["evidence"] for r in review)


def test_legal_form_spellings_are_one_firm_but_other_legal_forms_are_not() -> None:
    names = [
        "Công ty TNHH Cơ khí Hà Nội 12",
        "Cty TNHH Cơ khí Hà Nội 12",
        "Công ty CP Thương mại An Phát",
        "Công ty TNHH Thương mại An Phát",
        "Chi nhánh Công ty CP Nhựa Thăng Long tại Bắc Ninh",
        "Công ty CP Nhựa Thăng Long",
    ]
    firms, _ = resolve_firm_names(names)
    assert firms["Cty TNHH Cơ khí Hà Nội 12"] == "Công ty TNHH Cơ khí Hà Nội 12"
    assert firms["Công ty TNHH Thương mại An Phát"] == "Công ty TNHH Thương mại An Phát"
    assert firms[names[4]] == names[4]  # a branch is a firm of its own
