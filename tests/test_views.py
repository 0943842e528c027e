"""`_views.matrix` against NumPy's reshape of the same slice."""
import numpy as np
import pytest
from numba.core.errors import TypingError

from surrogate._jit import jit
from surrogate._views import matrix


@jit()
def _view_and_write(buf, off, rows, cols, value):
    m = matrix(buf, off, rows, cols)
    m[rows - 1, cols - 1] = value
    return m.copy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("off, rows, cols", [(0, 1, 1), (3, 4, 5), (7, 6, 2), (0, 10, 10)])
def test_matrix_is_the_reshaped_slice_and_shares_memory(dtype, off, rows, cols):
    buf = np.arange(100, dtype=dtype)
    expected = buf[off:off + rows * cols].reshape(rows, cols).copy()
    got = _view_and_write(buf, off, rows, cols, -1.0)
    expected[-1, -1] = -1.0
    np.testing.assert_array_equal(got, expected)
    assert buf[off + rows * cols - 1] == -1.0  # the write went through to the buffer
    untouched = np.arange(100, dtype=dtype)
    mask = np.ones(100, bool)
    mask[off + rows * cols - 1] = False
    np.testing.assert_array_equal(buf[mask], untouched[mask])


def test_matrix_refuses_a_non_flat_buffer():
    with pytest.raises(TypingError):
        _view_and_write(np.zeros((4, 4)), 0, 2, 2, 1.0)
