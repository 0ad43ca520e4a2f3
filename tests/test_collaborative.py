"""EASE and RP3beta against answers worked out by hand and against their textbook formulas."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ketnoi.matcher._collaborative import keep_top_per_row, rp3beta_similarity, solve_ease

# Two buyers, three suppliers: buyer 0 buys from suppliers 0 and 1, buyer 1 from 1 and 2.
TINY = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]]))


@pytest.mark.parametrize("side", ["supplier", "buyer"])
def test_ease_matches_the_hand_computed_answer(side):
    # λ = 1: XᵀX + I = [[2,1,0],[1,3,1],[0,1,2]], whose inverse is P = [[5,-2,1],[-2,4,-2],
    # [1,-2,5]] / 8; B_ij = -P_ij / P_jj off the diagonal gives B = [[0, 1/2, -1/5],
    # [2/5, 0, 2/5], [-1/5, 1/2, 0]], and S = X B.
    expected = np.array([[2 / 5, 1 / 2, 1 / 5], [1 / 5, 1 / 2, 2 / 5]])
    scores = solve_ease(TINY, 1.0, side=side).scores(np.array([0, 1]))
    np.testing.assert_allclose(scores, expected, atol=1e-12)


def _ease_by_the_book(x: np.ndarray, l2: float) -> np.ndarray:
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return x @ b


@pytest.mark.parametrize("shape", [(40, 12), (12, 40)])
@pytest.mark.parametrize("l2", [0.5, 20.0])
def test_both_forms_of_ease_equal_the_textbook_formula(shape, l2):
    rng = np.random.default_rng(sum(shape))
    x = (rng.random(shape) < 0.25).astype(float)
    expected = _ease_by_the_book(x, l2)
    rows = np.arange(shape[0])
    for side in ("supplier", "buyer"):
        got = solve_ease(sp.csr_matrix(x), l2, side=side).scores(rows)
        np.testing.assert_allclose(got, expected, atol=1e-9, err_msg=side)


def test_ease_rejects_a_penalty_that_is_not_positive():
    with pytest.raises(ValueError, match="l2"):
        solve_ease(TINY, 0.0)


def test_rp3beta_matches_the_hand_computed_answer():
    # buyer -> supplier: [[1/2, 1/2, 0], [0, 1/2, 1/2]]; supplier -> buyer: [[1, 0], [1/2, 1/2],
    # [0, 1]]; their product [[1/2, 1/2, 0], [1/4, 1/2, 1/4], [0, 1/2, 1/2]] with a zero
    # diagonal, each column divided by its supplier's degree (1, 2, 1) to the power beta = 1.
    got = rp3beta_similarity(TINY, alpha=1.0, beta=1.0, k_neighbours=None).toarray()
    np.testing.assert_allclose(got, [[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]])


def _rp3beta_by_the_book(x: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    deg_b, deg_s = x.sum(axis=1), x.sum(axis=0)
    to_s = np.divide(x, deg_b[:, None], out=np.zeros_like(x), where=deg_b[:, None] > 0)
    to_b = np.divide(x.T, deg_s[:, None], out=np.zeros_like(x.T), where=deg_s[:, None] > 0)
    w = (to_b**alpha) @ (to_s**alpha)
    w = w / np.maximum(deg_s, 1.0) ** beta
    np.fill_diagonal(w, 0.0)
    return w


def test_rp3beta_equals_the_textbook_formula_on_a_random_network():
    rng = np.random.default_rng(7)
    x = (rng.random((30, 25)) < 0.2).astype(float)
    got = rp3beta_similarity(sp.csr_matrix(x), alpha=0.7, beta=0.4, k_neighbours=None)
    np.testing.assert_allclose(got.toarray(), _rp3beta_by_the_book(x, 0.7, 0.4), atol=1e-12)


def test_rp3beta_keeps_each_suppliers_strongest_neighbours():
    rng = np.random.default_rng(3)
    x = (rng.random((30, 25)) < 0.3).astype(float)
    full = _rp3beta_by_the_book(x, 1.0, 0.5)
    kept = rp3beta_similarity(sp.csr_matrix(x), alpha=1.0, beta=0.5, k_neighbours=3).toarray()
    assert ((kept > 0).sum(axis=1) <= 3).all()
    for row_full, row_kept in zip(full, kept, strict=True):
        if (row_kept > 0).any():
            # nothing dropped is stronger than anything kept
            assert row_full[row_kept == 0].max(initial=0.0) <= row_kept[row_kept > 0].min()


def test_keep_top_per_row_breaks_ties_toward_the_smaller_column():
    m = sp.csr_matrix(np.array([[0.5, 0.5, 0.5, 0.1], [0.0, 0.2, 0.9, 0.2]]))
    np.testing.assert_array_equal(
        keep_top_per_row(m, 2).toarray(), [[0.5, 0.5, 0, 0], [0, 0.2, 0.9, 0]]
    )
