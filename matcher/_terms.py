"""Vietnamese names of the trade's words that the data spell in English: sectors, processes,
parks.

Categories carry their Vietnamese name in the data (``categories.csv``: ``name_vi``); the
data contract has no such place yet for sectors and processes (free text on each firm) or for
parks, so reasons and agendas written in Vietnamese take the names from this glossary (the
programme's sectors and the processes and parks of the demo world). A term not in it is said
as the data spell it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["TERMS_VI", "term_vi", "terms_in_vietnamese"]

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


def term_vi(term: str, lang: str = "vi") -> str:
    """A sector, process or park name in ``lang`` (itself in English or when unknown).

    Examples
    --------
    >>> term_vi("heat treatment"), term_vi("Noi Bai Industrial Park"), term_vi("heat", "en")
    ('nhiệt luyện', 'Khu công nghiệp Nội Bài', 'heat')
    """
    if lang != "vi":
        return term
    return TERMS_VI.get(term, TERMS_VI.get(term.lower(), term))


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
