"""The bound matcher's answers kept per question, so that a page asked again is not ranked again.

A bound matcher (the served one, its live binding after writes, or a firm key's view without
other firms' confidential demands) answers every question from the data it was bound to, and
those data do not change under it: a write reaches the answers through a new binding, a new
object (:mod:`._live`, :mod:`._views`). So what one bound matcher answered once it answers
again, and its answer can be kept with it, the way ``Matcher.precompute`` keeps buyers'
rankings: a supplier's buyers, a buyer's chain, why a pair, a firm view's recommendations.

The answers are held per matcher object (weakly: they go with it) and only while it is still
bound to the same data (its index, link snapshot and dataset, compared by identity, so that a
matcher bound again in place starts afresh). At most :data:`MEMO_SIZE` answers per matcher
are kept, least recently used out. Who may ask, what is hidden since the fit and what a key
may read are decided per request around the answer, as before; only the matcher's own answer
is kept.

Answers are shared between requests: callers read them and never change them (frames are
filtered into new ones, explanations copied, see :func:`remembered`).
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ketnoi import matcher

__all__ = ["MEMO_SIZE", "clear_memo", "remembered"]

#: Answers kept per bound matcher, least recently used out (0: none kept).
MEMO_SIZE = 1024

T = TypeVar("T")


class _Memo:
    """One bound matcher's answers, with the data they were made from."""

    def __init__(self, bound_to: tuple[Any, ...]) -> None:
        self.bound_to = bound_to
        self.answers: OrderedDict[Hashable, Any] = OrderedDict()


_memos: weakref.WeakKeyDictionary[matcher.Matcher, _Memo] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _bound_to(model: matcher.Matcher) -> tuple[Any, ...]:
    return (model.index_, model.snapshot_, model.dataset_)


def _memo_of(model: matcher.Matcher) -> _Memo:
    bound_to = _bound_to(model)
    memo = _memos.get(model)
    if memo is None or any(a is not b for a, b in zip(memo.bound_to, bound_to, strict=True)):
        memo = _Memo(bound_to)
        _memos[model] = memo
    return memo


def remembered(model: matcher.Matcher, question: Hashable, answer: Callable[[], T]) -> T:
    """``model``'s answer to ``question``: made by ``answer()`` the first time, kept after.

    Parameters
    ----------
    model : Matcher
        The bound matcher that answers (the answer is kept with it).
    question : hashable
        The question with every argument that shapes the answer (method and its arguments).
    answer : callable
        Asks ``model`` the question. An exception is raised as it comes and nothing is kept.

    Returns
    -------
    The answer. A dict (an explanation) is handed out as a deep copy; a frame as kept, to be
    read and never changed.
    """
    if MEMO_SIZE <= 0:  # kept nowhere (tests compare with answers made afresh)
        return answer()
    with _lock:
        memo = _memo_of(model)
        found = memo.answers.get(question, _MISSING)
        if found is not _MISSING:
            memo.answers.move_to_end(question)
    if found is _MISSING:
        # Made outside the lock: two requests missing at once both make it, and keep one.
        found = answer()
        with _lock:
            memo = _memo_of(model)
            memo.answers[question] = found
            while len(memo.answers) > MEMO_SIZE:
                memo.answers.popitem(last=False)
    return copy.deepcopy(found) if isinstance(found, dict) else found  # type: ignore[return-value]


def clear_memo() -> None:
    """Forget every kept answer (tests compare answers made afresh)."""
    with _lock:
        _memos.clear()


_MISSING: Any = object()
