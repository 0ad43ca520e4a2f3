"""Product text to categories and HS codes: suggestions for a person to confirm.

Officers' lists describe what a firm makes in free text ("Sản phẩm chính": ``Khuôn mẫu, chi
tiết nhựa ép phun``; ``thung carton 5 lop``; ``precision CNC parts``). This module suggests, for
such text, the world's categories and the HS 2022 codes it most likely means, each with a score in
[0, 1] and the field it matched on, so that a person confirms rather than types.

The method is a character n-gram TF-IDF over folded text (:func:`ketnoi.graph.fold`: no case,
no diacritics, ``đ`` -> ``d``), so that Vietnamese typed without diacritics, inflected English
and small spelling slips still meet their category. A category is described by its English name,
its Vietnamese name and the HS text of its code; the HS table (English only) is vendored in
``graph/data`` (see its README for source and licence) and never read from outside the package.
Nothing is learnt from labelled examples: the labelled phrases in ``fixtures/products`` measure
the method (``benchmarks/bench_products.py``), they do not feed it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from ketnoi.graph._intake import SourceRecord
from ketnoi.graph._normalise import fold

__all__ = [
    "CategorySuggester",
    "RecordSuggestions",
    "Suggestion",
    "hs_table",
    "product_terms",
    "suggest_categories",
    "suggest_hs",
    "suggest_record_categories",
    "suggester_for",
    "token_overlap_suggestions",
]

#: Words that say what a firm does with a product, not which product it is ("sản xuất", "các
#: loại", "manufacturing of"); folded. They are dropped before matching so that a list written
#: "Sản xuất bu lông các loại" weighs "bu lông" only.
_FILLER = frozenset(
    {
        # Vietnamese, folded
        "san", "xuat", "cac", "loai", "cung", "cap", "kinh", "doanh", "chuyen", "va", "cho",
        "nhan", "theo", "yeu", "cau", "don", "hang", "mat", "dich", "vu", "phan", "phoi",
        "thuong", "mai", "khau", "nhap", "hoa", "khac", "nhieu", "dang",
        # English
        "manufacture", "manufacturing", "manufacturer", "production", "producer", "supply",
        "supplier", "of", "and", "for", "the", "various", "all", "kinds", "types", "other",
        "products", "product", "trading", "export", "oem", "odm", "etc", "custom", "made", "to",
        "order", "services", "service", "a", "an", "in", "with",
    }
)  # fmt: skip
#: Folded phrases that qualify a product without naming it ("công nghiệp", "kỹ thuật").
_FILLER_PHRASES = ("cong nghiep", "ky thuat", "dan dung", "theo ban ve", "industrial")
#: What separates several products in one cell.
_SEPARATORS = re.compile(r"[;,\n/+|•·]|\s-\s")
_NON_WORD = re.compile(r"[^0-9a-z]+")
#: Below this a suggestion is noise (a query that shares only stray n-grams with a category).
_MIN_SCORE = 0.12


@dataclass(frozen=True)
class Suggestion:
    """A category (or an HS code alone) that product text may mean, for a person to confirm.

    Attributes
    ----------
    category_id : str
        The world's category; empty for an HS suggestion outside the world's categories.
    name, name_vi : str
        The category's names (for an HS-only suggestion: the HS description, and empty).
    hs_code : str
        The category's HS 2022 code, or the suggested HS code; empty where none is known.
    score : float
        Cosine similarity in [0, 1] of the text to what matched; comparable within one call.
    matched_on : str
        What the text matched best: ``name``, ``name_vi``, ``hs`` (the HS description of the
        category's code), or ``token`` for the token-overlap baseline.
    """

    category_id: str
    name: str
    name_vi: str
    hs_code: str
    score: float
    matched_on: str


def product_terms(text: object) -> str:
    """The words of product text that matching reads: folded, filler words dropped.

    Examples
    --------
    >>> product_terms("Sản xuất bu-lông, ốc vít các loại")
    'bu long oc vit'
    >>> product_terms(None), product_terms("  ;; ")
    ('', '')
    """
    if not isinstance(text, str):
        return ""
    folded = f" {_NON_WORD.sub(' ', fold(text))} "
    for phrase in _FILLER_PHRASES:
        folded = folded.replace(f" {phrase} ", " ")
    words = folded.split()
    return " ".join(w for w in words if w not in _FILLER)


def _parts(text: str) -> list[str]:
    """The whole text first, then each separated part that differs from it."""
    whole = product_terms(text)
    found = [whole] if len(whole.replace(" ", "")) >= 2 else []
    for part in (product_terms(p) for p in _SEPARATORS.split(text)):
        if len(part.replace(" ", "")) >= 2 and part not in found:
            found.append(part)
    return found


@lru_cache(maxsize=1)
def hs_table() -> pd.DataFrame:
    """The vendored HS 2022 nomenclature: ``hscode, description, parent, level, text``.

    ``text`` is what matching reads: a heading's description, and for a subheading its
    heading's description before its own (a subheading alone often says only "Other").
    """
    source = resources.files("ketnoi.graph").joinpath("data", "hs_codes_2022.csv")
    with source.open("r", encoding="utf-8") as stream:
        table = pd.read_csv(stream, dtype=str, keep_default_na=False)
    table = table.loc[table["level"].isin(["2", "4", "6"])].reset_index(drop=True)  # not TOTAL
    table["level"] = table["level"].astype(int)
    described = dict(zip(table["hscode"], table["description"], strict=True))
    table["text"] = [
        f"{described.get(parent, '')}; {desc}" if level == 6 else desc
        for parent, desc, level in zip(
            table["parent"], table["description"], table["level"], strict=True
        )
    ]
    return table[["hscode", "description", "parent", "level", "text"]]


def _vectoriser() -> TfidfVectorizer:
    # char_wb n-grams of 2-4 inside word boundaries: short enough for Vietnamese syllables
    # ("ong", "thep"), long enough to tell "nhua" from "nhom"; sublinear tf keeps a long HS
    # description from outweighing a two-word name.
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _category_rows(categories: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    rows = []
    for row in categories.itertuples(index=False):
        cid = _cell(getattr(row, "category_id", ""))
        if cid:
            rows.append(
                (cid, _cell(getattr(row, "name", "")), _cell(getattr(row, "name_vi", "")),
                 _cell(getattr(row, "hs_code", "")).strip())
            )  # fmt: skip
    return rows


@lru_cache(maxsize=1)
def _hs_texts() -> dict[str, str]:
    table = hs_table()
    return dict(zip(table["hscode"], table["text"], strict=True))


@lru_cache(maxsize=1)
def _hs_heading_terms() -> list[str]:
    table = hs_table()
    return [product_terms(t) for t in table.loc[table["level"] <= 4, "text"]]


def _hs_text(code: str) -> str:
    return _hs_texts().get(code, "") if code else ""


class CategorySuggester:
    """Suggest a world's categories for product text (fit once, suggest for many rows).

    Parameters
    ----------
    min_score : float
        Suggestions scoring below it are left out.
    part_weight : float
        What a part of a multi-product cell weighs against the whole cell.
    field_weights : (float, float, float)
        Weights of the ``name``, ``name_vi`` and ``hs`` fields.
    word_weight : float
        Share of whole-word TF-IDF in a score; the rest is char n-grams. The defaults were
        chosen on the ``dev`` third of ``fixtures/products`` (``benchmarks/bench_products.py``).

    Examples
    --------
    >>> cats = pd.DataFrame({"category_id": ["fasteners", "cartons"],
    ...                      "name": ["Screws, bolts and nuts", "Cartons and boxes"],
    ...                      "name_vi": ["Bu lông, đai ốc và ốc vít", "Thùng, hộp giấy"],
    ...                      "hs_code": ["7318", "4819"]})
    >>> suggester = CategorySuggester().fit(cats)
    >>> [s.category_id for s in suggester.suggest("bu long oc vit", k=1)]
    ['fasteners']
    """

    fields = ("name", "name_vi", "hs")

    def __init__(
        self,
        min_score: float = _MIN_SCORE,
        part_weight: float = 0.8,
        field_weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        word_weight: float = 0.5,
    ) -> None:
        self.min_score = min_score
        self.word_weight = word_weight
        self.part_weight = part_weight
        self.field_weights = field_weights

    def fit(self, categories: pd.DataFrame) -> CategorySuggester:
        """Index the categories (``category_id, name, name_vi, hs_code``; extra columns ignored)."""
        self.rows_ = _category_rows(categories)
        docs = {
            "name": [product_terms(r[1]) for r in self.rows_],
            "name_vi": [product_terms(r[2]) for r in self.rows_],
            "hs": [product_terms(_hs_text(r[3])) for r in self.rows_],
        }
        self.vectoriser_ = _vectoriser()
        # Fitted on every field and on the HS chapters and headings, so that n-gram weights say
        # how common a piece of text is in product language at large, not only in this world.
        # (The subheadings too took 11 s instead of 2 s for the same accuracy on the dev third.)
        corpus = [d for field in self.fields for d in docs[field] if d] + _hs_heading_terms()
        self.vectoriser_.fit(corpus)
        self.matrices_ = {
            field: self.vectoriser_.transform([d or "" for d in docs[field]])
            for field in self.fields
        }
        # Whole words too: char n-grams alone find "son cong nghiep" (paint) close to "van
        # cong nghiep" (valves); a shared syllable such as "son" is the stronger evidence.
        self.word_vectoriser_ = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+"
        ).fit(corpus)
        self.word_matrices_ = {
            field: self.word_vectoriser_.transform([d or "" for d in docs[field]])
            for field in self.fields
        }
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "rows_"):
            raise RuntimeError("CategorySuggester is not fitted: call fit(categories) first")

    def scores(self, text: object) -> tuple[np.ndarray, np.ndarray]:
        """Score every category: (best score per category, index of the field it came from).

        Each part of a multi-product cell is scored on its own and a category keeps its best
        part, so "khuôn mẫu, chi tiết nhựa ép phun" ranks both moulds and moulded parts.
        """
        self._check_fitted()
        n = len(self.rows_)
        best = np.zeros(n)
        where = np.zeros(n, dtype=int)
        if not isinstance(text, str) or not n:
            return best, where
        parts = _parts(text)
        if not parts:
            return best, where
        query = self.vectoriser_.transform(parts)
        words = self.word_vectoriser_.transform(parts)
        # A part of a cell weighs less than the whole: in "bó dây điện ô tô, xe máy" the part
        # "xe máy" qualifies the harness rather than naming a product of its own.
        row_weight = np.full((len(parts), 1), self.part_weight)
        row_weight[0] = 1.0
        for f, field in enumerate(self.fields):
            sims = (1 - self.word_weight) * (query @ self.matrices_[field].T).toarray()
            sims += self.word_weight * (words @ self.word_matrices_[field].T).toarray()
            sims = (sims * row_weight * self.field_weights[f]).max(axis=0)
            better = sims > best
            best = np.where(better, sims, best)
            where = np.where(better, f, where)
        return best, where

    def suggest(self, text: object, k: int = 3) -> list[Suggestion]:
        """Up to ``k`` categories for ``text``, best first; none for empty or unmatched text."""
        best, where = self.scores(text)
        order = np.argsort(-best, kind="stable")[: max(k, 0)]
        out = []
        for i in order:
            if best[i] < self.min_score:
                break
            cid, name, name_vi, hs = self.rows_[i]
            out.append(
                Suggestion(cid, name, name_vi, hs, round(float(best[i]), 4),
                           self.fields[int(where[i])])
            )  # fmt: skip
        return out

    def suggest_many(self, texts: Iterable[object], k: int = 3) -> list[list[Suggestion]]:
        """:meth:`suggest` for each text."""
        return [self.suggest(t, k) for t in texts]


def _frame_key(categories: pd.DataFrame) -> tuple[tuple[str, str, str, str], ...]:
    return tuple(_category_rows(categories))


@lru_cache(maxsize=8)
def _suggester_for(key: tuple[tuple[str, str, str, str], ...]) -> CategorySuggester:
    frame = pd.DataFrame(list(key), columns=["category_id", "name", "name_vi", "hs_code"])
    return CategorySuggester().fit(frame)


def suggester_for(categories: pd.DataFrame) -> CategorySuggester:
    """A fitted :class:`CategorySuggester` for ``categories``, shared by calls with the same ones
    (fitting reads the whole HS table: seconds, not milliseconds)."""
    return _suggester_for(_frame_key(categories))


def suggest_categories(text: object, categories: pd.DataFrame, k: int = 3) -> list[Suggestion]:
    """Suggest the categories that free product text most likely means.

    Parameters
    ----------
    text : str
        Product text as a list writes it, Vietnamese (with or without diacritics) or English;
        several products may share a cell, separated by ``,`` ``;`` ``/`` or new lines.
    categories : DataFrame
        The world's categories (``Dataset.categories``: ``category_id, name, name_vi, hs_code``).
    k : int
        At most this many suggestions.

    Returns
    -------
    list of Suggestion
        Best first, each with its HS code, score and what it matched on; empty for empty,
        non-text or unmatched input (never an error).

    Examples
    --------
    >>> cats = pd.DataFrame({"category_id": ["springs", "rice"], "name": ["Springs", "Rice"],
    ...                      "name_vi": ["Lò xo", "Gạo"], "hs_code": ["7320", "1006"]})
    >>> [(s.category_id, s.hs_code) for s in suggest_categories("lo xo nen", cats, k=1)]
    [('springs', '7320')]
    >>> suggest_categories("", cats)
    []
    """
    return _suggester_for(_frame_key(categories)).suggest(text, k)


@lru_cache(maxsize=8)
def _hs_index(
    level: int, key: tuple[tuple[str, str, str, str], ...]
) -> tuple[pd.DataFrame, TfidfVectorizer, list[object]]:
    """HS codes of one level, a vectoriser, and two matrices: the HS text, the category names."""
    table = hs_table()
    rows = table.loc[table["level"] == level].reset_index(drop=True)
    texts = dict(zip(rows["hscode"], rows["text"], strict=True))
    if level == 4:
        # A heading's subheadings name its products ("Screws", "Bolts", "Nuts"...) where the
        # heading's own text is general: with them, English top-1 on the dev third went from
        # 0.358 to 0.453.
        subs = table.loc[table["level"] == 6].groupby("parent")["description"].agg(" ; ".join)
        for code, described in subs.items():
            if code in texts:
                texts[str(code)] = f"{texts[str(code)]} ; {described}"
    # A world's category names (both languages) are a second text for their codes, scored apart
    # (mixed into the long HS text they would be drowned): the HS text is English only, so
    # Vietnamese reaches an HS code through the categories that carry it.
    names: dict[str, list[str]] = {}
    for _, name, name_vi, hs in key:
        if len(hs) >= level:
            names.setdefault(hs[:level], []).extend([name, name_vi])
    hs_docs = [product_terms(texts[code]) for code in rows["hscode"]]
    name_docs = [product_terms(" ; ".join(names.get(code, []))) for code in rows["hscode"]]
    vectoriser = _vectoriser().fit(hs_docs + [d for d in name_docs if d])
    return rows, vectoriser, [vectoriser.transform(hs_docs), vectoriser.transform(name_docs)]


def suggest_hs(
    text: object, k: int = 3, categories: pd.DataFrame | None = None, level: int = 4
) -> list[Suggestion]:
    """Suggest HS 2022 codes for free product text.

    Parameters
    ----------
    text : str
        Product text (English reaches every code; Vietnamese reaches the codes of ``categories``).
    k : int
        At most this many codes.
    categories : DataFrame, optional
        A world's categories: their names in both languages become text of their HS codes, and a
        suggested code carries the category that holds it.
    level : int
        4 (headings, the default) or 6 (subheadings).

    Returns
    -------
    list of Suggestion
        ``hs_code`` and its description (``name``), best first; empty for empty or unmatched text.

    Examples
    --------
    >>> [s.hs_code for s in suggest_hs("screws and bolts of steel", k=1)]
    ['7318']
    """
    if level not in (4, 6):
        raise ValueError(f"level must be 4 (headings) or 6 (subheadings), not {level!r}")
    key = _frame_key(categories) if categories is not None else ()
    rows, vectoriser, matrices = _hs_index(level, key)
    parts = _parts(text) if isinstance(text, str) else []
    if not parts:
        return []
    query = vectoriser.transform(parts)
    sims = np.max([(query @ m.T).toarray().max(axis=0) for m in matrices], axis=0)  # type: ignore[attr-defined]
    holder = {
        hs[:level]: (cid, name, name_vi) for cid, name, name_vi, hs in key if len(hs) >= level
    }
    out = []
    for i in np.argsort(-sims, kind="stable")[: max(k, 0)]:
        if sims[i] < _MIN_SCORE:
            break
        code = str(rows.at[i, "hscode"])
        cid, _, name_vi = holder.get(code, ("", "", ""))
        out.append(
            Suggestion(cid, str(rows.at[i, "description"]), name_vi, code,
                       round(float(sims[i]), 4), "hs")
        )  # fmt: skip
    return out


def token_overlap_suggestions(
    text: object, categories: pd.DataFrame, k: int = 3
) -> list[Suggestion]:
    """The baseline suggestions measure against: shared folded words, nothing more.

    A category scores the share of the text's words found among the words of its two names and
    its HS description; ties keep the categories' order.
    """
    if not isinstance(text, str):
        return []
    words = set(product_terms(text).split())
    if not words:
        return []
    scored = []
    for cid, name, name_vi, hs in _category_rows(categories):
        vocab = set(product_terms(f"{name} {name_vi} {_hs_text(hs)}").split())
        share = len(words & vocab) / len(words)
        if share > 0:
            scored.append(Suggestion(cid, name, name_vi, hs, round(share, 4), "token"))
    scored.sort(key=lambda s: -s.score)
    return scored[:k]


@dataclass(frozen=True)
class RecordSuggestions:
    """The suggestions for one intake record's products ("Sản phẩm chính"), where it came from."""

    source: str
    sheet: str
    line: int
    products: str
    suggestions: tuple[Suggestion, ...]


def suggest_record_categories(
    records: Iterable[SourceRecord], categories: pd.DataFrame, k: int = 3
) -> list[RecordSuggestions]:
    """Suggest categories for the products of intake records (:func:`ketnoi.graph.read_intake`).

    Parameters
    ----------
    records : iterable of SourceRecord
        Intake records; those without a ``products`` field are skipped.
    categories : DataFrame
        The world's categories.
    k : int
        At most this many suggestions per record.

    Returns
    -------
    list of RecordSuggestions
        One per record that has products, in the records' order, naming its list, sheet and row;
        ``suggestions`` is empty where nothing matched (the user picks by hand).
    """
    suggester = _suggester_for(_frame_key(categories))
    out = []
    for record in records:
        products = record.fields.get("products")
        if not isinstance(products, str) or not products.strip():
            continue
        found = tuple(suggester.suggest(products, k))
        out.append(RecordSuggestions(record.source, record.sheet, record.line, products, found))
    return out
