"""Intake into the register: source records matched, proposed or made into firms; the review
queue and people's decisions.

Every row an officer brings in is stored as a source record (list, sheet, row, raw cells, parsed
fields), apart from the firms. Each record is then, in this order:

1. **the same as before**: a record with the same content (``content_key``: a hash of its
   parsed fields) was resolved already: it goes where that one went, and nobody is asked again;
2. **matched by tax code**: a valid code that a live firm holds exactly;
3. **decided by a person before**: the pair's ``pair_key`` (both sides' content) carries a
   person's ``match`` or ``distinct``, which stands;
4. **scored** (:class:`ketnoi.graph.FirmResolver` on the candidate pairs of
   :func:`ketnoi.graph.candidate_pairs`, judged by :func:`ketnoi.graph.decide`): ``match`` at or
   above ``accept`` (never against a conflicting tax code: ``decide`` sends those to review),
   ``branch_of`` (a firm of its own, linked to its head office), ``review`` between the
   thresholds (a queue entry per candidate, the evidence side by side), or below them when the
   pair has a name and nothing else and the names are the same (``decide``'s
   ``name_only_review``). The candidates are the register's firms **and the firms that
   earlier rows of the same list made**: a firm listed twice in one list is one firm;
5. otherwise a **new firm**, with the next id in the register's own pattern (``hn-s1201``).

The whole intake is one transaction with its audit entry, and the register it leaves is
validated as a dataset first: a bad list writes nothing.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api.storage._aliases import resolve_firm_id
from ketnoi.api.storage._audit import record
from ketnoi.api.storage._crud import Invalid
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._intake_categories import add_confirmed_capabilities, confirmed_fields
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._load import dataset_in
from ketnoi.api.storage._merges import actor_name
from ketnoi.api.storage._models import Category, Firm, Park, utcnow
from ketnoi.api.storage._resolution_models import ResolutionDecision, SourceRecord

__all__ = [
    "ACCEPT",
    "FIRM_KEY_FIELDS",
    "REVIEW",
    "IntakeSummary",
    "Register",
    "firm_as_dict",
    "firm_content_key",
    "intake_records",
    "next_firm_id",
    "record_content_key",
]

_DECIDE = inspect.signature(graph.decide).parameters
#: At or above this match probability a pair is a match without asking anyone: the threshold
#: :func:`ketnoi.graph.decide` was tuned with (its default), so there is one number to change.
ACCEPT = float(_DECIDE["accept"].default)
#: At or above this (below :data:`ACCEPT`) a pair waits in the review queue (``decide``'s too).
REVIEW = float(_DECIDE["review"].default)
#: The firm fields that make a firm's side of a pair (what a person saw when deciding).
FIRM_KEY_FIELDS = ("name", "tax_code", "address", "phone", "email", "website")
#: Record fields that go to the firms table's own columns; the rest are kept in ``extra``.
_FIRM_COLUMNS = (
    "name",
    "name_en",
    "tax_code",
    "address",
    "sector",
    "employees",
    "founded",
    "phone",
    "email",
    "website",
    "contact_person",
)
_ROLES = ("supplier", "buyer", "both")
#: The prefix of the fields intake keeps in a new firm's ``extra`` (``intake_products``).
_EXTRA = "intake_"
_ID_NUMBER = re.compile(r"^(.*?)(\d+)$")
#: The id pattern of a register's first firm of a role.
_FIRST_IDS = {"supplier": "s0001", "buyer": "b0001", "both": "f0001"}


@dataclass
class IntakeSummary:
    """What an intake did with each record: lists of ``{source, sheet, line, name, firm_id,
    rule}`` (``proposed``: with the candidate firms and review ids instead of one firm)."""

    source: str
    matched: list[dict[str, Any]] = field(default_factory=list)
    proposed: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    remembered: int = 0
    """Records resolved by an earlier decision (the same record, or a person's answer)."""
    method_version: str = ""
    capabilities: int = 0
    """Capabilities added from the categories a person confirmed for rows' products."""

    def counts(self) -> dict[str, int]:
        return {
            "matched": len(self.matched),
            "proposed": len(self.proposed),
            "created": len(self.created),
            "remembered": self.remembered,
            "capabilities": self.capabilities,
        }


# -- content keys -----------------------------------------------------------------------------
def _digest(values: Any) -> str:
    text = json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _folded(value: Any) -> str:
    return graph.fold(" ".join(str(value).split())) if value not in (None, "") else ""


def record_content_key(fields: dict[str, Any]) -> str:
    """A record's content as a hash: its parsed fields, case, accents and spacing aside; the
    list, sheet and row it came from do not count."""
    return _digest({k: _folded(v) for k, v in sorted(fields.items()) if v not in (None, "")})


def firm_content_key(firm: dict[str, Any]) -> str:
    """A firm's side of a pair as a hash: the fields a person compares."""
    return _digest({k: _folded(firm.get(k, "")) for k in FIRM_KEY_FIELDS})


def _pair_key(record_key: str, firm_key: str) -> str:
    return _digest(["pair", record_key, firm_key])


# -- new firms ----------------------------------------------------------------------------------
def _id_pattern(pairs: list[tuple[str, str]], role: str) -> tuple[str, int, int]:
    """The prefix, digit count and highest number of the ids the register uses for ``role``."""

    def numbered(ids: Iterable[str]) -> list[tuple[str, str]]:
        return [(m.group(1), m.group(2)) for i in ids if (m := _ID_NUMBER.match(i))]

    found = numbered(f for f, r in pairs if r == role) or numbered(f for f, _ in pairs)
    if not found:
        return _FIRST_IDS.get(role, "f0001")[0], 4, 0
    prefix = Counter(p for p, _ in found).most_common(1)[0][0]
    digits = max((d for p, d in found if p == prefix), key=lambda d: (int(d), len(d)))
    return prefix, len(digits), int(digits)


def next_firm_id(existing: Iterable[tuple[str, str]], role: str) -> str:
    """The next firm id in the pattern the register already uses for ``role``.

    Parameters
    ----------
    existing : iterable of (firm_id, role)
        Every firm id ever used (deleted and merged ones too: ids are never reused).
    role : str

    Examples
    --------
    >>> next_firm_id([("hn-s0001", "supplier"), ("hn-s0012", "supplier"), ("hn-b0003", "buyer")],
    ...              "supplier")
    'hn-s0013'
    >>> next_firm_id([("S1", "supplier"), ("B1", "buyer")], "buyer")
    'B2'
    >>> next_firm_id([], "both")
    'f0001'
    """
    pairs = list(existing)
    prefix, width, number = _id_pattern(pairs, role)
    return _free_id(prefix, width, number, {f for f, _ in pairs})


def _free_id(prefix: str, width: int, number: int, taken: set[str]) -> str:
    while True:
        number += 1
        candidate = f"{prefix}{number:0{width}d}"
        if candidate not in taken:
            return candidate


def _firm_values(fields: dict[str, Any], role: str, parks: set[str], where: str) -> dict[str, Any]:
    values: dict[str, Any] = {"role": role, "listed": True, "contact_public": False}
    # Extra columns come back as a dump's extra columns: prefixed so that none can take the
    # name of a contract column (a park named in words is not the ``park`` column).
    extra: dict[str, Any] = {f"{_EXTRA}source": where}
    for name, value in fields.items():
        if name in _FIRM_COLUMNS:
            values[name] = value
        elif name == "certifications":
            certs = (graph.normalise_certification(c) for c in graph.split_list(str(value)))
            values["certifications"] = ";".join(dict.fromkeys(certs))
        elif name == "park" and (not parks or value in parks):
            values["park"] = value
        else:  # products, province, district, a park named in words: kept, not lost
            extra[f"{_EXTRA}{name}"] = str(value)
    values["name"] = graph.nfc(str(values.get("name", "")))
    values["name_folded"] = graph.fold(values["name"])
    values["extra"] = extra
    return values


# -- the register as records ------------------------------------------------------------------
def _firm_frame(firms: list[Firm]) -> pd.DataFrame:
    rows = []
    for f in firms:
        extra = f.extra or {}
        rows.append(
            {
                "id": f.firm_id,
                "name": f.name,
                "tax_code": f.tax_code,
                "address": f.address,
                "province": str(extra.get("province") or extra.get(f"{_EXTRA}province", "")),
                "district": str(extra.get("district") or extra.get(f"{_EXTRA}district", "")),
                "phone": f.phone,
                "email": f.email,
                "website": f.website,
            }
        )
    columns = ["id", "name", "tax_code", "address", "province", "district", "phone"]
    return pd.DataFrame(rows, columns=[*columns, "email", "website"])


def _record_frame(records: list[graph.SourceRecord]) -> pd.DataFrame:
    keys = ("name", "tax_code", "address", "province", "district", "phone", "email", "website")
    rows = [
        {"id": f"r{i}", **{k: str(r.fields.get(k, "")) for k in keys}}
        for i, r in enumerate(records)
    ]
    return pd.DataFrame(rows, columns=["id", *keys])


def _scored(
    records: list[graph.SourceRecord], firms: list[Firm], accept: float, review: float
) -> tuple[pd.DataFrame, str]:
    """The candidate pairs with ``decide``'s verdict, and the method version.

    Two kinds of pair, both judged by the same resolver and thresholds: a record against a
    register firm (``earlier`` -1), and a record against an **earlier record of the same list**
    (``right_id`` that record's ``r<i>``, ``earlier`` its position), so that a firm listed twice
    in one upload is found again by score, not only by tax code or identical content.
    """
    resolver = graph.FirmResolver()
    left, right = _record_frame(records), _firm_frame(firms)
    empty = pd.DataFrame(columns=["left_id", "right_id", "earlier"])
    if left.empty or len(left) + len(right) < 2:
        return empty, resolver.method_version
    # Each record normalised once (the slowest step), shared by fitting, blocking and scoring.
    left = graph.firm_keys(left)
    right = graph.firm_keys(right) if not right.empty else right
    resolver.fit(pd.concat([left, right], ignore_index=True) if not right.empty else left)
    frames = []
    if not right.empty:
        pairs = graph.candidate_pairs(left, right)
        if not pairs.empty:
            frames.append(resolver.score(pairs, left, right).assign(earlier=-1))
    within = graph.candidate_pairs(left)
    if not within.empty:
        # The later record on the left: it is the one resolved against the earlier's firm.
        a = within["left_id"].str[1:].astype(int)
        b = within["right_id"].str[1:].astype(int)
        within = within.assign(
            left_id=[f"r{i}" for i in pd.concat([a, b], axis=1).max(axis=1)],
            right_id=[f"r{i}" for i in pd.concat([a, b], axis=1).min(axis=1)],
        )
        frames.append(resolver.score(within, left).assign(earlier=a.combine(b, min).to_numpy()))
    if not frames:
        return empty, resolver.method_version
    scored = pd.concat(frames, ignore_index=True)
    decided = graph.decide(scored, accept=accept, review=review, name_only_review=True)
    return decided, resolver.method_version


def firm_as_dict(firm: Firm) -> dict[str, Any]:
    return {k: getattr(firm, k) for k in ("firm_id", *FIRM_KEY_FIELDS)}


def _describe(rec: SourceRecord, **more: Any) -> dict[str, Any]:
    return {
        "source": rec.source,
        "sheet": rec.sheet,
        "line": rec.line,
        "name": str(rec.fields.get("name", "")),
        **more,
    }


class Register:
    """The live firms during one write (new ones included), and how to make another from a
    source record (the next id in the register's pattern, the record's fields)."""

    def __init__(self, session: Session, role: str, created_by: str):
        self.session = session
        self.role = role
        self.created_by = created_by
        everyone = session.execute(select(Firm.firm_id, Firm.role)).all()
        self.ids: list[tuple[str, str]] = [(f, r) for f, r in everyone]
        self.live = list(session.scalars(select(Firm).where(Firm.deleted_at.is_(None))))
        self.by_tax = {f.tax_code: f.firm_id for f in self.live if f.tax_code}
        self.live_set = {f.firm_id for f in self.live}
        self.parks = set(session.scalars(select(Park.park_id).where(Park.deleted_at.is_(None))))
        self.taken = {f for f, _ in self.ids}
        self.pattern = _id_pattern(self.ids, role)  # worked out once: ids are made in a row
        self.made: dict[str, Firm] = {}  # the firms this write created, by id

    def create(self, rec: SourceRecord) -> str:
        prefix, width, number = self.pattern
        firm_id = _free_id(prefix, width, number, self.taken)
        self.pattern = (prefix, width, int(firm_id[len(prefix) :]))
        self.taken.add(firm_id)
        where = f"{rec.source}[{rec.sheet}] row {rec.line}"
        values = _firm_values(rec.fields, self.role, self.parks, where)
        firm = Firm(firm_id=firm_id, **values)
        self.session.add(firm)
        self.made[firm_id] = firm
        self.ids.append((firm_id, self.role))
        self.live_set.add(firm_id)
        if values.get("tax_code"):
            self.by_tax.setdefault(values["tax_code"], firm_id)
        return firm_id


#: How many keys one ``IN (...)`` query asks for.
_CHUNK = 500


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def _remembered(session: Session, content_keys: list[str]) -> dict[str, SourceRecord]:
    """The latest earlier record with each content (resolved, or waiting for review)."""
    found: dict[str, SourceRecord] = {}
    for chunk in _chunks(sorted(set(content_keys))):
        query = (
            select(SourceRecord)
            .where(SourceRecord.content_key.in_(chunk))
            .order_by(SourceRecord.id)
        )
        for rec in session.scalars(query):
            found[rec.content_key] = rec  # in id order: the latest stays
    return found


def _human_decisions(session: Session, pair_keys: list[str]) -> dict[str, str]:
    """People's answers by pair key (the latest answer stands)."""
    answers: list[tuple[int, str, str]] = []
    for chunk in _chunks(sorted(set(pair_keys))):
        answers += session.execute(
            select(
                ResolutionDecision.id, ResolutionDecision.pair_key, ResolutionDecision.decision
            ).where(
                ResolutionDecision.pair_key.in_(chunk),
                ResolutionDecision.decided_by != "auto",
                ResolutionDecision.decided_at.is_not(None),
            )
        ).all()
    return {key: said for _, key, said in sorted(answers)}


def intake_records(
    engine: Engine,
    records: list[graph.SourceRecord],
    *,
    actor: KeyInfo | str,
    file: str = "",
    role: str = "supplier",
    accept: float = ACCEPT,
    review: float = REVIEW,
    within_list: bool = True,
    categories: Mapping[tuple[str, int], Mapping[str, str]] | None = None,
) -> IntakeSummary:
    """Store a list's records and resolve each against the register (see the module notes).

    Parameters
    ----------
    engine : Engine
    records : list of graph.SourceRecord
        From :func:`ketnoi.graph.read_intake` (its problems dealt with first: this stores
        what it is given).
    actor : KeyInfo or str
        Who brings the list in, for the audit log and ``created_by``.
    file : str
        The file's name, kept with each record.
    role : str
        The role of the firms the list creates (``supplier``, ``buyer`` or ``both``).
    accept, review : float
        The thresholds (stored with every decision).
    within_list : bool
        Score each record against the firms that earlier records of the same list created, too
        (the default). ``False`` only for measuring what that finds
        (``benchmarks/bench_intake.py``).
    categories : mapping, optional
        The categories a person confirmed for rows' products, by ``(sheet, line)``: each
        ``category_id``, ``hs_code`` and the ``products`` text it was confirmed for
        (:func:`ketnoi.graph.load_category_choices`). Kept with the row's record (and in the
        ``extra`` of a firm it makes) when its products still read so; they do not count in
        the record's content, so confirming a category never makes a row new.

    Raises
    ------
    graph.DatasetError
        The register with the new firms would not be a valid dataset; nothing is written.
    """
    if role not in _ROLES:
        raise Invalid(f"role {role!r} is not one of {', '.join(_ROLES)}")
    if not 0 <= review <= accept <= 1:
        raise Invalid(f"thresholds must satisfy 0 <= review <= accept <= 1: {review}, {accept}")
    created_by = actor_name(actor)
    source = records[0].source if records else ""
    confirmed = dict(categories or {})

    def work(session: Session) -> IntakeSummary:
        known = set(session.scalars(select(Category.category_id)))
        for (sheet, line), choice in confirmed.items():
            if choice.get("category_id") and choice["category_id"] not in known:
                raise Invalid(f"[{sheet}] row {line}: no category {choice['category_id']!r}")
        register = Register(session, role, created_by)
        scored, method = _scored(records, register.live, accept, review)
        summary = IntakeSummary(source=source, method_version=method)
        firms = {f.firm_id: f for f in register.live}
        firm_keys = {f: firm_content_key(firm_as_dict(firm)) for f, firm in firms.items()}
        by_record: dict[str, list[dict[str, Any]]] = {}
        if not scored.empty:  # a pair judged distinct is neither matched, asked nor linked
            scored = scored[scored["decision"] != "distinct"]
            if not within_list and "earlier" in scored.columns:
                scored = scored[scored["earlier"] < 0]
        for row in scored.to_dict("records") if not scored.empty else []:
            by_record.setdefault(row["left_id"], []).append(row)
        settings = {"accept": accept, "review": review, "method_version": method}

        def note(
            rec: SourceRecord, firm_id: str, decision: str, rule: str, score: Any = None
        ) -> None:
            score = score or {}
            probability, weight = score.get("match_probability"), score.get("match_weight")
            session.add(
                ResolutionDecision(
                    pair_key=_pair_key(rec.content_key, firm_keys.get(firm_id, firm_id)),
                    record_key=rec.content_key,
                    firm_key=firm_keys.get(firm_id, firm_id),
                    source_record=rec,
                    firm_id=firm_id,
                    decision=decision,
                    rule=rule,
                    match_probability=None if probability is None else float(probability),
                    match_weight=None if weight is None else float(weight),
                    evidence=json.loads(json.dumps(score.get("evidence") or {}, default=float)),
                    decided_at=None if decision == "review" else utcnow(),
                    decided_by="" if decision == "review" else "auto",
                    **settings,
                )
            )

        content_keys = [record_content_key(item.fields) for item in records]
        # The firm an earlier record of this list would make, as a person would see it: what
        # a person answered about that pair before is found like any other answer.
        would_make = [
            firm_content_key({k: item.fields.get(k, "") for k in FIRM_KEY_FIELDS})
            for item in records
        ]

        def firm_key_of(row: dict[str, Any]) -> str:
            earlier = int(row.get("earlier", -1))
            return would_make[earlier] if earlier >= 0 else firm_keys[row["right_id"]]

        seen = _remembered(session, content_keys)
        people = _human_decisions(
            session,
            [
                _pair_key(content_keys[int(row["left_id"][1:])], firm_key_of(row))
                for rows in by_record.values()
                for row in rows
            ],
        )
        stored: list[SourceRecord] = []  # this list's records so far, in its order

        def candidates_of(i: int) -> list[dict[str, Any]]:
            """Record ``i``'s candidate firms, best first, one entry per firm: register firms,
            and the firms earlier records of this list created (a record that waits for
            review or was matched made none)."""
            out, firms_seen = [], set()
            rows = sorted(by_record.get(f"r{i}", []), key=lambda r: -float(r["match_probability"]))
            for row in rows:
                earlier = int(row.get("earlier", -1))
                if earlier >= 0:
                    made = stored[earlier]
                    if made.status not in ("created", "branch"):
                        continue
                    if row["decision"] == "branch_of" and row["branch_id"] != f"r{i}":
                        continue  # the earlier record is the branch: this one is no branch of it
                    where = f"row {made.line} of this list"
                    row = {**row, "right_id": made.firm_id, "rule": f"{row['rule']}, {where}"}
                if row["right_id"] not in firms_seen:
                    firms_seen.add(row["right_id"])
                    out.append(row)
            return out

        for i, item in enumerate(records):
            content_key = content_keys[i]
            rec = SourceRecord(
                source=item.source,
                file=file,
                sheet=item.sheet,
                line=item.line,
                raw=dict(item.raw),
                fields={**item.fields, **confirmed_fields(item, confirmed)},
                content_key=content_key,
                status="proposed",
                created_by=created_by,
            )
            earlier = seen.get(content_key)
            session.add(rec)  # flushed with the rest at the end: one write, not one per row
            stored.append(rec)
            seen[content_key] = rec  # a second copy in this list follows this one
            if earlier is not None and earlier.status == "proposed":
                summary.remembered += 1  # its questions are open already: not asked twice
                summary.proposed.append(_describe(rec, candidates=[], rule="same record"))
                continue
            same = resolve_firm_id(session, earlier.firm_id) if earlier is not None else ""
            if same and same in register.live_set:
                summary.remembered += 1
                rec.firm_id, rec.status = same, "matched"
                summary.matched.append(_describe(rec, firm_id=rec.firm_id, rule="same record"))
                continue
            code = graph.parse_tax_code(str(item.fields.get("tax_code", "")))
            if code.valid and code.formatted in register.by_tax:
                rec.firm_id, rec.status = register.by_tax[code.formatted], "matched"
                note(rec, rec.firm_id, "match", "tax_code")
                summary.matched.append(_describe(rec, firm_id=rec.firm_id, rule="tax_code"))
                continue
            candidates = candidates_of(i)
            chosen: dict[str, Any] | None = None
            reviews, branch_of = [], None
            for c in candidates:
                said = people.get(_pair_key(content_key, firm_key_of(c)))
                if said == "distinct":
                    summary.remembered += 1
                    continue
                if said == "match" or (said is None and c["decision"] == "match"):
                    chosen = {**c, "rule": "decided before" if said else str(c["rule"])}
                    summary.remembered += bool(said)
                    break
                if c["decision"] == "review":
                    reviews.append(c)
                elif c["decision"] == "branch_of" and branch_of is None:
                    branch_of = c
            if chosen is not None:
                rec.firm_id, rec.status = str(chosen["right_id"]), "matched"
                note(rec, rec.firm_id, "match", chosen["rule"], chosen)
                summary.matched.append(_describe(rec, firm_id=rec.firm_id, rule=chosen["rule"]))
            elif reviews:
                for c in reviews:
                    note(rec, str(c["right_id"]), "review", str(c["rule"]), c)
                summary.proposed.append(
                    _describe(rec, candidates=[str(c["right_id"]) for c in reviews], rule="score")
                )
            else:
                rec.firm_id, rec.status = register.create(rec), "created"
                firm_keys[rec.firm_id] = firm_content_key(firm_as_dict(register.made[rec.firm_id]))
                rule = "new firm"
                if branch_of is not None:
                    rec.status, rule = "branch", f"branch of {branch_of['right_id']}"
                    note(rec, str(branch_of["right_id"]), "branch_of", rule, branch_of)
                summary.created.append(_describe(rec, firm_id=rec.firm_id, rule=rule))
        summary.capabilities = add_confirmed_capabilities(session, stored)
        session.flush()
        dataset_in(session.connection())  # graph.DatasetError: nothing is committed
        detail = {"file": file, "role": role, **settings, **summary.counts()}
        record(session, actor, "intake", "source_records", source, detail)
        return summary

    return transaction(engine, work)
