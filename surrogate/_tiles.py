"""Per-tile micro-kernels: one thread carries a tile of up to TILE samples
through the network, forward (docs/maths.md, Eqs. 1-7) and backward (Eqs. 15-24).

The plain equations, for sample x with input a^0 = x, layers l = 1..L:

    z^l = w^l a^{l-1} + b^l,        a^l = sigma(z^l)                  (7), (5)
    C_x = 1/2 ||a^L - y(x)||^2                                         (10)
    delta^L = (a^L - y) (.) sigma'(z^L)                                (18)
    delta^l = ((w^{l+1})^T delta^{l+1}) (.) sigma'(z^l)                (24)
    dC_x/db^l = delta^l,            dC_x/dw^l = delta^l (a^{l-1})^T    (15), (16)

`tests/naive.py` transcribes exactly these lines in NumPy; every kernel here
is checked against it. Conventions, and where the code departs from the symbols of
docs/maths.md:

* Layer l's weight matrix `w` (shape (J, K), entry [j, k] is w_jk of Eq. 5)
  and bias `b` are views sliced from the flat `params` buffer, so LLVM sees
  plain strided loops it can vectorise. 2-D views come from `_views.matrix`,
  which skips reshape's run-time work.
* Layers are indexed from 0 for the first computing layer: layer l of the equations
  is index l-1 here, and `a[0]` is the input x.
* Tile buffers are sample-major, `a[t, k]`, whereas the equations use column
  vectors a_k; each weight row is loaded once per tile, not once per sample.
* The matrix products go to BLAS's small-matrix kernels (`_blas`), in calls
  small enough for one BLAS thread: the weight gradient and (with 16 or
  more inputs) the affine map in calls of whole rows, the back-propagated
  delta in calls of whole columns. The affine map of a layer with more
  outputs than a quarter of its inputs multiplies transposed tiles
  (`_affine`). Thin layers (under 8 inputs or outputs), and products too
  deep for a call of 8 rows, use our loops.
* A chunk's first tile writes its gradient (`first`); later tiles add.
* Inner loops are register-blocked (several rows and samples per pass);
  layers with fewer than NARROW inputs vectorise over outputs instead.
* Every kernel starts with `wide_vectors()`: LLVM then vectorises it with
  the CPU's widest registers, 512 bits where there are (see `_jit`).
"""
import numpy as np

from . import _elementary as ef
from ._blas import gemm, rows_per_call
from ._jit import jit, wide_vectors
from ._layout import NARROW, TILE
from ._transpose import transpose
from ._views import matrix
from .activations import RELU, SIGMOID, SILU, SOFTPLUS, STEP, TANH  # else IDENTITY


@jit()
def _activate(code, a, s):
    """a <- sigma(z) in place (a holds z on entry) and s <- sigma'(z).

    a and s are flat runs (a tile's first rows), so one loop vectorises over
    all of them.
    """
    wide_vectors()
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
def gather_rows(X, rows, start, nt, a0):
    """a0[t] = X[rows[start + t]]: the tile's inputs, in the order of `rows`."""
    wide_vectors()
    for t in range(nt):
        r = rows[start + t]
        for k in range(X.shape[1]):
            a0[t, k] = X[r, k]


@jit()
def copy_rows(X, start, nt, a0):
    """a0[t] = X[start + t]: the tile's inputs, rows in order."""
    wide_vectors()
    for t in range(nt):
        for k in range(X.shape[1]):
            a0[t, k] = X[start + t, k]


# Which product the affine map z = a w^T + b takes, on a tile of nt rows:
# * with nt >= TRANSPOSED_ROWS, J >= TRANSPOSED_OUTPUTS and more than a
#   quarter as many outputs as inputs (4 J > K), z^T = w a^T by BLAS, on
#   transposed tiles (`_affine_transposed`). As the tiles are laid out, a w^T
#   sums along the contiguous direction of both factors, and BLAS's kernel
#   for that form ran no faster than our blocked loops; w a^T takes its fast
#   form. One thread, full tile, K x J, us (transposed / a w^T): 16 x 16,
#   0.53 / 0.75; 32 x 32, 1.52 / 1.81; 64 x 40, 3.5 / 4.9; 64 x 64, 5.35 /
#   7.2 (loops 6.9); 96 x 48, 6.0 / 8.5; 128 x 64, 10.4 / 14.0; 64 x 128,
#   11.3 / 17.1; 256 x 256, 83 / 92. At J = K/4 the two transposes (0.24
#   us each at 32 x 64, `_transpose`) were not won back: 128 x 32 and 256 x
#   64 lost 9% (so they keep a w^T); above it, losses were 3% or less (64 x
#   24, 64 x 32, 256 x 96, 256 x 128, 512 x 256).
# * else a w^T by BLAS in calls of whole rows of w (`_blas.rows_per_call`);
#   on fewer rows or outputs it won (one row: 0.18-0.57x the loops' time);
# * else (fewer than 8 outputs, or over 1024 inputs) the blocked loops.
TRANSPOSED_ROWS = 16
TRANSPOSED_OUTPUTS = 16


@jit()
def _affine(w, b, a, z, nt, scratch):
    """z[t] = w a[t] + b for each sample t: Eq. (7).

    Layers with fewer than NARROW inputs go to `_affine_narrow`; the rest to
    BLAS's products as the comment above says, or else register-blocked loops:
    4 weight rows x 4 samples per pass over k keep 16 running sums in
    registers, so each load of w or a serves four multiply-adds, and each
    output ends with a sum across a vector. Leftover rows and samples go
    through `_affine_rows`.
    """
    wide_vectors()
    J, K = w.shape
    if K < NARROW:
        _affine_narrow(w, b, a, z, nt, matrix(scratch, 0, K, J))
        return
    if nt >= TRANSPOSED_ROWS and J >= TRANSPOSED_OUTPUTS and 4 * J > K and rows_per_call(K, J, nt):
        _affine_transposed(w, b, a, z, nt, scratch)
        return
    rows = rows_per_call(nt, J, K)
    if rows:
        for t in range(nt):
            for j in range(J):
                z[t, j] = b[j]
        for j0 in range(0, J, rows):  # z[:, j0:j1] += a w[j0:j1]^T
            j1 = min(J, j0 + rows)
            gemm(a[:nt], w[j0:j1], z[:nt, j0:j1], 1.0, False, True)
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
def _affine_transposed(w, b, a, z, nt, scratch):
    """Eq. (7) as z^T = w a^T, then z[t] = z^T[:, t] + b.

    scratch holds a^T (K x nt) and then z^T (J x nt). w a^T goes to BLAS in
    calls of whole rows of w, each small enough for one BLAS thread
    (`_blas.rows_per_call`, which the caller has checked is not 0).
    """
    wide_vectors()
    J, K = w.shape
    aT = matrix(scratch, 0, K, nt)
    zT = matrix(scratch, K * nt, J, nt)
    transpose(a[:nt], aT, None)
    rows = rows_per_call(K, J, nt)
    for j0 in range(0, J, rows):
        j1 = min(J, j0 + rows)
        gemm(w[j0:j1], aT, zT[j0:j1], 0.0, False, False)
    transpose(zT, z, b)


@jit()
def _affine_narrow(w, b, a, z, nt, wT):
    """Eq. (7) for fewer than NARROW = 16 inputs: vectorise over j.

    wT (workspace) gets w transposed, so each column w[:, k] is contiguous.
    The first pass adds the bias and eight inputs (K >= 8), else one (K odd)
    or two; then one if eight left an odd rest, and the rest two a pass.
    Each pass loads and stores z[t] once. At 8 <= K < 16 this took
    0.38-0.45x the time of the blocked loops of `_affine` at K = 8, J = 64,
    0.30-0.35x at J = 256 and 0.48-0.57x at K = 9-15 (two runs): there a sum
    over k in vector registers is one or two vectors of multiply-adds, and
    the horizontal sum closing each output costs more than they do.
    """
    wide_vectors()
    J, K = w.shape
    for j in range(J):
        for k in range(K):
            wT[k, j] = w[j, k]
    for t in range(nt):
        if K >= 8:
            a0, a1, a2, a3 = a[t, 0], a[t, 1], a[t, 2], a[t, 3]
            a4, a5, a6, a7 = a[t, 4], a[t, 5], a[t, 6], a[t, 7]
            for j in range(J):
                z[t, j] = b[j] + (((a0 * wT[0, j] + a1 * wT[1, j]) + (a2 * wT[2, j] + a3 * wT[3, j]))
                                  + ((a4 * wT[4, j] + a5 * wT[5, j]) + (a6 * wT[6, j] + a7 * wT[7, j])))
            first = 8 + K % 2
            if K % 2:
                a0 = a[t, 8]
                for j in range(J):
                    z[t, j] += a0 * wT[8, j]
        elif K % 2:
            first = 1
            a0 = a[t, 0]
            for j in range(J):
                z[t, j] = b[j] + a0 * wT[0, j]
        else:
            first = 2
            a0, a1 = a[t, 0], a[t, 1]
            for j in range(J):
                z[t, j] = b[j] + (a0 * wT[0, j] + a1 * wT[1, j])
        for k in range(first, K, 2):
            a0, a1 = a[t, k], a[t, k + 1]
            for j in range(J):
                z[t, j] += a0 * wT[k, j] + a1 * wT[k + 1, j]


@jit()
def _affine_rows(w, b, a, z, j, t0, nt):
    """z[t, j] = w[j] . a[t] + b[j] for t0 <= t < nt, four samples a pass."""
    wide_vectors()
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
def forward_tile(params, lay, ws, nt):
    """Eqs. (5)-(7) for the nt samples loaded in a^0; leaves a^l and sigma'(z^l)."""
    wide_vectors()
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
def _add_weight_gradient(gw, gb, delta, a, nt, scratch, first):
    """gb += sum_t delta[t], gw += sum_t outer(delta[t], a[t]): Eqs. (15)-(16);
    with `first`, = instead of += (the chunk's first tile: no zeroing pass).

    gw += delta^T a is a matrix product: BLAS's, in calls of whole rows of
    gw small enough for one BLAS thread (`_blas.rows_per_call`; a 256 x 256
    layer's took 0.6x the time of our loops). Otherwise register-blocked:
    4 gradient rows x 4 samples per pass over k, so one load and store of
    gw[j, k] serves four multiply-adds and each a[t, k] serves four rows.
    """
    wide_vectors()
    J, K = gw.shape
    rows = rows_per_call(nt, J, K)
    if first:
        gb[:] = 0.0
        if not rows:  # the loops below add; BLAS's calls overwrite (beta 0)
            gw[:] = 0.0
    if rows:
        for t in range(nt):
            for j in range(J):
                gb[j] += delta[t, j]
        for j0 in range(0, J, rows):  # the cut follows the tile and the layer, never the threads
            j1 = min(J, j0 + rows)
            gemm(delta[:nt, j0:j1], a[:nt], gw[j0:j1], 0.0 if first else 1.0, True, False)
        return
    if K < NARROW:  # at K = 8-15: 0.58-0.95x the time of the blocks below (three runs)
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
    wide_vectors()
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
    """Eqs. (15)-(16) for fewer than NARROW = 16 inputs.

    Sums into gT (workspace, (K, J), contiguous in j), four samples a pass,
    the first pass with the bias; then adds gT to gw.
    """
    wide_vectors()
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
    scaling are one loop each. below = delta w is a matrix product: BLAS's, in
    calls of whole columns of below (and of w) small enough for one BLAS
    thread (`_blas.rows_per_call`, the columns in the role of rows); on a
    256 x 256 layer's full tile, 32 columns a call took 0.72x the time of our
    loops, and 0.77x at 512 x 512 (16 a call). Otherwise register-blocked: 4
    weight rows x 2 samples per pass over k, so one load and store of
    below[t, k] serves four multiply-adds and each w[j, k] serves two samples.
    """
    wide_vectors()
    J, K = w.shape
    below = matrix(out, 0, nt, K)
    cols = rows_per_call(nt, K, J)
    if cols:
        for k0 in range(0, K, cols):  # the cut follows the tile and the layer, never the threads
            k1 = min(K, k0 + cols)
            gemm(delta[:nt], w[:, k0:k1], below[:, k0:k1], 0.0, False, False)
        out *= s
        return
    if J < 4:  # one to three outputs: _backpropagate_thin
        _backpropagate_thin(w, delta, s, below, nt)
        return
    out[:] = 0.0
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
def _backpropagate_thin(w, delta, s, below, nt):
    """`_backpropagate` for a layer of a few outputs (a scalar output's): a
    pass over each sample's row per output, the first writing it and the
    last scaling it by sigma'(z), so no zeroing or scaling pass of its own.
    The sums are the loops' own, in the same order (the same bits). On a
    full tile, one run: 32 -> 1 took 0.14 us against 0.46 us, 32 -> 3 0.55
    against 1.07, 256 -> 2 2.8 against 3.9.
    """
    wide_vectors()
    J, K = w.shape
    for t in range(nt):
        row, srow = below[t], s[t * K:(t + 1) * K]
        d = delta[t, 0]
        if J == 1:
            for k in range(K):
                row[k] = w[0, k] * d * srow[k]
            continue
        for k in range(K):
            row[k] = w[0, k] * d
        for j in range(1, J - 1):
            d = delta[t, j]
            for k in range(K):
                row[k] += w[j, k] * d
        d = delta[t, J - 1]
        for k in range(K):
            row[k] = (row[k] + w[J - 1, k] * d) * srow[k]


@jit()
def _backpropagate_rows(w, delta, below, j0, j1, t0, nt):
    """below[t] += sum_j w[j] delta[t, j] for rows j0..j1-1, samples t0..nt-1."""
    wide_vectors()
    for t in range(t0, nt):
        for j in range(j0, j1):
            d = delta[t, j]
            for k in range(w.shape[1]):
                below[t, k] += w[j, k] * d


@jit()
def backward_tile(params, lay, ws, nt, Y, rows, start, g, first):
    """Eqs. (18), (24), (15)-(16): add this tile's dC_x/dparams into g (with
    `first`, write them: g's old contents are never read).

    Returns the tile's summed cost sum_x C_x, Eq. (10).
    """
    wide_vectors()
    sizes = lay.sizes
    L = sizes.size - 1
    m = sizes[L]
    aL = matrix(ws, lay.a_off[L], TILE, m)
    sL = matrix(ws, lay.s_off[L - 1], TILE, m)
    delta = matrix(ws, lay.d_off[0], TILE, m)
    cost = 0.0
    for t in range(nt):  # Eq. (18): delta^L = (a^L - y) sigma'(z^L)
        r = rows[start + t]
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
        _add_weight_gradient(gw, gb, delta, a, nt, ws[lay.n_off:], first)
        if l > 0:
            below_off = lay.d_off[1 - cur]
            _backpropagate(w, delta, ws[lay.s_off[l - 1]:lay.s_off[l - 1] + nt * K],
                           ws[below_off:below_off + nt * K], nt)
            cur = 1 - cur
    return cost
