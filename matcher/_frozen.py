"""A fitted model's global matrices, frozen at fit and laid over the current data.

Between two retrains the matcher scores the data as they are now (new firms, demands, links),
but what is global to the network stays as the fit saw it: firms' degrees (popularity, activity
and every degree weight of the path signals), the links by the buyers' country and sector,
EASE's solution and RP3beta's weights, and the TF-IDF vocabulary of descriptions. Were they
recomputed, one new link would move a weight that thousands of buyers' features read (a buyer's
degree enters the length-3 path totals of every buyer that shares a supplier with it), and no
change could be rescored for fewer than a tenth of the buyers. Frozen, a change touches only
the buyers whose own rows, candidates or neighbours it moves (:mod:`matcher._incremental`).

Firms the fit did not see have degree 0, no EASE or RP3beta values and no group counts until
the next retrain; their profiles, demands and links count at once.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from ketnoi import graph
from ketnoi.matcher._collaborative import EaseSignal
from ketnoi.matcher._index import FirmIndex, LinkSnapshot, build_snapshot

if TYPE_CHECKING:
    from ketnoi.matcher._model import Matcher

__all__ = ["FrozenGlobals", "frozen_matcher", "realigned"]

#: The frames a retrain is needed for: the taxonomy and the parks are not firm, demand or link
#: data, and the frozen category text and tree distances are laid out on them.
_REFERENCE_FRAMES = ("categories", "category_inputs", "parks")


def realigned(matrix: sp.spmatrix, rows: np.ndarray, cols: np.ndarray) -> sp.csr_matrix:
    """``matrix`` laid out on other positions: new row ``i`` is old row ``rows[i]``.

    ``rows`` and ``cols`` hold, per new position, the old position or -1 (a new firm: an empty
    row or column). Old positions not named are dropped. Values are copied, not summed.
    """
    m = sp.csr_matrix(matrix)
    take_r, take_c = np.flatnonzero(rows >= 0), np.flatnonzero(cols >= 0)
    r = sp.csr_matrix((np.ones(len(take_r)), (take_r, rows[take_r])), shape=(len(rows), m.shape[0]))
    c = sp.csr_matrix((np.ones(len(take_c)), (cols[take_c], take_c)), shape=(m.shape[1], len(cols)))
    out = (r @ m @ c).tocsr()
    out.sort_indices()
    return out


def _text_vectorizer(suppliers: pd.DataFrame, categories: pd.DataFrame) -> TfidfVectorizer | None:
    """The TF-IDF model of :func:`ketnoi.matcher._index` fitted on the same corpus.

    The settings mirror the index's own (a test holds the two matrices equal on the fit data).
    """
    corpus = [d for d in _descriptions(suppliers) + _category_names(categories) if d.strip()]
    if not corpus:
        return None
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, min_df=1, ngram_range=(1, 2), stop_words="english"
    )
    try:
        return vectorizer.fit(corpus)
    except ValueError:  # only stop words
        return None


def _descriptions(suppliers: pd.DataFrame) -> list[str]:
    return list(suppliers["description"].fillna("") + " " + suppliers["name_en"].fillna(""))


def _category_names(categories: pd.DataFrame) -> list[str]:
    return list(categories["name"].fillna("") + " " + categories["name_vi"].fillna(""))


def _transform(vectorizer: TfidfVectorizer | None, texts: list[str]) -> sp.csr_matrix:
    if vectorizer is None:
        return sp.csr_matrix((len(texts), 1))
    return vectorizer.transform(texts).tocsr()


@dataclass(frozen=True)
class FrozenEase(EaseSignal):
    """A solved EASE laid out on the current firms: buyers' rows and suppliers' columns by id.

    ``rows`` holds, per current buyer, its row in the solution (-1: unseen, no scores);
    ``kept`` the solution's columns whose supplier is still in the data.
    """

    rows: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    kept: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def block(self, rows: np.ndarray) -> np.ndarray:
        at = self.rows[np.asarray(rows, dtype=np.int64)]
        out = np.zeros((len(at), len(self.kept)), dtype=np.float32)
        seen = at >= 0
        if seen.any():
            out[seen] = self.solution.scores(at[seen])[:, self.kept].astype(np.float32)
        return out


@dataclass(eq=False)
class FrozenGlobals:
    """The global matrices of a bound matcher, by firm id, to lay over later data.

    Build with :meth:`from_matcher` (right after ``fit`` or ``bind``); :meth:`bind` returns the
    index and the link snapshot of a dataset with these matrices in place of its own.
    """

    supplier_ids: pd.Index
    buyer_ids: pd.Index
    supplier_degree: np.ndarray
    buyer_degree: np.ndarray
    countries: pd.Index
    links_by_country: sp.csr_matrix
    sectors: pd.Index
    links_by_sector: sp.csr_matrix
    ease: EaseSignal | None
    rp3: sp.csr_matrix | None
    vectorizer: TfidfVectorizer | None
    category_text: sp.csr_matrix
    reference: dict[str, pd.DataFrame]

    @classmethod
    def from_matcher(cls, m: Matcher) -> FrozenGlobals:
        """What ``m``'s binding holds globally (NotFittedError where it has no data bound)."""
        m._check_bound()
        index, snap, dataset = m.index_, m.snapshot_, m.dataset_
        suppliers = index.firms.iloc[index.supplier_firm]
        vectorizer = _text_vectorizer(suppliers, index.categories)
        return cls(
            supplier_ids=index.supplier_ids,
            buyer_ids=index.buyer_ids,
            supplier_degree=snap.supplier_degree.copy(),
            buyer_degree=snap.buyer_degree.copy(),
            countries=index.countries,
            links_by_country=snap.links_by_country,
            sectors=index.sectors,
            links_by_sector=snap.links_by_sector,
            ease=snap.ease,
            rp3=snap.rp3,
            vectorizer=vectorizer,
            category_text=_transform(vectorizer, _category_names(index.categories)),
            reference={name: dataset.frame(name) for name in _REFERENCE_FRAMES},
        )

    def bind(self, dataset: graph.Dataset) -> tuple[FirmIndex, LinkSnapshot]:
        """The index and snapshot of ``dataset`` with the frozen global matrices.

        Raises
        ------
        ValueError
            Where the categories, their inputs or the parks differ from the fit's: the frozen
            matrices are laid out on them, so that change needs a retrain.
        """
        for name, frame in self.reference.items():
            if not frame.equals(dataset.frame(name)):
                raise ValueError(
                    f"{name} changed since the fit: retrain the model to score the new {name}"
                )
        index = FirmIndex.from_dataset(dataset)
        suppliers = index.firms.iloc[index.supplier_firm]
        index = dataclasses.replace(
            index,
            supplier_text=_transform(self.vectorizer, _descriptions(suppliers)),
            category_text=self.category_text,
        )
        snap = build_snapshot(index, dataset.links, dataset.outcomes)
        s_at = self.supplier_ids.get_indexer(index.supplier_ids)
        b_at = self.buyer_ids.get_indexer(index.buyer_ids)
        snap = dataclasses.replace(
            snap,
            supplier_degree=np.where(s_at >= 0, self.supplier_degree[s_at], 0.0),
            buyer_degree=np.where(b_at >= 0, self.buyer_degree[b_at], 0.0),
            links_by_country=_groups(self.links_by_country, self.countries, index.countries, s_at),
            links_by_sector=_groups(self.links_by_sector, self.sectors, index.sectors, s_at),
            ease=self._ease(index, b_at),
            rp3=realigned(self.rp3, s_at, s_at) if self.rp3 is not None else None,
        )
        return index, snap

    def _ease(self, index: FirmIndex, b_at: np.ndarray) -> EaseSignal | None:
        ease = self.ease
        if ease is None:
            return None
        now = index.supplier_ids.get_indexer(self.supplier_ids[ease.columns])
        kept = np.flatnonzero(now >= 0)
        column_of = np.full(index.n_suppliers, -1, dtype=np.int64)
        column_of[now[kept]] = np.arange(len(kept))
        return FrozenEase(ease.solution, now[kept], column_of, ease.l2, b_at, kept)


def _groups(
    counts: sp.csr_matrix, before: pd.Index, now: pd.Index, s_at: np.ndarray
) -> sp.csr_matrix:
    """Group x supplier counts laid out on the current groups (by name) and suppliers."""
    rows = before.get_indexer(now) if len(now) else np.full(1, -1, dtype=np.int64)
    return realigned(counts[: max(len(before), 1)], rows, s_at)


def frozen_matcher(
    m: Matcher, frozen: FrozenGlobals, dataset: graph.Dataset, fingerprint: str | None = None
) -> Matcher:
    """A copy of ``m`` bound to ``dataset`` with ``frozen``'s global matrices (no answer cache).

    ``fingerprint`` is ``dataset.fingerprint()`` where the caller has it already.
    """
    index, snap = frozen.bind(dataset)
    bound = copy.copy(m)
    bound.dataset_ = dataset
    bound.index_ = index
    bound.snapshot_ = snap
    bound.data_fingerprint_ = dataset.fingerprint() if fingerprint is None else fingerprint
    bound.rankings_ = {}
    return bound
