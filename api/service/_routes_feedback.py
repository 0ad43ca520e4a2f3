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
from ketnoi.api._progress import BACKTEST_STEP
from ketnoi.api.service._deps import DatasetDep, EngineDep, ReaderKey
from ketnoi.api.service._files import (
    FILE_RESPONSES,
    FileOptions,
    FileQuery,
    json_or_file,
    records,
)
from ketnoi.api.service._jobs import JobResult, Progress, RunnerDep, accepted
from ketnoi.api.service._routes_jobs import ACCEPTED
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


def _backtest(dataset: Any, progress: Any = None) -> pd.DataFrame:
    key = (dataset.fingerprint(), _BACKTEST_K)
    with _BACKTESTS_LOCK:
        if key in _BACKTESTS:
            return _BACKTESTS[key]
        rankings = programme.backtest_rankings(dataset, k=_BACKTEST_K, progress=progress)
        _BACKTESTS[key] = rankings
        while len(_BACKTESTS) > 4:
            _BACKTESTS.popitem(last=False)
        return rankings


def _report(engine: Any, dataset: Any, rankings: pd.DataFrame, k: int) -> pd.DataFrame:
    meetings = scheduled_meetings(engine).drop(columns="event")
    return programme.conversion_report(dataset.outcomes, rankings, k=k, meetings=meetings)


@router.get(
    "/conversion",
    response_model=ConversionReport,
    responses={**FILE_RESPONSES, **ACCEPTED},
    summary="Conversion report: what came of the recommended pairs",
)
def conversion(
    dataset: DatasetDep,
    engine: EngineDep,
    runner: RunnerDep,
    key: ReaderKey,
    k: Annotated[int, Query(ge=1, le=_BACKTEST_K, description="Top-k cut-off.")] = 10,
    source: Annotated[
        Literal["match-lists", "backtest"],
        Query(description="Rankings credited: saved match lists, or a backtest (a job: 202)."),
    ] = "match-lists",
    format: FileQuery = FileOptions(),
) -> Any:
    """Per event and overall: pairs that met, negotiated and contracted, and the contracts from
    pairs ranked in the top ``k`` (staff, analyst).

    ``source=backtest`` refits the matcher once per year of outcomes: it is a job (``202``
    with ``Location: /v1/jobs/{id}``; the report, in any ``format``, at the job's
    ``result_url`` once finished)."""
    if source == "backtest":

        def work(progress: Progress) -> JobResult:
            progress.step(BACKTEST_STEP)
            report = _report(engine, dataset, _backtest(dataset, progress), k)
            body = {"k": k, "source": source, "events": records(report)}
            return JobResult(body=body, tables={"conversion": records(report)})

        params = {"k": k, "source": source}
        fingerprint = dataset.fingerprint()
        job = runner.submit(
            "backtest", key, work, params=params, dedup_key=f"backtest:{fingerprint}:{k}"
        )
        return accepted(job, runner)
    report = _report(engine, dataset, match_list_rankings(engine), k)
    return json_or_file(
        format,
        "conversion",
        {"conversion": report},
        lambda: {"k": k, "source": source, "events": records(report)},
    )
