"""Text normalisation: search folding, NFC, list cells and certification names."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketnoi.graph import (
    INTERNATIONAL_CERTIFICATIONS,
    fold,
    nfc,
    normalise_certification,
    split_list,
)
from ketnoi.graph._normalise import join_list

# -- fold ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Công ty Cơ khí Đông Anh", "cong ty co khi dong anh"),
        ("đường", "duong"),  # đ is its own letter, not d with a combining mark
        ("ĐÀ NẴNG", "da nang"),
        ("Bảng mạch in", "bang mach in"),
        ("Thăng  Long\t", "thang long"),
        ("Hồ Chí Minh", "ho chi minh"),
        ("Bình Dương", "binh duong"),
        ("  ", ""),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_treats_decomposed_and_precomposed_alike() -> None:
    precomposed = "Việt Nam"
    decomposed = unicodedata.normalize("NFD", precomposed)
    assert decomposed != precomposed
    assert fold(decomposed) == fold(precomposed) == "viet nam"


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


# -- nfc -------------------------------------------------------------------------------------


def test_nfc_composes_and_trims() -> None:
    decomposed = "  Vie\u0302\u0323t Nam\n"
    assert nfc(decomposed) == "Việt Nam"
    assert len(nfc(decomposed)) == len("Việt Nam")


def test_nfc_keeps_inner_white_space() -> None:
    assert nfc(" a  b ") == "a  b"


@given(st.text())
def test_nfc_is_idempotent_and_normalised(text: str) -> None:
    once = nfc(text)
    assert nfc(once) == once
    assert unicodedata.is_normalized("NFC", once)


# -- split_list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("SMT assembly;testing", ("SMT assembly", "testing")),
        (" stamping ;  welding  ;", ("stamping", "welding")),
        ("a;;b", ("a", "b")),
        ("a;b;a", ("a", "b")),  # first occurrence wins, order kept
        ("heat   treatment", ("heat treatment",)),
        ("ma\u0300 i", ("mà i",)),
        ("", ()),
        ("   ", ()),
        ("nan", ()),  # what pandas writes for a missing cell
        (None, ()),
        (float("nan"), ()),
        (("x ", "x", "y"), ("x", "y")),
        (["b", "a"], ("b", "a")),
    ],
)
def test_split_list(cell: object, items: tuple[str, ...]) -> None:
    assert split_list(cell) == items


@given(st.lists(st.text(st.characters(blacklist_characters=";"))))
def test_split_list_round_trips_through_join(items: list[str]) -> None:
    once = split_list(join_list(items))
    assert split_list(join_list(once)) == once
    assert all(item and item == item.strip() and ";" not in item for item in once)


# -- normalise_certification -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("iso 9001:2015", "ISO 9001"),
        (" iso  9001:2015 ", "ISO 9001"),
        ("ISO9001", "ISO 9001"),
        ("ISO 9001-2008", "ISO 9001"),
        ("ISO 9001 : 2015", "ISO 9001"),
        ("iso 14001:2015", "ISO 14001"),
        ("ISO 45001:2018", "ISO 45001"),
        ("ISO/IEC 27001:2013", "ISO/IEC 27001"),
        ("iso 27001", "ISO/IEC 27001"),
        ("IATF16949", "IATF 16949"),
        ("iatf 16949:2016", "IATF 16949"),
        ("AS 9100", "AS9100"),
        ("AS9100D", "AS9100"),
        ("ipc a 610", "IPC-A-610"),
        ("IPC J-STD-001", "IPC-J-STD-001"),
        ("J-STD-001", "IPC-J-STD-001"),
        ("Oeko-Tex", "OEKO-TEX"),
        ("Oeko-Tex Standard 100", "OEKO-TEX"),
        ("QC 080000:2017", "QC080000"),
        ("IECQ QC080000", "QC080000"),
        ("sa 8000:2014", "SA8000"),
        ("FSSC 22000", "FSSC 22000"),
        ("RoHS", "ROHS"),
        ("gmp ", "GMP"),
        ("haccp", "HACCP"),
        ("bsci", "BSCI"),
        ("ce", "CE"),
        ("Chứng nhận hợp quy", "CHỨNG NHẬN HỢP QUY"),  # unknown: kept, upper-cased
        ("VietGAP  2017", "VIETGAP 2017"),  # a year after a word is not an edition
    ],
)
def test_normalise_certification(name: str, canonical: str) -> None:
    assert normalise_certification(name) == canonical


@pytest.mark.parametrize("name", sorted(INTERNATIONAL_CERTIFICATIONS))
def test_international_certifications_are_canonical(name: str) -> None:
    assert normalise_certification(name) == name
    assert normalise_certification(name.lower()) == name


@pytest.mark.parametrize("name", sorted(INTERNATIONAL_CERTIFICATIONS))
def test_edition_year_is_dropped_from_every_family(name: str) -> None:
    if name[-1].isdigit():
        assert normalise_certification(f"{name}:2015") == name
