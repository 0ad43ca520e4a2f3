"""A programme report's words in the reader's language, for the files officers hand out.

The reports (:func:`ketnoi.programme.localisation`, :func:`~ketnoi.programme.near_misses`,
:func:`~ketnoi.programme.category_concentration`, :func:`~ketnoi.programme.programme_indicators`
...) hold the data's and ketnoi's own words: sector and process names as the data spell them,
categories by their English name, codes such as ``certification`` or ``observed``. JSON keeps
them (programs read them); a file in Vietnamese says them in Vietnamese, with the names the data
carry (``terms.csv``, ``name_vi``). Headers are the writer's business (:mod:`ketnoi.api._tables`).
"""

from __future__ import annotations

import pandas as pd

from ketnoi import graph, matcher

__all__ = ["INDICATOR_NAMES", "report_in_language"]

#: Indicator -> (English, Vietnamese), as the workbench names them.
INDICATOR_NAMES: dict[str, tuple[str, str]] = {
    "local_supporting_firms": (
        "local supporting-industry firms",
        "doanh nghiệp công nghiệp hỗ trợ trong nước",
    ),
    "certified_share": (
        "share with an international certification",
        "tỷ lệ doanh nghiệp có chứng nhận quốc tế",
    ),
    "tier_1_firms": ("local firms at tier 1", "doanh nghiệp trong nước ở cấp 1"),
    "tier_2_firms": ("local firms at tier 2", "doanh nghiệp trong nước ở cấp 2"),
    "tier_3plus_firms": (
        "local firms at tier 3 and beyond",
        "doanh nghiệp trong nước từ cấp 3 trở xuống",
    ),
    "new_links": ("new links", "liên kết mới"),
    "new_local_links": (
        "new links with local suppliers",
        "liên kết mới với nhà cung cấp trong nước",
    ),
    "localisation_rate": ("localisation rate", "tỷ lệ nội địa hóa"),
    "linked_rate": ("sourced locally today", "tỷ lệ đang mua từ nhà cung cấp trong nước"),
}

#: Code words of the reports' cells -> Vietnamese, by column.
_CODES_VI: dict[str, dict[str, str]] = {
    "weighting": {"volume": "theo khối lượng", "count": "theo số nhu cầu"},
    "lacking_kind": {"certification": "chứng nhận", "process": "công đoạn"},
    "basis": {"observed": "số liệu thực tế", "projected": "dự báo"},
    "side": {"buyer": "bên mua", "supplier": "nhà cung cấp"},
    "indicator": {code: vi for code, (_, vi) in INDICATOR_NAMES.items()},
    # The label of a group whose firms leave the field empty (programme._localisation.UNKNOWN).
    "sector": {"unknown": "không rõ"},
    "country_of_origin": {"unknown": "không rõ"},
}


def report_in_language(
    frame: pd.DataFrame, dataset: graph.Dataset | None, lang: str
) -> pd.DataFrame:
    """``frame`` (a programme report) with its words in ``lang``: a copy for ``vi``, the frame
    itself for ``en``.

    Sectors and processes take their Vietnamese names from the data (glossary where the data
    have none), a ``category_name`` its category's ``name_vi``, and the reports' code words
    (``weighting``, ``lacking_kind``, ``basis``, ``indicator``, an agenda's ``side``) their
    Vietnamese. Without ``dataset``, only the code words.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi import programme
    >>> tiny = graph.load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> table = report_in_language(programme.near_miss_targets(tiny), tiny, "vi")
    >>> table[["lacking_kind", "lacking", "weighting"]].iloc[0].tolist()
    ['chứng nhận', 'IATF 16949', 'theo khối lượng']
    """
    if lang != "vi" or frame.empty:
        return frame
    out = frame.copy()
    for column, codes in _CODES_VI.items():
        if column in out:
            out[column] = out[column].map(lambda v, codes=codes: codes.get(v, v))
    if dataset is None:
        return out
    names = matcher.vietnamese_names(dataset)

    def term(value: object) -> object:
        return matcher.term_vi(value, "vi", names) if isinstance(value, str) else value

    if "sector" in out:
        out["sector"] = out["sector"].map(term)
    if "lacking" in out and "lacking_kind" in out:
        process = out["lacking_kind"] == _CODES_VI["lacking_kind"]["process"]
        out.loc[process, "lacking"] = out.loc[process, "lacking"].map(term)
    if "category_name" in out and "category_id" in out:
        cats = dataset.categories
        local = dict(zip(cats["category_id"], cats["name_vi"], strict=True))
        vi = out["category_id"].map(lambda c: local.get(c) or None)
        out["category_name"] = vi.where(vi.notna(), out["category_name"])
    return out
