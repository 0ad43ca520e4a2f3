"""ketnoi.programme: what a supporting-industry programme does with matches.

Matchmaking events (who to invite, the schedule, its pictures), the feedback loop's conversion
report, localisation gaps, concentration and the programme's indicators. Uses
:mod:`ketnoi.matcher` and :mod:`ketnoi.graph`; never :mod:`ketnoi.api`.
"""

from ketnoi.programme._agenda import AgendaMeeting, FirmAgenda, agenda_text, firm_agendas
from ketnoi.programme._concentration import category_concentration, single_sourced, sole_suppliers
from ketnoi.programme._conversion import FUNNEL, backtest_rankings, conversion_report, pair_progress
from ketnoi.programme._event_notes import EventNote, note_in_language
from ketnoi.programme._event_participants import participants_from_frame, suggest_event_participants
from ketnoi.programme._event_spec import (
    EVENT_LIMITS,
    EventError,
    EventLimits,
    EventSpec,
    MeetingLock,
    Participant,
    check_participants,
    default_languages,
    parse_lock,
    participant_languages,
    read_locks,
    read_participants,
)
from ketnoi.programme._events import (
    NO_MEETING,
    UNMET_COLUMNS,
    EventSchedule,
    event_agendas,
    event_grid,
    schedule_event,
)
from ketnoi.programme._indicators import INDICATORS, ProgrammeTargets, programme_indicators
from ketnoi.programme._localisation import (
    LOCALISATION_GROUPS,
    demand_coverage,
    localisation,
    near_miss_targets,
    near_misses,
)
from ketnoi.programme._plot_events import (
    compare_schedules,
    meetings_per_firm,
    plot_meetings_per_firm,
    plot_schedule_comparison,
    plot_schedule_grid,
)
from ketnoi.programme._plot_programme import (
    plot_concentration,
    plot_localisation,
    plot_near_miss_gains,
    plot_programme_indicators,
    plot_sole_suppliers,
)
from ketnoi.programme._replan import CHANGE_COLUMNS, PublishedMeeting, StablePlan, stable_schedule
from ketnoi.programme._report_language import INDICATOR_NAMES, report_in_language
from ketnoi.programme._schedule import (
    InfeasibleLocks,
    MeetingInstance,
    ScheduleResult,
    greedy_schedule,
    optimal_schedule,
)

__all__ = [
    "NO_MEETING",
    "UNMET_COLUMNS",
    "CHANGE_COLUMNS",
    "PublishedMeeting",
    "StablePlan",
    "stable_schedule",
    "AgendaMeeting",
    "FirmAgenda",
    "agenda_text",
    "firm_agendas",
    "EVENT_LIMITS",
    "EventError",
    "EventLimits",
    "EventNote",
    "EventSchedule",
    "EventSpec",
    "FUNNEL",
    "INDICATORS",
    "INDICATOR_NAMES",
    "InfeasibleLocks",
    "LOCALISATION_GROUPS",
    "MeetingInstance",
    "MeetingLock",
    "Participant",
    "ProgrammeTargets",
    "ScheduleResult",
    "backtest_rankings",
    "category_concentration",
    "check_participants",
    "compare_schedules",
    "conversion_report",
    "default_languages",
    "demand_coverage",
    "event_agendas",
    "event_grid",
    "greedy_schedule",
    "localisation",
    "meetings_per_firm",
    "near_miss_targets",
    "near_misses",
    "note_in_language",
    "optimal_schedule",
    "pair_progress",
    "report_in_language",
    "parse_lock",
    "participant_languages",
    "participants_from_frame",
    "plot_concentration",
    "plot_localisation",
    "plot_meetings_per_firm",
    "plot_near_miss_gains",
    "plot_programme_indicators",
    "plot_schedule_comparison",
    "plot_schedule_grid",
    "plot_sole_suppliers",
    "programme_indicators",
    "read_locks",
    "read_participants",
    "schedule_event",
    "single_sourced",
    "sole_suppliers",
    "suggest_event_participants",
]
