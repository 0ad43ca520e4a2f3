"""Mã số thuế: python-stdnum's check on known codes, branches kept apart, warnings by row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from ketnoi import graph

TINY = Path(__file__).parent.parent / "fixtures" / "tiny"


@pytest.mark.parametrize(
    "text",
    # Published codes (python-stdnum's examples and well-known enterprises' codes).
    ["0100233488", "0314409058-002", "01.00.112.437", "0312 68 78 78 - 001", "0100109106"],
)
def test_known_valid_codes_pass(text: str) -> None:
    assert graph.parse_tax_code(text).valid


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0100233480", "check digit 0 should be 8"),
        ("0100233488-000", "branch suffix 000 is not a branch"),
        ("0100000001", "sequence number is zero"),
        ("12345", "has 5 digits, not 10 (or 13 for a branch)"),
        ("01002334881", "has 11 digits, not 10 (or 13 for a branch)"),
        ("010023348A", "holds characters other than digits"),
    ],
)
def test_invalid_codes_say_why(text: str, problem: str) -> None:
    code = graph.parse_tax_code(text)
    assert not code.valid and code.problem == problem


def test_a_branch_names_its_head_office() -> None:
    branch = graph.parse_tax_code("0314409058-002")
    head = graph.parse_tax_code("0314409058")
    assert branch.head == head.head == "0314409058"
    assert (branch.branch, head.branch) == ("002", "")
    assert branch.digits != head.digits  # two firms, linked through ``head``


def test_generated_codes_are_valid() -> None:
    codes = {graph.valid_tax_code(f"01{n:07d}") for n in range(1, 500)}
    assert all(graph.parse_tax_code(c).valid for c in codes)


def _with_codes(tmp_path: Path, codes: dict[str, str]) -> Path:
    data = tmp_path / "tiny"
    shutil.copytree(TINY, data)
    firms = pd.read_csv(data / "firms.csv", dtype=str, keep_default_na=False)
    for firm_id, code in codes.items():
        firms.loc[firms["firm_id"] == firm_id, "tax_code"] = code
    firms.to_csv(data / "firms.csv", index=False)
    return data


def test_a_bad_check_digit_is_a_warning_naming_the_row(tmp_path: Path) -> None:
    data = _with_codes(tmp_path, {"T1": "0100233480"})  # line 4
    report = graph.validate_dataset(data)
    assert report.ok
    assert [str(p) for p in report.problems] == [
        "firms.csv:4: tax_code: warning: tax code '0100233480' check digit 0 should be 8"
    ]


def test_the_same_code_twice_is_a_warning_but_a_branch_is_not(tmp_path: Path) -> None:
    data = _with_codes(tmp_path, {"S1": "0100233488", "S2": "0100233488-001", "S3": "0100233488"})
    report = graph.validate_dataset(data)
    assert report.ok
    assert [str(p) for p in report.problems] == [
        "firms.csv:7: tax_code: warning: tax code 0100233488 is also on line 5: the same firm"
        " twice? (ketnoi duplicates)"
    ]


def test_the_worlds_have_valid_codes_but_the_planted_few() -> None:
    assert graph.validate_dataset(TINY).problems == ()
    hanoi = graph.validate_dataset(TINY.parent / "hanoi")
    warned = [p for p in hanoi.problems if p.column == "tax_code"]
    assert 0 < len(warned) <= 10 and all("check digit" in p.reason for p in warned)
