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


def _dense_z():
    """Dense near 0 (every decade down to subnormals) and around every clamp
    of `_elementary` (tanh's 20, exp's -746 and 709, the normal range's 708),
    both signs, plus the largest floats."""
    near0 = np.concatenate([np.logspace(-320, 0, 2000), np.linspace(0.0, 2.0, 4001)])
    clamps = np.concatenate([c + np.linspace(-1.0, 1.0, 201) for c in (20.0, 708.0, 709.0, 745.0, 746.0)])
    clamps = np.concatenate([clamps, np.nextafter(clamps, 0.0), np.nextafter(clamps, np.inf),
                             [1e3, 1e300, 1e308]])
    z = np.concatenate([near0, clamps, np.linspace(0.0, 40.0, 8001)])
    return np.concatenate([z, -z])


#: exact forms of each activation's value and derivative (no cancellation), in NumPy float64
EXACT = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "step": (lambda z: (z >= 0).astype(float), lambda z: np.zeros_like(z)),
    "tanh": (np.tanh, lambda z: 1.0 / np.cosh(z) ** 2),
    "sigmoid": (expit, lambda z: expit(z) * expit(-z)),
    "softplus": (lambda z: np.logaddexp(0.0, z), expit),
    "silu": (lambda z: z * expit(z), lambda z: expit(z) * (1.0 + z * expit(-z))),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_within_4_ulp_near_zero_and_at_the_clamps(name):
    """Within 4 ulp of NumPy float64; absolute floors: (1 + |z|) * tiny where
    e^z is subnormal (fewer bits; silu multiplies it by z), and for the
    derivatives, which the kernel forms from sigma(z) by a subtraction
    (1 - a^2, a (1 - a), 1 + z (1 - a)), 4 ulp of 1 (times 1 + |z| for silu,
    whose subtraction is multiplied by z)."""
    z = _dense_z()
    a, s = z.copy(), np.empty_like(z)
    _tiles._activate(ACTIVATIONS[name], a, s)
    value, derivative = EXACT[name]
    with np.errstate(over="ignore"):  # cosh overflows to inf far out: 1/inf**2 = 0, right
        refs = value(z), derivative(z)
    floor = (1.0 + np.abs(z)) * np.finfo(float).tiny
    cancel = 4 * np.finfo(float).eps * ((1.0 + np.abs(z)) if name == "silu" else 1.0)
    for what, ours, ref, ulp, extra in (("value", a, refs[0], np.spacing(np.abs(refs[0])), 0.0),
                                       ("derivative", s, refs[1], np.spacing(np.abs(refs[1])), cancel)):
        err = np.abs(ours - ref)
        bound = 4 * ulp + floor + extra
        worst = np.argmax(err - bound)
        assert np.all(err <= bound), (f"{name} {what} at z={z[worst]!r}: {ours[worst]!r}, "
                                      f"NumPy {ref[worst]!r}")


def test_silu_goes_to_zero_far_below():
    """silu(z) = z sigmoid(z) -> 0 as z -> -inf, with its derivative (an
    exp clamped at e^-708 made silu(-1e308) = -3.3)."""
    z = np.array([-1e308, -1e5, -800.0])
    a, s = z.copy(), np.empty_like(z)
    _tiles._activate(ACTIVATIONS["silu"], a, s)
    assert np.all(a == 0.0) and np.all(s == 0.0)
