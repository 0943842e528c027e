"""The input Jacobian of a surrogate: dy/dx for every output point and input.

A surrogate's profile is y(x) = y_mean + decoder^T a^L(z), z = (x - x_mean) / x_scale,
so by the chain rule

    dy/dx = decoder^T  (da^L/dz)  diag(1 / x_scale)          (m, k) (k, d) (d, d)

The middle factor is the network's k x d Jacobian, built layer by layer from
the same equations as the forward pass (docs/maths.md, Eqs. 5, 7) and the same sigma' that
back-propagation uses (`_tiles._activate`):

    forward mode:  T^l = diag(sigma'(z^l)) w^l T^{l-1},   T^0 = diag(1/x_scale)   (d tangents)
    reverse mode:  g^{l-1} = (w^l)^T (sigma'(z^l) (.) g^l),  g^L = e_c            (k adjoints)

Forward mode carries d tangent columns through every layer; reverse mode runs
one forward pass and k backward passes, one per output coefficient. Both
cost about (number of columns) x (one forward pass), so the kernel takes
forward mode when d <= k (a few physical parameters, several PCA modes: the
usual case) and reverse mode otherwise. The m output points never enter the
network: they come from one product with the decoder at the end, which is
why reverse mode runs over the k coefficients of the output basis and not
over the m points.

The result depends only on the network's parameters and the scaling, so an
ensemble's Jacobian is the mean of its members' (the derivative of a mean).
"""
import numpy as np

from ._jit import jit
from ._tiles import _activate
from ._views import matrix

__all__ = ["jacobian", "network_jacobian"]


@jit()
def _forward_mode(params, lay, Z, inv_scale, out):
    """out[i] (k, d) = d a^L / dx at row i: the value and its d tangents carried together.

    The value a and tangents T share one buffer, M[0] = a, M[1 + c] = T[:, c],
    so each layer is one loop of dot products over the layer's inputs.
    """
    n, d = Z.shape
    L = lay.sizes.size - 1
    width = lay.sizes.max()
    M = np.zeros((2, (d + 1) * width), params.dtype)  # this layer's (d + 1, K) and the next's
    s = np.empty(width, params.dtype)
    for i in range(n):
        K = d
        A = matrix(M[0], 0, d + 1, K)
        for k in range(d):
            A[0, k] = Z[i, k]
            for c in range(d):
                A[1 + c, k] = inv_scale[k] if c == k else 0.0
        for l in range(L):
            J = lay.sizes[l + 1]
            w = matrix(params, lay.w_off[l], J, K)
            b = params[lay.b_off[l]:lay.b_off[l] + J]
            B = matrix(M[(l + 1) % 2], 0, d + 1, J)
            for r in range(d + 1):
                for j in range(J):
                    acc = b[j] if r == 0 else 0.0
                    for k in range(K):
                        acc += w[j, k] * A[r, k]
                    B[r, j] = acc
            _activate(lay.acts[l], B[0], s[:J])  # B[0]: z -> a, s <- sigma'(z)
            for r in range(1, d + 1):
                for j in range(J):
                    B[r, j] *= s[j]
            A, K = B, J
        for j in range(K):
            for c in range(d):
                out[i, j, c] = A[1 + c, j]


@jit()
def _reverse_mode(params, lay, Z, inv_scale, out):
    """out[i] (k, d) = d a^L / dx at row i: one forward pass, then one backward pass per output."""
    n, d = Z.shape
    L = lay.sizes.size - 1
    width = lay.sizes.max()
    sizes = lay.sizes
    s_off = np.zeros(L + 1, np.int64)  # where layer l's sigma' sits in S
    for l in range(L):
        s_off[l + 1] = s_off[l] + sizes[l + 1]
    a = np.empty((L + 1) * width, params.dtype)  # a^l at l * width
    S = np.empty(s_off[L], params.dtype)
    g = np.empty((2, width), params.dtype)
    k_out = sizes[L]
    for i in range(n):
        for k in range(d):
            a[k] = Z[i, k]
        for l in range(L):
            J, K = sizes[l + 1], sizes[l]
            w = matrix(params, lay.w_off[l], J, K)
            below, here = a[l * width:l * width + K], a[(l + 1) * width:(l + 1) * width + J]
            for j in range(J):
                acc = params[lay.b_off[l] + j]
                for k in range(K):
                    acc += w[j, k] * below[k]
                here[j] = acc
            _activate(lay.acts[l], here, S[s_off[l]:s_off[l] + J])
        for c in range(k_out):
            g[0, :k_out] = 0.0
            g[0, c] = 1.0
            cur = 0
            for l in range(L - 1, -1, -1):
                J, K = sizes[l + 1], sizes[l]
                w = matrix(params, lay.w_off[l], J, K)
                for j in range(J):
                    g[cur, j] *= S[s_off[l] + j]
                nxt = 1 - cur
                g[nxt, :K] = 0.0
                for j in range(J):
                    gj = g[cur, j]
                    for k in range(K):
                        g[nxt, k] += w[j, k] * gj
                cur = nxt
            for k in range(d):
                out[i, c, k] = g[cur, k] * inv_scale[k]


def network_jacobian(net, scaling, X):
    """d a^L / dx, shape (n, k, d), in the network's dtype, for checked float64 X (n, d).

    Forward mode when d <= k, reverse mode otherwise (see the module docstring).
    """
    Z = scaling.encode_x(X, net.dtype)
    inv_scale = (1.0 / scaling.x_scale).astype(net.dtype)
    n, d = Z.shape
    k = net.sizes[-1]
    out = np.empty((n, k, d), net.dtype)
    kernel = _forward_mode if d <= k else _reverse_mode
    kernel(net.params, net._layout, Z, inv_scale, out)
    return out


def jacobian(net, scaling, X):
    """dy/dx, shape (n, m, d) in float64, for checked float64 X (n, d): decoder^T times `network_jacobian`."""
    Jc = network_jacobian(net, scaling, X).astype(np.float64, copy=False)
    return np.matmul(scaling.decoder.T, Jc)
