"""Text normalisation shared by loading, search and explanations."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["nfc", "fold", "split_list", "join_list", "normalise_certification"]

# Canonical spellings of certification families, keyed by their folded, separator-free form.
# Anything not listed keeps its own words, upper-cased, with single spaces.
_CERT_CANON = {
    "iso9001": "ISO 9001",
    "iso14001": "ISO 14001",
    "iso45001": "ISO 45001",
    "iso13485": "ISO 13485",
    "iso22000": "ISO 22000",
    "iso50001": "ISO 50001",
    "iso27001": "ISO/IEC 27001",
    "isoiec27001": "ISO/IEC 27001",
    "iatf16949": "IATF 16949",
    "as9100": "AS9100",
    "as9100d": "AS9100",
    "ipca610": "IPC-A-610",
    "ipcjstd001": "IPC-J-STD-001",
    "jstd001": "IPC-J-STD-001",
    "oekotex": "OEKO-TEX",
    "oekotexstandard100": "OEKO-TEX",
    "fssc22000": "FSSC 22000",
    "qc080000": "QC080000",
    "iecq080000": "QC080000",
    "iecqqc080000": "QC080000",
    "sa8000": "SA8000",
    "gmp": "GMP",
    "haccp": "HACCP",
    "rohs": "ROHS",
    "reach": "REACH",
}

# A trailing edition year such as ":2015", "-2015" or " 2015" after a standard number.
_EDITION = re.compile(r"(?<=\d)\s*[:\-/ ]\s*(19|20)\d{2}$")


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC with surrounding white space removed.

    Vietnamese text arrives both precomposed and decomposed (combining accents); NFC makes
    the two compare equal.
    """
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Accent- and case-insensitive form used for name search.

    Vietnamese ``đ``/``Đ`` is a separate letter, not a ``d`` with a combining mark, so it is
    mapped explicitly.

    Examples
    --------
    >>> fold("Công ty Cơ khí Đông Anh")
    'cong ty co khi dong anh'
    """
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(text.casefold().split())


def split_list(value: object) -> tuple[str, ...]:
    """Split a ``;``-separated cell into a tuple of trimmed, NFC-normalised, de-duplicated items."""
    if value is None:
        return ()
    if isinstance(value, tuple | list):
        items: Iterable[str] = (str(v) for v in value)
    else:
        text = str(value)
        if text.strip() == "" or text == "nan":
            return ()
        items = text.split(";")
    seen: dict[str, None] = {}
    for item in items:
        item = " ".join(nfc(item).split())
        if item:
            seen.setdefault(item, None)
    return tuple(seen)


def join_list(items: Iterable[str]) -> str:
    """Inverse of :func:`split_list`."""
    return ";".join(items)


def normalise_certification(name: str) -> str:
    """Canonical name of a certification: known families spelt one way, edition year dropped.

    Examples
    --------
    >>> normalise_certification(" iso  9001:2015 ")
    'ISO 9001'
    >>> normalise_certification("IATF16949")
    'IATF 16949'
    >>> normalise_certification("Oeko-Tex Standard 100")
    'OEKO-TEX'
    """
    text = " ".join(nfc(name).split())
    text = _EDITION.sub("", text)
    key = re.sub(r"[^0-9a-z]", "", fold(text))
    if key in _CERT_CANON:
        return _CERT_CANON[key]
    return text.upper()
