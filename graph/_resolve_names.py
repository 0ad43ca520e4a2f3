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
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from ketnoi.graph._normalise import fold, nfc
from ketnoi.graph._resolve_vocabulary import (
    BRANCH_WORDS,
    DISTRICT_PREFIX,
    FREE_MAIL_DOMAINS,
    GLOSSARY,
    HANOI_DISTRICTS,
    LEGAL_FORMS,
    PHRASES,
    PROVINCE_ALIASES,
    PROVINCE_PREFIX,
    STOPWORDS,
    TRADE_PHRASES,
    VIETNAMESE_SYLLABLE,
)
from ketnoi.graph._taxcode import TaxCode, parse_tax_code

__all__ = [
    "FREE_MAIL_DOMAINS",
    "split_trade_words",
    "FirmKey",
    "normalise_district",
    "normalise_firm",
    "normalise_phone",
    "normalise_province",
    "web_domain",
]

_PUNCT = re.compile(r"[^\w\s]|_")
_ACCENTS = re.compile("[\u0300-\u036f]")
_PROVINCES = frozenset(PROVINCE_ALIASES.values())


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
        """The name tokens as one string."""
        return " ".join(self.name_tokens)

    @property
    def brand(self) -> str:
        """The proper name: the name tokens without trade words, sorted (order-free)."""
        return " ".join(sorted(split_trade_words(self.name_tokens)[0]))

    @property
    def trade_words(self) -> tuple[str, ...]:
        """The words of the name that say what the firm does (``thuong``, ``mai``, foreign
        words), the rest of :attr:`name_tokens` being :attr:`brand`."""
        return split_trade_words(self.name_tokens)[1]


def _text(record: Mapping[str, object], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    return " ".join(nfc(str(value)).split())


def _plain(text: str) -> str:
    """Folded, punctuation as spaces, single spaces.

    :func:`fold` by a regular expression over the combining accents Vietnamese uses (one C
    call instead of a Python step per character); text left with other marks goes through
    :func:`fold` itself, so the result is the same.
    """
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = _ACCENTS.sub("", text)
    if not text.isascii():
        text = fold(text)
    return " ".join(_PUNCT.sub(" ", text.casefold()).split())


def _remove_phrase(words: str, phrase: str) -> tuple[str, bool]:
    padded = f" {words} "
    needle = f" {phrase} "
    if needle not in padded:
        return words, False
    return " ".join(padded.replace(needle, " ", 1).split()), True


def _close(word: str, target: str) -> bool:
    """The same word but for one slip (a letter dropped, doubled, changed or swapped)."""
    if word == target:
        return True
    return min(len(word), len(target)) >= 3 and OSA.distance(word, target) <= 1


def _index(phrases: list[tuple[str, ...]], at: int) -> dict[str, list[int]]:
    """Positions of phrases by their first (``at=0``) or last (``at=-1``) word."""
    index: dict[str, list[int]] = {}
    for i, words in enumerate(phrases):
        index.setdefault(words[at], []).append(i)
    return index


_LEGAL = [tuple(phrase.split()) for phrase, _ in LEGAL_FORMS]
_LEGAL_FIRST = _index(_LEGAL, 0)
_LEGAL_LAST = _index([p if len(p) > 1 else ("",) for p in _LEGAL], -1)
_TRADE = [tuple(phrase.split()) for phrase in TRADE_PHRASES]
_TRADE_FIRST = _index(_TRADE, 0)
_TRADE_LAST = _index(_TRADE, -1)


def _near(word: str, index: dict[str, list[int]]) -> list[int]:
    """Positions of the phrases whose indexed word is ``word`` or :func:`_close` to it, in the
    phrases' own order (longest first): a few edit-distance calls in C instead of one per
    phrase."""
    found = process.extract(word, list(index), scorer=OSA.distance, score_cutoff=1, limit=None)
    return sorted(i for key, _, _ in found if _close(word, key) for i in index[key])


def _mend_legal_form(words: str) -> str:
    """Write a legal form typed with a slip ("Cng ty", "TNNHH", "Trách nhiệệm") correctly,
    where legal forms stand: at the start of the name, or at the end of an English one."""
    tokens = words.split()
    start, mended = 0, True
    while mended and start < len(tokens):
        mended = False
        for i in _near(tokens[start], _LEGAL_FIRST):
            target = _LEGAL[i]
            if len(target) == 1 and len(target[0]) < 4:
                continue  # a short word typed wrong is too often another word
            head = tokens[start : start + len(target)]
            if len(head) == len(target) and all(map(_close, head, target)):
                tokens[start : start + len(target)] = target
                start += len(target)
                mended = True
                break
    if tokens:
        for i in _near(tokens[-1], _LEGAL_LAST):
            target = _LEGAL[i]
            tail = tokens[-len(target) :]
            if len(target) > 1 and len(tail) == len(target) and all(map(_close, tail, target)):
                tokens[-len(target) :] = target
                break
    return " ".join(tokens)


def _split_legal_form(words: str) -> tuple[str, str]:
    words = _mend_legal_form(words)
    form = ""
    present = set(words.split())
    for (phrase, name), phrase_words in zip(LEGAL_FORMS, _LEGAL, strict=True):
        if not present.issuperset(phrase_words):
            continue
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
    for phrase, replacement in PHRASES:
        words = f" {words} ".replace(f" {phrase} ", f" {replacement} ").strip()
    out: list[str] = []
    for word in words.split():
        if word in STOPWORDS:
            continue
        out.extend(GLOSSARY.get(word, word).split())
    return tuple(out)


def split_trade_words(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split name tokens into the proper name and the trade words.

    Trade words open a Vietnamese name and close an English one, so phrases of
    :data:`TRADE_PHRASES` (typed with a slip or not) and words that are no Vietnamese syllable
    (English trade words) are taken from both ends while more than two tokens remain: a
    two-syllable proper name is the rule, and "Đúc Đức Công" keeps "Đức Công".

    Examples
    --------
    >>> split_trade_words(("thuong", "mai", "dich", "vu", "minh", "phat"))
    (('minh', 'phat'), ('thuong', 'mai', 'dich', 'vu'))
    >>> split_trade_words(("hung", "tam", "packing"))
    (('hung', 'tam'), ('packing',))
    """
    rest, trade = list(tokens), []
    moved = True
    while moved and len(rest) > 2:
        moved = False
        for end in (0, -1):  # the front first: Vietnamese names are most common
            word = rest[end]
            for i in _near(word, _TRADE_FIRST if end == 0 else _TRADE_LAST):
                target = list(_TRADE[i])
                if len(rest) - len(target) < 2:
                    continue
                part = rest[: len(target)] if end == 0 else rest[-len(target) :]
                # One-word trade words only as written: "gia" is not "giay" mistyped.
                if part == target or (len(target) > 1 and all(map(_close, part, target))):
                    trade.extend(target)
                    rest = rest[len(target) :] if end == 0 else rest[: -len(target)]
                    moved = True
                    break
            # A word that is no Vietnamese syllable (and no slip of a trade word, tried first:
            # "thhiet" is "thiet") is a foreign trade word.
            if not moved and not VIETNAMESE_SYLLABLE.match(word):
                trade.append(word)
                del rest[end]
                moved = True
            if moved:
                break
    return tuple(rest), tuple(trade)


def _is_place(words: str) -> bool:
    return words in PROVINCE_ALIASES or words in HANOI_DISTRICTS


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
    return _province_key(_plain(text))


def _province_key(words: str) -> str:
    if words in PROVINCE_ALIASES:
        return PROVINCE_ALIASES[words]
    words = PROVINCE_PREFIX.sub("", words)
    return PROVINCE_ALIASES.get(words, words)


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
    return _district_key(_plain(text))


def _district_key(words: str) -> str:
    if words in HANOI_DISTRICTS:
        return words
    stripped = DISTRICT_PREFIX.sub("", words, count=1).strip()
    if not stripped:
        return words
    if stripped.isdigit():
        return f"quan {int(stripped)}"
    return stripped


def _fold_keep(text: str) -> str:
    """Folded like :func:`_plain`, punctuation kept (an address is split at its commas)."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = _ACCENTS.sub("", text)
    return (text if text.isascii() else fold(text)).casefold()


def _place_from_address(address: str) -> tuple[str, str]:
    """Province and district read from the tail of an address (``""`` when not found)."""
    plain = (" ".join(_PUNCT.sub(" ", p).split()) for p in re.split(r"[,;\-]", _fold_keep(address)))
    parts = [p for p in plain if p]
    province = district = ""
    for part in reversed(parts):
        if not province:
            candidate = _province_key(part)
            if candidate in _PROVINCES:
                province = candidate
                continue
        if not district:
            if DISTRICT_PREFIX.match(part) and not part.startswith(("phuong", "xa ", "thon")):
                district = _district_key(part)
            elif part in HANOI_DISTRICTS:
                district = part
    if not province and district in HANOI_DISTRICTS:
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
    for phrase in BRANCH_WORDS:
        words, found = _remove_phrase(words, phrase)
        if found:
            is_branch = True
    if words.startswith("cn "):
        words, is_branch = words[3:], True
    if is_branch and " tai " in f" {words} ":
        # "... tại Bắc Ninh" names where the branch is, not the firm.
        words = f" {words} ".split(" tai ", 1)[0].strip()
    words, legal_form = _split_legal_form(words)
    if is_branch:
        # "CN Công ty ... - Bắc Ninh": where the branch is, not which firm.
        for size in (3, 2, 1):
            tail = words.split()[-size:]
            if len(words.split()) > size and _is_place(" ".join(tail)):
                words = " ".join(words.split()[:-size])
                break
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
    if not province and district in HANOI_DISTRICTS:
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
