"""The feedback loop's report: what came of the pairs ketnoi recommended.

Outcomes are recorded per pair (contacted, met, negotiating, contracted, declined), usually with
the matchmaking event they came from. The conversion report counts, per event and overall, how
far the pairs got, and how many of them ketnoi had ranked, and how high: *how many contracts
came from pairs ketnoi ranked in the top 10*.

A ranking counts for a pair only if it existed before the pair's first outcome. Two sources:

- the match lists staff actually handed out (the service keeps every one, with its time);
- :func:`backtest_rankings`, which refits the matcher on the data as it stood at the start of
  each event's year and ranks the suppliers of that event's buyers: what ketnoi *would* have
  said, without hindsight, for outcomes recorded before ketnoi was in use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.matcher import Matcher, MatcherSettings

__all__ = ["FUNNEL", "backtest_rankings", "conversion_report", "pair_progress"]

#: The stages of a pair, in order; a pair that reached a stage counts in every earlier one.
FUNNEL: tuple[str, ...] = ("contacted", "met", "negotiating", "contracted")

#: Label of outcomes recorded without an event, and of the all-events row.
NO_EVENT = "(no event)"
ALL_EVENTS = "all"

_KEY = ["event_id", "buyer_id", "supplier_id"]


def _dates(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column.replace("", None), errors="coerce")


def pair_progress(outcomes: pd.DataFrame) -> pd.DataFrame:
    """How far each pair got at each event: one row per (event, buyer, supplier).

    Parameters
    ----------
    outcomes : DataFrame
        The outcomes frame of a dataset (``supplier_id, buyer_id, outcome, date, event_id``).

    Returns
    -------
    DataFrame
        ``event_id`` (:data:`NO_EVENT` where empty), ``buyer_id``, ``supplier_id``,
        ``stage`` (the furthest :data:`FUNNEL` stage reached, ``""`` if none), ``declined``
        (the pair's last outcome is a refusal), ``first_date`` (its first dated outcome, NaT
        if none) and ``event_start`` (the first dated outcome of its event).

    Examples
    --------
    >>> frame = pd.DataFrame({"supplier_id": ["S", "S"], "buyer_id": ["B", "B"],
    ...     "outcome": ["met", "contracted"], "date": ["2024-01-02", "2024-03-01"],
    ...     "event_id": ["ev", "ev"]})
    >>> pair_progress(frame)[["event_id", "stage", "declined"]].to_dict("records")
    [{'event_id': 'ev', 'stage': 'contracted', 'declined': False}]
    """
    columns = [*_KEY, "stage", "declined", "first_date", "event_start"]
    if outcomes is None or outcomes.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "event_id": outcomes["event_id"].fillna("").replace("", NO_EVENT).astype(str),
            "buyer_id": outcomes["buyer_id"].astype(str),
            "supplier_id": outcomes["supplier_id"].astype(str),
            "outcome": outcomes["outcome"].astype(str),
            "date": _dates(outcomes["date"]),
            "order": np.arange(len(outcomes)),
        }
    )
    level = {stage: i + 1 for i, stage in enumerate(FUNNEL)}
    frame["level"] = frame["outcome"].map(level).fillna(0).astype(int)
    # The last outcome decides a refusal: dated outcomes by date, ties and undated ones in the
    # order they were recorded (outcomes are appended, never rewritten).
    ordered = frame.sort_values(["date", "order"], na_position="first", kind="stable")
    grouped = ordered.groupby(_KEY, sort=True)
    result = pd.DataFrame(
        {
            "level": grouped["level"].max(),
            "declined": grouped["outcome"].last() == "declined",
            "first_date": grouped["date"].min(),
        }
    ).reset_index()
    names = np.array(["", *FUNNEL], dtype=object)
    result["stage"] = names[result.pop("level").to_numpy()]
    starts = frame.groupby("event_id")["date"].min()
    result["event_start"] = result["event_id"].map(starts)
    result.loc[result["event_id"] == NO_EVENT, "event_start"] = result["first_date"]
    return result[columns]


def _best_rank(pairs: pd.DataFrame, rankings: pd.DataFrame | None) -> pd.Series:
    """The best rank each pair had in a ranking made before its first outcome (NaN if none)."""
    if rankings is None or rankings.empty or pairs.empty:
        return pd.Series(np.nan, index=pairs.index)
    ranks = rankings.copy()
    keys = ["buyer_id", "supplier_id"]
    if "cutoff" in ranks.columns:
        # Backtest rankings: the one fitted for the year the pair's event started.
        pairs = pairs.assign(cutoff=pairs["event_start"].dt.year.astype("Int64"))
        ranks["cutoff"] = ranks["cutoff"].astype("Int64")
        keys = [*keys, "cutoff"]
    if "event_id" in ranks.columns:
        keys = [*keys, "event_id"]
    joined = pairs.reset_index()[["index", *keys, "first_date"]].merge(
        ranks[[*keys, "rank", *(["as_of"] if "as_of" in ranks.columns else [])]], on=keys
    )
    if "as_of" in joined.columns:
        as_of = pd.to_datetime(joined["as_of"], utc=True).dt.tz_localize(None).dt.normalize()
        # A ranking made after the pair's first outcome cannot have led to it. Outcomes are
        # dated by the day, so a list made on the day of the outcome counts; an undated
        # outcome cannot be placed, and counts.
        joined = joined[~(as_of > joined["first_date"])]
    best = joined.groupby("index")["rank"].min()
    return best.reindex(pairs.index)


def conversion_report(
    outcomes: pd.DataFrame,
    rankings: pd.DataFrame | None = None,
    *,
    k: int = 10,
    meetings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per event and overall: how many pairs met, negotiated and contracted, and how many of
    them ketnoi had recommended (ranked in its top ``k``) before.

    Parameters
    ----------
    outcomes : DataFrame
        A dataset's outcomes.
    rankings : DataFrame, optional
        Recommendations made before the outcomes: ``buyer_id, supplier_id, rank``, and
        optionally ``event_id`` (ranks made for that event), ``cutoff`` (the year of the data
        a backtest fitted on, see :func:`backtest_rankings`) and ``as_of`` (when the ranking
        was made: a ranking made after a pair's first outcome does not count for it).
    k : int
        A pair is *recommended* when its best rank is at most ``k``.
    meetings : DataFrame, optional
        Meetings ketnoi scheduled at matchmaking events: ``buyer_id, supplier_id`` and
        optionally ``as_of`` (when the schedule was made; the same rule as for rankings).

    Returns
    -------
    DataFrame
        One row per event (by start date), then the ``all`` row. Columns: ``event_id``,
        ``start``, ``pairs``, then for each funnel stage the pairs that reached it, ``declined``;
        ``recommended`` (pairs ranked in the top ``k``) and the recommended pairs that reached
        each of met, negotiating and contracted; ``contracts_from_top_k`` and its share of all
        contracts, and the contract rates of recommended and other pairs; ``scheduled`` (pairs
        ketnoi scheduled to meet) and the scheduled pairs that met and contracted.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    pairs = pair_progress(outcomes)
    pairs["rank"] = _best_rank(pairs, rankings)
    pairs["recommended"] = pairs["rank"] <= k
    if meetings is not None and not meetings.empty:
        # A scheduled meeting is a ranking of its own: rank 1 for the pair, at that time.
        placed = meetings.assign(rank=1)
        pairs["scheduled"] = _best_rank(pairs, placed.drop(columns="cutoff", errors="ignore"))
        pairs["scheduled"] = pairs["scheduled"].notna()
    else:
        pairs["scheduled"] = False
    level = {stage: i + 1 for i, stage in enumerate(FUNNEL)}
    reached = pairs["stage"].map(level).fillna(0).astype(int)
    for stage in FUNNEL:
        pairs[stage] = reached >= level[stage]

    def summarise(group: pd.DataFrame, event: str) -> dict[str, object]:
        rec = group[group["recommended"]]
        others = group[~group["recommended"]]
        contracted = int(group["contracted"].sum())
        top = int(rec["contracted"].sum())
        start = group["event_start"].min()
        return {
            "event_id": event,
            "start": start.date().isoformat() if pd.notna(start) else "",
            "pairs": len(group),
            **{stage: int(group[stage].sum()) for stage in FUNNEL},
            "declined": int(group["declined"].sum()),
            "ranked": int(group["rank"].notna().sum()),
            "recommended": len(rec),
            "recommended_met": int(rec["met"].sum()),
            "recommended_negotiating": int(rec["negotiating"].sum()),
            "recommended_contracted": top,
            "contracts_from_top_k": top,
            "share_of_contracts_from_top_k": top / contracted if contracted else np.nan,
            "contract_rate_recommended": top / len(rec) if len(rec) else np.nan,
            "contract_rate_other": (float(others["contracted"].mean()) if len(others) else np.nan),
            "scheduled": int(group["scheduled"].sum()),
            "scheduled_met": int((group["scheduled"] & group["met"]).sum()),
            "scheduled_contracted": int((group["scheduled"] & group["contracted"]).sum()),
        }

    rows = []
    order = (
        pairs.groupby("event_id")["event_start"].min().sort_values(na_position="last").index
        if len(pairs)
        else []
    )
    for event in order:
        rows.append(summarise(pairs[pairs["event_id"] == event], str(event)))
    rows.append(summarise(pairs, ALL_EVENTS))
    return pd.DataFrame(rows)


def backtest_rankings(
    dataset: graph.Dataset,
    *,
    k: int = 50,
    settings: MatcherSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """What ketnoi would have recommended to each event's buyers, without hindsight.

    For every year in which an outcome was recorded, the matcher is fitted on the data as it
    stood at the start of that year (links since an earlier year, or undated; outcomes dated
    before it) and ranks the top ``k`` new suppliers of every buyer with an outcome that year.

    Parameters
    ----------
    dataset : graph.Dataset
    k : int
        Rows kept per buyer.
    settings : MatcherSettings, optional
    progress : callable, optional
        Called with (years done, years) after each fit.

    Returns
    -------
    DataFrame
        ``cutoff`` (the year), ``buyer_id``, ``supplier_id``, ``rank``, ``score``; pass it to
        :func:`conversion_report`.
    """
    columns = ["cutoff", "buyer_id", "supplier_id", "rank", "score"]
    pairs = pair_progress(dataset.outcomes)
    pairs = pairs[pairs["event_start"].notna()]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    years = sorted(int(y) for y in pairs["event_start"].dt.year.unique())
    since = dataset.links["since"].to_numpy(dtype=float, na_value=np.nan)
    outcome_years = _dates(dataset.outcomes["date"]).dt.year
    frames = []
    for done, year in enumerate(years, start=1):
        links = dataset.links[~(since >= year)].reset_index(drop=True)
        outcomes = dataset.outcomes[(outcome_years < year).fillna(False).to_numpy()]
        past = dataclasses.replace(dataset, links=links, outcomes=outcomes.reset_index(drop=True))
        fitted = Matcher(settings).fit(past)
        buyers = sorted(set(pairs.loc[pairs["event_start"].dt.year == year, "buyer_id"]))
        known = [b for b in buyers if b in set(fitted.index_.buyer_ids)]
        ranked = fitted.match_list(known, k)
        frames.append(ranked[["buyer_id", "supplier_id", "rank", "score"]].assign(cutoff=year))
        if progress is not None:
            progress(done, len(years))
    return pd.concat(frames, ignore_index=True)[columns]
