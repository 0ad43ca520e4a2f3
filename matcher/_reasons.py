"""Plain-language reasons for a recommendation, in English or Vietnamese.

Each reason states a fact about the pair that a trade-promotion officer can read out. Reasons
are built from the same features the scorer sees, so they never claim what the data does not say.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from ketnoi.graph import INTERNATIONAL_CERTIFICATIONS
from ketnoi.matcher._index import FirmIndex

__all__ = [
    "DISCLOSURES",
    "LANGUAGES",
    "Disclosure",
    "country_adjective",
    "disclose_reasons",
    "distance_band",
    "number",
    "pair_reasons",
    "running_text",
]

LANGUAGES = ("en", "vi")

#: Who reads a reason: ``exact`` (programme staff: every value as it is), ``supplier`` (the
#: pair's supplier: its own capacity exact, the distance to the buyer banded) or ``public``
#: (anyone else, the buyer included: capacity and distance banded).
Disclosure = Literal["exact", "supplier", "public"]
DISCLOSURES: tuple[Disclosure, ...] = ("exact", "supplier", "public")

_COUNTRY = {
    "JP": ("Japanese", "Nhật Bản"),
    "KR": ("Korean", "Hàn Quốc"),
    "TW": ("Taiwanese", "Đài Loan"),
    "CN": ("Chinese", "Trung Quốc"),
    "SG": ("Singaporean", "Singapore"),
    "US": ("American", "Hoa Kỳ"),
    "DE": ("German", "Đức"),
    "FR": ("French", "Pháp"),
    "NL": ("Dutch", "Hà Lan"),
    "GB": ("British", "Anh"),
    "TH": ("Thai", "Thái Lan"),
    "MY": ("Malaysian", "Malaysia"),
    "HK": ("Hong Kong", "Hồng Kông"),
    "IN": ("Indian", "Ấn Độ"),
    "VN": ("Vietnamese", "Việt Nam"),
    "IT": ("Italian", "Ý"),
    "SE": ("Swedish", "Thụy Điển"),
    "CH": ("Swiss", "Thụy Sĩ"),
}

_TEMPLATES: Mapping[str, tuple[str, str]] = {
    "makes_demanded": (
        "makes {category}{hs}, which the buyer demands",
        "sản xuất {category}{hs}, mặt hàng bên mua có nhu cầu",
    ),
    "makes_input": (
        "makes {category}{hs}, an input to what the buyer makes",
        "sản xuất {category}{hs}, đầu vào cho sản phẩm của bên mua",
    ),
    "makes_related": (
        "makes {offered}, close to {category} that the buyer needs",
        "sản xuất {offered}, gần với {category} mà bên mua cần",
    ),
    "holds_required": (
        "holds {certs}, which the buyer requires",
        "có chứng nhận {certs} mà bên mua yêu cầu",
    ),
    "lacks_required": (
        "lacks {certs}, which the buyer requires",
        "chưa có chứng nhận {certs} mà bên mua yêu cầu",
    ),
    "lacks_processes": (
        "lacks {processes}, which the buyer requires",
        "chưa có năng lực {processes} mà bên mua yêu cầu",
    ),
    "holds_international": (
        "holds {certs}",
        "có chứng nhận {certs}",
    ),
    "does_required": (
        "does {processes}, as the buyer requires",
        "có năng lực {processes} theo yêu cầu của bên mua",
    ),
    "distance_park": (
        "{km} km away, same park ({park})",
        "cách {km} km, cùng khu công nghiệp ({park})",
    ),
    "distance": ("{km} km away", "cách {km} km"),
    "capacity": (
        "capacity {capacity} units/yr covers the {volume} units/yr demanded",
        "công suất {capacity} đơn vị/năm đáp ứng nhu cầu {volume} đơn vị/năm",
    ),
    "same_origin": (
        "already supplies {n} {country} buyer{s}",
        "đã cung cấp cho {n} bên mua {country}",
    ),
    "similar_demand": (
        "supplies {n} {firms_that_buy} what this buyer buys",
        "cung cấp cho {n} doanh nghiệp mua cùng mặt hàng với bên mua",
    ),
    "shared_suppliers": (
        "supplies {n} {buyers_that_share} suppliers with this buyer",
        "cung cấp cho {n} bên mua có chung nhà cung cấp với bên mua này",
    ),
    "met_before": (
        "has met this buyer before ({outcome})",
        "đã từng gặp bên mua này ({outcome})",
    ),
    "past_link": (
        "supplied this buyer before (the link has ended)",
        "đã từng cung cấp cho bên mua này (liên kết đã kết thúc)",
    ),
    "sources_alike": (
        "buyers that source like this buyer also buy from this supplier",
        "các bên mua có nguồn cung giống bên mua này cũng mua của nhà cung cấp này",
    ),
    "popular": (
        "supplies {n} buyer{s} in the network",
        "đang cung cấp cho {n} bên mua trong mạng lưới",
    ),
}


#: What a banded reason says in place of a private value.
_BANDED: Mapping[str, tuple[str, str]] = {
    "capacity": ("capacity covers the demand", "công suất đáp ứng nhu cầu"),
    "distance": ("{km} away", "cách {km}"),
    "distance_park": ("{km} away, same park ({park})", "cách {km}, cùng khu công nghiệp ({park})"),
}

#: Distance bands: (upper bound in km, English, Vietnamese); the last one has no bound.
_DISTANCE_BANDS = (
    (10.0, "under 10 km", "dưới 10 km"),
    (30.0, "10 to 30 km", "10 đến 30 km"),
    (60.0, "30 to 60 km", "30 đến 60 km"),
    (math.inf, "over 60 km", "trên 60 km"),
)


def distance_band(km: float, lang: str = "en") -> str:
    """A distance as a band that says roughly how far, never where the other firm is.

    Examples
    --------
    >>> distance_band(3.2), distance_band(10.0), distance_band(75, "vi")
    ('under 10 km', '10 to 30 km', 'trên 60 km')
    """
    for bound, en, vi in _DISTANCE_BANDS:
        if km < bound:
            return en if lang == "en" else vi
    raise ValueError(f"not a distance: {km!r}")


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


# Reasons are built once per ranking and cached in the matcher's answer frames, for every
# reader; banding is applied to the finished text, so the patterns come from the templates
# themselves and cannot drift from them.
_PATTERNS = {
    (code, lang): _pattern(_TEMPLATES[code][i])
    for code in _BANDED
    for i, lang in enumerate(LANGUAGES)
}


def _km(text: str) -> float:
    return 0.5 if text == "<1" else float(text.replace(",", ""))


def disclose_reasons(
    reasons: list[str], *, disclosure: Disclosure = "exact", lang: str = "en"
) -> list[str]:
    """Reasons as ``disclosure`` may read them: private values of the other firm banded.

    A supplier's capacity is its own business and the firms' locations are private fields, so
    only programme staff (``exact``) read them as numbers; the supplier reads its own capacity
    against the volume demanded, and everyone else reads that capacity covers the demand.
    Distances are banded for every firm (``under 10 km`` ...).

    Examples
    --------
    >>> r = ["12 km away", "capacity 50,000 units/yr covers the 10,000 units/yr demanded"]
    >>> disclose_reasons(r, disclosure="public")
    ['10 to 30 km away', 'capacity covers the demand']
    >>> disclose_reasons(r, disclosure="supplier")[1]
    'capacity 50,000 units/yr covers the 10,000 units/yr demanded'
    """
    if disclosure not in DISCLOSURES:
        raise ValueError(f"disclosure must be one of {DISCLOSURES}, not {disclosure!r}")
    if disclosure == "exact":
        return list(reasons)
    side = 0 if lang == "en" else 1
    out = []
    for reason in reasons:
        for code, banded in _BANDED.items():
            found = _PATTERNS[code, "en" if side == 0 else "vi"].match(reason)
            if found is None or (code == "capacity" and disclosure == "supplier"):
                continue
            values = found.groupdict()
            if "km" in values:
                values["km"] = distance_band(_km(values["km"]), lang)
            reason = banded[side].format(**values)
            break
        out.append(reason)
    return out


def country_adjective(code: str, lang: str = "en") -> str:
    """'Japanese' for JP in English, 'Nhật Bản' in Vietnamese; the code itself if unknown."""
    names = _COUNTRY.get(code.upper())
    if names is None:
        return code
    return names[0] if lang == "en" else names[1]


def _say(code: str, lang: str, **values: object) -> str:
    template = _TEMPLATES[code][0 if lang == "en" else 1]
    return template.format(**values)


def _count(log_value: float) -> int:
    return int(round(math.expm1(log_value))) if log_value > 0 else 0


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def number(x: float, lang: str = "en") -> str:
    """A whole number grouped as a reader of ``lang`` writes it: 254,400 or 254.400.

    Examples
    --------
    >>> number(254400), number(254400, "vi"), number(12.6, "vi")
    ('254,400', '254.400', '13')
    """
    text = f"{x:,.0f}"
    return text.replace(",", ".") if lang == "vi" else text


def _category_label(index: FirmIndex, position: int, lang: str) -> tuple[str, str]:
    row = index.categories.iloc[position]
    name = row["name"]
    if lang == "vi" and row["name_vi"]:
        name = row["name_vi"]
    hs = f" (HS {row['hs_code']})" if row["hs_code"] else ""
    return running_text(str(name)), hs


def running_text(name: str) -> str:
    """A name as it reads mid-sentence: a leading capital lowered, acronyms kept.

    Examples
    --------
    >>> running_text("Mô-đun camera"), running_text("PCB assembly"), running_text("Linh kiện")
    ('mô-đun camera', 'PCB assembly', 'linh kiện')
    """
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


#: ``ease_rank`` is log(1 + the supplier's place in the buyer's EASE list): at most log(11)
#: means among the ten suppliers that buyers sourcing alike buy from most.
_ALIKE_RANK = math.log(11.0)


def pair_reasons(
    index: FirmIndex,
    features: Mapping[str, float],
    *,
    buyer: int,
    supplier: int,
    demand_row: int,
    shared_buyers: float,
    offers: np.ndarray,
    past_link: bool = False,
    lang: str = "en",
    limit: int = 5,
    terms: Mapping[str, str] | None = None,
) -> list[str]:
    """Reasons for one (buyer, supplier) pair, most telling first, at most ``limit``.

    The order is what a buyer weighs first: what the supplier makes for it, the required
    certifications it holds and those it lacks, having supplied or met this buyer before,
    the required processes, capacity, then the weaker signals (distance, buyers alike).

    Parameters
    ----------
    index : FirmIndex
    features : mapping
        The pair's features (:data:`matcher._features.FEATURES`).
    buyer, supplier : int
        Positions in the buyer and supplier spaces.
    demand_row : int
        The matched demand row, -1 where none (or where the reader may not see it).
    shared_buyers : float
        Buyers sharing a supplier with this buyer that the supplier supplies.
    offers : array of int
        Category positions the supplier offers.
    past_link : bool
        The pair had a link that has ended.
    lang : {"en", "vi"}
    terms : mapping, optional
        Vietnamese names of processes and parks (``{term: name_vi}``), used when ``lang`` is
        ``vi`` (default: the data's, ``index.names_vi``).
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, not {lang!r}")
    vi = dict(terms if terms is not None else index.names_vi) if lang == "vi" else {}

    def term(text: str) -> str:
        return str(vi.get(text, text))

    first: list[str] = []  # what the supplier makes and the buyer's requirements
    history: list[str] = []  # the pair's own past
    then: list[str] = []  # capacity and the weaker signals
    demands = index.demand_rows
    fit = features["fit_level"]
    firm = index.firms.iloc[index.supplier_firm[supplier]]
    held = set(firm["certifications"])
    if demand_row >= 0 and fit > 0:
        dem = demands.iloc[demand_row]
        category, hs = _category_label(index, int(dem["category"]), lang)
        if fit >= 2:
            code = "makes_demanded" if dem["source"] == "demand" else "makes_input"
            first.append(_say(code, lang, category=category, hs=hs))
        else:
            near = [int(c) for c in offers if index.related[int(dem["category"]), int(c)] > 0]
            offered, _ = _category_label(index, near[0] if near else int(offers[0]), lang)
            first.append(_say("makes_related", lang, offered=offered, category=category))
        required = list(dem["required_certifications"])
        met = [c for c in required if c in held]
        lacking = [c for c in required if c not in held]
        if met:
            first.append(_say("holds_required", lang, certs=", ".join(met)))
        if lacking:
            first.append(_say("lacks_required", lang, certs=", ".join(lacking)))
        processes = set(firm["processes"])
        wanted = list(dem["required_processes"])
        done = [term(p) for p in wanted if p in processes]
        missing = [term(p) for p in wanted if p not in processes]
        if missing:
            then.append(_say("lacks_processes", lang, processes=", ".join(missing)))
        if done:
            then.append(_say("does_required", lang, processes=", ".join(done)))
        volume = dem["volume"]
        ratio = features["capacity_ratio"]
        if not pd.isna(ratio) and ratio >= 0 and not pd.isna(volume):
            capacity = volume * 10**ratio
            then.append(
                _say(
                    "capacity",
                    lang,
                    capacity=number(capacity, lang),
                    volume=number(volume, lang),
                )
            )
    if past_link:
        history.append(_say("past_link", lang))
    if features["outcome_good"] > 0:
        history.append(_say("met_before", lang, outcome="met" if lang == "en" else "đã gặp"))
    if not any(r.startswith(("holds", "có chứng nhận")) for r in first) and (
        features["n_international_certs"] > 0
    ):
        shown = [c for c in firm["certifications"] if c in INTERNATIONAL_CERTIFICATIONS][:2]
        then.append(_say("holds_international", lang, certs=", ".join(shown)))
    ease_rank = features.get("ease_rank", math.nan)
    if not pd.isna(ease_rank) and 0 < ease_rank <= _ALIKE_RANK:
        then.append(_say("sources_alike", lang))
    km = features["distance_km"]
    if not pd.isna(km):
        shown_km = f"{km:.0f}" if km >= 1 else "<1"
        if features["same_park"] > 0:
            park = term(_park_name(index, index.supplier_park[supplier]))
            then.append(_say("distance_park", lang, km=shown_km, park=park))
        elif km <= 60:
            then.append(_say("distance", lang, km=shown_km))
    n_origin = _count(features["same_origin_buyers"])
    country = index.buyer_country[buyer]
    if n_origin > 0 and country >= 0:
        adjective = country_adjective(str(index.countries[country]), lang)
        then.append(_say("same_origin", lang, n=n_origin, country=adjective, s=_plural(n_origin)))
    n_similar = _count(features["similar_demand_buyers"])
    if n_similar > 0:
        phrase = "firm that buys" if n_similar == 1 else "firms that buy"
        then.append(_say("similar_demand", lang, n=n_similar, firms_that_buy=phrase))
    n_shared = int(shared_buyers)
    if n_shared > 0:
        phrase = "buyer that shares" if n_shared == 1 else "buyers that share"
        then.append(_say("shared_suppliers", lang, n=n_shared, buyers_that_share=phrase))
    out = first + history + then
    if not out:
        n = _count(features["supplier_popularity"])
        if n > 0:
            out.append(_say("popular", lang, n=n, s=_plural(n)))
    return out[:limit]


def _park_name(index: FirmIndex, park_id: str) -> str:
    # Without parks.csv the park column is already a free-text name.
    return str(index.park_names.get(park_id, park_id))
