"""Surrogate.jacobian against central finite differences of predict, in both kernel modes."""
import copy
import warnings

import numpy as np
import pytest

from surrogate import Surrogate
from surrogate.domain import OutOfDomainWarning

GRID = np.linspace(0.0, 1.0, 25)
SMOOTH = ["identity", "relu", "sigmoid", "tanh", "softplus", "silu"]  # every activation but step


def field(X):
    return np.sin(3 * X[:, :1] * GRID) + X[:, 1:2] * GRID ** 2 + np.exp(X[:, 2:3] * GRID)


def fit(activation, pca_tol, dtype=np.float64):
    rng = np.random.default_rng(11)
    X = rng.random((100, 3)) * np.array([1.0, 2.0, 0.5]) + np.array([0.0, -1.0, 3.0])  # unequal scales
    return Surrogate(hidden=(12, 10), activation=activation, epochs=15, lbfgs_iter=15, seed=2,
                     pca_tol=pca_tol, dtype=dtype).fit(X, field(X), progress=False)


def central_differences(model, x, h=1e-6):
    """(m, d): (predict(x + h_q e_q) - predict(x - h_q e_q)) / (2 h_q), h_q scaled to input q's spread."""
    steps = h * model.scaling_.x_scale
    cols = [(model.predict(x + s * e) - model.predict(x - s * e)) / (2 * s) for s, e in zip(steps, np.eye(x.size))]
    return np.stack(cols, axis=1)


def inside_points(model, n, seed):
    lo, hi = model.guard_.lower, model.guard_.upper
    return lo + (hi - lo) * (0.05 + 0.9 * np.random.default_rng(seed).random((n, lo.size)))


# pca_tol None keeps all 25 grid points as outputs (k = 25 > d = 3: forward mode);
# pca_tol 0.05 keeps fewer modes than inputs (k < d: reverse mode)
@pytest.mark.parametrize("pca_tol,mode", [(None, "forward"), (0.05, "reverse")])
@pytest.mark.parametrize("activation", SMOOTH)
def test_jacobian_matches_central_differences(activation, pca_tol, mode):
    model = fit(activation, pca_tol)
    k, d = model.scaling_.n_modes, model.n_inputs
    assert (d <= k) == (mode == "forward")
    X = inside_points(model, 6, seed=3)
    J = model.jacobian(X)
    assert J.shape == (6, model.n_outputs, d) and J.dtype == np.float64
    for i, x in enumerate(X):
        F = central_differences(model, x)
        assert np.linalg.norm(J[i] - F) <= 1e-5 * np.linalg.norm(F), (activation, mode, i)


def test_float32_jacobian_is_that_of_the_float32_network():
    """A float32 model's Jacobian agrees with finite differences of the same weights in float64."""
    model32 = fit("tanh", 1e-5, np.float32)
    model64 = copy.copy(model32)
    model64.net_ = type(model32.net_)(model32.net_.sizes, activation="tanh", dtype=np.float64)
    model64.net_.params[:] = model32.net_.params
    model64.members_ = [model64.net_]  # predict runs the members
    X = inside_points(model32, 4, seed=4)
    J = model32.jacobian(X)
    assert J.shape == (4, model32.n_outputs, 3)
    for i, x in enumerate(X):
        F = central_differences(model64, x)
        assert np.linalg.norm(J[i] - F) <= 1e-4 * np.linalg.norm(F)


def test_single_point_domain_guard_and_bad_input():
    model = fit("tanh", 1e-5)
    x = inside_points(model, 1, seed=5)[0]
    np.testing.assert_array_equal(model.jacobian(x), model.jacobian(x[None, :])[0])
    far = x.copy()
    far[1] = model.guard_.upper[1] + 1.0
    with pytest.warns(OutOfDomainWarning, match="x1"):
        model.jacobian(far)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.jacobian(far, domain="ignore")
    with pytest.raises(ValueError, match="`X`"):
        model.jacobian(np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="unfitted"):
        Surrogate().jacobian(x)


def test_an_ensembles_jacobian_is_that_of_its_mean():
    rng = np.random.default_rng(12)
    X = rng.random((100, 3))
    model = Surrogate(hidden=(8,), activation="tanh", epochs=10, lbfgs_iter=10, seed=4,
                      ensemble=3).fit(X, field(X), progress=False)
    x = inside_points(model, 2, seed=5)
    J = model.jacobian(x)
    members = [model.members_[k] for k in range(3)]
    assert not np.allclose(members[0].params[:5], members[1].params[:5])
    for i in range(2):
        F = central_differences(model, x[i])  # of predict: the members' mean
        assert np.linalg.norm(J[i] - F) <= 1e-5 * np.linalg.norm(F)
