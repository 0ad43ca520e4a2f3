"""The feedback loop: the conversion report (staff and analysts).

Outcomes are recorded through ``/v1/outcomes``; retraining (``POST /v1/model/retrain``) learns
from them. This route reports what came of the pairs ketnoi recommended: per event and
overall, how many met, negotiated and contracted, and how many contracts came from pairs ranked
in the top k, either by the match lists staff saved (``source=match-lists``: only lists made
before a pair's first outcome count) or by a backtest that refits the matcher on the data as it
stood before each year's events (``source=backtest``); and how many met at a saved event's
schedule (``/v1/events``) made before their first outcome.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ketnoi import programme
from ketnoi.api.service._deps import DatasetDep, EngineDep, ReaderKey
from ketnoi.api.service._files import (
    FILE_RESPONSES,
    FileOptions,
    FileQuery,
    json_or_file,
    records,
)
from ketnoi.api.storage import match_list_rankings, scheduled_meetings

__all__ = ["router"]

router = APIRouter(prefix="/v1/programme", tags=["feedback"])

# A backtest refits the matcher once per year of outcomes (seconds on the demo world): keep the
# last few, keyed by the data they were made from.
_BACKTESTS: OrderedDict[tuple[str, int], pd.DataFrame] = OrderedDict()
_BACKTESTS_LOCK = threading.Lock()
_BACKTEST_K = 50


class ConversionRow(BaseModel):
    """One event (or ``all``): how far its pairs got, and how many ketnoi ranked in its top k."""

    event_id: str
    start: str = Field(description="First outcome date of the event (ISO).")
    pairs: int
    contacted: int
    met: int
    negotiating: int
    contracted: int
    declined: int
    ranked: int = Field(description="Pairs ranked at all before their first outcome.")
    recommended: int = Field(description="Pairs ranked in the top k.")
    recommended_met: int
    recommended_negotiating: int
    recommended_contracted: int
    contracts_from_top_k: int
    share_of_contracts_from_top_k: float | None
    contract_rate_recommended: float | None
    contract_rate_other: float | None
    scheduled: int = Field(description="Pairs ketnoi scheduled to meet at a saved event, before.")
    scheduled_met: int
    scheduled_contracted: int


class ConversionReport(BaseModel):
    k: int
    source: Literal["match-lists", "backtest"]
    events: list[ConversionRow]


def _backtest(dataset: Any) -> pd.DataFrame:
    key = (dataset.fingerprint(), _BACKTEST_K)
    with _BACKTESTS_LOCK:
        if key in _BACKTESTS:
            return _BACKTESTS[key]
        rankings = programme.backtest_rankings(dataset, k=_BACKTEST_K)
        _BACKTESTS[key] = rankings
        while len(_BACKTESTS) > 4:
            _BACKTESTS.popitem(last=False)
        return rankings


@router.get(
    "/conversion",
    response_model=ConversionReport,
    responses=FILE_RESPONSES,
    summary="Conversion report: what came of the recommended pairs",
)
def conversion(
    dataset: DatasetDep,
    engine: EngineDep,
    key: ReaderKey,
    k: Annotated[int, Query(ge=1, le=_BACKTEST_K, description="Top-k cut-off.")] = 10,
    source: Annotated[
        Literal["match-lists", "backtest"],
        Query(description="Rankings credited: saved match lists, or a backtest."),
    ] = "match-lists",
    format: FileQuery = FileOptions(),
) -> Any:
    """Per event and overall: pairs that met, negotiated and contracted, and the contracts from
    pairs ranked in the top ``k`` (staff, analyst)."""
    rankings = match_list_rankings(engine) if source == "match-lists" else _backtest(dataset)
    meetings = scheduled_meetings(engine).drop(columns="event")
    report = programme.conversion_report(dataset.outcomes, rankings, k=k, meetings=meetings)
    return json_or_file(
        format,
        "conversion",
        {"conversion": report},
        lambda: {"k": k, "source": source, "events": records(report)},
    )
