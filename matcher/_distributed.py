"""Match lists in parts: one function, run in this process or on a Dask cluster.

A national register has more buyers than one machine ranks in good time, so a match list can be
cut into parts (:func:`plan_match_list`), each part a batch of buyers, and the parts handed to
Dask. Every part runs :func:`match_list_part`, and that is the single-machine code path: the
matcher ranks the part's buyers in its usual batches (``Matcher.precompute``) and
:func:`~ketnoi.matcher.build_match_list` derives their lists exactly as it does for a whole
dataset. Concatenated in part order, the parts are the match list ``build_match_list`` gives
in one call; a test holds the two against each other, with and without Dask.

On Dask (:func:`iter_match_list` with a ``client``), the fitted matcher is sent to the workers
once (``Client.scatter(..., broadcast=True)``; its answer cache is left behind), the plan too,
and each part is one task that names them. Parts come back as they finish; a task that fails
(an exception, a worker lost) is run again by Dask up to ``retries`` times, and since a part is
only handed out once its task has finished, a retried part is never written twice. The caller
writes each part to its own file (``part-00012.csv``), so a part written again replaces itself.

What does not split into parts is refused: the cap (``max_per_supplier`` is taken greedily in
rank order across every buyer's list at once) and suppliers' lists (ranked per supplier, over
all buyers).

Dask is an optional dependency (``pip install 'ketnoi[dask]'``); it is imported only when a
cluster is asked for.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketnoi.matcher._features import batch_size
from ketnoi.matcher._match_list import (
    MATCH_LIST_COLUMNS,
    MatchListSpec,
    build_match_list,
    declined_pairs,
)

if TYPE_CHECKING:
    from distributed import Client

    from ketnoi.matcher._model import Matcher

__all__ = [
    "MatchListPlan",
    "dask_client",
    "iter_match_list",
    "match_list_part",
    "parted_match_list",
    "plan_match_list",
]

Pair = tuple[str, str]


@dataclass(frozen=True)
class MatchListPlan:
    """A match list cut into parts of buyers, with what every part needs besides the matcher.

    Attributes
    ----------
    spec : MatchListSpec
        The whole list's spec (``buyer_ids`` as given; the parts name their own buyers).
    parts : tuple of tuple of str
        Buyer ids of each part, in the order their lists come.
    declined : frozenset of (buyer_id, supplier_id)
        Pairs left out because an outcome declined them.
    hidden : frozenset of str
        Firms never put on a list unless pinned.
    """

    spec: MatchListSpec
    parts: tuple[tuple[str, ...], ...]
    declined: frozenset[Pair]
    hidden: frozenset[str]

    def __len__(self) -> int:
        return len(self.parts)

    def part_spec(self, number: int) -> MatchListSpec:
        """The spec of part ``number``: its buyers, and the pins and blocks that concern them."""
        buyers = self.parts[number]
        mine = set(buyers)
        return dataclasses.replace(
            self.spec,
            buyer_ids=buyers,
            pins=tuple(p for p in self.spec.pins if p[0] in mine),
            blocks=tuple(p for p in self.spec.blocks if p[0] in mine),
        )


def plan_match_list(
    m: Matcher,
    spec: MatchListSpec,
    *,
    part_buyers: int | None = None,
    declined: Sequence[Pair] | None = None,
    hidden: Sequence[str] = (),
) -> MatchListPlan:
    """Cut the match list of ``spec`` into parts of at most ``part_buyers`` buyers.

    Parameters
    ----------
    m : Matcher
        A fitted matcher with its dataset bound.
    spec : MatchListSpec
        Buyers' lists only: no ``supplier_ids`` and no ``max_per_supplier`` (neither splits by
        buyer).
    part_buyers : int, optional
        Buyers per part; default the matcher's own ranking batch (256 buyers at most), so a part
        is one batch of the single-machine path.
    declined, hidden
        As :func:`~ketnoi.matcher.build_match_list` (default: the dataset's declined pairs).

    Raises
    ------
    ValueError
        The spec asks for something that does not split by buyer, or is invalid.
    KeyError
        A buyer the matcher does not know.
    """
    spec.check()
    if spec.max_per_supplier is not None:
        raise ValueError(
            "max_per_supplier cannot be split into parts: the cap is taken in rank order across "
            "every buyer's list at once; run the match list in one process"
        )
    if spec.supplier_ids:
        raise ValueError("only buyers' lists are split into parts; give no supplier_ids")
    path = m.ranking_
    positions = path.buyers(spec.buyer_ids)
    ids = path.index.buyer_ids.to_numpy()[positions].astype(str)
    if spec.buyer_ids is None:
        # As build_match_list over every buyer: pinned buyers the ranking does not cover come
        # after the others, in the last part.
        covered = set(ids)
        extra = [b for b in dict.fromkeys(p[0] for p in spec.pins) if b not in covered]
        path.buyer_positions(extra)  # an unknown pinned buyer fails here, not in a worker
        ids = np.concatenate([ids, np.array(extra, dtype=str)]) if extra else ids
    step = part_buyers or batch_size(path.index.n_buyers)
    if step < 1:
        raise ValueError("part_buyers must be at least 1")
    parts = tuple(tuple(ids[i : i + step].tolist()) for i in range(0, len(ids), step))
    return MatchListPlan(
        spec=spec,
        parts=parts,
        declined=frozenset(declined_pairs(m.dataset_) if declined is None else declined),
        hidden=frozenset(hidden),
    )


def match_list_part(m: Matcher, plan: MatchListPlan, number: int) -> pd.DataFrame:
    """The rows of part ``number``: the single-machine path on the part's buyers.

    The same function runs in this process and on a Dask worker. The matcher is not changed: a
    shallow copy (sharing the fitted scorer and the bound data) ranks the part's buyers in its
    own answer cache, deep enough for every list, and ``build_match_list`` reads them from it.
    """
    spec = plan.part_spec(number)
    fetch = max(3 * spec.k, spec.k + 20)  # as deep as build_match_list reads
    own = copy.copy(m)
    # Ranked rows are kept (and their reasons written) exactly as deep as the list reads, as
    # ``Matcher.match_list`` does for the one-call path: no deeper, or every part pays for
    # reasons nobody reads.
    own.settings = dataclasses.replace(m.settings_, precompute_k=fetch)
    own.rankings_ = {}
    own.precompute(spec.buyer_ids, languages=(spec.lang,))
    return build_match_list(own, spec, declined=plan.declined, hidden=plan.hidden)


def _serving_copy(m: Matcher) -> Matcher:
    """``m`` without its answer cache: what is sent to the workers."""
    light = copy.copy(m)
    light.rankings_ = {}
    return light


def iter_match_list(
    m: Matcher,
    plan: MatchListPlan,
    *,
    client: Client | None = None,
    skip: Sequence[int] = (),
    retries: int = 2,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Each part's number and rows, as the parts finish.

    Parameters
    ----------
    m : Matcher
        A fitted matcher with its dataset bound.
    plan : MatchListPlan
        From :func:`plan_match_list`.
    client : distributed.Client, optional
        Run the parts on this Dask cluster (see :func:`dask_client`); default one after another
        in this process.
    skip : sequence of int
        Parts not to run (already written by an earlier, interrupted run).
    retries : int
        Times Dask runs a failed part again before the error is raised here.

    Yields
    ------
    (int, DataFrame)
        Part number and its rows (:data:`~ketnoi.matcher.MATCH_LIST_COLUMNS`); on Dask in the
        order the parts finish, else in part order. Each part is yielded once.
    """
    todo = [n for n in range(len(plan)) if n not in set(skip)]
    if client is None:
        for number in todo:
            yield number, match_list_part(m, plan, number)
        return
    from distributed import as_completed

    # Sent once, to every worker; each task names the copies instead of carrying them.
    # hash=False: keys of this run only, so that an earlier run's release never drops them.
    [shared_matcher, shared_plan] = client.scatter(
        [_serving_copy(m), plan], broadcast=True, hash=False
    )
    futures = {
        client.submit(
            match_list_part, shared_matcher, shared_plan, number, retries=retries, pure=False
        ): number
        for number in todo
    }
    try:
        for future in as_completed(futures):
            yield futures[future], future.result()
            future.release()  # the part's rows leave the cluster once handed out
    finally:
        client.cancel(list(futures))


def parted_match_list(
    m: Matcher,
    plan: MatchListPlan,
    *,
    client: Client | None = None,
    progress: Callable[[int, int], None] | None = None,
    retries: int = 2,
) -> pd.DataFrame:
    """The whole match list of ``plan``, its parts in order (for lists that fit in memory).

    Equal, row for row, to ``build_match_list(m, plan.spec, declined=plan.declined,
    hidden=plan.hidden)``, whichever engine runs the parts.
    """
    parts: dict[int, pd.DataFrame] = {}
    for number, rows in iter_match_list(m, plan, client=client, retries=retries):
        parts[number] = rows
        if progress is not None:
            progress(len(parts), len(plan))
    if not parts:
        empty = pd.DataFrame([], columns=MATCH_LIST_COLUMNS)
        return empty.astype({"tier": "int64", "rank": "int64", "score": float, "pinned": bool})
    return pd.concat([parts[n] for n in sorted(parts)], ignore_index=True)


@contextmanager
def dask_client(
    address: str | None = None, *, n_workers: int | None = None, processes: bool = True
) -> Iterator[Client]:
    """A Dask client: of the cluster at ``address``, or of a new local cluster on 127.0.0.1.

    Parameters
    ----------
    address : str, optional
        A running scheduler (``tcp://host:8786``). None: start a ``LocalCluster`` on the
        loopback interface (its HTTP routes on a free loopback port), closed on leaving the block.
    n_workers : int, optional
        Workers of the local cluster (default: one per core), one thread each: the ranking is
        numpy- and pandas-bound Python, so processes, not threads, use the cores.
    processes : bool
        Workers as processes (True) or threads of this process (tests).
    """
    from distributed import Client, LocalCluster

    if address is not None:
        with Client(address) as client:
            _warm(client)
            yield client
        return
    options: dict[str, Any] = {
        "threads_per_worker": 1,
        "processes": processes,
        # The scheduler's HTTP routes on the loopback interface and a free port: never the
        # default 8787 another cluster (or another engineer's test) may hold.
        "dashboard_address": "127.0.0.1:0",
    }
    if processes:  # threads talk in-process (inproc://): no socket to bind
        options["host"] = "127.0.0.1"
    if n_workers is not None:
        options["n_workers"] = n_workers
    with LocalCluster(**options) as cluster, Client(cluster) as client:
        _warm(client)
        yield client


def _warm(client: Client) -> None:
    # The library is imported on every worker as the cluster starts, not by the first part
    # each worker runs (seconds of imports that would read as ranking time).
    client.run(importlib.import_module, "ketnoi.matcher")
