"""The optimiser step: one update of every parameter from the summed chunk
gradients (SGD with momentum or Nesterov, Adam), run serially in compiled code:
docs/maths.md, Eqs. (12)-(13) and (25)-(27)."""
from collections import namedtuple

import numpy as np

from ._jit import jit, wide_vectors

SGD, ADAM = 0, 1
# The step reads the chunks' gradients and never writes them, so several
# replicas of the parameters can step from the same G at once. Two chunks
# are added as the step reads them; more are summed a block at a time into
# a buffer that stays in L1 (16 kB in float64), the last again added as read.
# Measured on 17,216 parameters (M), plain SGD, us: one chunk 4.2-4.4; two
# 5.5-6.3, against 7.2-8.7 when summed into G[0] first.
STEP_BLOCK = 2048

#: An optimiser's hyper-parameters as the kernels read them (named fields,
#: so a kernel says `hyper.lr`, never a slot number). SGD leaves beta1,
#: beta2 and eps at 0; Adam leaves momentum at 0 and nesterov False.
Hyper = namedtuple("Hyper", "lr weight_decay momentum nesterov beta1 beta2 eps")


def make_hyper(lr, weight_decay=0.0, momentum=0.0, nesterov=False, beta1=0.0, beta2=0.0, eps=0.0):
    """A `Hyper` with fixed field types, so the kernels compile once."""
    return Hyper(float(lr), float(weight_decay), float(momentum), bool(nesterov),
                 float(beta1), float(beta2), float(eps))


@jit()
def sum_chunks(G, n_chunks):
    """G[0] <- G[0] + G[1] + ... in chunk order (reproducible sums); returns G[0].

    Whole rows, so the loop vectorises; rows may be padded past the last
    parameter (summed, never read).
    """
    wide_vectors()
    g0 = G[0]
    for c in range(1, n_chunks):
        g0 += G[c]
    return g0


@jit()
def _update_one(kind, p, g, s0, s1, hyper, c1, c2):
    """New (param, state0, state1) of one parameter given its gradient g.

    L2 weight decay adds wd * p to the gradient (all parameters, as in
    PyTorch's `weight_decay`). SGD follows Sutskever et al. (2013):
    v <- mu v - lr g; p += v, or p += mu v - lr g with Nesterov (s0 = v).
    Adam follows Kingma & Ba (2015), Algorithm 1 (s0 = m, s1 = v; c1, c2 are
    the bias corrections 1 - beta^t).
    """
    lr = hyper.lr
    g = g + hyper.weight_decay * p
    if kind == SGD:
        mu = hyper.momentum
        v = mu * s0 - lr * g
        if hyper.nesterov:
            return p + mu * v - lr * g, v, s1
        return p + v, v, s1
    b1, b2 = hyper.beta1, hyper.beta2
    m = b1 * s0 + (1.0 - b1) * g
    v = b2 * s1 + (1.0 - b2) * g * g
    return p - lr * (m / c1) / (np.sqrt(v / c2) + hyper.eps), m, v


@jit()
def _add(x, y, out):
    """out <- x + y, out apart from x and y; returns out (a loop: Numba's
    `out[:] = x` copies element by element, slowly)."""
    wide_vectors()
    for i in range(out.size):
        out[i] = x[i] + y[i]
    return out


@jit()
def _add_to(out, y):
    """out += y (`_add(out, y, out)` did not vectorise: LLVM's overlap check failed)."""
    wide_vectors()
    for i in range(out.size):
        out[i] += y[i]


@jit()
def _update_block(kind, p, g0, g1, scale, s0, s1, hyper, c1, c2, backup):
    """p <- the step from gradient scale * g, g = g0 or, if g1 is not None, g0 + g1;
    the old p kept in backup. False if any g or new p is non-finite.

    `g1 is None` is settled when Numba compiles: each form is its own loop."""
    wide_vectors()
    finite = True
    if kind == SGD and hyper.momentum == 0.0:  # plain SGD keeps no state: skip its memory traffic
        lr, wd = hyper.lr, hyper.weight_decay
        for i in range(p.size):
            gi = (g0[i] if g1 is None else g0[i] + g1[i]) * scale
            pi = p[i]
            backup[i] = pi
            pi -= lr * (gi + wd * pi)
            p[i] = pi
            finite &= np.isfinite(gi) & np.isfinite(pi)
    else:
        for i in range(p.size):
            gi = (g0[i] if g1 is None else g0[i] + g1[i]) * scale
            pi = p[i]
            backup[i] = pi
            pi, s0[i], s1[i] = _update_one(kind, pi, gi, s0[i], s1[i], hyper, c1, c2)
            p[i] = pi
            finite &= np.isfinite(gi) & np.isfinite(pi)
    return finite


@jit()
def apply_step(kind, params, G, n_chunks, scale, state, hyper, step, backup):
    """One optimiser step with gradient scale * sum_c G[c].

    Serial: the step is memory-bound, and splitting it between threads was
    measured slower than one thread. G is only read, so every replica of
    the parameters (`_chunks.Replicas`) can step from it at once. If any
    gradient or new parameter is non-finite the old parameters are put back
    from `backup` and False is returned.
    """
    wide_vectors()
    c1 = 1.0 - hyper.beta1 ** step
    c2 = 1.0 - hyper.beta2 ** step
    s0, s1 = state[0], state[1]
    if n_chunks == 1:
        finite = _update_block(kind, params, G[0], None, scale, s0, s1, hyper, c1, c2, backup)
    elif n_chunks == 2:
        finite = _update_block(kind, params, G[0], G[1], scale, s0, s1, hyper, c1, c2, backup)
    else:  # the chunks' gradients summed a block at a time, in chunk order as `sum_chunks` does
        g = np.empty(STEP_BLOCK, params.dtype)
        finite = True
        for i0 in range(0, params.size, STEP_BLOCK):
            i1 = min(i0 + STEP_BLOCK, params.size)
            # views of the block: loops over offsets into whole arrays did not vectorise
            gb = _add(G[0, i0:i1], G[1, i0:i1], g[:i1 - i0])
            for c in range(2, n_chunks - 1):
                _add_to(gb, G[c, i0:i1])
            finite &= _update_block(kind, params[i0:i1], gb, G[n_chunks - 1, i0:i1], scale,  # adds the last
                                    s0[i0:i1], s1[i0:i1], hyper, c1, c2, backup[i0:i1])
    if not finite:
        params[:] = backup
    return finite
