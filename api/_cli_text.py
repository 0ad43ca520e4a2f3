"""What the command line prints about a match, an explanation or a report, in English or
Vietnamese.

:mod:`ketnoi.api.cli` prints recommendation rows and ``ketnoi explain`` with these, and the
programme reports their titles, so that ``--lang vi`` gives Vietnamese from the first word to the
last (numbers with a decimal comma).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["explain_heading", "explain_labels", "row_heading", "say"]

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
    "unknown": ("unknown", "không rõ"),
    # the programme reports' terminal tables (ketnoi localisation, near-misses, ...)
    "rows_shown": ("{shown} of {total} row(s)", "{shown} trên {total} dòng"),
    "localisation_by": ("Localisation by {by}", "Tỷ lệ nội địa hoá theo {by}"),
    "of_category": (" (category {value})", " (nhóm sản phẩm {value})"),
    "by_category": ("category", "nhóm sản phẩm"),
    "by_sector": ("sector", "ngành"),
    "by_buyer": ("buyer", "bên mua"),
    "by_origin": ("origin", "quốc gia đầu tư"),
    "by_all": ("all", "toàn bộ"),
    "near_miss_pairs": ("Near-miss suppliers", "Nhà cung cấp gần đạt yêu cầu"),
    "support_targets": (
        "Support targets: what near-miss suppliers lack",
        "Mục tiêu hỗ trợ: nhà cung cấp gần đạt yêu cầu còn thiếu gì",
    ),
    "rate_if_all_gained": (
        "localisation rate {rate} ({weighting}-weighted); if every near-miss supplier gained "
        "what it lacks: {gained}",
        "tỷ lệ nội địa hoá {rate} (tính {weighting}); nếu mọi nhà cung cấp gần đạt yêu cầu "
        "bổ sung đủ phần còn thiếu: {gained}",
    ),
    "concentration_categories": (
        "Concentration by category",
        "Mức độ tập trung theo nhóm sản phẩm",
    ),
    "single_sourced": (
        "Buyers with a single supplier for a category",
        "Bên mua chỉ có một nhà cung cấp cho một nhóm sản phẩm",
    ),
    "sole_suppliers": (
        "Suppliers that buyers depend on alone",
        "Nhà cung cấp là nguồn duy nhất của bên mua",
    ),
    "indicators_title": (
        "Programme indicators (projected years in italics)",
        "Chỉ tiêu của chương trình (năm dự báo in nghiêng)",
    ),
    "years_caption": ("{n} years in --json and --out", "đủ {n} năm trong --json và --out"),
    "conversion_title": (
        "Conversion of matched pairs (top {k} from {origin})",
        "Kết quả của các cặp được kết nối (top {k} từ {origin})",
    ),
    "from_match_lists": ("{n} match list(s)", "{n} danh sách kết nối"),
    "from_backtest": (
        "a backtest (the matcher refitted on the data before each year's events)",
        "kiểm tra ngược (mô hình học lại trên dữ liệu trước các sự kiện của mỗi năm)",
    ),
}


def _say(key: str, lang: str, **values: object) -> str:
    return _WORDS[key][0 if lang == "en" else 1].format(**values)


def say(key: str, lang: str, **values: object) -> str:
    """One of the command line's sentences (titles, captions) in ``lang``, filled in.

    Examples
    --------
    >>> say("rows_shown", "vi", shown=20, total=73)
    '20 trên 73 dòng'
    """
    return _say(key, lang, **values)


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
    """The labels of ``ketnoi explain``: ``reasons``, ``blockers``, ``none``, ``unknown`` (a
    value the data do not give), the table's."""
    keys = ["reasons", "blockers", "none", "unknown", "contributions", "feature", "value"]
    keys.append("contribution")
    return {key: _say(key, lang) for key in keys}
