"""`_transpose` (tile transposes in 8 x 8 register blocks) and `_prefetch`
against NumPy."""
import numpy as np
import pytest

from surrogate._jit import jit
from surrogate._prefetch import prefetch_rows
from surrogate._transpose import transpose

# Multiples of 8, edges in either direction or both, fewer than 8, one.
SHAPES = [(32, 64), (8, 8), (21, 70), (7, 5), (16, 3), (3, 16), (1, 1), (128, 32)]


@jit()
def _transpose_rows(A, rows, B):
    """transpose of A's first `rows` rows, as the affine map calls it on a partial tile."""
    transpose(A[:rows], B, None)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_transpose_matches_numpy_and_writes_nothing_else(dtype, shape):
    rng = np.random.default_rng(0)
    R, C = shape
    A = rng.standard_normal((R, C)).astype(dtype)
    B = np.full((C + 3, R + 2), np.nan, dtype)  # room around the result: must stay untouched
    transpose(A, B, None)
    np.testing.assert_array_equal(B[:C, :R], A.T)
    assert np.isnan(B[C:]).all() and np.isnan(B[:, R:]).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_transpose_adds_the_bias_to_every_row(dtype, shape):
    rng = np.random.default_rng(1)
    R, C = shape
    A, b = rng.standard_normal((R, C)).astype(dtype), rng.standard_normal(R).astype(dtype)
    B = np.full((C + 1, R + 9), np.nan, dtype)
    transpose(A, B, b)
    np.testing.assert_array_equal(B[:C, :R], A.T + b)  # one rounding each, as NumPy's
    assert np.isnan(B[C:]).all() and np.isnan(B[:, R:]).all()


def test_transpose_of_leading_rows_of_a_larger_tile():
    A = np.random.default_rng(2).standard_normal((32, 24))
    B = np.zeros((24, 21))
    _transpose_rows(A, 21, B)
    np.testing.assert_array_equal(B, A[:21].T)


def test_prefetch_is_only_a_hint():
    """Prefetching any rows, a row's last byte mid-line included, changes nothing."""
    rng = np.random.default_rng(3)
    for A in (rng.standard_normal((50, 129)), rng.standard_normal((9, 1)).astype(np.float32),
              rng.standard_normal((40, 17))[1:]):  # rows not starting on a cache line
        before = A.copy()
        rows = rng.permutation(A.shape[0]).astype(np.int64)
        prefetch_rows(A, rows, 0, rows.size)
        prefetch_rows(A, rows, 3, 3)
        np.testing.assert_array_equal(A, before)
