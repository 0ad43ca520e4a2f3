"""Candidate pairs of firm records: which pairs are worth comparing at all.

Comparing every record with every other is quadratic (100,000 records: five billion pairs), so
resolution first *blocks*: only records that share something specific become candidates. The
rules, in the order a pair is credited to them:

1. ``tax_code``: the same head-office tax code (a branch meets its head office here);
2. ``phone``: the same phone number;
3. ``website`` and ``email``: the same web domain, the same mail domain (free mail excluded);
4. ``name``: the same name once legal form, branch words and language are set aside;
5. ``brand``: the same province and proper name (the name without its trade words);
6. ``brand_district``, ``brand_trade``: the same, and the same district or trade words (a common
   proper name fills its province's block past the cap);
7. ``brand_letters``: the same province and set of letters in the proper name (typing slips);
8. ``province_token``: the same province and the record's rarest name word;
9. ``token_pair``: the same two rarest name words, in any province (a list without addresses).

A key shared by too many records says little and would explode the pair count, so blocks above
``max_block`` records are skipped (a generic word such as "thương mại" never blocks alone; the
rarest tokens are chosen to avoid it). The benchmark reports how many true duplicates the rules
lose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketnoi.graph._resolve_compare import add_comparison_columns
from ketnoi.graph._resolve_names import FREE_MAIL_DOMAINS, normalise_firm

__all__ = ["BLOCKING_RULES", "candidate_pairs", "firm_keys"]

#: Blocking rules in the order pairs are credited to them.
BLOCKING_RULES = (
    "tax_code",
    "phone",
    "website",
    "email",
    "name",
    "brand",
    "brand_district",
    "brand_trade",
    "brand_letters",
    "province_token",
    "token_pair",
)
_RECORD_KEYS = ("name", "tax_code", "address", "province", "district", "phone", "email", "website")
_KEY_COLUMNS = (
    "id",
    "name",
    "name_core",
    "name_tokens",
    "brand",
    "trade_words",
    "legal_form",
    "is_branch",
    "province",
    "district",
    "phone",
    "email_domain",
    "website_domain",
    "tax_digits",
    "tax_head",
    "tax_branch",
    "tax_valid",
)
_RAREST_TOKENS = 2
#: Rules on identifiers: a block may be this many times larger than ``max_block`` (a generic
#: name or a switchboard shared by many records still says more than a shared word).
_IDENTIFIER_RULES = frozenset({"tax_code", "phone", "website", "email", "name"})
_IDENTIFIER_FACTOR = 4


def firm_keys(records: pd.DataFrame) -> pd.DataFrame:
    """Each record of a frame normalised (:func:`normalise_firm`), one column per key field.

    Parameters
    ----------
    records : DataFrame
        An ``id`` column and any of the record keys (``name``, ``tax_code``, ``address``,
        ``province``, ``district``, ``phone``, ``email``, ``website``). A frame that already
        holds keys (it has ``name_core``) is returned as it is, so that blocking and scoring
        can share one normalisation.

    Returns
    -------
    DataFrame
        ``id, name, name_core, name_tokens, brand, trade_words, legal_form, is_branch,
        province, district, phone, email_domain, website_domain, tax_digits, tax_head,
        tax_branch, tax_valid``.
    """
    if "name_core" in records.columns:
        return records
    if "id" not in records.columns:
        raise ValueError("firm records need an 'id' column")
    if records["id"].duplicated().any():
        duplicated = records.loc[records["id"].duplicated(), "id"].iloc[0]
        raise ValueError(f"firm record id {duplicated!r} occurs more than once")
    present = [k for k in _RECORD_KEYS if k in records.columns]
    rows = []
    for values in records[present].itertuples(index=False, name=None):
        key = normalise_firm(dict(zip(present, values, strict=True)))
        code = key.tax_code
        rows.append(
            (
                key.name,
                key.name_core,
                key.name_tokens,
                key.brand,
                key.trade_words,
                key.legal_form,
                key.is_branch,
                key.province,
                key.district,
                key.phone,
                key.email_domain,
                key.website_domain,
                code.digits if code is not None else "",
                code.head if code is not None else "",
                code.branch if code is not None else "",
                bool(code is not None and code.valid),
            )
        )
    # Plain object columns: pandas' Arrow-backed strings are slow to take and to hand to numpy,
    # and scoring does both for every candidate pair.
    keys = pd.DataFrame(rows, columns=list(_KEY_COLUMNS[1:]), dtype=object)
    keys["is_branch"] = keys["is_branch"].astype(bool)
    keys["tax_valid"] = keys["tax_valid"].astype(bool)
    keys.insert(0, "id", pd.Series(records["id"].to_numpy(dtype=object), dtype=object))
    add_comparison_columns(keys)
    return keys


def _rarest_tokens(keys: pd.DataFrame, frequency: pd.Series) -> pd.DataFrame:
    """(position, token, rank) for each record's rarest distinct name tokens."""
    exploded = pd.DataFrame(
        {
            "pos": np.repeat(
                np.arange(len(keys)), keys["name_tokens"].map(len).to_numpy(dtype=int)
            ),
            "token": [t for tokens in keys["name_tokens"] for t in tokens],
        }
    ).drop_duplicates()
    if exploded.empty:
        return exploded.assign(rank=pd.Series(dtype=int))
    exploded["df"] = exploded["token"].map(frequency).to_numpy()
    exploded = exploded.sort_values(["pos", "df", "token"], kind="stable")
    exploded["rank"] = exploded.groupby("pos").cumcount()
    return exploded[exploded["rank"] < _RAREST_TOKENS]


def _block_keys(keys: pd.DataFrame, frequency: pd.Series) -> pd.DataFrame:
    """(pos, rule, key) rows: every blocking key of every record."""
    parts = []

    def add(rule: str, values: pd.Series) -> None:
        mask = values.astype(bool).to_numpy()
        parts.append(
            pd.DataFrame({"pos": np.flatnonzero(mask), "rule": rule, "key": values[mask].values})
        )

    add("tax_code", keys["tax_head"])
    add("phone", keys["phone"])
    add("website", keys["website_domain"])
    email = keys["email_domain"].where(~keys["email_domain"].isin(FREE_MAIL_DOMAINS), "")
    add("email", email)
    add("name", keys["name_core"])
    has_brand = keys["brand"] != ""
    add("brand", (keys["province"] + "|" + keys["brand"]).where(has_brand, ""))
    # A common proper name ("Minh Phát") fills its province's block past the cap: the district
    # and the trade words split it.
    add(
        "brand_district",
        (keys["province"] + "|" + keys["district"] + "|" + keys["brand"]).where(
            has_brand & (keys["district"] != ""), ""
        ),
    )
    trade = keys["trade_words"].map(lambda words: " ".join(sorted(set(words))))
    add(
        "brand_trade",
        (keys["province"] + "|" + trade + "|" + keys["brand"]).where(has_brand & (trade != ""), ""),
    )
    # The brand's letters as a set: a slip (two letters swapped, one doubled, or dropped where
    # the brand has it twice: "Hồng Phnog", "Vĩnh Quag") keeps the key.
    letters = keys["brand"].map(lambda brand: "".join(sorted(set(brand.replace(" ", "")))))
    add("brand_letters", (keys["province"] + "|" + letters).where(keys["brand"] != "", ""))
    rare = _rarest_tokens(keys, frequency)
    # The rarest word alone with the province; the two rarest together anywhere.
    first = rare[rare["rank"] == 0]
    province = keys["province"].to_numpy()[first["pos"].to_numpy()]
    with_province = province != ""
    parts.append(
        pd.DataFrame(
            {
                "pos": first["pos"].to_numpy()[with_province],
                "rule": "province_token",
                "key": province[with_province] + "|" + first["token"].to_numpy()[with_province],
            }
        )
    )
    second = rare[rare["rank"] == 1].set_index("pos")["token"]
    both = first.set_index("pos")["token"].to_frame("a").join(second.rename("b"), how="inner")
    a, b = both["a"].to_numpy(dtype=object), both["b"].to_numpy(dtype=object)
    parts.append(
        pd.DataFrame(
            {
                "pos": both.index.to_numpy(),
                "rule": "token_pair",
                "key": np.where(a < b, a + " " + b, b + " " + a),
            }
        )
    )
    return pd.concat(parts, ignore_index=True)


def candidate_pairs(
    left: pd.DataFrame, right: pd.DataFrame | None = None, *, max_block: int = 50
) -> pd.DataFrame:
    """Pairs of firm records worth scoring, each with the first blocking rule that found it.

    Parameters
    ----------
    left : DataFrame
        Firm records: an ``id`` column and any of ``name``, ``tax_code``, ``address``,
        ``province``, ``district``, ``phone``, ``email``, ``website`` (or the output of
        :func:`firm_keys`).
    right : DataFrame, optional
        A second frame to link ``left`` against (a new list against the register). Without it,
        ``left`` is deduplicated against itself and each pair appears once.
    max_block : int, default 50
        Blocks holding more records than this (on either side) are skipped; blocks on an
        identifier (tax code, phone, domains, the whole name) may hold four times as many.

    Returns
    -------
    DataFrame
        ``left_id, right_id, rule``, one row per pair, rules from :data:`BLOCKING_RULES`.

    Examples
    --------
    >>> firms = pd.DataFrame({"id": ["a", "b", "c"],
    ...                       "name": ["Công ty TNHH Minh Phát", "CTY TNHH MINH PHAT", "Hoà Bình"],
    ...                       "province": ["Hà Nội", "HN", "Hà Nội"]})
    >>> candidate_pairs(firms)
      left_id right_id  rule
    0       a        b  name
    """
    left_keys = firm_keys(left)
    right_keys = None if right is None else firm_keys(right)
    tokens = list(left_keys["name_tokens"])
    if right_keys is not None:
        tokens += list(right_keys["name_tokens"])
    frequency = pd.Series([t for ts in tokens for t in set(ts)]).value_counts()

    left_blocks = _block_keys(left_keys, frequency)
    right_blocks = left_blocks if right_keys is None else _block_keys(right_keys, frequency)
    sizes_left = left_blocks.groupby(["rule", "key"]).size().rename("n_left")
    sizes_right = right_blocks.groupby(["rule", "key"]).size().rename("n_right")
    small = sizes_left.to_frame().join(sizes_right, how="inner")
    rules = small.index.get_level_values("rule")
    cap = np.where(rules.isin(_IDENTIFIER_RULES), _IDENTIFIER_FACTOR * max_block, max_block)
    small = small[(small["n_left"].to_numpy() <= cap) & (small["n_right"].to_numpy() <= cap)]
    if right_keys is None:
        small = small[small["n_left"] > 1]
    kept = small.index
    left_blocks = (
        left_blocks.set_index(["rule", "key"]).loc[lambda f: f.index.isin(kept)].reset_index()
    )
    right_blocks = (
        right_blocks.set_index(["rule", "key"]).loc[lambda f: f.index.isin(kept)].reset_index()
    )
    joined = left_blocks.merge(right_blocks, on=["rule", "key"], suffixes=("_l", "_r"))
    if right_keys is None:
        joined = joined[joined["pos_l"] < joined["pos_r"]]
    order = {rule: i for i, rule in enumerate(BLOCKING_RULES)}
    joined = joined.assign(order=joined["rule"].map(order)).sort_values(
        ["pos_l", "pos_r", "order"], kind="stable"
    )
    joined = joined.drop_duplicates(["pos_l", "pos_r"])
    right_ids = (left_keys if right_keys is None else right_keys)["id"].to_numpy()
    return pd.DataFrame(
        {
            "left_id": left_keys["id"].to_numpy()[joined["pos_l"].to_numpy()],
            "right_id": right_ids[joined["pos_r"].to_numpy()],
            "rule": joined["rule"].to_numpy(),
        }
    )
