"""ketnoi.matcher: candidates, the learned scorer, recommendations, explanations, evaluation.

Uses :mod:`graph`; never :mod:`api`.
"""

from ketnoi.matcher._distributed import (
    MatchListPlan,
    dask_client,
    iter_match_list,
    match_list_part,
    parted_match_list,
    plan_match_list,
)
from ketnoi.matcher._evaluate import (
    METRICS,
    EvaluationResult,
    WithoutOutcomes,
    evaluate,
    split_random,
    split_temporal,
)
from ketnoi.matcher._evaluate import default_methods as evaluation_methods
from ketnoi.matcher._explain import PRIVATE_FEATURES, disclose_explanation, reasons_for_pairs
from ketnoi.matcher._feature_names import FEATURE_NAMES, feature_name
from ketnoi.matcher._features import FEATURES
from ketnoi.matcher._incremental import (
    RULES,
    RankingState,
    affected_buyers,
    full_rankings,
    rescore,
    served_matcher,
)
from ketnoi.matcher._match_list import (
    MATCH_LIST_COLUMNS,
    MatchListSpec,
    build_match_list,
    declined_pairs,
    pick_capped,
)
from ketnoi.matcher._metrics import (
    auc,
    catalogue_coverage,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    reliability_curve,
)
from ketnoi.matcher._model import RECOMMENDATION_COLUMNS, Matcher
from ketnoi.matcher._persist import ModelFileError, load_matcher
from ketnoi.matcher._plot import (
    explanation_text,
    feature_importance,
    plot_evaluation,
    plot_explanation,
    plot_feature_importance,
    plot_recall_curve,
    plot_reliability,
    recall_curve,
)
from ketnoi.matcher._reasons import (
    DISCLOSURES,
    Disclosure,
    country_adjective,
    disclose_reasons,
    number,
    running_text,
)
from ketnoi.matcher._scorer import PRIOR_WEIGHTS
from ketnoi.matcher._settings import RANKERS, MatcherSettings
from ketnoi.matcher._terms import TERMS_VI, term_vi, terms_in_vietnamese, vietnamese_names

__all__ = [
    "DISCLOSURES",
    "Disclosure",
    "PRIVATE_FEATURES",
    "disclose_explanation",
    "disclose_reasons",
    "country_adjective",
    "number",
    "reasons_for_pairs",
    "running_text",
    "TERMS_VI",
    "term_vi",
    "terms_in_vietnamese",
    "vietnamese_names",
    "EvaluationResult",
    "FEATURES",
    "FEATURE_NAMES",
    "feature_name",
    "MATCH_LIST_COLUMNS",
    "METRICS",
    "MatchListPlan",
    "MatchListSpec",
    "Matcher",
    "MatcherSettings",
    "RANKERS",
    "ModelFileError",
    "PRIOR_WEIGHTS",
    "RECOMMENDATION_COLUMNS",
    "RULES",
    "RankingState",
    "affected_buyers",
    "full_rankings",
    "rescore",
    "served_matcher",
    "WithoutOutcomes",
    "auc",
    "build_match_list",
    "dask_client",
    "iter_match_list",
    "match_list_part",
    "parted_match_list",
    "plan_match_list",
    "catalogue_coverage",
    "declined_pairs",
    "evaluate",
    "evaluation_methods",
    "explanation_text",
    "feature_importance",
    "load_matcher",
    "ndcg_at_k",
    "pick_capped",
    "plot_evaluation",
    "plot_explanation",
    "plot_feature_importance",
    "plot_recall_curve",
    "plot_reliability",
    "precision_at_k",
    "recall_at_k",
    "recall_curve",
    "reciprocal_rank",
    "reliability_curve",
    "split_random",
    "split_temporal",
]
