"""Vietnamese names of the trade's words that the data spell in English: sectors, processes,
parks.

The data carry them (``terms.csv`` for sectors and processes, ``name_vi`` in ``parks.csv``,
as ``categories.csv`` does for categories): :func:`vietnamese_names` reads them. This module's
glossary of the programme's usual sectors, processes and Hanoi's parks fills in what a dataset
leaves out, so data made before the contract had these places still read in Vietnamese. A
term in neither is said as the data spell it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ketnoi import graph

__all__ = ["TERMS_VI", "term_vi", "terms_in_vietnamese", "vietnamese_names"]

#: Sector -> Vietnamese.
SECTORS_VI: dict[str, str] = {
    "agro-food processing": "chế biến nông sản thực phẩm",
    "automation": "tự động hóa",
    "automotive parts": "linh kiện ô tô",
    "electronics": "điện tử",
    "footwear": "da giày",
    "it hardware": "phần cứng công nghệ thông tin",
    "new materials": "vật liệu mới",
    "pharma packaging": "bao bì dược phẩm",
    "plastics and rubber": "nhựa và cao su",
    "precision engineering": "cơ khí chính xác",
    "textiles and garments": "dệt may",
}

#: Process -> Vietnamese.
PROCESSES_VI: dict[str, str] = {
    "CNC machining": "gia công CNC",
    "EDM": "gia công tia lửa điện (EDM)",
    "PCB fabrication": "chế tạo bảng mạch in",
    "SMT assembly": "lắp ráp SMT",
    "anodising": "anod hóa",
    "blow moulding": "ép thổi",
    "casting": "đúc",
    "coating": "phủ bề mặt",
    "coil winding": "quấn cuộn dây",
    "compounding": "phối trộn nguyên liệu",
    "corrugating": "tạo sóng giấy carton",
    "cutting": "cắt",
    "die casting": "đúc áp lực",
    "die cutting": "bế khuôn",
    "drying": "sấy",
    "dyeing": "nhuộm",
    "embroidery": "thêu",
    "extrusion": "đùn ép",
    "fermentation": "lên men",
    "filling": "chiết rót",
    "final assembly": "lắp ráp hoàn thiện",
    "firing": "nung",
    "forging": "rèn",
    "glazing": "tráng men",
    "grinding": "mài",
    "heat treatment": "nhiệt luyện",
    "injection moulding": "ép phun",
    "knitting": "dệt kim",
    "lamination": "cán màng",
    "laser cutting": "cắt laser",
    "milling": "phay",
    "mixing": "trộn",
    "mould making": "chế tạo khuôn",
    "painting": "sơn",
    "plating": "mạ",
    "powder coating": "sơn tĩnh điện",
    "printing": "in",
    "refining": "tinh chế",
    "roasting": "rang",
    "rubber moulding": "ép cao su",
    "sewing": "may",
    "sheet metal fabrication": "gia công kim loại tấm",
    "sintering": "thiêu kết",
    "soldering": "hàn thiếc",
    "spinning": "kéo sợi",
    "stamping": "dập",
    "testing": "thử nghiệm",
    "thermoforming": "định hình nhiệt",
    "vulcanising": "lưu hóa",
    "weaving": "dệt thoi",
    "welding": "hàn",
    "wire harness assembly": "lắp ráp bó dây điện",
}

#: Park name -> Vietnamese.
PARKS_VI: dict[str, str] = {
    "Thang Long Industrial Park (TLIP)": "Khu công nghiệp Thăng Long (TLIP)",
    "Noi Bai Industrial Park": "Khu công nghiệp Nội Bài",
    "Quang Minh Industrial Park": "Khu công nghiệp Quang Minh",
    "Bac Thang Long Industrial Park": "Khu công nghiệp Bắc Thăng Long",
    "Nam Thang Long Industrial Park": "Khu công nghiệp Nam Thăng Long",
    "Hoa Lac Hi-tech Park": "Khu công nghệ cao Hòa Lạc",
    "South Hanoi Supporting Industry Park": "Khu công nghiệp hỗ trợ Nam Hà Nội",
    "Phu Nghia Industrial Park": "Khu công nghiệp Phú Nghĩa",
    "Thach That - Quoc Oai Industrial Park": "Khu công nghiệp Thạch Thất - Quốc Oai",
    "Dong Anh Industrial Cluster": "Cụm công nghiệp Đông Anh",
    "Soc Son Clean Industrial Park": "Khu công nghiệp sạch Sóc Sơn",
    "Hanoi IT Park (Hanoi Software Park)": "Khu Công viên phần mềm Hà Nội",
    "Hanoi Biotech Park": "Khu công nghệ sinh học Hà Nội",
}

#: Every term -> its Vietnamese name.
TERMS_VI: dict[str, str] = {**SECTORS_VI, **PROCESSES_VI, **PARKS_VI}


def vietnamese_names(dataset: graph.Dataset) -> dict[str, str]:
    """Every sector, process and park name of ``dataset`` -> its Vietnamese name.

    The data's own names (``terms.csv``, a park's ``name_vi``) come first; the glossary
    (:data:`TERMS_VI`) fills in the rest.

    Examples
    --------
    >>> from pathlib import Path
    >>> hanoi = graph.load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "hanoi")
    >>> names = vietnamese_names(hanoi)
    >>> names["heat treatment"], names["Noi Bai Industrial Park"]
    ('nhiệt luyện', 'Khu công nghiệp Nội Bài')
    """
    names = dict(TERMS_VI)
    parks = dataset.parks
    names.update((n, v) for n, v in zip(parks["name"], parks["name_vi"], strict=True) if v)
    terms = dataset.terms
    names.update((t, v) for t, v in zip(terms["term"], terms["name_vi"], strict=True) if v)
    return names


def term_vi(term: str, lang: str = "vi", names: Mapping[str, str] | None = None) -> str:
    """A sector, process or park name in ``lang`` (itself in English or when unknown).

    ``names`` are the data's (:func:`vietnamese_names`); without them, the glossary's.

    Examples
    --------
    >>> term_vi("heat treatment"), term_vi("Noi Bai Industrial Park"), term_vi("heat", "en")
    ('nhiệt luyện', 'Khu công nghiệp Nội Bài', 'heat')
    """
    if lang != "vi":
        return term
    names = TERMS_VI if names is None else names
    return names.get(term, names.get(term.lower(), term))


def terms_in_vietnamese(texts: Iterable[str], terms: Mapping[str, str] | None = None) -> list[str]:
    """Texts with every known English term replaced by its Vietnamese name (longest first,
    whole words only), for text already written before the terms were looked up.

    Examples
    --------
    >>> terms_in_vietnamese(["lacks the process(es) die casting, welding"])
    ['lacks the process(es) đúc áp lực, hàn']
    """
    glossary = dict(terms or TERMS_VI)
    if not glossary:
        return list(texts)
    names = sorted(glossary, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")
    return [pattern.sub(lambda m: glossary[m.group(1)], text) for text in texts]
