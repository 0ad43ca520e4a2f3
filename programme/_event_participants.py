"""Who to invite to a matchmaking event: buyers with open demand, and their best new suppliers.

:func:`suggest_event_participants` drafts a participant list an officer can start from:

- **Buyers** are FDI buyers (ownership ``fdi``, role buyer or both) with *open demand*: demands
  that no local supplier serves through an active link today (``linked`` is False in
  :func:`demand_coverage`). The buyers with the most open demands come first, then the
  largest open volume, then by id, so the same data always give the same list. Buyers the
  fitted matcher does not know (added since it was fitted) are left out: it cannot score them.
- **Suppliers** are taken from those buyers' match lists in turns: each buyer in order takes
  its best eligible supplier not invited yet, then each takes its next, and so on, until the
  list is full or the lists run out. Turns rather than the best scores overall, so that every
  buyer has suppliers meant for it, not only the buyers whose scores run high. A supplier is
  eligible for a buyer when it is among the buyer's candidates (a match score >= 0), is a
  local firm (ownership in :data:`graph.LOCAL_OWNERSHIPS`), and the pair could meet at an
  event by default: no active link between them and no ``declined`` outcome (see
  :func:`schedule_event`).

The list is in registration order (buyers, then suppliers in the order they were chosen), the
order the first-come baseline serves them in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.programme._event_spec import Participant
from ketnoi.programme._localisation import demand_coverage

if TYPE_CHECKING:
    from ketnoi.matcher import Matcher

__all__ = ["participants_from_frame", "suggest_event_participants"]

#: Columns of :func:`suggest_event_participants`, in order.
PARTICIPANT_COLUMNS = [
    "firm_id",
    "firm_name",
    "side",
    "open_demands",
    "open_volume",
    "chosen_for",
    "rank",
    "score",
]


def _open_demand(dataset: graph.Dataset, fdi_only: bool) -> pd.DataFrame:
    """Open demands and their volume per buyer, the most first (buyers with none left out)."""
    coverage = demand_coverage(dataset)
    open_ = coverage[~coverage["linked"]]
    if fdi_only:
        open_ = open_[open_["buyer_id"].isin(graph.fdi_buyer_ids(dataset))]
    per_buyer = open_.groupby("buyer_id").agg(
        open_demands=("category_id", "size"),
        open_volume=("volume", lambda v: float(v.fillna(0).sum())),
    )
    per_buyer = per_buyer.reset_index()
    return per_buyer.sort_values(
        ["open_demands", "open_volume", "buyer_id"],
        ascending=[False, False, True],
        kind="stable",
    ).reset_index(drop=True)


def _closed_pairs(dataset: graph.Dataset) -> set[tuple[str, str]]:
    """(buyer, supplier) pairs an event leaves out by default: linked already, or declined."""
    links = dataset.active_links
    pairs = set(zip(links["buyer_id"], links["supplier_id"], strict=True))
    outcomes = dataset.outcomes
    if len(outcomes):
        declined = outcomes[outcomes["outcome"] == "declined"]
        pairs |= set(zip(declined["buyer_id"], declined["supplier_id"], strict=True))
    return pairs


def suggest_event_participants(
    m: Matcher,
    dataset: graph.Dataset | None = None,
    *,
    buyers: int = 20,
    suppliers: int = 80,
    fdi_only: bool = True,
    local_only: bool = True,
) -> pd.DataFrame:
    """Draft a matchmaking event's participants: buyers with open demand, then their best new
    suppliers, taken from the buyers' match lists in turns.

    Parameters
    ----------
    m : Matcher
        A fitted matcher: the suppliers' match scores.
    dataset : graph.Dataset, optional
        The firms, demands, links and outcomes (default: the one bound to ``m``).
    buyers, suppliers : int
        How many of each to invite (fewer where fewer qualify).
    fdi_only : bool
        Invite FDI buyers only (the programme links local firms into FDI supply chains).
    local_only : bool
        Invite local suppliers only.

    Returns
    -------
    pandas.DataFrame
        One row per participant in registration order (buyers first): ``firm_id``,
        ``firm_name``, ``side`` (``buyer`` or ``supplier``), ``open_demands`` and
        ``open_volume`` (a buyer's demands with no linked local supplier, and their known
        volume; NA for suppliers), ``chosen_for`` (the buyer whose match list a supplier was
        taken from; empty for buyers), ``rank`` (its place in that buyer's list of eligible
        suppliers, from 1; suppliers invited for an earlier buyer are passed over, so ranks
        may skip) and ``score`` (the pair's match score). :func:`participants_from_frame`
        turns it into the participants of an :class:`EventSpec`.

    Raises
    ------
    ValueError
        If ``buyers`` or ``suppliers`` is below 1.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi import graph, matcher
    >>> tiny = graph.load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> m = matcher.Matcher().fit(tiny)
    >>> invited = suggest_event_participants(m, buyers=2, suppliers=3)
    >>> invited[["firm_id", "side", "open_demands", "chosen_for", "rank"]]
      firm_id      side  open_demands chosen_for  rank
    0      B1     buyer             1             <NA>
    1      S1  supplier          <NA>         B1     1
    2      S3  supplier          <NA>         B1     2

    B2 has no open demand (local suppliers serve both its demands), so only B1 is invited; of
    B1's candidates T1 supplies it already and S5 declined it.
    """
    if buyers < 1 or suppliers < 1:
        raise ValueError("invite at least one buyer and one supplier")
    data = dataset if dataset is not None else m.dataset_
    known = set(m.index_.buyer_ids)
    demand = _open_demand(data, fdi_only)
    demand = demand[demand["buyer_id"].isin(known)].head(buyers).reset_index(drop=True)
    chosen = demand["buyer_id"].tolist()

    firms = data.firms.set_index("firm_id")
    supplier_ids = pd.Index(m.supplier_ids_)
    eligible = ~supplier_ids.isin(chosen)  # a firm of role both takes one side only
    if local_only:
        ownership = supplier_ids.map(firms["ownership"])
        eligible &= np.asarray(ownership.isin(graph.LOCAL_OWNERSHIPS), dtype=bool)
    closed = _closed_pairs(data)
    scores = m.score_buyers(chosen) if chosen else np.zeros((0, len(supplier_ids)))

    # Each buyer's eligible suppliers, best first (ties by id, so the draft is reproducible).
    lists = []
    for row, buyer in enumerate(chosen):
        ok = eligible & (scores[row] >= 0)
        ok &= np.array([(buyer, s) not in closed for s in supplier_ids], dtype=bool)
        idx = np.flatnonzero(ok)
        order = np.lexsort((supplier_ids[idx].to_numpy(), -scores[row, idx]))
        lists.append([(str(supplier_ids[i]), float(scores[row, i])) for i in idx[order]])

    picked: list[dict[str, object]] = []
    taken: set[str] = set()
    at = [0] * len(chosen)  # each buyer's place in its own list
    while len(picked) < suppliers and any(a < len(lst) for a, lst in zip(at, lists, strict=True)):
        for i, (buyer, lst) in enumerate(zip(chosen, lists, strict=True)):
            while at[i] < len(lst) and lst[at[i]][0] in taken:
                at[i] += 1
            if len(picked) == suppliers or at[i] == len(lst):
                continue
            supplier, score = lst[at[i]]
            taken.add(supplier)
            picked.append(
                {"firm_id": supplier, "chosen_for": buyer, "rank": at[i] + 1, "score": score}
            )
            at[i] += 1

    buyer_rows = pd.DataFrame(
        {
            "firm_id": demand["buyer_id"],
            "side": "buyer",
            "open_demands": demand["open_demands"],
            "open_volume": demand["open_volume"],
            "chosen_for": "",
        }
    )
    supplier_rows = pd.DataFrame(picked, columns=["firm_id", "chosen_for", "rank", "score"])
    supplier_rows.insert(1, "side", "supplier")
    out = pd.concat([buyer_rows, supplier_rows], ignore_index=True)
    out["firm_name"] = out["firm_id"].map(firms["name"]).fillna("")
    out["chosen_for"] = out["chosen_for"].fillna("")
    out = out.astype(
        {
            "open_demands": "Int64",
            "open_volume": "Float64",
            "rank": "Int64",
            "score": "Float64",
        }
    )
    return out[PARTICIPANT_COLUMNS]


def participants_from_frame(frame: pd.DataFrame) -> tuple[Participant, ...]:
    """The participants of a frame with ``firm_id`` and ``side`` columns, in its row order.

    For instance :func:`suggest_event_participants`'s draft, after an officer has edited it.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"firm_id": ["B1", "S1"], "side": ["buyer", "supplier"]})
    >>> [(p.firm_id, p.side) for p in participants_from_frame(frame)]
    [('B1', 'buyer'), ('S1', 'supplier')]
    """
    missing = [c for c in ("firm_id", "side") if c not in frame.columns]
    if missing:
        raise KeyError(f"the frame needs a {missing[0]} column")
    return tuple(
        Participant(str(f), str(s)) for f, s in zip(frame["firm_id"], frame["side"], strict=True)
    )
