"""Collaborative signals on the buyers x suppliers link matrix: EASE and RP3beta.

Both read only who supplies whom. They are the strongest simple peers on link-only networks
(Steck 2019; Paudel et al. 2016, as re-measured by Ferrari Dacrema et al. 2019), so ketnoi
reports them beside the matcher and can use their scores as signals.

EASE has two exact forms. With ``X`` the ``buyers x suppliers`` link matrix and ``λ`` the ridge
penalty, the supplier-side form inverts ``P = (XᵀX + λI)⁻¹`` (``suppliers x suppliers``) and scores
``S = X - X P diag(1/diag P)``. Where suppliers outnumber buyers that matrix does not fit (80 GB
at 100,000 suppliers), so the buyer-side form uses the push-through identity ``X P = K X`` with
``K = (XXᵀ + λI)⁻¹`` (``buyers x buyers``) and Woodbury's ``diag P = (1 - diag(Xᵀ K X)) / λ``:
the same scores, computed from a matrix the size of the buyers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp

__all__ = [
    "EaseSignal",
    "EaseSolution",
    "fit_ease_signal",
    "keep_top_per_row",
    "rp3beta_similarity",
    "solve_ease",
]

# Dense work arrays are made in column blocks of about this many cells (64 MB of float64).
_BLOCK_CELLS = 8_000_000
# RP3beta's walk is computed for this many suppliers at a time.
_ROW_BLOCK = 2048


@dataclass(frozen=True)
class EaseSolution:
    """A solved EASE model, in whichever form was cheaper.

    Attributes
    ----------
    links : scipy.sparse.csr_matrix
        The ``buyers x suppliers`` 0/1 link matrix it was solved on.
    inverse : numpy.ndarray
        ``P`` (suppliers x suppliers) in the supplier-side form, ``K`` (buyers x buyers) in the
        buyer-side form.
    inverse_diagonal : numpy.ndarray
        ``1 / diag(P)``, one value per supplier.
    side : {"supplier", "buyer"}
        Which form ``inverse`` holds.
    """

    links: sp.csr_matrix
    inverse: np.ndarray
    inverse_diagonal: np.ndarray
    side: Literal["supplier", "buyer"]

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Dense EASE scores ``X B`` of the given buyer rows, one column per supplier.

        ``B = I - P diag(1/diag P)`` has a zero diagonal, so a supplier's own link never
        recommends it; scores of existing links are still returned (callers exclude them).
        """
        rows = np.asarray(rows, dtype=np.int64)
        x = self.links[rows]
        if self.side == "supplier":
            xp = np.asarray(x @ self.inverse)
        else:
            xp = np.asarray((self.links.T @ self.inverse[rows].T).T)
        return np.asarray(x.toarray()) - xp * self.inverse_diagonal


def solve_ease(
    links: sp.spmatrix,
    l2: float,
    *,
    side: Literal["auto", "supplier", "buyer"] = "auto",
) -> EaseSolution:
    """Solve EASE (Steck 2019) on a ``buyers x suppliers`` link matrix.

    Parameters
    ----------
    links : scipy.sparse matrix
        Buyers in rows, suppliers in columns; any non-zero counts as a link.
    l2 : float
        The ridge penalty ``λ`` (> 0). Larger values pull scores toward popularity.
    side : {"auto", "supplier", "buyer"}
        Which matrix to invert; ``"auto"`` takes the smaller. Both give the same scores.

    Returns
    -------
    EaseSolution

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> X = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]]))
    >>> solve_ease(X, 1.0).scores(np.array([0])).round(3)
    array([[0.4, 0.5, 0.2]])
    """
    if not l2 > 0:
        raise ValueError(f"l2 must be positive, got {l2}")
    x = sp.csr_matrix(links, dtype=np.float64, copy=True)
    x.data[:] = 1.0
    n_buyers, n_suppliers = x.shape
    if side == "auto":
        side = "supplier" if n_suppliers <= n_buyers else "buyer"
    if side == "supplier":
        gram = np.asarray((x.T @ x).toarray())
        gram[np.diag_indices_from(gram)] += l2
        inverse = _inverse_spd(gram)
        diagonal = np.diag(inverse).copy()
    else:
        gram = np.asarray((x @ x.T).toarray())
        gram[np.diag_indices_from(gram)] += l2
        inverse = _inverse_spd(gram)
        diagonal = (1.0 - _quadratic_diagonal(x, inverse)) / l2
    # diag P is positive in exact arithmetic; guard the rounding of a supplier linked to
    # nearly every buyer.
    diagonal = np.maximum(diagonal, np.finfo(float).tiny)
    return EaseSolution(x, inverse, 1.0 / diagonal, side)


@dataclass(frozen=True)
class EaseSignal:
    """EASE scores as a matcher signal: exact, or over the most-linked suppliers on large networks.

    Where both sides of the link matrix exceed ``max_side`` (the smaller of them sets the size
    of the matrix EASE inverts), the model is solved on the ``max_side`` most-linked suppliers
    only; the others have no EASE score (their features are missing, and they can still be
    candidates through the other signals).

    Attributes
    ----------
    solution : EaseSolution
    columns : numpy.ndarray
        Supplier positions of the solution's columns (every supplier when exact).
    column_of : numpy.ndarray
        Per supplier, its column in the solution, -1 where it is not covered.
    l2 : float
    """

    solution: EaseSolution
    columns: np.ndarray
    column_of: np.ndarray
    l2: float

    @property
    def exact(self) -> bool:
        return len(self.columns) == len(self.column_of)

    def block(self, rows: np.ndarray) -> np.ndarray:
        """Scores of the given buyer rows over the covered suppliers, as float32."""
        return self.solution.scores(rows).astype(np.float32, copy=False)

    def full_scores(self, rows: np.ndarray) -> np.ndarray:
        """Scores over every supplier; uncovered suppliers below every covered one."""
        block = self.solution.scores(rows)
        if self.exact:
            return block
        out = np.full((len(rows), len(self.column_of)), block.min(initial=0.0) - 1.0)
        out[:, self.columns] = block
        return out


def fit_ease_signal(links: sp.spmatrix, l2: float, max_side: int) -> EaseSignal:
    """Solve EASE on ``links`` (buyers x suppliers), truncated to fit ``max_side``.

    Parameters
    ----------
    links : scipy.sparse matrix
    l2 : float
        The ridge penalty.
    max_side : int
        The largest matrix side inverted: exact where buyers or suppliers number at most this
        many, else over the ``max_side`` most-linked suppliers (ties to the lower position).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> X = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 1, 1, 1]]))
    >>> fit_ease_signal(X, 1.0, max_side=10).exact
    True
    >>> fit_ease_signal(X, 1.0, max_side=2).columns
    array([1, 0])
    """
    x = sp.csr_matrix(links, dtype=np.float64)
    n_buyers, n_suppliers = x.shape
    if min(n_buyers, n_suppliers) <= max_side:
        columns = np.arange(n_suppliers)
    else:
        degree = np.asarray((x > 0).sum(axis=0)).ravel()
        columns = np.argsort(-degree, kind="stable")[:max_side]
        x = x[:, columns]
    column_of = np.full(n_suppliers, -1, dtype=np.int64)
    column_of[columns] = np.arange(len(columns))
    return EaseSignal(solve_ease(x, l2), columns, column_of, float(l2))


def _inverse_spd(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix through its Cholesky factor."""
    factor = scipy.linalg.cho_factor(matrix, lower=True, overwrite_a=True, check_finite=False)
    return scipy.linalg.cho_solve(factor, np.eye(matrix.shape[0]), check_finite=False)


def _quadratic_diagonal(x: sp.csr_matrix, inverse: np.ndarray) -> np.ndarray:
    """``diag(Xᵀ K X)`` without the ``suppliers x suppliers`` product, block by block."""
    n_buyers, n_suppliers = x.shape
    xc = x.tocsc()
    out = np.empty(n_suppliers)
    width = max(1, _BLOCK_CELLS // max(n_buyers, 1))
    for start in range(0, n_suppliers, width):
        block = xc[:, start : start + width]
        kx = inverse @ block.toarray()
        out[start : start + width] = np.asarray(block.multiply(kx).sum(axis=0)).ravel()
    return out


def rp3beta_similarity(
    links: sp.spmatrix,
    alpha: float = 1.0,
    beta: float = 0.5,
    k_neighbours: int | None = 100,
) -> sp.csr_matrix:
    """Supplier-supplier RP3beta weights (Paudel et al. 2016), ``suppliers x suppliers``.

    A random walk supplier -> buyer -> supplier with each step's transition probabilities raised
    to ``alpha``; the arrival supplier's weight is divided by its degree to the power ``beta``
    (so that popular suppliers do not win every list); each row keeps its ``k_neighbours``
    largest weights and no supplier is its own neighbour. A buyer's scores are ``X W``.

    Parameters
    ----------
    links : scipy.sparse matrix
        Buyers in rows, suppliers in columns; any non-zero counts as a link.
    alpha, beta : float
        The walk's sharpening and the popularity penalty.
    k_neighbours : int or None
        Neighbours kept per supplier; None keeps all.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> X = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]]))
    >>> rp3beta_similarity(X, alpha=1.0, beta=0.0, k_neighbours=None).toarray()
    array([[0.  , 0.5 , 0.  ],
           [0.25, 0.  , 0.25],
           [0.  , 0.5 , 0.  ]])
    """
    x = sp.csr_matrix(links, dtype=np.float64, copy=True)
    x.data[:] = 1.0
    buyer_degree = np.asarray(x.sum(axis=1)).ravel()
    supplier_degree = np.asarray(x.sum(axis=0)).ravel()
    to_supplier = _row_scaled(x, buyer_degree)  # buyer -> supplier
    to_buyer = _row_scaled(x.T.tocsr(), supplier_degree)  # supplier -> buyer
    to_supplier.data **= alpha
    to_buyer.data **= alpha
    penalty = np.power(np.maximum(supplier_degree, 1.0), -beta)
    n_suppliers = x.shape[1]
    blocks = []
    # Row blocks bound the memory of the two-step product on large networks.
    for start in range(0, n_suppliers, _ROW_BLOCK):
        block = sp.csr_matrix(
            (to_buyer[start : start + _ROW_BLOCK] @ to_supplier) @ sp.diags(penalty)
        )
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        block.data[block.indices == start + rows] = 0.0  # no supplier is its own neighbour
        block.eliminate_zeros()
        if k_neighbours is not None:
            block = keep_top_per_row(block, k_neighbours)
        blocks.append(block)
    return sp.vstack(blocks).tocsr() if blocks else sp.csr_matrix((0, 0))


def _row_scaled(matrix: sp.csr_matrix, totals: np.ndarray) -> sp.csr_matrix:
    inverse = np.divide(1.0, totals, out=np.zeros_like(totals, dtype=float), where=totals > 0)
    return sp.csr_matrix(sp.diags(inverse) @ matrix)


def keep_top_per_row(matrix: sp.spmatrix, k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest entries, ties to the smaller column."""
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    keep = np.zeros(matrix.nnz, dtype=bool)
    for i in range(matrix.shape[0]):
        lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
        if hi - lo <= k:
            keep[lo:hi] = True
            continue
        # stable sort on the negated values keeps the smaller column first among ties
        order = np.argsort(-matrix.data[lo:hi], kind="stable")[:k]
        keep[lo + order] = True
    data = np.where(keep, matrix.data, 0.0)
    out = sp.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)
    out.eliminate_zeros()
    return out
