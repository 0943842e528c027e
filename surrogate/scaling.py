"""What the network sees: standardised inputs and output profiles reduced to
a few coefficients on an orthonormal basis (PCA of the centred outputs).

    z = (x - x_mean) / x_scale                      per input column
    c = ((y - y_mean) @ basis.T) / y_scale          k coefficients per profile
    y = y_mean + (y_scale c) @ basis                the decode, one matmul

One scalar `y_scale` for every coefficient keeps the network's quadratic
cost (Eq. 8) proportional to the L2 error of the profile, since the basis
is orthonormal: docs/maths.md, Eqs. (30)-(33).
"""
import contextlib

import numpy as np

from ._threads import blas_one_thread

__all__ = ["Scaling"]


# A threaded BLAS pays only on large matrices: on a busy machine its spinning
# threads made a 510 x 65 SVD take 2.4 s instead of milliseconds. And after
# threaded work OpenBLAS's idle thread spins for about 0.1 s: the norm of
# `surrogate run heat`'s 540 x 64 training profiles (a BLAS dot over 34,560
# numbers, which OpenBLAS splits) kept it spinning through the whole fit that
# followed, 10 ticks of CPU time beside an 80-ms fit, which a busy machine's
# cores felt.
BLAS_THREADS_FLOPS = 1e9


class Scaling:
    """Input standardisation and output basis, fitted once to training data."""

    def __init__(self, x_mean, x_scale, y_mean, basis, y_scale):
        self.x_mean, self.x_scale = x_mean, x_scale
        self.y_mean, self.basis, self.y_scale = y_mean, np.ascontiguousarray(basis), float(y_scale)
        # the coefficient -> profile map, precomputed once so decoding is one matmul
        self.decoder = np.ascontiguousarray(self.y_scale * self.basis)

    @classmethod
    def fit(cls, X, Y, pca_tol):
        """Fit to checked float64 X (n, d) and Y (n, m).

        pca_tol: keep the fewest principal components whose residual is at
        most `pca_tol` times ||Y||_F (what relative L2 errors are measured
        against); None keeps every grid point (identity basis).
        """
        x_mean = X.mean(axis=0)
        sd = X.std(axis=0)
        x_scale = np.where(sd > 0, sd, 1.0)  # a constant input carries no information
        y_mean = Y.mean(axis=0)
        Yc = Y - y_mean
        n, m = Y.shape
        # the SVD's multiply-adds decide whether BLAS may use its threads
        with contextlib.nullcontext() if n * m * min(n, m) >= BLAS_THREADS_FLOPS else blas_one_thread():
            if pca_tol is None:
                basis = np.eye(m)
            else:
                _, s, Vt = np.linalg.svd(Yc, full_matrices=False)
                tail = np.sqrt(np.maximum(np.cumsum((s ** 2)[::-1])[::-1], 0.0))
                norm_y = max(np.linalg.norm(Y), np.finfo(float).tiny)
                resid = np.append(tail[1:], 0.0) / norm_y  # resid[k-1]: residual keeping k modes
                k = int(np.argmax(resid <= pca_tol)) + 1
                basis = Vt[:k]
            basis = np.ascontiguousarray(basis)
            coeff = Yc @ basis.T
        scale = float(np.sqrt(np.mean(coeff ** 2))) if coeff.size else 0.0
        return cls(x_mean, x_scale, y_mean, basis, scale if scale > 0 else 1.0)

    @property
    def n_modes(self):
        return self.basis.shape[0]

    def encode_x(self, X, dtype):
        return np.ascontiguousarray((X - self.x_mean) / self.x_scale, dtype=dtype)

    def encode_y(self, Y, dtype):
        return np.ascontiguousarray(((Y - self.y_mean) @ self.basis.T) / self.y_scale, dtype=dtype)

    def decode(self, coeff):
        """Profiles (n, m) in float64 from network outputs (n, k)."""
        Y = coeff.astype(np.float64, copy=False) @ self.decoder
        Y += self.y_mean
        return Y
