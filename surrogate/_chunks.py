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
"""
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
# sum. Measured on one thread, batch 32: two 16-row chunks cost 1.18x one
# 32-row chunk on [8, 64, 64, 64, 128] and 1.2-1.25x on [8, 256, 256, 256,
# 128], so a second thread only won that back (two threads: 0.88x and 0.95-1x
# the one chunk). At 64 rows, two 32-row chunks on two threads were 1.28x
# and 1.32x faster than one chunk. Beyond 4 threads a mini-batch of tens of
# samples gains little anyway. Tried again on an AMD EPYC (Zen 4) with the
# transposed affine map: on one thread two 16-row chunks cost 1.07x one chunk
# (M), and on two threads their gradients alone took 0.58x; but a training
# step then moves the parameters to the second core and its gradient back
# (135 kB each way on M, about 10 GB/s between these two cores): whole
# epochs took 0.90-0.95x the one-chunk time on M (also with the step split
# between the threads) and 0.80x on W, but 1.08-1.14x on one thread, the
# count a busy machine runs. So a 32-sample batch stays one chunk.
MAX_CHUNKS = 4
MIN_CHUNK_ROWS = TILE


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


@jit(parallel=True)
def accumulate(params, X, Y, rows, start, stop, lay, WS, G, n_chunks):
    """G[c] <- sum of dC_x/dparams over chunk c of the batch rows[start:stop]; returns sum_x C_x.

    Chunk c covers a contiguous run of samples (boundaries on multiples of
    SPLIT) and writes only WS[c] and G[c].
    """
    wide_vectors()
    if n_chunks == 1:
        return _chunk_grad(params, X, Y, rows, start, stop, lay, WS[0], G[0])
    n_units = (stop - start + SPLIT - 1) // SPLIT
    costs = np.zeros(n_chunks)
    for c in prange(n_chunks):
        wide_vectors()  # each prange body is compiled as a function of its own
        lo = start + SPLIT * ((n_units * c) // n_chunks)
        hi = min(stop, start + SPLIT * ((n_units * (c + 1)) // n_chunks))
        costs[c] = _chunk_grad(params, X, Y, rows, lo, hi, lay, WS[c], G[c])
    total = 0.0
    for c in range(n_chunks):  # in chunk order: costs.sum() here would be a parallel reduction,
        total += costs[c]       # its order set by the thread count
    return total


@jit()
def batch_grad(params, X, Y, rows, start, stop, lay, WS, G, grad, n_chunks):
    """grad <- (1/n) sum_x dC_x/dparams over the batch, docs/maths.md Eqs. (12)-(13); returns C."""
    wide_vectors()
    n = stop - start
    cost = accumulate(params, X, Y, rows, start, stop, lay, WS, G, n_chunks)
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
def n_chunks_for(batch, flops_per_sample):
    """Chunks of a gradient over `batch` samples: one per MIN_FLOPS_PER_CHUNK of
    work, at most MAX_CHUNKS, at least MIN_CHUNK_ROWS samples each. Not the
    thread count: the chunks fix the summation order, hence the result."""
    worth = max(1, (batch * flops_per_sample) // MIN_FLOPS_PER_CHUNK)
    return max(1, min(MAX_CHUNKS, worth, batch // MIN_CHUNK_ROWS))


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


@jit()
def train_epoch(params, X, Y, order, first, last, total, batch_size, lay, kind, hyper, state, step,
                WS, G, backup, flops_per_sample):
    """Mini-batches first..last-1 of an epoch (batch b: order[b*batch_size:
    (b+1)*batch_size]) in compiled code, one optimiser step each.

    Returns (total + summed costs sum_x C_x, samples done, status): the
    running total is passed in, so the epoch's cost is summed in one order
    however the epoch is cut into calls. Status 0 ok,
    1 a non-finite cost, gradient or new parameter (that step undone, so
    `params` keeps the last finite values). `step[0]` counts optimiser steps
    across epochs (Adam's bias correction).
    """
    wide_vectors()
    n = order.size
    for start in range(first * batch_size, min(last * batch_size, n), batch_size):
        stop = min(start + batch_size, n)
        _prefetch_next(X, Y, order, stop, min(stop + batch_size, n))
        nc = n_chunks_for(stop - start, flops_per_sample)
        cost = accumulate(params, X, Y, order, start, stop, lay, WS, G, nc)
        step[0] += 1
        if not (np.isfinite(cost) and apply_step(kind, params, G, nc, 1.0 / (stop - start), state,
                                                  hyper, step[0], backup)):
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
