"""The vectorisable elementary functions and the activation table against
NumPy/SciPy references."""
import numpy as np
import pytest
from scipy.special import expit

from surrogate import ACTIVATIONS, _elementary, _tiles
from surrogate._jit import jit

import naive


@jit()
def _apply(fn_code, x, out):
    for i in range(x.size):
        if fn_code == 0:
            out[i] = _elementary.exp(x[i])
        elif fn_code == 1:
            out[i] = _elementary.tanh(x[i])
        else:
            out[i] = _elementary.sigmoid(x[i])


X = np.concatenate([np.linspace(-2, 2, 4001), np.linspace(-700, 700, 4001),
                    [0.0, -0.0, 0.625, -0.625, 1e-300, -1e-300, 19.9, 20.1, -40.0]])


@pytest.mark.parametrize("code, ref", [(0, np.exp), (1, np.tanh), (2, expit)])
def test_elementary_functions_within_a_few_ulp(code, ref):
    out = np.empty_like(X)
    _apply(code, X, out)
    expected = ref(X)
    tiny = np.finfo(float).tiny
    ok = np.abs(expected) > tiny  # below the normal range exp clamps (documented)
    rel = np.abs(out[ok] - expected[ok]) / np.abs(expected[ok])
    assert rel.max() < 8 * np.finfo(float).eps
    assert np.all(np.isfinite(out))


def test_tanh_is_odd_and_saturates():
    out = np.empty_like(X)
    _apply(1, X, out)
    neg = np.empty_like(X)
    _apply(1, -X, neg)
    np.testing.assert_array_equal(out, -neg)
    assert out[X > 20].min() == 1.0


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_value_and_derivative(name):
    z = np.linspace(-30, 30, 2001)
    a, s = z.copy(), np.empty_like(z)
    _tiles._activate(ACTIVATIONS[name], a, s)
    sigma, dsigma = naive.SIGMA[name]
    np.testing.assert_allclose(a, sigma(z), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(s, dsigma(z), rtol=1e-13, atol=1e-15)
