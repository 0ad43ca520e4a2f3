"""Comparison levels of firm-record pairs: how far two records agree, field by field.

Each comparison turns a pair into a small integer *level* (-1 when either side lacks the
field: a missing value is no evidence either way), the way Splink's comparisons do. The
levels are what the Fellegi-Sunter model (:mod:`ketnoi.graph._resolve_scoring`) weighs; their
labels are what a person reviewing the pair reads.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA

from ketnoi.graph._resolve_names import FREE_MAIL_DOMAINS

__all__ = ["COMPARISONS", "Comparison", "add_comparison_columns", "compare_pairs"]


@dataclass(frozen=True)
class Comparison:
    """One field's comparison: its name, its levels (most agreeing last), and what a person
    reads for them in English and Vietnamese (a level ``"missing"`` reads as the last pair).
    """

    name: str
    levels: tuple[str, ...]
    label_en: str
    label_vi: str
    levels_vi: tuple[str, ...]

    def describe(self, level: str, lang: str = "vi") -> str:
        """What a reviewer reads for ``level`` (``"missing"`` included), in ``lang``."""
        if level == "missing":
            return "không có ở một bên" if lang == "vi" else "missing on one side"
        return self.levels_vi[self.levels.index(level)] if lang == "vi" else level


_DIFFERENT, _SAME = "khác nhau", "trùng nhau"
#: The comparisons, in the order of the level matrix's columns.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "brand",
        ("different", "one word shared", "typo", "same"),
        "proper name",
        "tên riêng",
        (_DIFFERENT, "trùng một chữ", "giống, khác một lỗi gõ", _SAME),
    ),
    Comparison(
        "trade_words",
        ("different", "overlap", "same"),
        "trade words in the name",
        "ngành nghề trong tên",
        (_DIFFERENT, "trùng một phần", _SAME),
    ),
    Comparison(
        "tax_code",
        ("different", "different, one fails its check", "same head office", "same"),
        "tax code",
        "mã số thuế",
        (_DIFFERENT, "khác nhau, một mã sai chữ số kiểm tra", "cùng trụ sở chính", _SAME),
    ),
    Comparison("phone", ("different", "same"), "phone", "điện thoại", (_DIFFERENT, _SAME)),
    Comparison(
        "email_domain",
        ("different", "same"),
        "e-mail domain",
        "tên miền thư điện tử",
        (_DIFFERENT, _SAME),
    ),
    Comparison(
        "website_domain", ("different", "same"), "website", "trang web", (_DIFFERENT, _SAME)
    ),
    Comparison("district", ("different", "same"), "district", "quận/huyện", (_DIFFERENT, _SAME)),
    Comparison(
        "province", ("different", "same"), "province", "tỉnh/thành phố", (_DIFFERENT, _SAME)
    ),
    Comparison(
        "legal_form",
        ("different", "compatible", "same"),
        "legal form",
        "loại hình doanh nghiệp",
        (_DIFFERENT, "tương thích", _SAME),
    ),
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


def _words(values: np.ndarray, width: int = 3) -> np.ndarray:
    """The first ``width`` words of each string, ``""`` padded: shape (n, width)."""
    out = np.full((len(values), width), "", dtype=object)
    for i, text in enumerate(values):
        words = text.split()[:width]
        out[i, : len(words)] = words
    return out


def _brand_levels(left_keys: pd.DataFrame, right_keys: pd.DataFrame) -> np.ndarray:
    """0 different, 1 a word shared, 2 the same but for one slip, 3 the same; -1 missing.

    Brands are sorted words, so a slip is one edit (optimal string alignment: a swap of two
    letters counts once) between the two strings.
    """
    left = left_keys["brand"].to_numpy(dtype=object)
    right = right_keys["brand"].to_numpy(dtype=object)
    levels = np.zeros(len(left), dtype=np.int8)
    shared = np.zeros(len(left), dtype=bool)
    for i in range(3):
        word = left_keys[f"brand_word_{i}"].to_numpy(dtype=object)
        for j in range(3):
            shared |= (word == right_keys[f"brand_word_{j}"].to_numpy(dtype=object)) & (word != "")
    levels[shared] = 1
    distance = process.cpdist(left, right, scorer=OSA.distance, workers=-1)
    lengths = np.minimum(
        np.fromiter(map(len, left), int, len(left)), np.fromiter(map(len, right), int, len(right))
    )
    levels[(distance <= 1) & (lengths > 5)] = 2
    levels[left == right] = 3
    levels[(left == "") | (right == "")] = -1
    return levels


def add_comparison_columns(keys: pd.DataFrame) -> None:
    """Add what :func:`compare_pairs` compares in numpy, computed once per record.

    ``brand_word_0..2``: the brand's first three words; ``trade_mask_0/1``: the trade words as
    a 128-bit set, a word's bit from its CRC (a rare collision only makes two words look alike).
    """
    words = _words(keys["brand"].to_numpy(dtype=object))
    for i in range(words.shape[1]):
        keys[f"brand_word_{i}"] = pd.Series(words[:, i], index=keys.index, dtype=object)
    masks = np.zeros((len(keys), 2), dtype=np.uint64)
    for i, trade in enumerate(keys["trade_words"]):
        for word in trade:
            bit = zlib.crc32(word.encode()) % 128
            masks[i, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
    keys["trade_mask_0"] = masks[:, 0]
    keys["trade_mask_1"] = masks[:, 1]


def _equal_levels(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    levels = (left == right).astype(np.int8)
    levels[(left == "") | (right == "")] = -1
    return levels


def compare_pairs(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray:
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
    out[:, 0] = _brand_levels(left, right)
    mask_l = left[["trade_mask_0", "trade_mask_1"]].to_numpy(dtype=np.uint64)
    mask_r = right[["trade_mask_0", "trade_mask_1"]].to_numpy(dtype=np.uint64)
    trade = np.where(((mask_l & mask_r) != 0).any(axis=1), 1, 0).astype(np.int8)
    trade[(mask_l == mask_r).all(axis=1)] = 2
    trade[(mask_l == 0).all(axis=1) | (mask_r == 0).all(axis=1)] = -1
    out[:, 1] = trade

    digits_l = left["tax_digits"].to_numpy(dtype=object)
    digits_r = right["tax_digits"].to_numpy(dtype=object)
    head_l = left["tax_head"].to_numpy(dtype=object)
    head_r = right["tax_head"].to_numpy(dtype=object)
    valid = left["tax_valid"].to_numpy(bool) & right["tax_valid"].to_numpy(bool)
    tax = np.zeros(n, dtype=np.int8)
    # A code that fails its check digit was likely typed wrong: its difference says less.
    tax[~valid] = 1
    tax[(head_l == head_r) & (head_l != "")] = 2
    tax[digits_l == digits_r] = 3
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
    # A branch has its own address and phone: against its head office they are no evidence.
    one_branch = left["is_branch"].to_numpy(bool) != right["is_branch"].to_numpy(bool)
    out[np.ix_(one_branch, [3, 6, 7])] = -1
    return out
