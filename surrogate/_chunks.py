"""Chunk drivers: a batch split into chunks, each chunk's tiles run through
the per-tile kernels of `_tiles`, and the chunks' gradients summed.

A mini-batch is split into `n_chunks` contiguous runs of samples; chunk c
adds its gradient into its own buffer G[c], and the buffers are summed in
chunk order afterwards. The chunk count is set by the batch and the
network (`n_chunks_for`), never by the thread count, so a result is the
same bit for bit on any number of threads, and the thread policy
(`_threads`) may change the count between calls. Nothing is `+=`'d into shared
memory inside `prange`. An epoch of mini-batch updates is one compiled call
(`train_epoch`), with the optimiser step of `_steps`.

In training, each thread (a lane) keeps its own copy of the parameters
(`Replicas`): it computes its chunks' gradients on its copy, then sums all
the chunks' gradients in chunk order and takes the step on its copy. Every
lane does the same arithmetic on the same numbers, so the copies stay equal
bit for bit, and only gradients move between cores, never parameters.
"""
from collections import namedtuple

import numpy as np
from numba import prange

from ._jit import jit, wide_vectors
from ._layout import SPLIT, TILE
from ._prefetch import prefetch_rows
from ._steps import apply_step, sum_chunks
from ._tiles import backward_tile, copy_rows, forward_tile, gather_rows
from ._views import matrix

# A chunk (one thread's share of a mini-batch) needs about this much work to
# pay for a parallel launch (~4 us) and the risk of waiting for a descheduled
# thread on a busy machine.
MIN_FLOPS_PER_CHUNK = 500_000
# At most this many chunks, and at least a full tile of samples each: a chunk
# reads every weight once a tile, so two chunks of half a tile read the
# weights twice for the same work, and each chunk adds a gradient buffer to
# sum. Beyond 4 threads a mini-batch of tens of samples gains little anyway.
MAX_CHUNKS = 4
MIN_CHUNK_ROWS = TILE
# But a batch of one to two tiles is split in two (chunks of 16 or more
# rows) when the threads train on `Replicas`. Threads sharing one copy of
# the parameters did not gain on a 32-sample batch: each step moved the
# parameters to the second core and its gradient back (135 kB each way on
# M, about 10 GB/s between the two cores of an AMD EPYC, Zen 4), and whole
# epochs took 0.90-0.95x the one-chunk time on M, but 1.08-1.14x on one
# thread. With a copy on each core only the gradients cross. There, batch
# 32, us a batch, one chunk on one thread / two chunks on one thread / two
# chunks on two threads: [5, 64, 64, 64, 16] 49.9 / 54.5 / 43.6; M [8, 64,
# 64, 64, 128] 83-84 / 88-91 / 68-70; [8, 128, 128, 128, 128] 216 / 236 /
# 158; W [8, 256, 256, 256, 128] 675 / 720 / 487; [8, 512, 512, 512, 128]
# 3399 / 3447 / 2488. At batch 64 (two full tiles either way) M took 100-103
# us on two copies against 113 us on shared parameters, 163-165 us on one
# thread.
MIN_REPLICA_ROWS = TILE // 2
# Networks up to this size are trained on `Replicas` (all measured above,
# up to 4.7 MB, gained from them); each further thread costs 4 copies of
# the parameters (parameters, two optimiser moments, backup), a price kept
# under 32 MB a thread.
REPLICA_BYTES = 8 * 1024 * 1024

#: Per-thread copies of the parameters, for lanes 1, 2, ... (lane 0 uses the
#: network's own): params (k, width) and backup (k, width), rows padded as
#: the gradient buffers are and stepped only up to n_params, optimiser state
#: (k, 2, n_params), and fresh[0], how many lanes hold the current numbers
#: (lane 0 always does). `on`: the network is replicated, which sets its chunks
#: (`n_chunks_for`) whether or not there are k >= 1 copies to use.
Replicas = namedtuple("Replicas", "on params state backup fresh")


def replicated(net):
    """Whether `net` trains on `Replicas` (REPLICA_BYTES of parameters or fewer)."""
    return net.n_params * net.dtype.itemsize <= REPLICA_BYTES


def make_replicas(net, lanes):
    """`Replicas` for training `net` on up to `lanes` threads (none if it is too large)."""
    on = replicated(net)
    k = lanes - 1 if on else 0
    rows = net.gradient_buffers(2 * k)
    return Replicas(on, rows[:k], np.zeros((k, 2, net.n_params), net.dtype), rows[k:],
                    np.ones(1, np.int64))


@jit()
def _chunk_grad(params, X, Y, rows, start, stop, lay, ws, g):
    """Summed cost and gradient of samples rows[start..stop-1] into g."""
    wide_vectors()
    if stop <= start:
        g[:] = 0.0
    cost = 0.0
    for t0 in range(start, stop, TILE):  # the first tile writes g, the others add to it
        nt = min(TILE, stop - t0)
        gather_rows(X, rows, t0, nt, matrix(ws, lay.a_off[0], TILE, lay.sizes[0]))
        forward_tile(params, lay, ws, nt)
        cost += backward_tile(params, lay, ws, nt, Y, rows, t0, g, t0 == start)
    return cost


@jit()
def _chunk_bounds(start, stop, c, n_chunks):
    """Samples [lo, hi) of chunk c of the batch [start, stop): contiguous, on multiples of SPLIT."""
    n_units = (stop - start + SPLIT - 1) // SPLIT
    lo = start + SPLIT * ((n_units * c) // n_chunks)
    hi = min(stop, start + SPLIT * ((n_units * (c + 1)) // n_chunks))
    return lo, hi


@jit()
def _lane_params(params, reps, r):
    """Lane r's parameters: its replica if it has one (`Replicas`), else the shared ones."""
    return reps.params[r - 1] if 0 < r <= reps.params.shape[0] else params


@jit(parallel=True)
def accumulate(params, reps, X, Y, rows, start, stop, lay, WS, G, n_chunks, n_lanes):
    """G[c] <- sum of dC_x/dparams over chunk c of the batch rows[start:stop]; returns sum_x C_x.

    The chunks are dealt to `n_lanes` lanes (threads): lane r takes chunks
    r, r + n_lanes, ... on workspace WS[r], with its own replica of the
    parameters if `reps` has one. Every replica holds the same numbers, so
    G does not depend on the lanes.
    """
    wide_vectors()
    if n_chunks == 1:
        return _chunk_grad(params, X, Y, rows, start, stop, lay, WS[0], G[0])
    costs = np.zeros(n_chunks)
    # One place computes every chunk, on one lane or many: LLVM compiles each
    # place a kernel is inlined into on its own, and may sum in another order there.
    for r in prange(n_lanes):
        wide_vectors()  # each prange body is compiled as a function of its own
        p = _lane_params(params, reps, r)
        for c in range(r, n_chunks, n_lanes):
            lo, hi = _chunk_bounds(start, stop, c, n_chunks)
            costs[c] = _chunk_grad(p, X, Y, rows, lo, hi, lay, WS[r], G[c])
    total = 0.0
    for c in range(n_chunks):  # in chunk order: costs.sum() here would be a parallel reduction,
        total += costs[c]       # its order set by the thread count
    return total


@jit()
def batch_grad(params, reps, X, Y, rows, start, stop, lay, WS, G, grad, n_chunks, n_threads):
    """grad <- (1/n) sum_x dC_x/dparams over the batch, docs/maths.md Eqs. (12)-(13); returns C.

    The threads share `params` (`reps` has no copies): the caller steps."""
    wide_vectors()
    n = stop - start
    cost = accumulate(params, reps, X, Y, rows, start, stop, lay, WS, G, n_chunks,
                      min(n_chunks, n_threads))
    grad[:] = sum_chunks(G, n_chunks)[:grad.size]
    grad *= 1.0 / n
    return cost / n


@jit()
def _predict_tiles(params, X, lay, ws, out, first, last):
    """out rows of tiles first..last-1 <- a^L (forward pass only)."""
    wide_vectors()
    n = X.shape[0]
    L = lay.sizes.size - 1
    m = lay.sizes[L]
    for i in range(first, last):
        r0 = i * TILE
        nt = min(TILE, n - r0)
        copy_rows(X, r0, nt, matrix(ws, lay.a_off[0], TILE, lay.sizes[0]))
        forward_tile(params, lay, ws, nt)
        out[r0:r0 + nt] = matrix(ws, lay.a_off[L], TILE, m)[:nt]


@jit(parallel=True)
def predict(params, X, lay, WS, out, n_chunks):
    """out <- a^L(x) for every row x of X, chunk c of the tiles on WS[c]."""
    wide_vectors()
    n_tiles = (X.shape[0] + TILE - 1) // TILE
    if n_chunks == 1:
        _predict_tiles(params, X, lay, WS[0], out, 0, n_tiles)
        return
    for c in prange(n_chunks):
        wide_vectors()
        _predict_tiles(params, X, lay, WS[c], out, (n_tiles * c) // n_chunks,
                       (n_tiles * (c + 1)) // n_chunks)


@jit()
def n_chunks_for(batch, flops_per_sample, replicated=False):
    """Chunks of a gradient over `batch` samples: one per MIN_FLOPS_PER_CHUNK of
    work, at most MAX_CHUNKS, at least MIN_CHUNK_ROWS samples each; a network
    trained on `Replicas` splits a batch of one to two tiles in two (halves
    of at least MIN_REPLICA_ROWS). Not the thread count: the chunks fix the
    summation order, hence the result."""
    worth = max(1, (batch * flops_per_sample) // MIN_FLOPS_PER_CHUNK)
    chunks = min(MAX_CHUNKS, worth, batch // MIN_CHUNK_ROWS)
    if replicated:
        chunks = max(chunks, min(2, worth, batch // MIN_REPLICA_ROWS))
    return max(1, chunks)


@jit()
def n_predict_chunks(rows, flops_per_sample, n_threads):
    """Chunks of a forward pass: rows are independent, so the result does not
    depend on the count, and it may follow the threads."""
    worth = max(1, (rows * flops_per_sample) // MIN_FLOPS_PER_CHUNK)
    return max(1, min(n_threads, worth, (rows + SPLIT - 1) // SPLIT))


@jit()
def _prefetch_next(X, Y, order, start, stop):
    """Ask for the next batch's rows of X and Y (order[start:stop]) now, so
    they arrive while this batch computes (`_prefetch`)."""
    prefetch_rows(X, order, start, stop)
    prefetch_rows(Y, order, start, stop)


@jit(parallel=True)
def _step_lanes(kind, params, reps, G, n_chunks, scale, state, hyper, step, backup, n_lanes):
    """`apply_step` on the parameters and on each of the first n_lanes - 1
    replicas, one lane each. The replicas take the same step on the same
    numbers, so they stay equal bit for bit; returns lane 0's verdict."""
    wide_vectors()
    ok = np.zeros(n_lanes, np.bool_)
    for r in prange(n_lanes):  # one place steps every copy, on one lane or many (see `accumulate`)
        wide_vectors()
        if r == 0:
            p, s, b = params, state, backup
        else:  # exactly as long as params: a loop's last few elements may be computed
            n = params.size  # apart from its vectors, with multiply-adds fused otherwise
            p, s, b = reps.params[r - 1][:n], reps.state[r - 1], reps.backup[r - 1][:n]
        ok[r] = apply_step(kind, p, G, n_chunks, scale, s, hyper, step, b)
    return ok[0]


@jit()
def _refresh(params, reps, state, n_lanes):
    """Make replicas 1..n_lanes-1 equal to lane 0 (parameters and optimiser
    state): those not stepped since the last call on fewer lanes are stale."""
    n = params.size
    for r in range(reps.fresh[0], n_lanes):
        reps.params[r - 1][:n] = params
        reps.state[r - 1][:] = state
    reps.fresh[0] = n_lanes


@jit()
def train_epoch(params, reps, X, Y, order, first, last, total, batch_size, lay, kind, hyper, state,
                step, WS, G, backup, flops_per_sample, n_threads):
    """Mini-batches first..last-1 of an epoch (batch b: order[b*batch_size:
    (b+1)*batch_size]) in compiled code, one optimiser step each.

    Returns (total + summed costs sum_x C_x, samples done, status): the
    running total is passed in, so the epoch's cost is summed in one order
    however the epoch is cut into calls. Status 0 ok,
    1 a non-finite cost, gradient or new parameter (that step undone, so
    `params` keeps the last finite values). `step[0]` counts optimiser steps
    across epochs (Adam's bias correction). With `Replicas`, each of the
    call's threads computes its chunks on its own copy of the parameters and
    takes every step on it; otherwise the threads share `params`, and the
    step is taken once.
    """
    wide_vectors()
    n = order.size
    most = n_chunks_for(min(batch_size, n), flops_per_sample, reps.on)
    lanes = min(n_threads, most)
    stepping = min(lanes, reps.params.shape[0] + 1)
    copies = reps.on and most > 1  # set by the network and the batch, not the threads
    _refresh(params, reps, state, stepping)
    for start in range(first * batch_size, min(last * batch_size, n), batch_size):
        stop = min(start + batch_size, n)
        _prefetch_next(X, Y, order, stop, min(stop + batch_size, n))
        nc = n_chunks_for(stop - start, flops_per_sample, reps.on)
        cost = accumulate(params, reps, X, Y, order, start, stop, lay, WS, G, nc, min(lanes, nc))
        step[0] += 1
        if not np.isfinite(cost):
            return total, start, 1
        scale = 1.0 / (stop - start)
        if copies:
            ok = _step_lanes(kind, params, reps, G, nc, scale, state, hyper, step[0], backup, stepping)
        else:
            ok = apply_step(kind, params, G, nc, scale, state, hyper, step[0], backup)
        if not ok:
            return total, start, 1
        total += cost
    return total, min(last * batch_size, n), 0


@jit()
def _member_epoch(params, X, Y, order, batch_size, lay, kind, hyper, state, step, ws, G, backup):
    """`train_epoch` of one ensemble member on one thread: every mini-batch is
    one chunk (G has one row), so no thread waits for another within the epoch."""
    wide_vectors()
    n = order.size
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        _prefetch_next(X, Y, order, stop, min(stop + batch_size, n))
        cost = _chunk_grad(params, X, Y, order, start, stop, lay, ws, G[0])
        step[0] += 1
        if not (np.isfinite(cost) and apply_step(kind, params, G, 1, 1.0 / (stop - start), state,
                                                  hyper, step[0], backup)):
            return total, start, 1
        total += cost
    return total, n, 0


@jit(parallel=True)
def train_members(P, X, Y, orders, batch_size, lay, kind, hyper, S, steps, WS, G, B,
                  active, totals, done, status):
    """One epoch of each active ensemble member, one member per `prange` iteration.

    Member k owns row k of everything: parameters P[k], batch order
    orders[k], optimiser state S[k] and step count steps[k], workspace
    WS[k], gradient buffer G[k] (one chunk) and backup B[k]. Its arithmetic
    is `_member_epoch`'s whatever the thread count, so results never depend
    on it. totals[k], done[k], status[k] are `train_epoch`'s three results.
    """
    wide_vectors()
    for k in prange(P.shape[0]):
        wide_vectors()
        if active[k]:
            totals[k], done[k], status[k] = _member_epoch(
                P[k], X, Y, orders[k], batch_size, lay, kind, hyper, S[k], steps[k:k + 1],
                WS[k], G[k], B[k])
