"""What the command line prints about a match or an explanation, in English or Vietnamese.

:mod:`ketnoi.api.cli` prints recommendation rows and ``ketnoi explain`` with these, so that
``--lang vi`` gives Vietnamese from the first word to the last (numbers with a decimal comma).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["explain_heading", "explain_labels", "row_heading"]

_WORDS: dict[str, tuple[str, str]] = {
    "tier": ("tier {value}", "bậc {value}"),
    "score": ("score {value}", "điểm {value}"),
    "category": ("category {value}", "ngành hàng {value}"),
    "for": ("for {value}", "cho {value}"),
    "linked": ("already linked", "đã có liên kết"),
    "not_linked": ("not linked", "chưa có liên kết"),
    "candidate": ("a candidate", "trong danh sách ứng viên"),
    "not_candidate": ("not a candidate", "ngoài danh sách ứng viên"),
    "reasons": ("reasons", "lý do"),
    "blockers": ("blockers", "trở ngại"),
    "none": ("none", "không có"),
    "contributions": ("contributions to the log-odds", "mức đóng góp vào điểm số"),
    "feature": ("feature", "đặc trưng"),
    "value": ("value", "giá trị"),
    "contribution": ("contribution", "đóng góp"),
    "learned": ("learned", "mô hình đã học"),
    "prior": ("prior", "trọng số mặc định"),
}


def _say(key: str, lang: str, **values: object) -> str:
    return _WORDS[key][0 if lang == "en" else 1].format(**values)


def _score(value: float, lang: str) -> str:
    text = f"{value:.3f}"
    return text.replace(".", ",") if lang == "vi" else text


def row_heading(row: Mapping[str, Any], lang: str = "en") -> str:
    """``tier 1, score 0.216, category pcb`` (``bậc 1, điểm 0,216, ngành hàng pcb``).

    Examples
    --------
    >>> row_heading({"tier": 1, "score": 0.2164, "category_id": "pcb"}, "vi")
    'bậc 1, điểm 0,216, ngành hàng pcb'
    """
    parts = [_say("tier", lang, value=row["tier"])]
    score = row.get("score")
    if isinstance(score, float) and score == score:
        parts.append(_say("score", lang, value=_score(score, lang)))
    if row.get("category_id"):
        parts.append(_say("category", lang, value=row["category_id"]))
    if row.get("parent_id"):
        parts.append(_say("for", lang, value=row["parent_id"]))
    return ", ".join(parts)


def explain_heading(report: Mapping[str, Any], supplier: str, buyer: str, lang: str) -> str:
    """The first line of ``ketnoi explain``: score, model, category, link, candidate."""
    mode = str(report["mode"])
    mode = _say(mode, lang) if mode in _WORDS else mode
    return (
        f"{supplier} -> {buyer}: {_say('score', lang, value=_score(report['score'], lang))}"
        f" ({mode}), {_say('category', lang, value=report['category_id'] or '-')}, "
        + _say("linked" if report["existing_link"] else "not_linked", lang)
        + ", "
        + _say("candidate" if report["candidate"] else "not_candidate", lang)
    )


def explain_labels(lang: str) -> dict[str, str]:
    """The labels of ``ketnoi explain``: ``reasons``, ``blockers``, ``none``, the table's."""
    keys = ("reasons", "blockers", "none", "contributions", "feature", "value", "contribution")
    return {key: _say(key, lang) for key in keys}
