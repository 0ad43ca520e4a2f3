"""The served model: fitted once at start-up, refitted in the background, swapped whole.

Requests read :attr:`ModelHolder.current` once and use that :class:`ServedModel` to the end,
so a swap in the middle of a request never mixes two models.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from ketnoi import graph, matcher
from ketnoi.api.storage import KeyInfo, dataset_from_db, register_model

__all__ = [
    "RETRAIN_STEPS",
    "ModelHolder",
    "ServedModel",
    "fit_served_model",
    "served_from_matcher",
]


@dataclass(frozen=True)
class ServedModel:
    """A fitted matcher and what the service says about it."""

    matcher: matcher.Matcher
    version: str
    trained_at: str
    fingerprint: str
    metrics: dict[str, Any] = field(default_factory=dict)


def _new_version(m: matcher.Matcher) -> str:
    # The matcher's version_ is the package version, the same for every fit: the service adds
    # the time of the fit so that each model it serves has its own version.
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{m.version_}+{stamp}"


def served_from_matcher(m: matcher.Matcher) -> ServedModel:
    """Wrap an already fitted matcher (given to :func:`create_app`) for serving."""
    metrics = dict(getattr(m, "metrics_", {}) or {})
    metrics.setdefault("mode", m.mode_)
    metrics.setdefault("training_pairs", int(getattr(m, "n_training_pairs_", 0)))
    metrics.setdefault("training_positives", int(getattr(m, "n_positives_", 0)))
    trained_at, fingerprint = str(m.trained_at_), str(m.training_fingerprint_)
    return ServedModel(m, _new_version(m), trained_at, fingerprint, metrics)


def evaluation_figures(dataset: graph.Dataset) -> dict[str, Any]:
    """The model against two baselines on a hold-out of ``dataset`` (one seed).

    Temporal where most links carry a year, random otherwise; empty where the data hold too
    few links to hold any out.
    """
    years = dataset.links["since"].dropna()
    holdout = (
        "temporal" if len(years) > len(dataset.links) / 2 and years.nunique() >= 3 else "random"
    )
    everything = matcher.evaluation_methods(holdout=holdout)
    methods = {name: everything[name] for name in ("model", "l3", "popular")}
    try:
        result = matcher.evaluate(dataset, holdout=holdout, k=10, seeds=1, methods=methods)
    except ValueError:
        return {}
    figures = result.to_dict()
    return {
        "holdout": holdout,
        "k": 10,
        "judged_buyers": figures["judged_buyers"],
        "heldout_pairs": figures["heldout_pairs"],
        "methods": {
            name: {m: values[m] for m in matcher.METRICS if m in values}
            for name, values in figures["methods"].items()
        },
    }


#: The steps of a retraining, in order (a job's ``step``).
RETRAIN_STEPS = (
    "reading the database",
    "fitting the matcher",
    "measuring it on a hold-out",
    "ranking every buyer",
)


def fit_served_model(
    engine: Engine,
    *,
    precompute: bool = True,
    evaluate: bool = False,
    actor: KeyInfo | str = "service",
    progress: Callable[[str], None] | None = None,
) -> ServedModel:
    """Fit a matcher on the database's live rows and record it in the models table.

    ``progress`` is told each step's name (:data:`RETRAIN_STEPS`) as it starts.
    """
    step = progress or (lambda name: None)
    step(RETRAIN_STEPS[0])
    dataset = dataset_from_db(engine)
    step(RETRAIN_STEPS[1])
    m = matcher.Matcher().fit(dataset)
    if evaluate and not dataset.links.empty:
        step(RETRAIN_STEPS[2])
        m.metrics_ = {"evaluation": evaluation_figures(dataset)}
    if precompute:
        step(RETRAIN_STEPS[3])
        m.precompute()
    served = served_from_matcher(m)
    register_model(
        engine,
        served.version,
        dt.datetime.fromisoformat(served.trained_at),
        served.fingerprint,
        metrics=served.metrics,
        actor=actor,
    )
    return served


class ModelHolder:
    """Holds the served model and runs at most one retraining at a time.

    Parameters
    ----------
    served : ServedModel or None
        The model to serve at first (None: no model yet; recommendation routes answer 503).
    """

    def __init__(self, served: ServedModel | None = None) -> None:
        self._served = served
        if served is not None:
            gc.collect()
            gc.freeze()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._claimed = False
        self.last_error: str | None = None
        self.retrain_started_at: dt.datetime | None = None
        self.retrain_finished_at: dt.datetime | None = None

    @property
    def current(self) -> ServedModel | None:
        """The model serving now: read it once per request."""
        with self._lock:
            return self._served

    @property
    def retraining(self) -> bool:
        """True while a retraining runs."""
        with self._lock:
            return self._claimed or (self._thread is not None and self._thread.is_alive())

    def swap(self, served: ServedModel) -> None:
        """Serve ``served`` from now on (atomically: a request sees the old or the new one)."""
        with self._lock:
            self._served = served
        # The model is a large, long-lived heap: frozen, the collector stops re-scanning it,
        # which otherwise shows as tens of milliseconds of pause in the slowest requests.
        gc.collect()
        gc.freeze()

    def start_retrain(self, fit: Callable[[], ServedModel]) -> bool:
        """Run ``fit`` in a background thread and swap its result in; False if one is running.

        The old model keeps serving until the new one is ready; a failed fit keeps the old
        model and leaves its message in :attr:`last_error`.
        """
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self.retrain_started_at = dt.datetime.now(dt.UTC)
            self.retrain_finished_at = None
            self._thread = threading.Thread(
                target=self._retrain, args=(fit,), name="ketnoi-retrain", daemon=True
            )
            self._thread.start()
            return True

    def _retrain(self, fit: Callable[[], ServedModel]) -> None:
        try:
            served = fit()
        except Exception as exc:  # a failed refit must not stop the service
            self.last_error = f"{type(exc).__name__}: {exc}"
        else:
            self.last_error = None
            self.swap(served)
        finally:
            self.retrain_finished_at = dt.datetime.now(dt.UTC)

    def claim_retrain(self) -> bool:
        """Reserve the one retraining for a job that runs it later (:meth:`retrain`); False
        if one is running or reserved."""
        with self._lock:
            if self._claimed or (self._thread is not None and self._thread.is_alive()):
                return False
            self._claimed = True
            self.retrain_started_at = dt.datetime.now(dt.UTC)
            self.retrain_finished_at = None
            return True

    def release_retrain(self) -> None:
        """Give a reservation back without retraining (the job could not be started)."""
        with self._lock:
            self._claimed = False

    def retrain(self, fit: Callable[[], ServedModel]) -> ServedModel:
        """Run a reserved retraining in this thread (a job's) and swap its result in.

        A failed fit keeps the old model, leaves its message in :attr:`last_error` and raises.
        """
        try:
            served = fit()
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise
        else:
            self.last_error = None
            self.swap(served)
            return served
        finally:
            self.retrain_finished_at = dt.datetime.now(dt.UTC)
            self.release_retrain()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running retraining to end; True when none is running afterwards."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.retraining and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.02)
        return not self.retraining
