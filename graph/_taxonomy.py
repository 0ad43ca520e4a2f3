"""The category tree (the taxonomy), walked in one place.

``categories.csv`` makes a forest through ``parent_id`` (empty for a root); the data contract
refuses cycles, so walking up from any category always ends at a root.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

import numpy as np
import pandas as pd

__all__ = [
    "TaxonomyCycle",
    "ancestor_depths",
    "category_ancestors",
    "parent_by_position",
    "subtree",
    "walk_up",
]

Node = TypeVar("Node", bound=Hashable)


class TaxonomyCycle(ValueError):
    """Following parents led back to a category already on the way up.

    Attributes
    ----------
    cycle : list
        The categories of the loop, in walking order, starting where it closes.
    """

    def __init__(self, cycle: list) -> None:
        self.cycle = cycle
        shown = " -> ".join(str(node) for node in [*cycle, cycle[0]])
        super().__init__(f"parent_id forms a cycle: {shown}")


def walk_up(start: Node, parent_of: Callable[[Node], Node | None]) -> Iterator[Node]:
    """Yield ``start``, its parent, its grandparent... up to a root.

    The one walk of the tree: the validator, the database's parent checks and the matcher's
    category index all go up through it, whatever holds the parents (a dict of ids, an array of
    positions, a database query).

    Parameters
    ----------
    start : hashable
        Where to begin (yielded first).
    parent_of : callable
        The parent of a node, or None at a root.

    Raises
    ------
    TaxonomyCycle
        When a node comes round again (after the nodes up to the loop have been yielded).

    Examples
    --------
    >>> parent = {"deep": "stamp", "stamp": "metal", "metal": ""}
    >>> list(walk_up("deep", lambda c: parent.get(c) or None))
    ['deep', 'stamp', 'metal']
    >>> try:
    ...     list(walk_up("a", {"a": "b", "b": "a"}.get))
    ... except TaxonomyCycle as loop:
    ...     print(loop)
    parent_id forms a cycle: a -> b -> a
    """
    path: list[Node] = []
    seen: set[Node] = set()
    node: Node | None = start
    while node is not None:
        if node in seen:
            raise TaxonomyCycle(path[path.index(node) :])
        seen.add(node)
        path.append(node)
        yield node
        node = parent_of(node)


def category_ancestors(categories: pd.DataFrame) -> pd.DataFrame:
    """Every (category, ancestor) pair of the tree, each category its own ancestor.

    Read one way it gives a category's ancestors, the other way its descendants: the rows
    whose ``ancestor_id`` is ``c`` are ``c`` and every category under it.

    Parameters
    ----------
    categories : DataFrame
        ``category_id`` and ``parent_id`` columns (``Dataset.categories``).

    Returns
    -------
    DataFrame
        Columns ``category_id`` and ``ancestor_id``: first each category with itself, then
        with its parent, its grandparent, and so on up to its root.

    Examples
    --------
    >>> tree = pd.DataFrame({"category_id": ["metal", "stamp", "deep"],
    ...                      "parent_id": ["", "metal", "stamp"]})
    >>> pairs = category_ancestors(tree)
    >>> pairs.loc[pairs["category_id"] == "deep", "ancestor_id"].tolist()
    ['deep', 'stamp', 'metal']
    >>> pairs.loc[pairs["ancestor_id"] == "stamp", "category_id"].tolist()
    ['stamp', 'deep']
    """
    parent = pd.Series(categories["parent_id"].to_numpy(), index=categories["category_id"])
    ids = categories["category_id"].to_numpy()
    pairs = [pd.DataFrame({"category_id": ids, "ancestor_id": ids})]
    step = pairs[0]
    while True:
        up = step["ancestor_id"].map(parent).fillna("")
        step = pd.DataFrame({"category_id": step["category_id"], "ancestor_id": up})
        step = step[step["ancestor_id"] != ""]
        if step.empty:
            break
        pairs.append(step)
    return pd.concat(pairs, ignore_index=True)


def parent_by_position(parent: np.ndarray) -> Callable[[int], int | None]:
    """``parent_of`` for :func:`walk_up` over categories numbered by position (-1: a root)."""

    def parent_of(node: int) -> int | None:
        up = int(parent[node])
        return up if up >= 0 else None

    return parent_of


def ancestor_depths(parent: np.ndarray, node: int) -> dict[int, int]:
    """A category's ancestors by position with their distance up (itself at 0).

    A cycle (which validation refuses) ends the walk where it closes.

    Examples
    --------
    >>> ancestor_depths(np.array([-1, 0, 1]), 2)
    {2: 0, 1: 1, 0: 2}
    """
    depths: dict[int, int] = {}
    try:
        for depth, up in enumerate(walk_up(node, parent_by_position(parent))):
            depths[up] = depth
    except TaxonomyCycle:
        pass
    return depths


def subtree(parent: np.ndarray, root: int) -> set[int]:
    """``root`` and every category under it, by position.

    Examples
    --------
    >>> sorted(subtree(np.array([-1, 0, 1, -1, 0]), 1))
    [1, 2]
    """
    return {c for c in range(len(parent)) if root in ancestor_depths(parent, c)}
