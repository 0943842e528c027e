"""`_blas.gemm` (BLAS's gemm called from compiled code) against NumPy's matmul."""
import numpy as np
import pytest
from numba.core.errors import TypingError

from surrogate._blas import SINGLE_THREAD_MNK, gemm, rows_per_call
from surrogate._jit import jit
from surrogate._views import matrix


@jit()
def _gemm(A, B, C, beta, trans_a, trans_b):
    gemm(A, B, C, beta, trans_a, trans_b)


@jit()
def _gemm_rows(A, B, C, beta, trans_a, trans_b, rows):
    """gemm on the first `rows` rows of A and C, as the kernels call it on a partial tile."""
    gemm(A[:rows], B, C[:rows], beta, trans_a, trans_b)


@jit()
def _gemm_column_block(A, B, C, j0, j1):
    """C[j0:j1] += A[:, j0:j1]^T B: a block of A's columns (strided rows), as the weight gradient cuts it."""
    gemm(A[:, j0:j1], B, C[j0:j1], 1.0, True, False)


@jit()
def _gemm_views(buf, m, k, n, beta):
    """gemm on matrix views of one flat buffer: A (m, k), B (k, n), then C (m, n)."""
    gemm(matrix(buf, 0, m, k), matrix(buf, m * k, k, n), matrix(buf, m * k + k * n, m, n), beta, False, False)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("beta", [0.0, 1.0, -0.5])
def test_gemm_matches_numpy(dtype, rtol, trans_a, trans_b, beta):
    rng = np.random.default_rng(0)
    m, k, n = 5, 7, 3  # all different, so a swapped dimension cannot pass
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    C = rng.standard_normal((m, n)).astype(dtype)
    expected = (A.T if trans_a else A).astype(np.float64) @ (B.T if trans_b else B) + beta * C
    _gemm(A, B, C, beta, trans_a, trans_b)
    np.testing.assert_allclose(C, expected, rtol=rtol, atol=rtol)


def test_gemm_on_the_first_rows_leaves_the_rest():
    rng = np.random.default_rng(1)
    A, B, C = rng.standard_normal((32, 8)), rng.standard_normal((8, 16)), rng.standard_normal((32, 16))
    before = C.copy()
    _gemm_rows(A, B, C, 1.0, False, False, 5)  # a partial tile of 5 samples
    np.testing.assert_allclose(C[:5], A[:5] @ B + before[:5], rtol=1e-13)
    np.testing.assert_array_equal(C[5:], before[5:])


def test_gemm_on_a_block_of_columns():
    rng = np.random.default_rng(4)
    A, B, C = rng.standard_normal((6, 11)), rng.standard_normal((6, 5)), rng.standard_normal((11, 5))
    before = C.copy()
    _gemm_column_block(A, B, C, 3, 9)
    np.testing.assert_allclose(C[3:9], A[:, 3:9].T @ B + before[3:9], rtol=1e-13)
    np.testing.assert_array_equal(np.delete(C, np.s_[3:9], axis=0), np.delete(before, np.s_[3:9], axis=0))


def test_gemm_with_beta_zero_does_not_read_c():
    """The back-propagated delta is written over a buffer that may hold anything."""
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((4, 6)), rng.standard_normal((6, 9))
    C = np.full((4, 9), np.nan)
    _gemm_rows(A, B, C, 0.0, False, False, 4)
    np.testing.assert_allclose(C, A @ B, rtol=1e-13)


def test_gemm_on_views_of_one_buffer():
    rng = np.random.default_rng(3)
    m, k, n = 6, 4, 5
    buf = rng.standard_normal(m * k + k * n + m * n)
    A, B = buf[:m * k].reshape(m, k).copy(), buf[m * k:m * k + k * n].reshape(k, n).copy()
    C = buf[m * k + k * n:].reshape(m, n).copy()
    _gemm_views(buf, m, k, n, 1.0)
    np.testing.assert_allclose(buf[m * k + k * n:].reshape(m, n), A @ B + C, rtol=1e-13)
    np.testing.assert_array_equal(buf[:m * k + k * n], np.concatenate([A.ravel(), B.ravel()]))


def test_gemm_refuses_mixed_dtypes():
    with pytest.raises(TypingError):
        _gemm(np.zeros((2, 2)), np.zeros((2, 2), np.float32), np.zeros((2, 2)), 0.0, False, False)


def test_rows_per_call_keeps_every_call_on_one_thread():
    assert rows_per_call(32, 64, 128) == 64                 # the whole product in one call
    assert rows_per_call(32, 256, 256) == 32 and 32 * 32 * 256 <= SINGLE_THREAD_MNK
    assert rows_per_call(32, 100, 100) == SINGLE_THREAD_MNK // 3200 == 81
    assert rows_per_call(32, 256, 7) == 0                   # an input side under 8
    assert rows_per_call(32, 256, 2000) == 0                # not even 8 rows fit in a call
