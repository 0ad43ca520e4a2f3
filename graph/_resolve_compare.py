"""Comparison levels of firm-record pairs: how far two records agree, field by field.

Each comparison turns a pair into a small integer *level* (-1 when either side lacks the
field: a missing value is no evidence either way), the way Splink's comparisons do. The
levels are what the Fellegi-Sunter model (:mod:`ketnoi.graph._resolve_scoring`) weighs; their
labels are what a person reviewing the pair reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from ketnoi.graph._resolve_names import FREE_MAIL_DOMAINS

__all__ = ["COMPARISONS", "Comparison", "compare_pairs", "token_weights"]


@dataclass(frozen=True)
class Comparison:
    """One field's comparison: its name and its levels' labels, most agreeing last."""

    name: str
    levels: tuple[str, ...]


#: The comparisons, in the order of the level matrix's columns.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", ("different", "similar", "close", "same words", "exact")),
    Comparison("name_distinctive", ("none", "some", "most", "all")),
    Comparison("tax_code", ("different", "same head office", "same")),
    Comparison("phone", ("different", "same")),
    Comparison("email_domain", ("different", "same")),
    Comparison("website_domain", ("different", "same")),
    Comparison("district", ("different", "same")),
    Comparison("province", ("different", "same")),
    Comparison("legal_form", ("different", "compatible", "same")),
)
#: Legal forms that are the same firm's form written more or less precisely.
_FAMILIES = {
    "Công ty TNHH": "tnhh",
    "Công ty TNHH MTV": "tnhh",
    "Công ty cổ phần": "cp",
    "Tổng công ty": "cp",
    "Tập đoàn": "cp",
    "Doanh nghiệp tư nhân": "dntn",
    "Hợp tác xã": "htx",
    "Công ty": "",
}
# Two tokens this alike (Jaro-Winkler) are one word with a typo.
_TYPO_SIMILARITY = 0.9


def token_weights(name_tokens: Sequence[tuple[str, ...]]) -> dict[str, float]:
    """Inverse document frequency of each name token, ``log(n / df)``: what a shared word says.

    A word in every other firm's name ("thương mại", "hà nội") weighs almost nothing, a brand
    name a lot. Computed on the records being resolved, like Splink's term frequencies.
    """
    counts: dict[str, int] = {}
    for tokens in name_tokens:
        for token in set(tokens):
            counts[token] = counts.get(token, 0) + 1
    n = max(len(name_tokens), 1)
    return {token: float(np.log((n + 1) / df)) for token, df in counts.items()}


def _distinctive_share(a: tuple[str, ...], b: tuple[str, ...], idf: dict[str, float]) -> float:
    """Share of both names' token weight that the other name holds (typos forgiven)."""
    set_a, set_b = set(a), set(b)
    total = sum(idf.get(t, 1.0) for t in set_a) + sum(idf.get(t, 1.0) for t in set_b)
    if total == 0:
        return 1.0
    common = set_a & set_b
    matched = 2 * sum(idf.get(t, 1.0) for t in common)
    rest_a, rest_b = set_a - common, set_b - common
    for token in rest_a:
        best = max((JaroWinkler.similarity(token, o) for o in rest_b), default=0.0)
        if best >= _TYPO_SIMILARITY and len(token) > 2:
            matched += idf.get(token, 1.0)
    for token in rest_b:
        best = max((JaroWinkler.similarity(token, o) for o in rest_a), default=0.0)
        if best >= _TYPO_SIMILARITY and len(token) > 2:
            matched += idf.get(token, 1.0)
    return matched / total


def _equal_levels(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    levels = (left == right).astype(np.int8)
    levels[(left == "") | (right == "")] = -1
    return levels


def compare_pairs(left: pd.DataFrame, right: pd.DataFrame, idf: dict[str, float]) -> np.ndarray:
    """The level matrix of aligned pairs: row ``i`` compares ``left.iloc[i]`` with
    ``right.iloc[i]`` (both frames of :func:`~ketnoi.graph._resolve_blocking.firm_keys`).

    Returns
    -------
    ndarray of int8, shape (n_pairs, len(COMPARISONS))
        The level index of each comparison, -1 where either side lacks the field.
    """
    n = len(left)
    out = np.full((n, len(COMPARISONS)), -1, dtype=np.int8)
    if n == 0:
        return out
    core_l = left["name_core"].to_numpy(dtype=object)
    core_r = right["name_core"].to_numpy(dtype=object)
    sort = process.cpdist(core_l, core_r, scorer=fuzz.token_sort_ratio, workers=-1)
    contain = process.cpdist(core_l, core_r, scorer=fuzz.token_set_ratio, workers=-1)
    name = np.zeros(n, dtype=np.int8)
    name[sort >= 70] = 1
    name[(sort >= 85) | (contain >= 95)] = 2
    name[sort >= 95] = 3
    name[core_l == core_r] = 4
    name[(core_l == "") | (core_r == "")] = -1
    out[:, 0] = name

    shares = np.fromiter(
        (
            _distinctive_share(a, b, idf)
            for a, b in zip(left["name_tokens"], right["name_tokens"], strict=True)
        ),
        dtype=float,
        count=n,
    )
    distinctive = np.zeros(n, dtype=np.int8)
    distinctive[shares >= 0.5] = 1
    distinctive[shares >= 0.8] = 2
    distinctive[shares >= 0.97] = 3
    distinctive[name == -1] = -1
    out[:, 1] = distinctive

    digits_l = left["tax_digits"].to_numpy(dtype=object)
    digits_r = right["tax_digits"].to_numpy(dtype=object)
    head_l = left["tax_head"].to_numpy(dtype=object)
    head_r = right["tax_head"].to_numpy(dtype=object)
    tax = np.zeros(n, dtype=np.int8)
    tax[(head_l == head_r) & (head_l != "")] = 1
    tax[digits_l == digits_r] = 2
    tax[(digits_l == "") | (digits_r == "")] = -1
    out[:, 2] = tax

    out[:, 3] = _equal_levels(left["phone"].to_numpy(object), right["phone"].to_numpy(object))
    mail_l = left["email_domain"].to_numpy(object).copy()
    mail_r = right["email_domain"].to_numpy(object).copy()
    mail_l[np.isin(mail_l, list(FREE_MAIL_DOMAINS))] = ""
    mail_r[np.isin(mail_r, list(FREE_MAIL_DOMAINS))] = ""
    out[:, 4] = _equal_levels(mail_l, mail_r)
    out[:, 5] = _equal_levels(
        left["website_domain"].to_numpy(object), right["website_domain"].to_numpy(object)
    )
    district = _equal_levels(left["district"].to_numpy(object), right["district"].to_numpy(object))
    # A district name is only the same place within the same province.
    province = _equal_levels(left["province"].to_numpy(object), right["province"].to_numpy(object))
    district[province == 0] = 0
    out[:, 6] = district
    out[:, 7] = province

    form_l = left["legal_form"].to_numpy(object)
    form_r = right["legal_form"].to_numpy(object)
    family_l = np.array([_FAMILIES.get(f, f) for f in form_l], dtype=object)
    family_r = np.array([_FAMILIES.get(f, f) for f in form_r], dtype=object)
    form = np.zeros(n, dtype=np.int8)
    form[(family_l == family_r) | (family_l == "") | (family_r == "")] = 1
    form[form_l == form_r] = 2
    form[(form_l == "") | (form_r == "")] = -1
    out[:, 8] = form
    return out
