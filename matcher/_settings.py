"""Matcher settings: data, not behaviour (frozen, loadable from a JSON or TOML file)."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["AUTO_RANKERS", "RANKERS", "MatcherSettings"]

#: The rankers ``model`` may name: gradient boosting on every feature, on the profile features
#: only, on the link-graph features only; a logistic regression on every feature; EASE's order
#: weighing required certifications; LightGBM lambdarank on every feature, grouped by buyer
#: (optional package). ``auto`` chooses among them by inner validation.
RANKERS: tuple[str, ...] = ("hgb", "logistic", "hgb_profile", "hgb_graph", "ease", "lgbm_rank")

#: The rankers ``auto`` compares unless ``MatcherSettings.rankers`` names others: all but
#: ``lgbm_rank``, which inner validation chose on none of the worlds measured (held out, it was
#: below the logistic ranker on two, above on one: docs/performance.md) and which costs a fit
#: more; name it to compare it.
AUTO_RANKERS: tuple[str, ...] = tuple(name for name in RANKERS if name != "lgbm_rank")


@dataclass(frozen=True)
class MatcherSettings:
    """How candidates are generated, which hard rules apply and how the scorer is trained.

    Parameters
    ----------
    max_candidates : int
        Candidates kept per buyer after the cheap pre-ranking; the learned scorer sees only these.
    graph_candidates : int
        Of those, how many at most may come from the link graph alone (no category fit).
    require_certifications, require_processes, require_capacity : {"soft", "hard"}
        ``hard`` drops candidates that miss the buyer's required certifications, required
        processes, or whose capacity is below the demanded volume; ``soft`` keeps them and lets
        the score (and the explanation) carry the gap.
    max_distance_km : float or None
        Drop candidates farther than this (firms without coordinates are kept).
    negatives_per_positive : int
        Sampled negatives per observed link when training.
    folds : int
        For links without a year: the links are split into this many folds and a positive's
        graph features are computed without its fold, so its own link never leaks into them.
    training : {"auto", "temporal", "folds"}
        What the scorer learns. ``temporal``: each link from the links before its year, i.e.
        to predict *next* links (the task of a programme planning new matches). ``folds``:
        each link from the network without its fold, i.e. to recover *missing* links (the
        task of a random hold-out). ``auto``: temporal for links with a year, folds for the
        rest.
    model : {"auto", "hgb", "logistic", "hgb_profile", "hgb_graph", "ease", "lgbm_rank"}
        The ranker inside the scikit-learn pipeline (see :data:`RANKERS`). ``auto`` fits each
        on the training pairs of all but the latest period (or one fold), ranks the held-back
        period's candidates with it, and keeps the best by NDCG@10 (the table is kept in
        ``Matcher.selection_``), or ``ease`` where the best beats it by no more than one
        standard error; the chosen ranker is then fitted on every training pair.
    rankers : tuple of str or None
        The rankers ``auto`` compares (any of :data:`RANKERS`); None: those of
        :data:`AUTO_RANKERS`. A ranker that cannot run is left out (``lgbm_rank`` needs the
        optional lightgbm package; ``ease`` needs EASE). Where ``ease`` and a learned ranker
        are compared, their learned blend is too.
    max_selection_buyers : int
        Buyers whose candidates ``auto`` ranks to compare the rankers (a seeded sample).
    min_positives : int
        Below this many training links the documented rule-based prior ranks instead.
    max_training_pairs : int
        Positives are subsampled above this, which bounds fit time on large networks.
    max_training_buyers : int
        Training uses the links of at most this many buyers (a seeded sample).
    max_snapshots : int
        Dated links are grouped into at most this many periods; a period's links take their
        features from the links before the period starts.
    outcome_labels : bool
        Learn from recorded outcomes too: a pair that *met* or *contracted* (dated by its
        outcome) is a positive like a link, a pair whose last outcome is *declined* an explicit
        negative (even if it met before). Contacted and negotiating pairs are not labels (still
        open), but stay as features.
    collaborative : bool
        Use EASE (Steck 2019) as a candidate source and as features, solved per training
        snapshot so that a positive's own link never reaches its score.
    ease_l2 : float or None
        EASE's ridge penalty; None chooses it at fit time by inner validation on the links.
    ease_max_side : int
        EASE inverts a matrix the size of the smaller side of the network; above this many
        buyers *and* suppliers it is solved over this many most-linked suppliers only.
    rp3 : bool
        Also RP3beta (Paudel et al. 2016; alpha 1, beta 0.5, 100 neighbours) per snapshot, as
        features, over the suppliers EASE covers. Off by default: it raised inner-validation
        NDCG but lowered the held-out NDCG on four link-only worlds (see docs/matcher.md).
    min_score : float
        Candidates scoring below this are not suggested (a list may hold fewer than ``k``
        rows rather than filler). 0 keeps every candidate.
    precompute_k : int
        Rows kept per buyer by :meth:`Matcher.precompute` for serving from memory.
    random_state : int
        Seed for every sampling step.
    """

    max_candidates: int = 400
    graph_candidates: int = 150
    require_certifications: str = "soft"
    require_processes: str = "soft"
    require_capacity: str = "soft"
    max_distance_km: float | None = None
    negatives_per_positive: int = 12
    folds: int = 10
    training: str = "auto"
    model: str = "auto"
    rankers: tuple[str, ...] | None = None
    max_selection_buyers: int = 300
    min_positives: int = 20
    max_training_pairs: int = 60_000
    max_training_buyers: int = 2_000
    max_snapshots: int = 8
    outcome_labels: bool = True
    collaborative: bool = True
    ease_l2: float | None = None
    ease_max_side: int = 3000
    rp3: bool = False
    min_score: float = 0.001
    precompute_k: int = 50
    random_state: int = 0

    def __post_init__(self) -> None:
        for name in ("require_certifications", "require_processes", "require_capacity"):
            if getattr(self, name) not in {"soft", "hard"}:
                raise ValueError(f"{name} must be 'soft' or 'hard', not {getattr(self, name)!r}")
        if self.training not in {"auto", "temporal", "folds"}:
            raise ValueError(f"training must be auto, temporal or folds, not {self.training!r}")
        if self.model not in {"auto", *RANKERS}:
            raise ValueError(f"model must be 'auto' or one of {RANKERS}, not {self.model!r}")
        if self.rankers is not None:
            # A JSON or TOML file gives a list: kept as a tuple, so settings stay hashable.
            object.__setattr__(self, "rankers", tuple(self.rankers))
            unknown = [name for name in self.rankers if name not in RANKERS]
            if unknown or not self.rankers:
                raise ValueError(
                    f"rankers must name at least one of {RANKERS}, not {self.rankers!r}"
                )
        if not 0.0 <= self.min_score < 1.0:
            raise ValueError(f"min_score must be in [0, 1), not {self.min_score!r}")
        if self.ease_l2 is not None and not self.ease_l2 > 0:
            raise ValueError(f"ease_l2 must be positive, not {self.ease_l2!r}")
        for name in (
            "max_candidates",
            "negatives_per_positive",
            "folds",
            "precompute_k",
            "ease_max_side",
        ):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")

    @classmethod
    def from_file(cls, path: str | Path) -> MatcherSettings:
        """Read settings from a ``.json`` or ``.toml`` file; unknown keys are an error."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data: dict[str, Any] = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        data = data.get("matcher", data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    def replace(self, **changes: Any) -> MatcherSettings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)
