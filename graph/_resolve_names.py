"""Firm records made comparable: names, legal forms, branches, places and contacts.

The same firm arrives as "Công ty TNHH Cơ khí Chính xác Hà Nội", "CTY TNHH CO KHI CHINH XAC
HN", "Hanoi Precision Mechanics Co., Ltd" and "Chi nhánh Công ty TNHH Cơ khí Chính xác Hà Nội
tại Bắc Ninh". :func:`normalise_firm` turns each into a :class:`FirmKey`: the name folded (case
and diacritics, with ``đ`` -> ``d``), the legal form *moved* into its own field (it says
something about the firm, but "TNHH" against "Co., Ltd" must not count as a name difference),
"Chi nhánh" kept as a branch flag, the trade words of English names and the usual Vietnamese
abbreviations (TM, DV, SX, XNK) written as the Vietnamese words they stand for, so that word
order and language stop mattering, and province, district, phone, e-mail and web domains
written one way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ketnoi.graph._normalise import fold, nfc
from ketnoi.graph._taxcode import TaxCode, parse_tax_code

__all__ = [
    "FREE_MAIL_DOMAINS",
    "FirmKey",
    "normalise_district",
    "normalise_firm",
    "normalise_phone",
    "normalise_province",
    "web_domain",
]

# Legal forms, folded and without punctuation, longest first: the first that occurs (as whole
# words) is the firm's form. Values are the Vietnamese names officers write.
_LEGAL_FORMS: tuple[tuple[str, str], ...] = (
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
_BRANCH_WORDS = (
    "chi nhanh",
    "van phong dai dien",
    "vpdd",
    "branch",
    "representative office",
    "branch office",
)

# English trade words and Vietnamese abbreviations as the (folded) Vietnamese words they stand
# for: "Hanoi Precision Mechanics" and "Cơ khí Chính xác Hà Nội" then share every token.
_GLOSSARY: dict[str, str] = {
    "trading": "thuong mai",
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
_PHRASES: tuple[tuple[str, str], ...] = (
    ("import export", "xuat nhap khau"),
    ("import and export", "xuat nhap khau"),
    ("xuat nhap khau", "xuat nhap khau"),
)
_STOPWORDS = frozenset({"va", "and", "the", "of", "tai", "at"})

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
_PROVINCE_ALIASES: dict[str, str] = {
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
    _PROVINCE_ALIASES.setdefault(_p, _p)
_PROVINCE_PREFIX = re.compile(r"^(thanh pho|tinh|tp)\s+")
_DISTRICT_PREFIX = re.compile(r"^(quan|huyen|thi xa|thanh pho|tp|tx|q|h|district)\s*")

# Hanoi's districts, recognised in an address without their "Quận"/"Huyện" prefix.
_HANOI_DISTRICTS = frozenset(
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
_PUNCT = re.compile(r"[^\w\s]|_")


@dataclass(frozen=True)
class FirmKey:
    """A firm record written one way, ready for blocking and comparison.

    Attributes
    ----------
    name : str
        The name as given, NFC, single spaces.
    name_folded : str
        ``name`` folded (lower case, no diacritics, ``đ`` -> ``d``), punctuation removed.
    name_tokens : tuple of str
        The words that name this firm: legal form, branch words and stop words removed, English
        trade words and abbreviations written as Vietnamese, in the order they came.
    legal_form : str
        The legal form found in the name (``"Công ty TNHH"``, ``"Công ty cổ phần"``...), or ``""``.
    is_branch : bool
        A branch or representative office ("Chi nhánh", a 13-digit tax code).
    province, district : str
        Folded, without "Tỉnh/Thành phố" or "Quận/Huyện" (``"ha noi"``, ``"dong anh"``; a
        numbered district keeps its word: ``"quan 1"``); ``""`` when unknown.
    phone : str
        Digits of the first number, ``+84`` written as ``0``; ``""`` when none.
    email_domain, website_domain : str
        Lower case, without ``www.``; ``""`` when none.
    tax_code : TaxCode or None
        The parsed tax code, None when the record has none.
    """

    name: str
    name_folded: str
    name_tokens: tuple[str, ...]
    legal_form: str
    is_branch: bool
    province: str
    district: str
    phone: str
    email_domain: str
    website_domain: str
    tax_code: TaxCode | None

    @property
    def name_core(self) -> str:
        """The name tokens as one string (what names are compared on)."""
        return " ".join(self.name_tokens)


def _text(record: Mapping[str, object], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    return " ".join(nfc(str(value)).split())


def _plain(text: str) -> str:
    """Folded, punctuation as spaces, single spaces."""
    return " ".join(_PUNCT.sub(" ", fold(text)).split())


def _remove_phrase(words: str, phrase: str) -> tuple[str, bool]:
    padded = f" {words} "
    needle = f" {phrase} "
    if needle not in padded:
        return words, False
    return " ".join(padded.replace(needle, " ", 1).split()), True


def _split_legal_form(words: str) -> tuple[str, str]:
    form = ""
    for phrase, name in _LEGAL_FORMS:
        words, found = _remove_phrase(words, phrase)
        if found:
            # The first (longest) form names the firm; shorter ones found later are its remains
            # ("cong ty" left over after "tnhh ... " in an English-Vietnamese mix).
            form = form or name
    # A bare "co" is "Co." only at the end ("Minh Phat Co."): elsewhere it is "cơ" of "cơ khí".
    if words.endswith(" co"):
        words, form = words[:-3], form or "Công ty"
    return words, form


def _canonical_tokens(words: str) -> tuple[str, ...]:
    for phrase, replacement in _PHRASES:
        words = f" {words} ".replace(f" {phrase} ", f" {replacement} ").strip()
    out: list[str] = []
    for word in words.split():
        if word in _STOPWORDS:
            continue
        out.extend(_GLOSSARY.get(word, word).split())
    return tuple(out)


def _is_place(words: str) -> bool:
    return words in _PROVINCE_ALIASES or words in _HANOI_DISTRICTS


def _strip_branch_place(words: str) -> str:
    """Drop the place an English branch name gives ("... Bac Ninh Branch", "... Branch in
    Bac Ninh"): it says where the branch is, not which firm."""
    tokens = words.split()
    if "branch" not in tokens:
        return words
    at = tokens.index("branch")
    after = tokens[at + 1 :]
    if after[:1] in (["in"], ["at"]) and _is_place(" ".join(after[1:4])):
        after = after[1 + len(" ".join(after[1:4]).split()) :]
    for size in (3, 2, 1):
        if at >= size and _is_place(" ".join(tokens[at - size : at])):
            return " ".join(tokens[: at - size] + ["branch"] + after)
    return " ".join(tokens[: at + 1] + after)


def normalise_province(text: str) -> str:
    """A province written one way: folded, no "Tỉnh"/"Thành phố" prefix, aliases resolved.

    Examples
    --------
    >>> normalise_province("TP. Hồ Chí Minh"), normalise_province("HN")
    ('ho chi minh', 'ha noi')
    >>> normalise_province("Tỉnh Bắc Ninh")
    'bac ninh'
    """
    words = _plain(text)
    if words in _PROVINCE_ALIASES:
        return _PROVINCE_ALIASES[words]
    words = _PROVINCE_PREFIX.sub("", words)
    return _PROVINCE_ALIASES.get(words, words)


def normalise_district(text: str) -> str:
    """A district written one way: folded, without "Quận/Huyện/Thị xã/Thành phố" or their
    abbreviations; a numbered district keeps the word "quan" (``Q.1`` -> ``quan 1``).

    Examples
    --------
    >>> normalise_district("Huyện Đông Anh"), normalise_district("đông anh")
    ('dong anh', 'dong anh')
    >>> normalise_district("Q. Cầu Giấy"), normalise_district("Q1"), normalise_district("Quận 3")
    ('cau giay', 'quan 1', 'quan 3')
    """
    words = _plain(text)
    if words in _HANOI_DISTRICTS:
        return words
    stripped = _DISTRICT_PREFIX.sub("", words, count=1).strip()
    if not stripped:
        return words
    if stripped.isdigit():
        return f"quan {int(stripped)}"
    return stripped


def _place_from_address(address: str) -> tuple[str, str]:
    """Province and district read from the tail of an address (``""`` when not found)."""
    parts = [_plain(p) for p in re.split(r"[,;\-]", address) if _plain(p)]
    province = district = ""
    for part in reversed(parts):
        if not province:
            candidate = normalise_province(part)
            if candidate in _PROVINCE_ALIASES.values():
                province = candidate
                continue
        if not district:
            if _DISTRICT_PREFIX.match(part) and not part.startswith(("phuong", "xa ", "thon")):
                district = normalise_district(part)
            elif part in _HANOI_DISTRICTS:
                district = part
    if not province and district in _HANOI_DISTRICTS:
        province = "ha noi"
    return province, district


def normalise_phone(text: str) -> str:
    """The first phone number's digits, ``+84``/``84`` written as the trunk ``0``.

    Hanoi's landlines moved from ``04`` to ``024`` in 2017; an old ``04`` + 8 digits is
    written the new way so that the two compare equal.

    Examples
    --------
    >>> normalise_phone("+84 24 3826 1234"), normalise_phone("(04) 3826.1234")
    ('02438261234', '02438261234')
    >>> normalise_phone("0912 345 678 / 0987 654 321")
    '0912345678'
    """
    first = re.split(r"[;/,]|\s-\s", text)[0] if text else ""
    digits = re.sub(r"\D", "", first)
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif digits and not digits.startswith("0") and len(digits) in (9, 10):
        digits = "0" + digits
    if digits.startswith("04") and len(digits) == 10:
        digits = "024" + digits[2:]
    return digits if len(digits) >= 8 else ""


def web_domain(text: str) -> str:
    """The host of a web address or the domain of an e-mail, lower case, without ``www.``.

    Examples
    --------
    >>> web_domain("https://www.CoKhiHN.com.vn/gioi-thieu"), web_domain("sales@cokhihn.vn")
    ('cokhihn.com.vn', 'cokhihn.vn')
    """
    text = text.strip().lower()
    if not text:
        return ""
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^[a-z]+://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
    text = text.removeprefix("www.").strip(". ")
    return text if "." in text else ""


def normalise_firm(record: Mapping[str, object]) -> FirmKey:
    """Write a firm record one way for blocking and comparison.

    Parameters
    ----------
    record : mapping
        Any of ``name``, ``tax_code``, ``address``, ``province``, ``district``, ``phone``,
        ``email``, ``website`` (missing keys, None and NaN are fine). Province and district
        missing from their own keys are looked for at the end of ``address``.

    Returns
    -------
    FirmKey

    Examples
    --------
    >>> key = normalise_firm({"name": "CTY TNHH CƠ KHÍ ĐÔNG ANH", "phone": "+84 912 345 678"})
    >>> key.name_tokens, key.legal_form, key.phone
    (('co', 'khi', 'dong', 'anh'), 'Công ty TNHH', '0912345678')
    >>> key = normalise_firm({"name": "Hanoi Precision Mechanics Co., Ltd"})
    >>> key.name_tokens, key.legal_form
    (('ha', 'noi', 'chinh', 'xac', 'co', 'khi'), 'Công ty TNHH')
    >>> normalise_firm({"name": "Chi nhánh Công ty CP Nhựa Tiền Phong tại Bắc Ninh"}).is_branch
    True
    """
    name = _text(record, "name")
    words = _strip_branch_place(_plain(name))
    is_branch = False
    for phrase in _BRANCH_WORDS:
        words, found = _remove_phrase(words, phrase)
        if found:
            is_branch = True
    if words.startswith("cn "):
        words, is_branch = words[3:], True
    if is_branch and " tai " in f" {words} ":
        # "... tại Bắc Ninh" names where the branch is, not the firm.
        words = f" {words} ".split(" tai ", 1)[0].strip()
    words, legal_form = _split_legal_form(words)
    tokens = _canonical_tokens(words)

    code_text = _text(record, "tax_code")
    tax_code = parse_tax_code(code_text) if code_text else None
    if tax_code is not None and tax_code.branch and tax_code.head:
        is_branch = True

    address = _text(record, "address")
    from_address = _place_from_address(address) if address else ("", "")
    province_text = _text(record, "province")
    district_text = _text(record, "district")
    province = normalise_province(province_text) if province_text else from_address[0]
    district = normalise_district(district_text) if district_text else from_address[1]
    if not province and district in _HANOI_DISTRICTS:
        province = "ha noi"

    return FirmKey(
        name=name,
        name_folded=_plain(name),
        name_tokens=tokens,
        legal_form=legal_form,
        is_branch=is_branch,
        province=province,
        district=district,
        phone=normalise_phone(_text(record, "phone")),
        email_domain=web_domain(_text(record, "email")),
        website_domain=web_domain(_text(record, "website")),
        tax_code=tax_code,
    )
