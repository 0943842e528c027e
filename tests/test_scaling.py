"""Scaling: the PCA truncation rule at its threshold, against singular values chosen by hand."""
import numpy as np
import pytest

from surrogate.scaling import Scaling

S = np.array([10.0, 3.0, 1.0, 0.1, 0.01])  # the singular values of the centred outputs


def _profiles(seed=0, n=20, m=8):
    """Y = U diag(S) V^T + a mean profile, U orthonormal and orthogonal to the
    ones vector (so the centred Y is exactly U diag(S) V^T)."""
    rng = np.random.default_rng(seed)
    A = np.column_stack([np.ones(n), rng.normal(size=(n, S.size))])
    U = np.linalg.qr(A)[0][:, 1:]
    V = np.linalg.qr(rng.normal(size=(m, S.size)))[0]
    mean = np.linspace(1.0, 2.0, m)
    return (U * S) @ V.T + mean, V


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_pca_keeps_the_fewest_modes_whose_residual_is_within_tol(k):
    """Keeping k modes leaves sqrt(S_{k+1}^2 + ...) / ||Y||_F: a tol just
    above that keeps k modes, just below keeps k + 1."""
    Y, V = _profiles()
    X = np.zeros((Y.shape[0], 1))
    residual = np.sqrt(np.sum(S[k:] ** 2)) / np.linalg.norm(Y)
    above = Scaling.fit(X, Y, residual * (1 + 1e-9))
    below = Scaling.fit(X, Y, residual * (1 - 1e-9))
    assert (above.n_modes, below.n_modes) == (k, k + 1)
    # the kept modes are the leading right singular vectors (up to sign)
    np.testing.assert_allclose(np.abs(above.basis @ V[:, :k]), np.eye(k), atol=1e-10)


def test_pca_none_keeps_every_grid_point_and_zero_tol_every_mode():
    Y, _ = _profiles()
    X = np.zeros((Y.shape[0], 1))
    np.testing.assert_array_equal(Scaling.fit(X, Y, None).basis, np.eye(Y.shape[1]))
    assert Scaling.fit(X, Y, 0.0).n_modes == min(Y.shape)  # zero residual: every singular vector
