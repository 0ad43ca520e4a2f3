"""ketnoi.matcher: candidates, the learned scorer, recommendations, explanations, evaluation.

Uses :mod:`graph`; never :mod:`api`.
"""

from ketnoi.matcher._conversion import FUNNEL, backtest_rankings, conversion_report, pair_progress
from ketnoi.matcher._evaluate import (
    METRICS,
    EvaluationResult,
    WithoutOutcomes,
    evaluate,
    split_random,
    split_temporal,
)
from ketnoi.matcher._evaluate import default_methods as evaluation_methods
from ketnoi.matcher._event_participants import participants_from_frame, suggest_event_participants
from ketnoi.matcher._events import (
    EventError,
    EventSchedule,
    EventSpec,
    MeetingLock,
    Participant,
    check_participants,
    default_languages,
    event_agendas,
    event_grid,
    parse_lock,
    read_locks,
    read_participants,
    schedule_event,
)
from ketnoi.matcher._features import FEATURES
from ketnoi.matcher._metrics import (
    auc,
    catalogue_coverage,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    reliability_curve,
)
from ketnoi.matcher._model import (
    PRIOR_WEIGHTS,
    RECOMMENDATION_COLUMNS,
    Matcher,
    ModelFileError,
    load_matcher,
)
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
from ketnoi.matcher._plot_events import (
    compare_schedules,
    meetings_per_firm,
    plot_meetings_per_firm,
    plot_schedule_comparison,
    plot_schedule_grid,
)
from ketnoi.matcher._schedule import (
    EventProblem,
    InfeasibleLocks,
    ScheduleResult,
    greedy_schedule,
    optimal_schedule,
)
from ketnoi.matcher._settings import MatcherSettings

__all__ = [
    "EvaluationResult",
    "EventError",
    "EventProblem",
    "EventSchedule",
    "EventSpec",
    "FEATURES",
    "FUNNEL",
    "InfeasibleLocks",
    "METRICS",
    "Matcher",
    "MatcherSettings",
    "MeetingLock",
    "ModelFileError",
    "PRIOR_WEIGHTS",
    "Participant",
    "RECOMMENDATION_COLUMNS",
    "ScheduleResult",
    "WithoutOutcomes",
    "auc",
    "backtest_rankings",
    "catalogue_coverage",
    "check_participants",
    "compare_schedules",
    "conversion_report",
    "default_languages",
    "evaluate",
    "evaluation_methods",
    "event_agendas",
    "event_grid",
    "explanation_text",
    "feature_importance",
    "greedy_schedule",
    "load_matcher",
    "meetings_per_firm",
    "ndcg_at_k",
    "optimal_schedule",
    "pair_progress",
    "parse_lock",
    "participants_from_frame",
    "plot_evaluation",
    "plot_explanation",
    "plot_feature_importance",
    "plot_meetings_per_firm",
    "plot_recall_curve",
    "plot_reliability",
    "plot_schedule_comparison",
    "plot_schedule_grid",
    "precision_at_k",
    "read_locks",
    "read_participants",
    "recall_at_k",
    "recall_curve",
    "reciprocal_rank",
    "reliability_curve",
    "schedule_event",
    "split_random",
    "split_temporal",
    "suggest_event_participants",
]
