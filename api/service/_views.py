"""The served model as a firm key may see it: other firms' confidential demands left out.

A firm key is answered from the same fitted scorer bound to the served data without the
confidential demands of any other firm (its own kept), so that what it reads (scores, ranks,
orderings, reasons, explanations, chains) is computed as if those demands did not exist, and
nothing it can compare tells it that one does. Staff and analysts are answered from the
served model itself.

A view is bound on first use and kept (:data:`VIEW_CACHE_SIZE` of them, least recently used
out); a firm without confidential demands of its own shares the view of every such firm. A
demand made confidential since the fit is left out at once (the database's confidential
demands are read again after every write, at most every :data:`SECRETS_CACHE_SECONDS`).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
import warnings
from collections import OrderedDict

from sqlalchemy import Engine

from ketnoi import matcher
from ketnoi.api.service._access import is_reader
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.service._live import live_matcher
from ketnoi.api.service._memo import remembered
from ketnoi.api.storage import KeyInfo, confidential_demands, write_generation

__all__ = ["SECRETS_CACHE_SECONDS", "VIEW_CACHE_SIZE", "matcher_for"]

#: Views kept bound at once (each holds its own index and link snapshot).
VIEW_CACHE_SIZE = 8
#: Seconds the database's set of confidential demands is reused between writes.
SECRETS_CACHE_SECONDS = 2.0

Pair = tuple[str, str]
_views: OrderedDict[tuple[str, int, frozenset[Pair]], matcher.Matcher] = OrderedDict()
_secrets: dict[int, tuple[float, int, frozenset[Pair]]] = {}
_lock = threading.Lock()


def _live_secrets(engine: Engine) -> frozenset[Pair]:
    now, generation = time.monotonic(), write_generation(engine)
    with _lock:
        hit = _secrets.get(id(engine))
    if hit is None or hit[1] != generation or now - hit[0] >= SECRETS_CACHE_SECONDS:
        hit = (now, generation, frozenset(confidential_demands(engine)))
        with _lock:
            _secrets[id(engine)] = hit
    return hit[2]


def _demand_pairs(full: matcher.Matcher) -> tuple[frozenset[Pair], frozenset[Pair]]:
    """Every (firm, category) the bound data demand, and those flagged confidential in them."""
    demands = full.dataset_.demands
    flagged = demands["confidential"].fillna(False).astype(bool)
    pairs = zip(demands["firm_id"], demands["category_id"], strict=True)
    secret = zip(demands["firm_id"][flagged], demands["category_id"][flagged], strict=True)
    return frozenset(pairs), frozenset(secret)


def _bound_without(full: matcher.Matcher, dropped: frozenset[Pair]) -> matcher.Matcher:
    demands = full.dataset_.demands
    pairs = list(zip(demands["firm_id"], demands["category_id"], strict=True))
    kept = demands[[p not in dropped for p in pairs]].reset_index(drop=True)
    view = copy.copy(full)
    with warnings.catch_warnings():
        # bind() warns that the data differ from the training data: they do, on purpose.
        warnings.simplefilter("ignore")
        view.bind(dataclasses.replace(full.dataset_, demands=kept))
    return view


def matcher_for(
    served: ServedModel, engine: Engine, key: KeyInfo, firm_ids: tuple[str, ...] = ()
) -> matcher.Matcher:
    """The matcher that answers ``key``: the served scorer on the database's current rows
    (:func:`~._live.live_matcher`; ``firm_ids`` are the firms the question names) for staff
    and analysts; for a firm key, the same on those rows without other firms' confidential
    demands."""
    live = live_matcher(served, engine, firm_ids)
    full = live.matcher
    if is_reader(key):
        return full
    pairs, flagged = remembered(full, "demand pairs", lambda: _demand_pairs(full))
    secret = set(flagged) | (_live_secrets(engine) & pairs)
    dropped = frozenset(p for p in secret if p[0] != key.firm_id)
    if not dropped:
        return full
    entry = (served.version, live.stamp, dropped)
    with _lock:
        view = _views.get(entry)
        if view is not None:
            _views.move_to_end(entry)
            return view
    view = _bound_without(full, dropped)
    with _lock:
        _views[entry] = view
        while len(_views) > VIEW_CACHE_SIZE:
            _views.popitem(last=False)
    return view
