"""Agendas to hand to each firm at a matchmaking event: who, when, where, and why they meet.

:func:`firm_agendas` turns a schedule into one :class:`FirmAgenda` per participant, in the
firm's own language (Vietnamese where its people speak it, else English): each meeting's time
and table, the partner's name and a one-line profile, the reasons the two should meet, the
language of the meeting or the interpreter it needs, and the lunch break. No match score is
shown: a firm reads reasons, not ``2.9e-05``.

What a firm reads is what it may know. The reasons are those of the matcher
(:func:`ketnoi.matcher.reasons_for_pairs`): on a supplier's agenda, a buyer's confidential demand
is not said (the reasons that come from it are left out), and private values are banded as
for any other firm (:func:`ketnoi.matcher.disclose_reasons`: the supplier reads its own
capacity, nobody reads the other firm's exact distance). A partner's contact details are
shown only where the partner opted in (``contact_public``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ketnoi import graph, matcher
from ketnoi.programme._event_spec import EventSpec, participant_languages

if TYPE_CHECKING:
    from ketnoi.matcher import Matcher

__all__ = ["AgendaMeeting", "FirmAgenda", "LANGUAGE_NAMES", "agenda_text", "firm_agendas"]

#: Reasons per meeting on paper: the strongest three keep the page to one sheet.
REASONS_PER_MEETING = 3

#: Names of the languages a delegation may speak, in English and in Vietnamese.
LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "vi": ("Vietnamese", "tiếng Việt"),
    "en": ("English", "tiếng Anh"),
    "ja": ("Japanese", "tiếng Nhật"),
    "ko": ("Korean", "tiếng Hàn"),
    "zh": ("Chinese", "tiếng Trung"),
    "th": ("Thai", "tiếng Thái"),
    "de": ("German", "tiếng Đức"),
    "fr": ("French", "tiếng Pháp"),
    "nl": ("Dutch", "tiếng Hà Lan"),
    "it": ("Italian", "tiếng Ý"),
    "es": ("Spanish", "tiếng Tây Ban Nha"),
    "ms": ("Malay", "tiếng Mã Lai"),
    "id": ("Indonesian", "tiếng Indonesia"),
}

#: Every fixed string of an agenda page, in English and Vietnamese.
_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Meeting agenda", "Lịch gặp gỡ"),
    "buyer": ("buyer", "bên mua"),
    "supplier": ("supplier", "nhà cung cấp"),
    "time": ("Time", "Giờ"),
    "table": ("Table", "Bàn"),
    "partner": ("Meeting with", "Gặp"),
    "why": ("Why you meet", "Lý do gặp"),
    "language": ("Language", "Ngôn ngữ"),
    "interpreter": ("interpreter {pair}", "phiên dịch {pair}"),
    "lunch": ("Lunch break", "Nghỉ trưa"),
    "none": (
        "No meeting could be scheduled for you at this event.",
        "Sự kiện này chưa xếp được cuộc gặp nào cho quý doanh nghiệp.",
    ),
    "meetings": ("{n} meetings", "{n} cuộc gặp"),
    "one_meeting": ("1 meeting", "1 cuộc gặp"),
    "contact": ("Contact", "Liên hệ"),
    "makes": ("makes {items}", "sản xuất {items}"),
    "invested": ("{country}-invested", "vốn đầu tư {country}"),
    "ownership_domestic": ("Vietnamese firm", "doanh nghiệp trong nước"),
    "ownership_soe": ("state-owned firm", "doanh nghiệp nhà nước"),
    "ownership_jv": ("joint venture", "liên doanh"),
    "grid": ("Meetings by slot and table", "Các cuộc gặp theo giờ và bàn"),
    "slot": ("Slot", "Giờ"),
}


def agenda_text(key: str, lang: str = "en", **values: object) -> str:
    """A fixed string of the agenda pages in ``lang`` (``en`` or ``vi``).

    Examples
    --------
    >>> agenda_text("lunch", "vi"), agenda_text("meetings", "en", n=4)
    ('Nghỉ trưa', '4 meetings')
    """
    return _TEXT[key][0 if lang == "en" else 1].format(**values)


def language_name(code: str, lang: str = "en") -> str:
    """``ja`` as ``Japanese`` or ``tiếng Nhật``; an unknown code as itself."""
    names = LANGUAGE_NAMES.get(code)
    return code if names is None else names[0 if lang == "en" else 1]


@dataclass(frozen=True)
class AgendaMeeting:
    """One line of a firm's agenda: a meeting, or the lunch break (``kind="lunch"``)."""

    kind: str
    time: str
    slot: int | None = None
    table: int | None = None
    partner_id: str = ""
    partner_name: str = ""
    partner_profile: str = ""
    partner_contact: str = ""
    reasons: tuple[str, ...] = ()
    language: str = ""
    interpreter: str = ""


@dataclass(frozen=True)
class FirmAgenda:
    """A firm's page: its meetings in slot order, the lunch break among them."""

    event: str
    firm_id: str
    firm_name: str
    side: str
    lang: str
    lines: tuple[AgendaMeeting, ...] = field(default=())

    @property
    def meetings(self) -> int:
        """How many meetings the firm has."""
        return sum(line.kind == "meeting" for line in self.lines)

    def text(self, key: str, **values: object) -> str:
        """A fixed string in the page's language (for templates)."""
        return agenda_text(key, self.lang, **values)


def page_language(languages: Sequence[str]) -> str:
    """The language a firm's page is written in: Vietnamese where its people speak it, else
    English (the two languages ketnoi writes).

    Examples
    --------
    >>> page_language(("ja", "en")), page_language(("vi", "en")), page_language(("ko",))
    ('en', 'vi', 'en')
    """
    return "vi" if "vi" in languages else "en"


def _profiles(dataset: graph.Dataset, firm_ids: set[str], lang: str) -> dict[str, str]:
    """One line a partner is introduced by: sector, ownership, park, what it makes.

    Only public fields: never size, founding year, location or capacity.
    """
    firms = dataset.firms.set_index("firm_id")
    names = dataset.categories.set_index("category_id")
    name_column = "name_vi" if lang == "vi" and "name_vi" in names.columns else "name"
    parks = dict(zip(dataset.parks["park_id"], dataset.parks["name"], strict=True))
    names_vi = matcher.vietnamese_names(dataset)
    caps = dataset.capabilities
    made = caps[caps["firm_id"].isin(firm_ids)].groupby("firm_id")["category_id"].agg(list)
    out = {}
    for firm_id in firm_ids:
        if firm_id not in firms.index:
            continue
        row = firms.loc[firm_id]
        parts = []
        sector = str(row.get("sector") or "")
        if sector:
            parts.append(matcher.term_vi(sector, lang, names_vi))
        ownership = str(row.get("ownership") or "")
        country = str(row.get("country_of_origin") or "")
        if ownership == "fdi" and country:
            adjective = matcher.country_adjective(country, lang)
            parts.append(agenda_text("invested", lang, country=adjective))
        elif ownership in {"domestic", "soe", "jv"}:
            parts.append(agenda_text(f"ownership_{ownership}", lang))
        park = str(row.get("park") or "")
        if park:
            parts.append(matcher.term_vi(str(parks.get(park, park)), lang, names_vi))
        cats = [c for c in made.get(firm_id, []) if c in names.index][:3]
        if cats:
            label = [matcher.running_text(str(names.at[c, name_column] or c)) for c in cats]
            parts.append(agenda_text("makes", lang, items=", ".join(label)))
        out[firm_id] = " · ".join(parts)
    return out


def _contacts(dataset: graph.Dataset) -> dict[str, str]:
    """Contact lines of the firms that opted in to show them to other firms."""
    firms = dataset.firms
    if "contact_public" not in firms.columns:
        return {}
    fields = [c for c in ("contact_person", "phone", "email") if c in firms.columns]
    out = {}
    for row in firms[firms["contact_public"].fillna(False).astype(bool)].to_dict("records"):
        shown = [str(row[c]) for c in fields if row.get(c) and not pd.isna(row[c])]
        if shown:
            out[str(row["firm_id"])] = " · ".join(shown)
    return out


def firm_agendas(
    spec: EventSpec,
    meetings: pd.DataFrame,
    m: Matcher | None,
    dataset: graph.Dataset,
    *,
    firm_ids: Sequence[str] | None = None,
    lang: str | None = None,
    names: dict[str, str] | None = None,
) -> list[FirmAgenda]:
    """Each participant's agenda page, in registration order.

    Parameters
    ----------
    spec : EventSpec
        The event with its sides filled in (as :class:`EventSchedule` holds it).
    meetings : DataFrame
        The meeting table (:data:`MEETING_COLUMNS`).
    m : Matcher or None
        Gives the reasons; None leaves them out.
    dataset : graph.Dataset
        Names, profiles, languages and contacts of the firms.
    firm_ids : sequence of str, optional
        Only these firms' pages.
    lang : {"en", "vi"}, optional
        Every page in this language (default: each firm's own, :func:`page_language`).
    names : dict, optional
        Firm names where the dataset lacks them.

    Returns
    -------
    list of FirmAgenda
    """
    wanted = None if firm_ids is None else set(firm_ids)
    people = [p for p in spec.participants if wanted is None or p.firm_id in wanted]
    firms = {r["firm_id"]: r for r in dataset.firms.to_dict("records")}
    known_names = {**(names or {}), **{f: str(r["name"]) for f, r in firms.items()}}
    langs = {
        p.firm_id: participant_languages(p, firms.get(p.firm_id, {})) for p in spec.participants
    }
    page_lang = {p.firm_id: lang or page_language(langs[p.firm_id]) for p in people}
    partners = {str(x) for x in meetings["buyer_id"]} | {str(x) for x in meetings["supplier_id"]}
    profiles = {
        code: _profiles(dataset, partners, code) for code in sorted(set(page_lang.values()))
    }
    contacts = _contacts(dataset)
    reasons = _reasons(m, meetings, people, page_lang)

    out = []
    for p in people:
        own, other = ("buyer", "supplier") if p.side == "buyer" else ("supplier", "buyer")
        code = page_lang[p.firm_id]
        mine = meetings[meetings[f"{own}_id"] == p.firm_id].sort_values("slot")
        lines: list[AgendaMeeting] = []
        for row in mine.to_dict("records"):
            partner = str(row[f"{other}_id"])
            interpreter = ""
            if row["interpreter"]:
                first = [language_name(langs[f][0], code) for f in (p.firm_id, partner)]
                interpreter = agenda_text("interpreter", code, pair=" – ".join(first))
            lines.append(
                AgendaMeeting(
                    kind="meeting",
                    time=str(row["slot_label"]),
                    slot=int(row["slot"]),
                    table=int(row["table"]),
                    partner_id=partner,
                    partner_name=str(row[f"{other}_name"] or known_names.get(partner, partner)),
                    partner_profile=profiles[code].get(partner, ""),
                    partner_contact=contacts.get(partner, ""),
                    reasons=tuple(reasons.get((p.firm_id, partner), ())),
                    language=language_name(str(row["language"]), code) if row["language"] else "",
                    interpreter=interpreter,
                )
            )
        out.append(
            FirmAgenda(
                event=spec.name,
                firm_id=p.firm_id,
                firm_name=known_names.get(p.firm_id, p.firm_id),
                side=p.side,
                lang=code,
                lines=_with_lunch(spec, lines),
            )
        )
    return out


def _with_lunch(spec: EventSpec, lines: list[AgendaMeeting]) -> tuple[AgendaMeeting, ...]:
    """The lines with the lunch break placed after the slot it follows."""
    after = spec.lunch_after
    if not after or not 0 < after < spec.slots:
        return tuple(lines)
    lunch = AgendaMeeting(kind="lunch", time=spec.lunch_label or "")
    before = [line for line in lines if line.slot is not None and line.slot <= after]
    return (*before, lunch, *lines[len(before) :])


#: A buyer reads its own agenda: the reasons speak to it ("which you require"), not of it.
_TO_THE_BUYER: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("which the buyer demands", "which you demand"),
        ("which the buyer requires", "which you require"),
        ("as the buyer requires", "as you require"),
        ("what the buyer makes", "what you make"),
        ("that the buyer needs", "that you need"),
        ("has met this buyer before", "has met you before"),
        ("supplied this buyer before", "supplied you before"),
        ("source like this buyer", "source like you"),
        ("suppliers with this buyer", "suppliers with you"),
        ("what this buyer buys", "what you buy"),
    ),
    "vi": (
        ("mặt hàng bên mua có nhu cầu", "mặt hàng quý doanh nghiệp có nhu cầu"),
        ("mà bên mua yêu cầu", "mà quý doanh nghiệp yêu cầu"),
        ("theo yêu cầu của bên mua", "theo yêu cầu của quý doanh nghiệp"),
        ("sản phẩm của bên mua", "sản phẩm của quý doanh nghiệp"),
        ("mà bên mua cần", "mà quý doanh nghiệp cần"),
        ("gặp bên mua này", "gặp quý doanh nghiệp"),
        ("cung cấp cho bên mua này", "cung cấp cho quý doanh nghiệp"),
        ("giống bên mua này", "giống quý doanh nghiệp"),
        ("với bên mua này", "với quý doanh nghiệp"),
        ("cùng mặt hàng với bên mua", "cùng mặt hàng với quý doanh nghiệp"),
    ),
}


def _to_the_buyer(reasons: list[str], lang: str) -> list[str]:
    """Reasons as the buyer reads them on its own agenda.

    Examples
    --------
    >>> _to_the_buyer(["holds ISO 9001, which the buyer requires"], "en")
    ['holds ISO 9001, which you require']
    """
    out = []
    for reason in reasons:
        for said, to_you in _TO_THE_BUYER[lang]:
            reason = reason.replace(said, to_you)
        out.append(reason)
    return out


def _reasons(
    m: Matcher | None,
    meetings: pd.DataFrame,
    people: Sequence[Any],
    page_lang: dict[str, str],
) -> dict[tuple[str, str], list[str]]:
    """Reasons of each meeting as each of its two firms may read them, in its page's language.

    Keyed by (reader, partner). A supplier does not read its buyer's confidential demand, and
    each reader gets the other firm's private values banded.
    """
    out: dict[tuple[str, str], list[str]] = {}
    if m is None or meetings.empty:
        return out
    readers = {p.firm_id: p.side for p in people}
    for side in ("buyer", "supplier"):
        for code in ("en", "vi"):
            rows = meetings[
                meetings[f"{side}_id"].map(
                    lambda f, c=code, s=side: readers.get(f) == s and page_lang.get(f) == c
                )
            ]
            if rows.empty:
                continue
            said = matcher.reasons_for_pairs(
                m,
                rows["buyer_id"].tolist(),
                rows["supplier_id"].tolist(),
                lang=code,
                hide_confidential=side == "supplier",
            )
            disclosure: matcher.Disclosure = "supplier" if side == "supplier" else "public"
            other = "supplier" if side == "buyer" else "buyer"
            for reader, partner, reasons in zip(
                rows[f"{side}_id"], rows[f"{other}_id"], said, strict=True
            ):
                banded = matcher.disclose_reasons(reasons, disclosure=disclosure, lang=code)
                if side == "buyer":
                    banded = _to_the_buyer(banded, code)
                out[(str(reader), str(partner))] = banded[:REASONS_PER_MEETING]
    return out
