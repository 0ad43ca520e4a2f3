"""Model files: a fitted matcher's scorer (not its data) written with joblib, and read back.

A model file is a pickle: loading one runs code, so load only files you made. A file records
its format, the ketnoi version and the feature list; :func:`load_matcher` refuses any file
whose three differ from this ketnoi's, with a :class:`ModelFileError` that says why.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import joblib

from ketnoi import graph
from ketnoi.graph._version import ketnoi_version
from ketnoi.matcher._features import FEATURES
from ketnoi.matcher._model import Matcher
from ketnoi.matcher._settings import MatcherSettings

__all__ = ["ModelFileError", "load_matcher", "save_matcher"]

# 2: the packages moved under ``ketnoi`` and the scorer's classes into ``_scorer``.
# 3: collaborative (EASE) features and the ranker chosen by inner validation.
_FORMAT = "ketnoi-matcher/3"

# Fitted attributes a model file carries, by their key in the file.
_STATE = {
    "pipeline": "pipeline_",
    "mode": "mode_",
    "negative_rate": "negative_rate_",
    "reference": "reference_",
    "trained_at": "trained_at_",
    "training_fingerprint": "training_fingerprint_",
    "n_training_pairs": "n_training_pairs_",
    "n_positives": "n_positives_",
    "metrics": "metrics_",
    "ease_l2": "ease_l2_",
    "ease_validation": "ease_validation_",
    "ranker": "ranker_",
    "selection": "selection_",
    "calibration": "calibration_",
}


class ModelFileError(ValueError):
    """A model file that cannot be used with this ketnoi (other version, other features)."""


def save_matcher(matcher: Matcher, path: str | Path) -> Path:
    """Write the fitted scorer of ``matcher`` to ``path``; what :meth:`Matcher.save` does."""
    path = Path(path)
    payload: dict[str, Any] = {
        "format": _FORMAT,
        "version": matcher.version_,
        "features": matcher.feature_names_,
        "settings": dataclasses.asdict(matcher.settings_),
        **{key: getattr(matcher, attribute) for key, attribute in _STATE.items()},
    }
    joblib.dump(payload, path)
    return path


def load_matcher(path: str | Path, dataset: graph.Dataset | None = None) -> Matcher:
    """Load a model file written by :meth:`Matcher.save` and bind ``dataset`` to it.

    Raises
    ------
    ModelFileError
        The file is not a ketnoi model, or was made by another ketnoi version or with another
        feature list.
    """
    path = Path(path)
    try:
        payload = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many kinds for a foreign file
        raise ModelFileError(f"{path}: not a readable ketnoi model file ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ModelFileError(f"{path}: not a ketnoi model file")
    if payload["version"] != ketnoi_version():
        raise ModelFileError(
            f"{path}: made by ketnoi {payload['version']}, this is ketnoi {ketnoi_version()}; "
            "retrain with `ketnoi train`"
        )
    if list(payload["features"]) != list(FEATURES):
        raise ModelFileError(
            f"{path}: its feature list differs from this ketnoi's; retrain with `ketnoi train`"
        )
    matcher = Matcher(MatcherSettings(**payload["settings"]))
    state = {"metrics": {}, **payload}  # files written before metrics were recorded lack them
    for key, attribute in _STATE.items():
        setattr(matcher, attribute, state[key])
    matcher.feature_names_ = list(payload["features"])
    matcher.version_ = payload["version"]
    if dataset is not None:
        matcher.bind(dataset)
    return matcher
