"""ketnoi.matcher: candidates, the learned scorer, recommendations, explanations, evaluation.

Uses :mod:`graph`; never :mod:`api`.
"""

from ._features import FEATURES
from ._model import (
    PRIOR_WEIGHTS,
    RECOMMENDATION_COLUMNS,
    Matcher,
    ModelFileError,
    load_matcher,
)
from ._settings import MatcherSettings

__all__ = [
    "FEATURES",
    "PRIOR_WEIGHTS",
    "RECOMMENDATION_COLUMNS",
    "Matcher",
    "MatcherSettings",
    "ModelFileError",
    "load_matcher",
]
