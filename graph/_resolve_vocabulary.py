"""Words of Vietnamese firm records: legal forms, trade words, places and mail hosts.

Data only (what :mod:`ketnoi.graph._resolve_names` reads names and places with), kept apart so
that the tables can grow without crowding the code.
"""

from __future__ import annotations

import re

__all__ = [
    "BRANCH_WORDS",
    "FREE_MAIL_DOMAINS",
    "GLOSSARY",
    "HANOI_DISTRICTS",
    "LEGAL_FORMS",
    "PHRASES",
    "PROVINCE_ALIASES",
    "STOPWORDS",
    "TRADE_PHRASES",
    "DISTRICT_PREFIX",
    "PROVINCE_PREFIX",
    "VIETNAMESE_SYLLABLE",
]

# Legal forms, folded and without punctuation, longest first: the first that occurs (as whole
# words) is the firm's form. Values are the Vietnamese names officers write.
LEGAL_FORMS: tuple[tuple[str, str], ...] = (
    ("cong ty trach nhiem huu han mot thanh vien", "Công ty TNHH MTV"),
    ("cong ty tnhh mot thanh vien", "Công ty TNHH MTV"),
    ("trach nhiem huu han mot thanh vien", "Công ty TNHH MTV"),
    ("tnhh mot thanh vien", "Công ty TNHH MTV"),
    ("tnhh 1 thanh vien", "Công ty TNHH MTV"),
    ("one member limited liability company", "Công ty TNHH MTV"),
    ("one member company limited", "Công ty TNHH MTV"),
    ("one member co ltd", "Công ty TNHH MTV"),
    ("single member limited liability company", "Công ty TNHH MTV"),
    ("cong ty tnhh mtv", "Công ty TNHH MTV"),
    ("cty tnhh mtv", "Công ty TNHH MTV"),
    ("tnhh mtv", "Công ty TNHH MTV"),
    ("cong ty trach nhiem huu han hai thanh vien tro len", "Công ty TNHH"),
    ("cong ty trach nhiem huu han", "Công ty TNHH"),
    ("trach nhiem huu han", "Công ty TNHH"),
    ("cong ty tnhh", "Công ty TNHH"),
    ("cty tnhh", "Công ty TNHH"),
    ("ct tnhh", "Công ty TNHH"),
    ("limited liability company", "Công ty TNHH"),
    ("company limited", "Công ty TNHH"),
    ("co ltd", "Công ty TNHH"),
    ("coltd", "Công ty TNHH"),
    ("tnhh", "Công ty TNHH"),
    ("llc", "Công ty TNHH"),
    ("ltd", "Công ty TNHH"),
    ("limited", "Công ty TNHH"),
    ("tong cong ty", "Tổng công ty"),
    ("cong ty co phan", "Công ty cổ phần"),
    ("cty co phan", "Công ty cổ phần"),
    ("cong ty cp", "Công ty cổ phần"),
    ("cty cp", "Công ty cổ phần"),
    ("ctcp", "Công ty cổ phần"),
    ("co phan", "Công ty cổ phần"),
    ("joint stock company", "Công ty cổ phần"),
    ("joint stock co", "Công ty cổ phần"),
    ("j s c", "Công ty cổ phần"),
    ("jsc", "Công ty cổ phần"),
    ("jsco", "Công ty cổ phần"),
    ("doanh nghiep tu nhan", "Doanh nghiệp tư nhân"),
    ("private enterprise", "Doanh nghiệp tư nhân"),
    ("dntn", "Doanh nghiệp tư nhân"),
    ("tap doan", "Tập đoàn"),
    ("group", "Tập đoàn"),
    ("hop tac xa", "Hợp tác xã"),
    ("htx", "Hợp tác xã"),
    ("cooperative", "Hợp tác xã"),
    ("corporation", "Tổng công ty"),
    ("corp", "Tổng công ty"),
    ("cong ty", "Công ty"),
    ("cty", "Công ty"),
    ("company", "Công ty"),
    ("inc", "Công ty"),
)

# Words that make a record a branch or representative office rather than the firm itself.
BRANCH_WORDS = (
    "chi nhanh",
    "van phong dai dien",
    "vpdd",
    "branch",
    "representative office",
    "branch office",
)

# English trade words and Vietnamese abbreviations as the (folded) Vietnamese words they stand
# for: "Hanoi Precision Mechanics" and "Cơ khí Chính xác Hà Nội" then share every token.
GLOSSARY: dict[str, str] = {
    "trading": "thuong mai",
    "general": "tong hop",
    "trade": "thuong mai",
    "commerce": "thuong mai",
    "commercial": "thuong mai",
    "tm": "thuong mai",
    "service": "dich vu",
    "services": "dich vu",
    "dv": "dich vu",
    "tmdv": "thuong mai dich vu",
    "manufacturing": "san xuat",
    "manufacture": "san xuat",
    "production": "san xuat",
    "producing": "san xuat",
    "sx": "san xuat",
    "mechanical": "co khi",
    "mechanics": "co khi",
    "mechanic": "co khi",
    "ck": "co khi",
    "precision": "chinh xac",
    "engineering": "ky thuat",
    "technical": "ky thuat",
    "electronics": "dien tu",
    "electronic": "dien tu",
    "electrical": "dien",
    "electric": "dien",
    "plastic": "nhua",
    "plastics": "nhua",
    "packaging": "bao bi",
    "package": "bao bi",
    "textile": "det",
    "textiles": "det",
    "garment": "may",
    "garments": "may",
    "construction": "xay dung",
    "xd": "xay dung",
    "investment": "dau tu",
    "technology": "cong nghe",
    "technologies": "cong nghe",
    "tech": "cong nghe",
    "imex": "xuat nhap khau",
    "xnk": "xuat nhap khau",
    "industrial": "cong nghiep",
    "industry": "cong nghiep",
    "industries": "cong nghiep",
    "development": "phat trien",
    "materials": "vat lieu",
    "material": "vat lieu",
    "equipment": "thiet bi",
    "automation": "tu dong hoa",
    "steel": "thep",
    "metal": "kim loai",
    "metals": "kim loai",
    "rubber": "cao su",
    "printing": "in",
    "chemical": "hoa chat",
    "chemicals": "hoa chat",
    "food": "thuc pham",
    "foods": "thuc pham",
    "wood": "go",
    "furniture": "noi that",
    "components": "linh kien",
    "component": "linh kien",
    "parts": "linh kien",
    "mould": "khuon",
    "mold": "khuon",
    "moulds": "khuon",
    "molds": "khuon",
    "casting": "duc",
    "logistics": "van tai",
    "transport": "van tai",
    "consulting": "tu van",
    "environment": "moi truong",
    "environmental": "moi truong",
    "energy": "nang luong",
    "paper": "giay",
    "glass": "kinh",
    "automotive": "o to",
    "auto": "o to",
    "machinery": "may moc",
    "hanoi": "ha noi",
    "hn": "ha noi",
    "saigon": "ho chi minh",
    "hcm": "ho chi minh",
    "hcmc": "ho chi minh",
    "tphcm": "ho chi minh",
    "vietnam": "viet nam",
    "vn": "viet nam",
}
# "Import export" is two English words for three Vietnamese ones.
PHRASES: tuple[tuple[str, str], ...] = (
    ("import export", "xuat nhap khau"),
    ("import and export", "xuat nhap khau"),
    ("xuat nhap khau", "xuat nhap khau"),
)
STOPWORDS = frozenset({"va", "and", "the", "of", "tai", "at"})

#: Mail domains shared by many firms: equal domains say nothing.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "yahoo.com",
        "yahoo.com.vn",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "vnn.vn",
        "fpt.vn",
        "hn.vnn.vn",
        "viettel.vn",
    }
)

# Provinces by folded key; the common abbreviations and English spellings point to them.
PROVINCE_ALIASES: dict[str, str] = {
    "ha noi": "ha noi",
    "hn": "ha noi",
    "hanoi": "ha noi",
    "ho chi minh": "ho chi minh",
    "hcm": "ho chi minh",
    "hcmc": "ho chi minh",
    "tphcm": "ho chi minh",
    "ho chi minh city": "ho chi minh",
    "sai gon": "ho chi minh",
    "saigon": "ho chi minh",
    "hai phong": "hai phong",
    "hp": "hai phong",
    "haiphong": "hai phong",
    "da nang": "da nang",
    "danang": "da nang",
    "can tho": "can tho",
}
_PROVINCES = (
    "bac giang",
    "bac ninh",
    "binh duong",
    "dong nai",
    "ha nam",
    "hai duong",
    "hung yen",
    "nam dinh",
    "ninh binh",
    "phu tho",
    "quang ninh",
    "thai binh",
    "thai nguyen",
    "thanh hoa",
    "vinh phuc",
    "long an",
    "ba ria vung tau",
    "nghe an",
)
for _p in _PROVINCES:
    PROVINCE_ALIASES.setdefault(_p, _p)
PROVINCE_PREFIX = re.compile(r"^(thanh pho|tinh|tp)\s+")
DISTRICT_PREFIX = re.compile(r"^(quan|huyen|thi xa|thanh pho|tp|tx|q|h|district)\s*")

# Hanoi's districts, recognised in an address without their "Quận"/"Huyện" prefix.
HANOI_DISTRICTS = frozenset(
    {
        "ba dinh",
        "hoan kiem",
        "tay ho",
        "long bien",
        "cau giay",
        "dong da",
        "hai ba trung",
        "hoang mai",
        "thanh xuan",
        "nam tu liem",
        "bac tu liem",
        "ha dong",
        "son tay",
        "ba vi",
        "phuc tho",
        "dan phuong",
        "hoai duc",
        "quoc oai",
        "thach that",
        "chuong my",
        "thanh oai",
        "thuong tin",
        "phu xuyen",
        "ung hoa",
        "my duc",
        "soc son",
        "dong anh",
        "gia lam",
        "me linh",
        "thanh tri",
    }
)

# What a firm does, as the (folded) Vietnamese words names use: a name is trade words and a
# proper name ("Thương mại Dịch vụ" + "Minh Phát"), and the proper name is what identifies it.
TRADE_PHRASES: tuple[str, ...] = tuple(
    sorted(
        {
            phrase
            for phrase in GLOSSARY.values()
            if phrase not in ("ha noi", "ho chi minh", "viet nam")
        }
        | {
            "tong hop",
            "khuon mau",
            "det may",
            "dien lanh",
            "xay lap",
            "xe may",
            "phu tung",
            "thiet ke",
            "trang tri",
            "nong nghiep",
            "cong trinh",
            "ha tang",
            "giai phap",
            "vien thong",
            "tin hoc",
            "phan mem",
        },
        key=lambda phrase: (-len(phrase.split()), phrase),
    )
)

# A folded Vietnamese syllable: an onset, one to three vowels, a final. Words that are not one
# ("packing", "foundry", "woodwork") are foreign trade words of an English name, not its
# proper name.
VIETNAMESE_SYLLABLE = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?$"
)
