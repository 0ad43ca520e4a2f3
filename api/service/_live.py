"""The served scorer on the database's current rows: new and changed firms without a retrain.

The fitted model keeps its scorer until the next retrain, but the firms, demands, capabilities
and links it scores are the database's as they are now: after a write, the next question binds
the same scorer to the current rows (:meth:`ketnoi.matcher.Matcher.bind`), so a firm added
through the API is a supplier or a buyer at once, and a new certification counts at once.

Binding costs about a second on the demo world (more on large networks), so it happens at most
every :data:`LIVE_MIN_SECONDS`, except when the question names a firm the bound data lacks.

A binding rescores incrementally (:func:`ketnoi.matcher.rescore`): the model's global matrices
stay as the fit saw them, the buyers whose lists the writes since the last binding can touch
are ranked again, and every other buyer keeps its precomputed answer, so a write does not send
every later question to the slow live ranking. The first write after a model is served ranks
every buyer once, to learn the lists' candidates and neighbours. A change to the categories or
the parks needs a retrain: the data are then bound as before, without the precomputed answers.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
import warnings
from dataclasses import dataclass

from sqlalchemy import Engine

from ketnoi import graph, matcher
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.storage import dataset_from_db, write_generation

__all__ = ["LIVE_MIN_SECONDS", "LiveModel", "live_matcher"]

#: Seconds between two bindings to the current rows while writes keep coming.
LIVE_MIN_SECONDS = 5.0


@dataclass(frozen=True)
class LiveModel:
    """The served scorer bound to the rows of one write generation."""

    matcher: matcher.Matcher
    generation: int
    at: float
    stamp: int  # distinct per binding, for caches keyed on the bound data


_live: dict[tuple[int, str], LiveModel] = {}
# Per served model (and database), the rankings of its last binding, to rescore from.
_states: dict[tuple[int, str], matcher.RankingState] = {}
_lock = threading.Lock()
_stamps = itertools.count(1)


def _knows(m: matcher.Matcher, firm_ids: tuple[str, ...]) -> bool:
    index = m.index_
    return all(f in index.buyer_ids or f in index.supplier_ids for f in firm_ids)


def live_matcher(served: ServedModel, engine: Engine, firm_ids: tuple[str, ...] = ()) -> LiveModel:
    """The served scorer bound to the current rows of ``engine``'s database.

    Parameters
    ----------
    served : ServedModel
    engine : Engine
    firm_ids : tuple of str
        The firms the question names: one the bound data lacks forces a new binding after a
        write, however recent the last one.
    """
    key = (id(engine), served.version)
    generation = write_generation(engine)
    now = time.monotonic()
    with _lock:
        hit = _live.get(key)
    if hit is None:
        # First sight of this model: whether rows changed since its fit is checked once below
        # (generation -1 never matches, and the binding is "long ago").
        hit = LiveModel(served.matcher, -1, -float("inf"), 0)
        with _lock:
            _live[key] = hit
    if hit.generation == generation:
        return hit
    if now - hit.at < LIVE_MIN_SECONDS and _knows(hit.matcher, firm_ids):
        return hit
    with _lock:  # one binding at a time; a request that waited finds it done
        hit = _live[key]
        if hit.generation == write_generation(engine):
            return hit
        generation = write_generation(engine)
        try:
            dataset = dataset_from_db(engine)
        except graph.DatasetError:
            # Rows that do not form a valid dataset (mid-edit): keep answering from the last
            # good binding rather than fail every question.
            return hit
        fingerprint = dataset.fingerprint()
        if fingerprint == served.matcher.data_fingerprint_:
            bound = served.matcher
        else:
            bound = _rescored(served, key, dataset, fingerprint)
        hit = LiveModel(bound, generation, time.monotonic(), next(_stamps))
        for other in [k for k in _live if k[0] == id(engine) and k != key]:
            del _live[other]  # an older served version's binding
            _states.pop(other, None)
        _live[key] = hit
    return hit


def _rescored(
    served: ServedModel, key: tuple[int, str], dataset: graph.Dataset, fingerprint: str
) -> matcher.Matcher:
    """The served scorer on ``dataset``, answers precomputed: the buyers the changes since the
    last binding can touch ranked again, the others' answers kept."""
    state = _states.get(key)
    try:
        if state is None:
            k = served.matcher.settings_.precompute_k
            state = matcher.full_rankings(served.matcher, k=k)
        state = matcher.rescore(state, dataset)
    except ValueError:
        # The categories or the parks changed: the frozen matrices do not fit them.
        _states.pop(key, None)
        bound = copy.copy(served.matcher)
        with warnings.catch_warnings():
            # bind() warns that the data differ from the training data: that is the point.
            warnings.simplefilter("ignore")
            bound.bind(dataset)
        return bound
    _states[key] = state
    return matcher.served_matcher(state, dataset, fingerprint)
