"""Scaling: the PCA truncation rule at its threshold, against singular values chosen by hand."""
import os
import subprocess
import sys

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


SPIN_CHECK = """
import os, time
import numpy as np
from surrogate.scaling import Scaling


def other_threads_ticks():
    ticks = 0  # CPU time, in clock ticks, of this process's threads but the main one
    for tid in os.listdir("/proc/self/task"):
        if int(tid) != os.getpid():
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    fields = f.read().rpartition(")")[2].split()
                ticks += int(fields[11]) + int(fields[12])
            except OSError:  # a thread that ended meanwhile
                pass
    return ticks


def idle_threads_ticks_after(work, settle=0.4):
    time.sleep(settle)  # anything earlier stops spinning
    before = other_threads_ticks()
    work()
    time.sleep(settle)
    return other_threads_ticks() - before


Y = np.random.default_rng(0).normal(size=(540, 64))
X = np.random.default_rng(1).uniform(size=(540, 5))
print(idle_threads_ticks_after(lambda: np.linalg.norm(Y)), idle_threads_ticks_after(lambda: Scaling.fit(X, Y, 1e-3)))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads Linux's /proc")
def test_fitting_leaves_no_blas_thread_spinning(own_threads_env):
    """`surrogate run heat`'s 540 x 64 profiles: their norm, a BLAS dot that OpenBLAS
    splits over its threads, left OpenBLAS's idle thread spinning about 0.1 s,
    through the fit that followed. In a fresh process: a test before may have
    left BLAS on one thread for good (see test_threads.BLAS_PRELUDE)."""
    out = subprocess.run([sys.executable, "-c", SPIN_CHECK], capture_output=True, text=True,
                         timeout=120, check=True, env=own_threads_env).stdout
    bare_norm, scaling_fit = map(int, out.split())
    if bare_norm < 5:
        pytest.skip(f"BLAS does not spin a thread of its own here ({bare_norm} ticks after a bare norm)")
    assert scaling_fit <= 2, (bare_norm, scaling_fit)
