"""Compiled forward and backward passes (Eqs. 1-24) and the optimiser steps.

Kernels take arrays and scalars only; `network.py` and `training.py` check
input and call them. Conventions, and where they depart from the notes:

* Parameters live in one flat buffer `params`; layer l's weight matrix `w`
  (shape (J, K), entry [j, k] is the notes' w_jk) and bias `b` are 2-D/1-D
  views sliced from it, so LLVM sees plain strided loops it can vectorise.
  2-D views come from `_views.matrix`, which skips reshape's run-time work.
* Layers are indexed from 0 for the first computing layer: the notes' layer l
  is index l-1 here, and `a[0]` is the input x.
* A thread carries a tile of TILE samples through a layer together, so each
  weight row is loaded once per tile. Tile buffers are sample-major,
  `a[t, k]`, whereas the notes write column vectors a_k.
* A mini-batch is split into `n_chunks` contiguous runs of samples; chunk c
  adds its gradient into its own buffer G[c] and the buffers are summed in
  chunk order afterwards, so results depend on the chunk count (set from the
  thread count) but never on thread timing. Nothing is `+=`'d into shared
  memory inside `prange`.
* Inner loops are register-blocked (several rows and samples per pass) and
  layers with fewer than NARROW inputs vectorise over outputs instead;
  `tests/naive.py` is the plain transcription all of this is checked against.
"""
from collections import namedtuple

import numpy as np
from numba import prange

from . import _elementary as ef
from ._jit import jit
from ._views import matrix
from .activations import RELU, SIGMOID, SILU, SOFTPLUS, STEP, TANH  # else IDENTITY

TILE = 32  # samples a thread carries through a layer together
SPLIT = 8  # chunk boundaries fall on multiples of this many samples
NARROW = 8  # layers with fewer inputs than this vectorise over outputs instead

#: Where each layer's pieces sit: in `params` (w_off, b_off) and in a thread's
#: workspace (a_off: activations a^l, s_off: sigma'(z^l), d_off: two delta
#: buffers used alternately, n_off: scratch for layers narrower than NARROW).
#: All int64.
Layout = namedtuple("Layout", "sizes acts w_off b_off a_off s_off d_off n_off")

SGD, ADAM = 0, 1
# Optimiser hyper-parameters travel as one float64 array in this order.
LR, MOMENTUM, NESTEROV, BETA1, BETA2, EPS, WEIGHT_DECAY = range(7)

# A chunk (one thread's share of a mini-batch) needs about this much work to
# pay for a parallel launch (~4 us) and the risk of waiting for a descheduled
# thread on a busy machine. Measured: a 32-sample batch of [2, 32, 32, 1]
# (2e5 flops) gained under 10% from a second thread, one of [8, 64, 64, 64,
# 128] (3e6 flops) 1.4x.
MIN_FLOPS_PER_CHUNK = 500_000


def make_layout(sizes, acts):
    """Offsets of every layer's parameters and workspace buffers."""
    sizes = np.asarray(sizes, dtype=np.int64)
    L = len(sizes) - 1
    w_off, b_off, s_off = (np.zeros(L, np.int64) for _ in range(3))
    a_off = np.zeros(L + 1, np.int64)
    p = 0
    for l in range(L):
        w_off[l] = p
        b_off[l] = p + sizes[l + 1] * sizes[l]
        p = b_off[l] + sizes[l + 1]
    w = 0
    for l in range(L + 1):
        a_off[l] = w
        w += TILE * sizes[l]
    for l in range(L):
        s_off[l] = w
        w += TILE * sizes[l + 1]
    d_off = np.array([w, w + TILE * sizes.max()], np.int64)
    n_off = np.int64(w + 2 * TILE * sizes.max())
    layout = Layout(sizes, np.asarray(acts, np.int64), w_off, b_off, a_off, s_off, d_off, n_off)
    return layout, int(p), int(n_off + NARROW * sizes.max())


@jit()
def _activate(code, a, s):
    """a <- sigma(z) in place (a holds z on entry) and s <- sigma'(z).

    a and s are flat runs (a tile's first rows), so one loop vectorises over
    all of them.
    """
    n = a.size
    if code == TANH:
        for j in range(n):
            y = ef.tanh(a[j])
            a[j] = y
            s[j] = 1.0 - y * y
    elif code == SIGMOID:
        for j in range(n):
            y = ef.sigmoid(a[j])
            a[j] = y
            s[j] = y * (1.0 - y)
    elif code == RELU:
        for j in range(n):
            z = a[j]
            a[j] = max(z, 0.0)
            s[j] = 1.0 if z > 0.0 else 0.0
    elif code == SOFTPLUS:  # log(1 + e^z) = max(z, 0) + log1p(e^-|z|); derivative sigmoid(z)
        for j in range(n):
            z = a[j]
            a[j] = max(z, 0.0) + np.log1p(ef.exp(-abs(z)))
            s[j] = ef.sigmoid(z)
    elif code == SILU:  # z sigmoid(z); derivative sigmoid(z) (1 + z (1 - sigmoid(z)))
        for j in range(n):
            z = a[j]
            y = ef.sigmoid(z)
            a[j] = z * y
            s[j] = y * (1.0 + z * (1.0 - y))
    elif code == STEP:  # Eq. (2); its derivative is zero almost everywhere
        for j in range(n):
            a[j] = 1.0 if a[j] >= 0.0 else 0.0
            s[j] = 0.0
    else:  # IDENTITY
        for j in range(n):
            s[j] = 1.0


@jit()
def _load_rows(X, order, start, nt, a0):
    """a0[t] = X[order[start + t]] (or X[start + t] when `order` is empty)."""
    for t in range(nt):
        r = order[start + t] if order.size else start + t
        for k in range(X.shape[1]):
            a0[t, k] = X[r, k]


@jit()
def _affine(w, b, a, z, nt, scratch):
    """z[t] = w a[t] + b for each sample t: Eq. (7).

    Register-blocked: 4 weight rows x 4 samples per pass over k keep 16
    running sums in registers, so each load of w or a serves four
    multiply-adds. Leftover rows and samples go through `_affine_rows`.
    """
    J, K = w.shape
    if K < NARROW:
        _affine_narrow(w, b, a, z, nt, matrix(scratch, 0, K, J))
        return
    j = 0
    while j + 4 <= J:
        t = 0
        while t + 4 <= nt:
            z00 = z01 = z02 = z03 = b[j]  # accumulate in the network's dtype
            z10 = z11 = z12 = z13 = b[j + 1]
            z20 = z21 = z22 = z23 = b[j + 2]
            z30 = z31 = z32 = z33 = b[j + 3]
            for k in range(K):
                w0, w1, w2, w3 = w[j, k], w[j + 1, k], w[j + 2, k], w[j + 3, k]
                a0, a1, a2, a3 = a[t, k], a[t + 1, k], a[t + 2, k], a[t + 3, k]
                z00 += w0 * a0
                z01 += w0 * a1
                z02 += w0 * a2
                z03 += w0 * a3
                z10 += w1 * a0
                z11 += w1 * a1
                z12 += w1 * a2
                z13 += w1 * a3
                z20 += w2 * a0
                z21 += w2 * a1
                z22 += w2 * a2
                z23 += w2 * a3
                z30 += w3 * a0
                z31 += w3 * a1
                z32 += w3 * a2
                z33 += w3 * a3
            z[t, j], z[t + 1, j], z[t + 2, j], z[t + 3, j] = z00, z01, z02, z03
            z[t, j + 1], z[t + 1, j + 1], z[t + 2, j + 1], z[t + 3, j + 1] = z10, z11, z12, z13
            z[t, j + 2], z[t + 1, j + 2], z[t + 2, j + 2], z[t + 3, j + 2] = z20, z21, z22, z23
            z[t, j + 3], z[t + 1, j + 3], z[t + 2, j + 3], z[t + 3, j + 3] = z30, z31, z32, z33
            t += 4
        for jj in range(j, j + 4):
            _affine_rows(w, b, a, z, jj, t, nt)
        j += 4
    for jj in range(j, J):
        _affine_rows(w, b, a, z, jj, 0, nt)


@jit()
def _affine_narrow(w, b, a, z, nt, wT):
    """Eq. (7) for inputs narrower than a vector (K < NARROW): vectorise over j.

    wT (workspace) gets w transposed, so each column w[:, k] is contiguous.
    Inputs go two a pass, the first pass with the bias: each pass loads and
    stores z[t] once.
    """
    J, K = w.shape
    for j in range(J):
        for k in range(K):
            wT[k, j] = w[j, k]
    for t in range(nt):
        if K % 2:
            a0 = a[t, 0]
            for j in range(J):
                z[t, j] = b[j] + a0 * wT[0, j]
        else:
            a0, a1 = a[t, 0], a[t, 1]
            for j in range(J):
                z[t, j] = b[j] + (a0 * wT[0, j] + a1 * wT[1, j])
        for k in range(2 - K % 2, K, 2):
            a0, a1 = a[t, k], a[t, k + 1]
            for j in range(J):
                z[t, j] += a0 * wT[k, j] + a1 * wT[k + 1, j]


@jit()
def _affine_rows(w, b, a, z, j, t0, nt):
    """z[t, j] = w[j] . a[t] + b[j] for t0 <= t < nt, four samples a pass."""
    K = w.shape[1]
    t = t0
    while t + 4 <= nt:
        z0 = z1 = z2 = z3 = b[j]
        for k in range(K):
            wk = w[j, k]
            z0 += wk * a[t, k]
            z1 += wk * a[t + 1, k]
            z2 += wk * a[t + 2, k]
            z3 += wk * a[t + 3, k]
        z[t, j], z[t + 1, j], z[t + 2, j], z[t + 3, j] = z0, z1, z2, z3
        t += 4
    for t in range(t, nt):
        z0 = b[j]
        for k in range(K):
            z0 += w[j, k] * a[t, k]
        z[t, j] = z0


@jit()
def _forward_tile(params, lay, ws, nt):
    """Eqs. (5)-(7) for the nt samples loaded in a^0; leaves a^l and sigma'(z^l)."""
    sizes = lay.sizes
    for l in range(sizes.size - 1):
        K, J = sizes[l], sizes[l + 1]
        w = matrix(params, lay.w_off[l], J, K)
        b = params[lay.b_off[l]:lay.b_off[l] + J]
        a = matrix(ws, lay.a_off[l], TILE, K)
        z = matrix(ws, lay.a_off[l + 1], TILE, J)
        _affine(w, b, a, z, nt, ws[lay.n_off:])
        _activate(lay.acts[l], ws[lay.a_off[l + 1]:lay.a_off[l + 1] + nt * J],
                  ws[lay.s_off[l]:lay.s_off[l] + nt * J])


@jit()
def _add_weight_gradient(gw, gb, delta, a, nt, scratch):
    """gb += sum_t delta[t], gw += sum_t outer(delta[t], a[t]): Eqs. (15)-(16).

    Register-blocked: 4 gradient rows x 4 samples per pass over k, so one
    load and store of gw[j, k] serves four multiply-adds and each a[t, k]
    serves four rows.
    """
    J, K = gw.shape
    if K < NARROW:
        _add_weight_gradient_narrow(gw, gb, delta, a, nt, matrix(scratch, 0, K, J))
        return
    j = 0
    while j + 4 <= J:
        t = 0
        while t + 4 <= nt:
            p0, p1, p2, p3 = delta[t, j], delta[t + 1, j], delta[t + 2, j], delta[t + 3, j]
            q0, q1, q2, q3 = delta[t, j + 1], delta[t + 1, j + 1], delta[t + 2, j + 1], delta[t + 3, j + 1]
            r0, r1, r2, r3 = delta[t, j + 2], delta[t + 1, j + 2], delta[t + 2, j + 2], delta[t + 3, j + 2]
            u0, u1, u2, u3 = delta[t, j + 3], delta[t + 1, j + 3], delta[t + 2, j + 3], delta[t + 3, j + 3]
            gb[j] += (p0 + p1) + (p2 + p3)
            gb[j + 1] += (q0 + q1) + (q2 + q3)
            gb[j + 2] += (r0 + r1) + (r2 + r3)
            gb[j + 3] += (u0 + u1) + (u2 + u3)
            for k in range(K):
                a0, a1, a2, a3 = a[t, k], a[t + 1, k], a[t + 2, k], a[t + 3, k]
                gw[j, k] += (p0 * a0 + p1 * a1) + (p2 * a2 + p3 * a3)
                gw[j + 1, k] += (q0 * a0 + q1 * a1) + (q2 * a2 + q3 * a3)
                gw[j + 2, k] += (r0 * a0 + r1 * a1) + (r2 * a2 + r3 * a3)
                gw[j + 3, k] += (u0 * a0 + u1 * a1) + (u2 * a2 + u3 * a3)
            t += 4
        _add_gradient_rows(gw, gb, delta, a, j, j + 4, t, nt)
        j += 4
    _add_gradient_rows(gw, gb, delta, a, j, J, 0, nt)


@jit()
def _add_gradient_rows(gw, gb, delta, a, j0, j1, t0, nt):
    """The same for rows j0..j1-1 and samples t0..nt-1, four samples a pass."""
    K = gw.shape[1]
    for j in range(j0, j1):
        t = t0
        while t + 4 <= nt:
            d0, d1, d2, d3 = delta[t, j], delta[t + 1, j], delta[t + 2, j], delta[t + 3, j]
            gb[j] += (d0 + d1) + (d2 + d3)
            for k in range(K):
                gw[j, k] += (d0 * a[t, k] + d1 * a[t + 1, k]) + (d2 * a[t + 2, k] + d3 * a[t + 3, k])
            t += 4
        for t in range(t, nt):
            d0 = delta[t, j]
            gb[j] += d0
            for k in range(K):
                gw[j, k] += d0 * a[t, k]


@jit()
def _add_weight_gradient_narrow(gw, gb, delta, a, nt, gT):
    """Eqs. (15)-(16) for inputs narrower than a vector (K < NARROW).

    Sums into gT (workspace, (K, J), contiguous in j), four samples a pass,
    the first pass with the bias; then adds gT to gw.
    """
    J, K = gw.shape
    for k in range(K):
        for j in range(J):
            gT[k, j] = 0.0
    t = 0
    while t + 4 <= nt:
        a0, a1, a2, a3 = a[t, 0], a[t + 1, 0], a[t + 2, 0], a[t + 3, 0]
        for j in range(J):
            d0, d1, d2, d3 = delta[t, j], delta[t + 1, j], delta[t + 2, j], delta[t + 3, j]
            gb[j] += (d0 + d1) + (d2 + d3)
            gT[0, j] += (d0 * a0 + d1 * a1) + (d2 * a2 + d3 * a3)
        for k in range(1, K):
            a0, a1, a2, a3 = a[t, k], a[t + 1, k], a[t + 2, k], a[t + 3, k]
            for j in range(J):
                gT[k, j] += ((delta[t, j] * a0 + delta[t + 1, j] * a1)
                             + (delta[t + 2, j] * a2 + delta[t + 3, j] * a3))
        t += 4
    for t in range(t, nt):
        for j in range(J):
            gb[j] += delta[t, j]
        for k in range(K):
            a0 = a[t, k]
            for j in range(J):
                gT[k, j] += delta[t, j] * a0
    for j in range(J):
        for k in range(K):
            gw[j, k] += gT[k, j]


@jit()
def _backpropagate(w, delta, s, out, nt):
    """below = (w^T delta) (.) sigma'(z) for each sample: Eq. (24).

    s and out are flat runs of nt rows (sigma'(z) and below), so zeroing and
    scaling are one loop each. Register-blocked: 4 weight rows x 2 samples per
    pass over k, so one load and store of below[t, k] serves four
    multiply-adds and each w[j, k] serves two samples.
    """
    J, K = w.shape
    out[:] = 0.0
    below = matrix(out, 0, nt, K)
    j = 0
    while j + 4 <= J:
        t = 0
        while t + 2 <= nt:
            d0, d1, d2, d3 = delta[t, j], delta[t, j + 1], delta[t, j + 2], delta[t, j + 3]
            e0, e1, e2, e3 = delta[t + 1, j], delta[t + 1, j + 1], delta[t + 1, j + 2], delta[t + 1, j + 3]
            for k in range(K):
                w0, w1, w2, w3 = w[j, k], w[j + 1, k], w[j + 2, k], w[j + 3, k]
                below[t, k] += (w0 * d0 + w1 * d1) + (w2 * d2 + w3 * d3)
                below[t + 1, k] += (w0 * e0 + w1 * e1) + (w2 * e2 + w3 * e3)
            t += 2
        _backpropagate_rows(w, delta, below, j, j + 4, t, nt)
        j += 4
    _backpropagate_rows(w, delta, below, j, J, 0, nt)
    out *= s


@jit()
def _backpropagate_rows(w, delta, below, j0, j1, t0, nt):
    """below[t] += sum_j w[j] delta[t, j] for rows j0..j1-1, samples t0..nt-1."""
    for t in range(t0, nt):
        for j in range(j0, j1):
            d = delta[t, j]
            for k in range(w.shape[1]):
                below[t, k] += w[j, k] * d


@jit()
def _backward_tile(params, lay, ws, nt, Y, order, start, g):
    """Eqs. (18), (24), (15)-(16): add this tile's dC_x/dparams into g.

    Returns the tile's summed cost sum_x C_x, Eq. (10).
    """
    sizes = lay.sizes
    L = sizes.size - 1
    m = sizes[L]
    aL = matrix(ws, lay.a_off[L], TILE, m)
    sL = matrix(ws, lay.s_off[L - 1], TILE, m)
    delta = matrix(ws, lay.d_off[0], TILE, m)
    cost = 0.0
    for t in range(nt):  # Eq. (18): delta^L = (a^L - y) sigma'(z^L)
        r = order[start + t] if order.size else start + t
        for j in range(m):
            e = aL[t, j] - Y[r, j]
            cost += 0.5 * e * e
            delta[t, j] = e * sL[t, j]
    cur = 0
    for l in range(L - 1, -1, -1):
        K, J = sizes[l], sizes[l + 1]
        w = matrix(params, lay.w_off[l], J, K)
        gw = matrix(g, lay.w_off[l], J, K)
        gb = g[lay.b_off[l]:lay.b_off[l] + J]
        a = matrix(ws, lay.a_off[l], TILE, K)
        delta = matrix(ws, lay.d_off[cur], TILE, J)
        _add_weight_gradient(gw, gb, delta, a, nt, ws[lay.n_off:])
        if l > 0:
            below_off = lay.d_off[1 - cur]
            _backpropagate(w, delta, ws[lay.s_off[l - 1]:lay.s_off[l - 1] + nt * K],
                           ws[below_off:below_off + nt * K], nt)
            cur = 1 - cur
    return cost


@jit()
def _chunk_grad(params, X, Y, order, start, stop, lay, ws, g):
    """Summed cost and gradient of samples start..stop-1 (in `order`) into g."""
    g[:] = 0.0
    cost = 0.0
    for t0 in range(start, stop, TILE):
        nt = min(TILE, stop - t0)
        _load_rows(X, order, t0, nt, matrix(ws, lay.a_off[0], TILE, lay.sizes[0]))
        _forward_tile(params, lay, ws, nt)
        cost += _backward_tile(params, lay, ws, nt, Y, order, t0, g)
    return cost


@jit(parallel=True)
def accumulate(params, X, Y, order, start, stop, lay, WS, G, n_chunks):
    """G[c] <- sum of dC_x/dparams over chunk c of the batch; returns sum_x C_x.

    Chunk c covers a contiguous run of samples (boundaries on multiples of
    SPLIT) and writes only WS[c] and G[c].
    """
    if n_chunks == 1:
        return _chunk_grad(params, X, Y, order, start, stop, lay, WS[0], G[0])
    n_units = (stop - start + SPLIT - 1) // SPLIT
    costs = np.zeros(n_chunks)
    for c in prange(n_chunks):
        lo = start + SPLIT * ((n_units * c) // n_chunks)
        hi = min(stop, start + SPLIT * ((n_units * (c + 1)) // n_chunks))
        costs[c] = _chunk_grad(params, X, Y, order, lo, hi, lay, WS[c], G[c])
    return costs.sum()


@jit()
def _sum_chunks(G, n_chunks):
    """G[0] <- G[0] + G[1] + ... in chunk order (reproducible sums); returns G[0].

    Whole rows, so the loop vectorises; rows may be padded past the last
    parameter (summed, never read).
    """
    g0 = G[0]
    for c in range(1, n_chunks):
        g0 += G[c]
    return g0


@jit()
def batch_grad(params, X, Y, order, start, stop, lay, WS, G, grad, n_chunks):
    """grad <- (1/n) sum_x dC_x/dparams over the batch, Eqs. (12)-(13); returns C."""
    n = stop - start
    cost = accumulate(params, X, Y, order, start, stop, lay, WS, G, n_chunks)
    grad[:] = _sum_chunks(G, n_chunks)[:grad.size]
    grad *= 1.0 / n
    return cost / n


@jit()
def _predict_tiles(params, X, lay, ws, out, first, last):
    """out rows of tiles first..last-1 <- a^L (forward pass only)."""
    n = X.shape[0]
    L = lay.sizes.size - 1
    m = lay.sizes[L]
    in_order = np.empty(0, np.int64)
    for i in range(first, last):
        r0 = i * TILE
        nt = min(TILE, n - r0)
        _load_rows(X, in_order, r0, nt, matrix(ws, lay.a_off[0], TILE, lay.sizes[0]))
        _forward_tile(params, lay, ws, nt)
        out[r0:r0 + nt] = matrix(ws, lay.a_off[L], TILE, m)[:nt]


@jit(parallel=True)
def predict(params, X, lay, WS, out, n_chunks):
    """out <- a^L(x) for every row x of X, chunk c of the tiles on WS[c]."""
    n_tiles = (X.shape[0] + TILE - 1) // TILE
    if n_chunks == 1:
        _predict_tiles(params, X, lay, WS[0], out, 0, n_tiles)
        return
    for c in prange(n_chunks):
        _predict_tiles(params, X, lay, WS[c], out, (n_tiles * c) // n_chunks,
                       (n_tiles * (c + 1)) // n_chunks)


@jit()
def _update_one(kind, p, g, s0, s1, hyper, c1, c2):
    """New (param, state0, state1) of one parameter given its gradient g.

    L2 weight decay adds wd * p to the gradient (all parameters, as in
    PyTorch's `weight_decay`). SGD follows Sutskever et al. (2013):
    v <- mu v - lr g; p += v, or p += mu v - lr g with Nesterov (s0 = v).
    Adam follows Kingma & Ba (2015), Algorithm 1 (s0 = m, s1 = v; c1, c2 are
    the bias corrections 1 - beta^t).
    """
    lr = hyper[LR]
    g = g + hyper[WEIGHT_DECAY] * p
    if kind == SGD:
        mu = hyper[MOMENTUM]
        v = mu * s0 - lr * g
        if hyper[NESTEROV] != 0.0:
            return p + mu * v - lr * g, v, s1
        return p + v, v, s1
    b1, b2 = hyper[BETA1], hyper[BETA2]
    m = b1 * s0 + (1.0 - b1) * g
    v = b2 * s1 + (1.0 - b2) * g * g
    return p - lr * (m / c1) / (np.sqrt(v / c2) + hyper[EPS]), m, v


@jit()
def apply_step(kind, params, G, n_chunks, scale, state, hyper, step, backup):
    """One optimiser step with gradient scale * sum_c G[c] (summed into G[0]).

    Serial: the step is memory-bound, and splitting it between threads was
    measured slower than one thread. If any gradient or new parameter is
    non-finite the old parameters are put back from `backup` and False is
    returned.
    """
    c1 = 1.0 - hyper[BETA1] ** step
    c2 = 1.0 - hyper[BETA2] ** step
    s0, s1 = state[0], state[1]
    g0 = _sum_chunks(G, n_chunks)
    finite = True
    if kind == SGD and hyper[MOMENTUM] == 0.0:  # plain SGD keeps no state: skip its memory traffic
        lr, wd = hyper[LR], hyper[WEIGHT_DECAY]
        for i in range(params.size):
            g = g0[i] * scale
            p = params[i]
            backup[i] = p
            p -= lr * (g + wd * p)
            params[i] = p
            finite &= np.isfinite(g) & np.isfinite(p)
    else:
        for i in range(params.size):
            g = g0[i] * scale
            p = params[i]
            backup[i] = p
            p, s0[i], s1[i] = _update_one(kind, p, g, s0[i], s1[i], hyper, c1, c2)
            params[i] = p
            finite &= np.isfinite(g) & np.isfinite(p)
    if not finite:
        params[:] = backup
    return finite


@jit()
def n_chunks_for(batch, flops_per_sample, n_threads):
    """How many threads a mini-batch is worth: one per MIN_FLOPS_PER_CHUNK."""
    worth = max(1, (batch * flops_per_sample) // MIN_FLOPS_PER_CHUNK)
    return max(1, min(n_threads, worth, (batch + SPLIT - 1) // SPLIT))


@jit()
def train_epoch(params, X, Y, order, batch_size, lay, kind, hyper, state, step,
                WS, G, backup, n_threads, flops_per_sample):
    """One epoch of mini-batch updates in compiled code.

    Returns (summed costs sum_x C_x, samples done, status): status 0 ok,
    1 a non-finite cost, gradient or new parameter (that step undone, so
    `params` keeps the last finite values). `step[0]` counts optimiser steps
    across epochs (Adam's bias correction).
    """
    n = order.size
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        nc = n_chunks_for(stop - start, flops_per_sample, n_threads)
        cost = accumulate(params, X, Y, order, start, stop, lay, WS, G, nc)
        step[0] += 1
        if not (np.isfinite(cost) and apply_step(kind, params, G, nc, 1.0 / (stop - start), state,
                                                  hyper, step[0], backup)):
            return total, start, 1
        total += cost
    return total, n, 0
