"""Scoring candidate pairs of firm records, and the decisions drawn from the scores.

:class:`FirmResolver` is a Fellegi-Sunter model, the method Splink implements: each
comparison level (:mod:`ketnoi.graph._resolve_compare`) has a probability ``m`` among pairs
of the same firm and ``u`` among pairs of different firms; a pair's match weight is the sum of
``log2(m / u)`` over the fields both records have, plus the prior's log odds. As in Splink,
``u`` is estimated from random pairs, ``m`` and the prior by expectation-maximisation on the
candidate pairs (no labels needed), and an exact name match is weighed by how common that name
is (term-frequency adjustment): two firms both called "Thương mại Dịch vụ" share little, two
called "Cơ khí Chính xác Hà Nội" share a lot.

:func:`decide` then applies the thresholds and two hard rules: two valid head-office tax codes
that differ are never merged automatically, and a branch is linked to its head office
(``branch_of``), never merged into it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from ketnoi.graph._resolve_blocking import candidate_pairs, firm_keys
from ketnoi.graph._resolve_compare import COMPARISONS, compare_pairs

__all__ = ["DECISIONS", "IDENTIFIERS", "FirmResolver", "decide", "name_only_pairs"]

#: What :func:`decide` can say of a pair.
DECISIONS = ("match", "review", "distinct", "branch_of")

# Where EM starts: agreement likely among matches (most agreeing level most likely).
_M_START = {
    "brand": (0.05, 0.1, 0.15, 0.7),
    "trade_words": (0.1, 0.2, 0.7),
    "tax_code": (0.01, 0.02, 0.02, 0.95),
    "phone": (0.2, 0.8),
    "email_domain": (0.2, 0.8),
    "website_domain": (0.1, 0.9),
    "district": (0.2, 0.8),
    "province": (0.1, 0.9),
    "legal_form": (0.1, 0.3, 0.6),
}
_M_FLOOR = 0.005
_MIN_EM_PAIRS = 200
_NAME = 0  # column of the brand comparison in the level matrix
_EXACT_NAME = len(COMPARISONS[_NAME].levels) - 1


def _aligned(keys: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    positions = pd.Index(keys["id"]).get_indexer(ids)
    if (positions < 0).any():
        missing = ids.to_numpy()[positions < 0][0]
        raise KeyError(f"pair names a firm record {missing!r} that is not in the frame")
    return keys.iloc[positions].reset_index(drop=True)


class FirmResolver:
    """Fellegi-Sunter scoring of firm-record pairs with EM-trained ``m`` and sampled ``u``.

    Parameters
    ----------
    u_pairs : int, default 100_000
        Random record pairs drawn to estimate ``u`` (how often different firms agree by chance).
    max_iter : int, default 40
        Expectation-maximisation rounds for ``m`` and the prior.
    tol : float, default 1e-5
        EM stops when no ``m`` moves more than this.
    max_block : int, default 50
        Passed to :func:`candidate_pairs` when fitting.
    random_state : int, default 0
        Seed of the random pairs.

    Attributes
    ----------
    m_, u_ : list of ndarray
        Per comparison, the probability of each level among matches and among non-matches.
    prior_ : float
        The share of candidate pairs that are matches (EM's estimate).
    n_iter_ : int
        EM rounds run.
    method_version : str
        Names the method and its comparisons; stored with every decision.

    Examples
    --------
    >>> firms = pd.DataFrame({
    ...     "id": ["a", "b", "c", "d"],
    ...     "name": ["Công ty TNHH Minh Phát", "CTY TNHH MINH PHAT", "Công ty CP Hoà Bình",
    ...              "Hoa Binh JSC"],
    ...     "phone": ["024 3826 1234", "+84 24 38261234", "0912345678", "0912 345 678"],
    ... })
    >>> resolver = FirmResolver().fit(firms)
    >>> scored = resolver.score(candidate_pairs(firms), firms)
    >>> list(scored["left_id"] + scored["right_id"])
    ['ab', 'cd']
    """

    method_version = "ketnoi-fellegi-sunter/1"

    def __init__(
        self,
        u_pairs: int = 100_000,
        max_iter: int = 40,
        tol: float = 1e-5,
        max_block: int = 50,
        random_state: int = 0,
    ) -> None:
        self.u_pairs = u_pairs
        self.max_iter = max_iter
        self.tol = tol
        self.max_block = max_block
        self.random_state = random_state

    # -- learning -------------------------------------------------------------------------
    def fit(self, records: pd.DataFrame, pairs: pd.DataFrame | None = None) -> FirmResolver:
        """Learn ``u`` from random pairs of ``records``, then ``m`` and the prior by EM on
        their candidate pairs.

        Parameters
        ----------
        records : DataFrame
            Firm records (``id`` and the record keys) or their :func:`firm_keys`.
        pairs : DataFrame, optional
            Their candidate pairs, when already made (:func:`candidate_pairs` of ``records``
            with this resolver's ``max_block``); made here otherwise.

        Returns
        -------
        FirmResolver
            ``self``.
        """
        keys = firm_keys(records)
        if len(keys) < 2:
            raise ValueError("fitting needs at least two firm records")
        self.u_random_ = self._estimate_u(keys)
        self.u_ = [u.copy() for u in self.u_random_]

        if pairs is None:
            pairs = candidate_pairs(keys, max_block=self.max_block)
        left = _aligned(keys, pairs["left_id"])
        right = _aligned(keys, pairs["right_id"])
        levels = compare_pairs(left, right)
        name_u = self._name_u(keys, left["brand"].to_numpy(object), levels)
        column = {c.name: j for j, c in enumerate(COMPARISONS)}
        self.m_ = [np.asarray(_M_START[c.name], dtype=float) for c in COMPARISONS]
        self.n_iter_ = 0
        # Splink's training sessions: EM on the pairs that one rule finds, training the m of
        # every comparison the rule does not use. EM on all candidate pairs at once fails
        # here: blocking made every candidate agree on province and a name word, and EM then
        # calls "candidate" a match. The same tax code trains everything but the tax code; the
        # same name words with the same phone or domain train the tax code.
        same_code = levels[:, column["tax_code"]] == 3
        contact = (
            (levels[:, column["phone"]] == 1)
            | (levels[:, column["email_domain"]] == 1)
            | (levels[:, column["website_domain"]] == 1)
        )
        same_name = (levels[:, column["brand"]] == 3) & contact
        sessions = (
            (same_code, [j for j in range(len(COMPARISONS)) if j != column["tax_code"]]),
            (same_name, [column["tax_code"]]),
        )
        for rows, trained in sessions:
            if rows.sum() >= 10:
                self._em(levels[rows], name_u[rows], trained)
        # Then u and the prior by EM over all candidate pairs, m held: u from random pairs is
        # how often *any* two records agree, but candidates were chosen for sharing a
        # province and a name word, so among them different firms agree more often.
        prior = 0.05
        # A handful of pairs cannot tell u among candidates: keep the random pairs' u then.
        rounds = self.max_iter if len(levels) >= _MIN_EM_PAIRS else 0
        for _ in range(rounds):
            self.n_iter_ += 1
            weights = self._weights(levels, name_u, self.m_, self.u_)
            posterior = 1.0 / (1.0 + np.exp2(-(weights + np.log2(prior / (1 - prior)))))
            moved = 0.0
            for j, comparison in enumerate(COMPARISONS):
                present = levels[:, j] >= 0
                counts = np.bincount(
                    levels[present, j],
                    weights=1.0 - posterior[present],
                    minlength=len(comparison.levels),
                )
                u = (counts + 0.5) / (counts.sum() + 0.5 * len(counts))
                moved = max(moved, float(np.abs(u - self.u_[j]).max()))
                self.u_[j] = u
            prior = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
            if moved < self.tol:
                break
        self.prior_ = prior
        return self

    def _em(self, levels: np.ndarray, name_u: np.ndarray, trained: list[int]) -> None:
        """EM on one session's pairs, updating ``m_`` of the ``trained`` comparisons only."""
        # The rule's own comparisons agree on every pair of the session: they say nothing
        # there, so the E step weighs the trained comparisons only (as Splink does).
        prior = 0.9  # a session's rule finds mostly matches
        for _ in range(self.max_iter):
            self.n_iter_ += 1
            weights = self._weights(levels, name_u, self.m_, self.u_, trained)
            posterior = 1.0 / (1.0 + np.exp2(-(weights + np.log2(prior / (1 - prior)))))
            moved = 0.0
            for j in trained:
                present = levels[:, j] >= 0
                counts = np.bincount(
                    levels[present, j],
                    weights=posterior[present],
                    minlength=len(COMPARISONS[j].levels),
                )
                # No level is impossible among matches (a firm moves, a list errs): m is kept
                # at half a percent or more, or one field could veto a pair on its own.
                m = np.maximum((counts + 0.1) / (counts.sum() + 0.1 * len(counts)), _M_FLOOR)
                m = m / m.sum()
                moved = max(moved, float(np.abs(m - self.m_[j]).max()))
                self.m_[j] = m
            prior = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
            if moved < self.tol:
                break

    def _estimate_u(self, keys: pd.DataFrame) -> list[np.ndarray]:
        rng = np.random.default_rng(self.random_state)
        n = len(keys)
        count = min(self.u_pairs, n * (n - 1) // 2)
        first = rng.integers(0, n, size=count)
        second = (first + rng.integers(1, n, size=count)) % n  # never a record with itself
        levels = compare_pairs(
            keys.iloc[first].reset_index(drop=True), keys.iloc[second].reset_index(drop=True)
        )
        u = []
        for j, comparison in enumerate(COMPARISONS):
            present = levels[:, j] >= 0
            counts = np.bincount(levels[present, j], minlength=len(comparison.levels))
            # Half a pair for levels never drawn: chance agreement is rare, never impossible.
            u.append((counts + 0.5) / (counts.sum() + 0.5 * len(counts)))
        return u

    def _name_u(self, keys: pd.DataFrame, brands: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """Term-frequency factor of each pair's brand ``u`` (1 but for the same brand).

        Splink's term-frequency adjustment: two records share a brand by chance as often as the
        brand occurs (never less than one record in the frame), against the level's average
        chance ``u_random_``; a common brand ("Hà Nội", "Tổng hợp") then weighs less.
        """
        frequency = keys["brand"].value_counts(normalize=True)
        factor = np.ones(len(levels))
        exact = levels[:, _NAME] == _EXACT_NAME
        chance = np.maximum(
            pd.Series(brands[exact]).map(frequency).to_numpy(dtype=float), 1.0 / len(keys)
        )
        factor[exact] = chance / self.u_random_[_NAME][_EXACT_NAME]
        return factor

    @staticmethod
    def _weights(
        levels: np.ndarray,
        name_u: np.ndarray,
        m: list[np.ndarray],
        u: list[np.ndarray],
        columns: list[int] | None = None,
    ) -> np.ndarray:
        total = np.zeros(len(levels))
        for j in range(len(COMPARISONS)) if columns is None else columns:
            level = levels[:, j]
            present = level >= 0
            chance = u[j][level[present]]
            if j == _NAME:
                chance = chance * name_u[present]
            total[present] += np.log2(m[j][level[present]] / chance)
        return total

    # -- scoring --------------------------------------------------------------------------
    def score(
        self, pairs: pd.DataFrame, left: pd.DataFrame, right: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Score candidate pairs.

        Parameters
        ----------
        pairs : DataFrame
            ``left_id, right_id`` (from :func:`candidate_pairs`; other columns are kept).
        left, right : DataFrame
            The records the ids name; without ``right`` both ids name rows of ``left``.

        Returns
        -------
        DataFrame
            The pairs' columns and ``match_probability`` (in [0, 1]), ``match_weight`` (log2
            odds), ``evidence`` (per field ``{"level": ..., "weight": ...}``: the comparison
            level, ``"missing"`` where either record lacks the field, and its log2 weight; a
            JSON-serialisable dict, to be read, not changed), ``left_is_branch``,
            ``right_is_branch``, ``tax_conflict`` (both codes valid, head offices different)
            and ``same_head_office``, which :func:`decide` reads.
        """
        if not hasattr(self, "m_"):
            raise NotFittedError("This FirmResolver is not fitted yet: call fit(records) first.")
        left_keys = firm_keys(left)
        right_keys = left_keys if right is None else firm_keys(right)
        both = left_keys if right is None else pd.concat([left_keys, right_keys])
        a = _aligned(left_keys, pairs["left_id"])
        b = _aligned(right_keys, pairs["right_id"])
        levels = compare_pairs(a, b)
        name_u = self._name_u(both, a["brand"].to_numpy(object), levels)
        per_field = np.zeros(levels.shape)
        for j in range(len(COMPARISONS)):
            level = levels[:, j]
            present = level >= 0
            chance = self.u_[j][level[present]]
            if j == _NAME:
                chance = chance * name_u[present]
            per_field[present, j] = np.log2(self.m_[j][level[present]] / chance)
        weight = per_field.sum(axis=1) + np.log2(self.prior_ / (1 - self.prior_))
        evidence = _evidence(levels, per_field)
        scored = pairs.reset_index(drop=True).copy()
        scored["match_probability"] = 1.0 / (1.0 + np.exp2(-weight))
        scored["match_weight"] = weight
        scored["evidence"] = evidence
        scored["left_is_branch"] = a["is_branch"].to_numpy(bool)
        scored["right_is_branch"] = b["is_branch"].to_numpy(bool)
        scored["tax_conflict"] = (
            a["tax_valid"].to_numpy(bool)
            & b["tax_valid"].to_numpy(bool)
            & (a["tax_head"].to_numpy(object) != b["tax_head"].to_numpy(object))
        )
        scored["same_head_office"] = (a["tax_head"].to_numpy(object) != "") & (
            a["tax_head"].to_numpy(object) == b["tax_head"].to_numpy(object)
        )
        return scored


def _evidence(levels: np.ndarray, per_field: np.ndarray) -> list[dict[str, dict[str, object]]]:
    """Per pair and field ``{"level": label, "weight": log2(m/u)}``.

    Outside the brand's term-frequency level a (field, level) has one weight, so its dict is
    made once and shared by every pair that has it: a million pairs then hold a million small
    outer dicts, not nine million inner ones. Treat them as read-only.
    """
    shared = [
        [{"level": label, "weight": 0.0} for label in comparison.levels]
        + [{"level": "missing", "weight": 0.0}]
        for comparison in COMPARISONS
    ]
    for j in range(len(COMPARISONS)):
        for level in range(len(COMPARISONS[j].levels)):
            rows = np.flatnonzero(levels[:, j] == level)
            if len(rows):
                shared[j][level]["weight"] = round(float(per_field[rows[0], j]), 2)
    names = [c.name for c in COMPARISONS]
    columns = [[shared[j][level] for level in levels[:, j]] for j in range(len(names))]
    # The same brand weighs by how common it is: its dict is the pair's own.
    exact = np.flatnonzero(levels[:, _NAME] == _EXACT_NAME)
    label = COMPARISONS[_NAME].levels[_EXACT_NAME]
    for row in exact:
        columns[_NAME][row] = {"level": label, "weight": round(float(per_field[row, _NAME]), 2)}
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


#: The fields that identify a firm beyond its name: a pair with none of them on both sides is
#: judged on the name (and places) alone.
IDENTIFIERS = ("tax_code", "phone", "email_domain", "website_domain")
#: Places that, when both records have them and they differ, say two firms of one name are two:
#: on the labelled benchmark's training half, 50 of the 53 name-only pairs that ``decide`` called
#: distinct and whose district or province differ are different firms.
_PLACES = ("district", "province")


def name_only_pairs(scored: pd.DataFrame) -> np.ndarray:
    """Which scored pairs have nothing but the name to go on, and the same name.

    A pair is *name only* when no identifier (tax code, phone, e-mail or web domain) is on
    both sides (each is ``missing`` in the evidence), and its names are the same once folded
    and with the legal form aside: the same trade words and the same proper name (or one typing
    slip apart) with a positive weight, that is a proper name rarer in the register than chance
    would make it. Not when the places they both give differ (two "Công ty TNHH Thương mại
    Hà Nội" in two districts are two firms far more often than one), nor a branch against a
    firm that is none (the branch bears its head office's name).

    Parameters
    ----------
    scored : DataFrame
        The output of :meth:`FirmResolver.score` (its ``evidence`` column).

    Returns
    -------
    ndarray of bool
    """
    if "evidence" not in scored.columns or scored.empty:
        return np.zeros(len(scored), dtype=bool)

    def one(evidence: dict[str, dict[str, object]]) -> bool:
        if any(evidence.get(f, {}).get("level", "missing") != "missing" for f in IDENTIFIERS):
            return False
        if any(evidence.get(f, {}).get("level") == "different" for f in _PLACES):
            return False
        brand, trade = evidence.get("brand", {}), evidence.get("trade_words", {})
        return (
            brand.get("level") in ("same", "typo")
            and float(brand.get("weight", 0.0)) > 0  # type: ignore[arg-type]
            and trade.get("level") == "same"
        )

    found = np.fromiter((one(e) for e in scored["evidence"]), dtype=bool, count=len(scored))
    if {"left_is_branch", "right_is_branch"} <= set(scored.columns):
        # A branch carries its head office's name: the same name says "branch of", which
        # takes a tax code (decide's rule), not a person's look at a name.
        found &= scored["left_is_branch"].to_numpy(bool) == scored["right_is_branch"].to_numpy(bool)
    return found


def decide(
    scored: pd.DataFrame,
    accept: float = 0.45,
    review: float = 0.15,
    name_only_review: bool = False,
) -> pd.DataFrame:
    """Decide each scored pair: ``match``, ``review``, ``distinct`` or ``branch_of``.

    Parameters
    ----------
    scored : DataFrame
        The output of :meth:`FirmResolver.score`.
    accept : float, default 0.45
        At or above this probability a pair is a match without asking anyone.
    review : float, default 0.15
        At or above this (and below ``accept``) a pair waits for a person.

        Both defaults were chosen on the training part of the labelled benchmark
        (``benchmarks/bench_resolution.py``: the best F1 with precision >= 0.99; the lowest
        threshold at which a quarter of the queued pairs are true). The Fellegi-Sunter
        probability is conservative there (matches at 0.45 were 99 % right on the training
        part). A programme should check them against its own confirmed decisions.
    name_only_review : bool, default False
        Send to review, at least, a pair that has only the name to go on and the same name
        (:func:`name_only_pairs`), however low its score: with no identifier on both sides
        the score is low for a true pair too, and a person should look rather than a second
        firm be made silently. Never a match on that ground alone. The register's intake
        sets it; the adapters' name lists, which join equal names themselves, do not.

    Returns
    -------
    DataFrame
        ``scored`` with ``decision`` and ``branch_id`` (for ``branch_of``: the id of the
        record that is the branch; the other is its head office).

    Notes
    -----
    Two records whose valid tax codes name different head offices are never a ``match``: at
    ``accept`` or above they go to review (a valid code typed wrong is rare but possible),
    below it they are ``distinct``. A branch (13-digit code or "Chi nhánh") and a head office
    are never merged: the same head-office code, or a score at ``accept`` or above, links them
    as ``branch_of``; two branches of one head office with different suffixes are distinct.
    """
    if not 0 <= review <= accept <= 1:
        raise ValueError(
            f"thresholds must satisfy 0 <= review <= accept <= 1, not {review}, {accept}"
        )
    p = scored["match_probability"].to_numpy(float)
    decision = np.where(p >= accept, "match", np.where(p >= review, "review", "distinct"))
    decision = decision.astype(object)
    conflict = scored["tax_conflict"].to_numpy(bool)
    decision[conflict & (decision == "match")] = "review"
    decision[conflict & (p < accept)] = "distinct"
    if name_only_review:
        decision[(decision == "distinct") & ~conflict & name_only_pairs(scored)] = "review"

    left_branch = scored["left_is_branch"].to_numpy(bool)
    right_branch = scored["right_is_branch"].to_numpy(bool)
    same_head = scored["same_head_office"].to_numpy(bool)
    one_branch = left_branch != right_branch
    linked = one_branch & ~conflict & (same_head | (p >= accept))
    decision[one_branch & ~linked & (decision == "match")] = "review"
    decision[linked] = "branch_of"
    # Sibling branches share a head office, not an identity.
    if "evidence" in scored.columns:
        sibling = np.fromiter(
            (e.get("tax_code", {}).get("level") == "same head office" for e in scored["evidence"]),
            dtype=bool,
            count=len(scored),
        )
        decision[left_branch & right_branch & sibling] = "distinct"

    out = scored.copy()
    out["decision"] = decision
    left_ids = scored["left_id"].to_numpy(object)
    right_ids = scored["right_id"].to_numpy(object)
    branch_id = np.full(len(scored), None, dtype=object)
    branch_id[linked] = np.where(left_branch, left_ids, right_ids)[linked]
    out["branch_id"] = branch_id
    return out
