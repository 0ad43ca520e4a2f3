"""The one ranking path: candidates -> features -> hard rules -> score.

As splink separates blocking (which pairs are compared at all) from comparisons (how alike a
compared pair is), the matcher first chooses candidate pairs (:func:`candidate_pairs`), then
describes them (:func:`pair_features`), drops what the hard rules of :class:`MatcherSettings`
forbid, and lets the fitted scorer order the rest. :class:`RankingPath` runs that path for every
question the :class:`~ketnoi.matcher.Matcher` answers (a buyer's new suppliers, a supplier's
buyers, one pair's explanation, the candidates an evaluation counts) and turns ranked pairs
into the answer frame of :data:`RECOMMENDATION_COLUMNS`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.graph._taxonomy import subtree
from ketnoi.matcher._features import (
    FEATURES,
    BatchSignals,
    batch_size,
    candidate_pairs,
    pair_features,
)
from ketnoi.matcher._index import FirmIndex, LinkSnapshot
from ketnoi.matcher._reasons import pair_reasons
from ketnoi.matcher._settings import MatcherSettings

__all__ = ["OWNERSHIPS", "RECOMMENDATION_COLUMNS", "RankingPath", "hard_rules_ok"]

#: Ownership kinds of the data contract; the filter also takes ``local`` (all but ``fdi``).
OWNERSHIPS: tuple[str, ...] = ("domestic", "soe", "jv", "fdi")


def _folded(text: str) -> str:
    """Lower case without accents (đ as d), for names typed without diacritics."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


#: The first columns of every recommendation frame, in this order.
RECOMMENDATION_COLUMNS = [
    "buyer_id",
    "supplier_id",
    "category_id",
    "tier",
    "rank",
    "score",
    "reasons",
]


def hard_rules_ok(features: pd.DataFrame, settings: MatcherSettings) -> np.ndarray:
    """Pairs the hard rules of ``settings`` allow: requirements met, capacity, distance."""
    ok = np.ones(len(features), dtype=bool)
    if settings.require_certifications == "hard":
        ok &= features["required_certs_met"].to_numpy() >= 1.0
    if settings.require_processes == "hard":
        ok &= features["required_processes_met"].to_numpy() >= 1.0
    if settings.require_capacity == "hard":
        ok &= ~(features["capacity_ratio"].to_numpy() < 0)
    if settings.max_distance_km is not None:
        ok &= ~(features["distance_km"].to_numpy() > settings.max_distance_km)
    return ok


class RankingPath:
    """Candidates, features, hard rules and scores of one bound dataset, and the answer frames.

    Pairs are integer positions (buyers in ``index.buyer_ids``, suppliers in
    ``index.supplier_ids``) until :meth:`to_frame` names them. A ranked frame has one row per
    pair: ``buyer``, ``supplier``, ``score``, the :data:`FEATURES`, the facts reasons use
    (``demand_row``, ``shared_buyers``) and, once ranked, ``rank``.

    Parameters
    ----------
    index : FirmIndex
    snapshot : LinkSnapshot
        The links and outcomes the pairs are scored on.
    settings : MatcherSettings
        Candidate count and hard rules.
    score : callable
        Feature frame -> scores in [0, 1], the fitted matcher's ``score_features``.
    """

    def __init__(
        self,
        index: FirmIndex,
        snapshot: LinkSnapshot,
        settings: MatcherSettings,
        score: Callable[[pd.DataFrame], np.ndarray],
    ) -> None:
        self.index = index
        self.snapshot = snapshot
        self.settings = settings
        self.score = score

    # -- positions --------------------------------------------------------------------------------
    def buyer_position(self, buyer_id: str) -> int:
        """The position of a buyer; KeyError naming the id where it is no buyer."""
        try:
            return self.index.buyer_index(buyer_id)
        except KeyError as exc:
            raise KeyError(str(exc.args[0])) from None

    def buyer_positions(self, buyer_ids: Sequence[str]) -> np.ndarray:
        """Positions of buyers, in the order given."""
        return np.array([self.buyer_position(b) for b in buyer_ids], dtype=np.int64)

    def buyers(self, buyer_ids: Sequence[str] | None = None) -> np.ndarray:
        """Positions of ``buyer_ids``; of every active buyer where None."""
        return self.active_buyers() if buyer_ids is None else self.buyer_positions(buyer_ids)

    def active_buyers(self) -> np.ndarray:
        """Buyers that demand something or have suppliers: the ones a match list covers."""
        demands = np.asarray(self.index.explicit_demand.sum(axis=1)).ravel() > 0
        return np.flatnonzero(demands | (self.snapshot.buyer_degree > 0)).astype(np.int64)

    def batches(self, buyers: np.ndarray) -> Iterator[np.ndarray]:
        """``buyers`` in slices small enough for the dense per-batch signal blocks."""
        step = batch_size(self.index.n_buyers)
        for start in range(0, len(buyers), step):
            yield buyers[start : start + step]

    # -- the path ---------------------------------------------------------------------------------
    def signals(self, buyers: np.ndarray) -> BatchSignals:
        """The graph and category signals of one batch of buyers."""
        return BatchSignals.compute(self.index, self.snapshot, buyers)

    def candidates(
        self, signals: BatchSignals, *, exclude_existing: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Buyer and supplier positions of the candidate pairs of a batch (blocking)."""
        cb, cs, _ = candidate_pairs(
            self.index,
            self.snapshot,
            signals,
            max_candidates=self.settings.max_candidates,
            exclude_existing=exclude_existing,
        )
        return cb, cs

    def scored(
        self,
        signals: BatchSignals,
        buyers: np.ndarray,
        suppliers: np.ndarray,
        *,
        hard_rules: bool = True,
    ) -> pd.DataFrame:
        """Features, hard rules and scores of the pairs ``(buyers[i], suppliers[i])``.

        With ``hard_rules=False`` every pair is kept (an explanation shows what blocks it).
        """
        features, facts = pair_features(self.index, self.snapshot, signals, buyers, suppliers)
        if hard_rules:
            keep = hard_rules_ok(features, self.settings)
            features = features[keep].reset_index(drop=True)
            facts = facts[keep].reset_index(drop=True)
            buyers, suppliers = buyers[keep], suppliers[keep]
        frame = pd.concat([features, facts], axis=1)
        frame.insert(0, "buyer", buyers)
        frame.insert(1, "supplier", suppliers)
        frame.insert(2, "score", self.score(features))
        return frame

    def rank_batch(self, buyers: np.ndarray, *, exclude_existing: bool = True) -> pd.DataFrame:
        """Scored candidates of one batch of buyers, unsorted."""
        signals = self.signals(buyers)
        cb, cs = self.candidates(signals, exclude_existing=exclude_existing)
        return self.scored(signals, cb, cs)

    def ranked(self, buyers: np.ndarray, *, exclude_existing: bool = True) -> pd.DataFrame:
        """Scored candidates of any number of buyers, best first per buyer, with ``rank``."""
        parts = [
            self.rank_batch(b, exclude_existing=exclude_existing) for b in self.batches(buyers)
        ]
        if not parts:
            return self.rank_batch(np.zeros(0, dtype=np.int64))
        return self.ordered(pd.concat(parts, ignore_index=True))

    def ordered(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Scored pairs of whole buyers, best first per buyer, with ``rank``."""
        # Rows below min_score are no suggestion anyone should act on: fewer rows than k,
        # rather than filler (in the CLI, the API, exports and evaluations alike).
        frame = frame[frame["score"].to_numpy() >= self.settings.min_score]
        # Equal scores fall back on the supplier id, whatever order the firms file has.
        frame["_order"] = self.index.supplier_order[frame["supplier"].to_numpy()]
        frame = frame.sort_values(["buyer", "score", "_order"], ascending=[True, False, True])
        frame["rank"] = frame.groupby("buyer").cumcount() + 1
        return frame.drop(columns="_order").reset_index(drop=True)

    def candidate_ids(self, buyers: np.ndarray) -> pd.DataFrame:
        """The candidate pairs of ``buyers`` by id (before hard rules and scoring)."""
        index = self.index
        parts = []
        for batch in self.batches(np.unique(buyers)):
            cb, cs = self.candidates(self.signals(batch))
            parts.append(
                pd.DataFrame(
                    {
                        "buyer_id": index.buyer_ids.to_numpy()[cb],
                        "supplier_id": index.supplier_ids.to_numpy()[cs],
                    }
                )
            )
        if not parts:
            return pd.DataFrame({"buyer_id": [], "supplier_id": []}, dtype=object)
        return pd.concat(parts, ignore_index=True)

    def candidate_buyers(self, supplier: int) -> np.ndarray:
        """Buyer positions a supplier is put forward to: the supplier side of blocking.

        A buyer qualifies when it needs what the supplier makes (or something related) or
        when the link graph reaches it; at most ``max_candidates``, the strongest first.
        """
        index, snap = self.index, self.snapshot
        offers = snap.offers[supplier]
        exact = np.asarray((snap.needs @ offers.T).todense()).ravel()
        related = np.asarray((snap.needs @ (offers @ index.related).T).todense()).ravel()
        col = snap.links[:, supplier]
        l3 = np.asarray((snap.links @ (snap.links.T @ col)).todense()).ravel()
        pre = 3.0 * (exact > 0) + 1.5 * ((related > 0) & (exact <= 0)) + np.log1p(l3)
        listed = index.firms["listed"].to_numpy()[index.buyer_firm]
        own = index.buyer_ids.to_numpy() == index.supplier_ids[supplier]
        active = np.asarray(snap.active[:, supplier].todense()).ravel() > 0
        buyers = np.flatnonzero((pre > 0) & listed & ~own & ~active)
        limit = self.settings.max_candidates
        if len(buyers) > limit:
            buyers = buyers[np.argsort(-pre[buyers], kind="stable")[:limit]]
        return buyers

    def ranked_buyers(self, supplier: int, k: int) -> pd.DataFrame:
        """The ``k`` best buyers for a supplier, best first (ties by buyer id), with ``rank``."""
        parts = []
        for batch in self.batches(self.candidate_buyers(supplier)):
            parts.append(
                self.scored(self.signals(batch), batch, np.full(len(batch), supplier, np.int64))
            )
        ranked = (
            pd.concat(parts, ignore_index=True)
            if parts
            else self.ranked(np.zeros(0, dtype=np.int64))
        )
        ranked = ranked[ranked["score"].to_numpy() >= self.settings.min_score]
        ranked["_id"] = self.index.buyer_ids.to_numpy()[ranked["buyer"].to_numpy()]
        ranked = ranked.sort_values(["score", "_id"], ascending=[False, True]).head(k)
        ranked = ranked.drop(columns="_id").reset_index(drop=True)
        ranked["rank"] = np.arange(1, len(ranked) + 1)
        return ranked

    # -- filters ----------------------------------------------------------------------------------
    def filtered(
        self,
        ranked: pd.DataFrame,
        category: str | None,
        park: str | None,
        certification: str | None,
        ownership: str | None = None,
        sector: str | None = None,
    ) -> pd.DataFrame:
        """Ranked rows of suppliers of a category (or a sub-category), a park, a certification,
        an ownership (``local`` for every kind but ``fdi``) or a sector.

        A park may be named by its id or its name (case and accents ignored). Ranks are counted
        again within each buyer's remaining rows.

        Raises
        ------
        KeyError
            An unknown category, park or ownership (an empty answer would hide a typo).
        """
        index = self.index
        mask = np.ones(len(ranked), dtype=bool)
        sup = ranked["supplier"].to_numpy()
        if category:
            pos = index.category_ids.get_indexer([category])[0]
            if pos < 0:
                raise KeyError(f"'{category}' is not a category_id in the data")
            wanted = subtree(index.parent, pos)
            offers = self.snapshot.offers
            mask &= np.array(
                [
                    bool(
                        wanted.intersection(offers.indices[offers.indptr[s] : offers.indptr[s + 1]])
                    )
                    for s in sup
                ],
                dtype=bool,
            )
        if park:
            mask &= index.supplier_park[sup] == self.park_id(park)
        if certification:
            wanted_cert = graph.normalise_certification(certification)
            certs = index.firms["certifications"].to_numpy()[index.supplier_firm[sup]]
            mask &= np.array([wanted_cert in c for c in certs], dtype=bool)
        if ownership:
            kinds = self._firm_column("ownership")[index.supplier_firm[sup]]
            if ownership == "local":
                mask &= kinds != "fdi"
            elif ownership in OWNERSHIPS:
                mask &= kinds == ownership
            else:
                raise KeyError(f"'{ownership}' is not an ownership: local, {', '.join(OWNERSHIPS)}")
        if sector:
            sectors = self._firm_column("sector")[index.supplier_firm[sup]]
            mask &= np.array([_folded(v) == _folded(sector) for v in sectors], dtype=bool)
        out = ranked[mask].copy()
        out["rank"] = out.groupby("buyer").cumcount() + 1
        return out

    def park_id(self, park: str) -> str:
        """The id of a park named by its id or its name (case and accents ignored)."""
        names = self.index.park_names
        if park in names or park in set(self.index.supplier_park):
            return park
        wanted = _folded(park).replace("-", " ")
        folded = {pid: _folded(str(name)) for pid, name in names.items()}
        # The exact name or id first, then a name that starts with what was typed ("Thang Long"
        # for "Thang Long Industrial Park (TLIP)"), then one that contains it; only a single
        # match counts, so "Thang Long" never silently picks "Bac Thang Long".
        for found in (
            lambda pid, name: name == wanted or _folded(pid).replace("-", " ") == wanted,
            lambda pid, name: name.startswith(wanted),
            lambda pid, name: wanted in name,
        ):
            matches = [pid for pid, name in folded.items() if found(pid, name)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise KeyError(f"'{park}' names several parks: {', '.join(sorted(matches))}")
        raise KeyError(f"'{park}' is not a park id or park name in the data")

    def _firm_column(self, name: str) -> np.ndarray:
        firms = self.index.firms
        if name not in firms.columns:
            return np.full(len(firms), "", dtype=object)
        return firms[name].fillna("").astype(str).to_numpy()

    # -- answers ----------------------------------------------------------------------------------
    def category_of(self, demand_rows: np.ndarray, fit: np.ndarray) -> np.ndarray:
        """The category id each pair matches on ("" where it fits no demand)."""
        rows = self.index.demand_rows
        out = np.full(len(demand_rows), "", dtype=object)
        ok = (demand_rows >= 0) & (fit > 0)
        if ok.any():
            cats = rows["category"].to_numpy()[demand_rows[ok]]
            out[ok] = self.index.category_ids.to_numpy()[cats]
        return out

    def reasons(self, ranked: pd.DataFrame, lang: str) -> list[list[str]]:
        """The reasons of each ranked pair, in ``lang``."""
        index, offers = self.index, self.snapshot.offers
        links, active = self.snapshot.links, self.snapshot.active
        records = ranked[list(FEATURES)].to_dict("records")
        out = []
        for rec, b, s, d, shared in zip(
            records,
            ranked["buyer"].to_numpy(),
            ranked["supplier"].to_numpy(),
            ranked["demand_row"].to_numpy(),
            ranked["shared_buyers"].to_numpy(),
            strict=True,
        ):
            out.append(
                pair_reasons(
                    index,
                    rec,
                    buyer=int(b),
                    supplier=int(s),
                    demand_row=int(d),
                    shared_buyers=float(shared),
                    offers=offers.indices[offers.indptr[s] : offers.indptr[s + 1]],
                    past_link=bool(links[b, s] > 0 and not active[b, s] > 0),
                    lang=lang,
                )
            )
        return out

    def to_frame(self, ranked: pd.DataFrame, lang: str, tier: int = 1) -> pd.DataFrame:
        """Ranked pairs as the answer: :data:`RECOMMENDATION_COLUMNS`, names, supplier park."""
        index = self.index
        names = index.firms["name"]
        buyer_ids = index.buyer_ids.to_numpy()[ranked["buyer"].to_numpy()]
        supplier_ids = index.supplier_ids.to_numpy()[ranked["supplier"].to_numpy()]
        return pd.DataFrame(
            {
                "buyer_id": pd.Series(buyer_ids, dtype=object),
                "supplier_id": pd.Series(supplier_ids, dtype=object),
                "category_id": self.category_of(
                    ranked["demand_row"].to_numpy(), ranked["fit_level"].to_numpy()
                ),
                "tier": np.full(len(ranked), tier, dtype=np.int64),
                "rank": ranked["rank"].to_numpy(dtype=np.int64),
                "score": ranked["score"].to_numpy(dtype=float).round(6),
                "reasons": pd.Series(self.reasons(ranked, lang), dtype=object),
                "buyer_name": names.reindex(buyer_ids).to_numpy(dtype=object),
                "supplier_name": names.reindex(supplier_ids).to_numpy(dtype=object),
                "supplier_park": index.supplier_park[ranked["supplier"].to_numpy()],
            }
        )
