"""Where a network's numbers live: offsets into the flat parameter buffer and
into a thread's workspace, and the tile and chunk sizes the kernels use."""
from collections import namedtuple

import numpy as np

TILE = 32  # samples a thread carries through a layer together
SPLIT = 8  # chunk boundaries fall on multiples of this many samples
NARROW = 16  # layers with fewer inputs than this (two float64 vectors) vectorise over outputs instead

#: Where each layer's pieces sit: in `params` (w_off, b_off) and in a thread's
#: workspace (a_off: activations a^l, s_off: sigma'(z^l), d_off: two delta
#: buffers used alternately, n_off: scratch for transposes, up to 2 TILE
#: times the widest layer).
#: All int64.
Layout = namedtuple("Layout", "sizes acts w_off b_off a_off s_off d_off n_off")


def make_layout(sizes, acts):
    """(layout, number of parameters, workspace size per chunk) of a network."""
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
    return layout, int(p), int(n_off + 2 * TILE * sizes.max())
