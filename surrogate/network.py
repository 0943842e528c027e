"""The multilayer perceptron of docs/maths.md, Eqs. (1)-(7), with one flat
parameter buffer and per-layer views into it."""
import functools
import threading

import numba
import numpy as np

from . import _chunks
from ._checks import check_array, check_int, check_pair
from ._layout import TILE, make_layout
from .activations import INITIALISATION, activation_code

PREDICT_CHUNK = 65536  # rows converted and predicted at a time: bounded memory
ALIGN = 64  # bytes: a cache line, and one AVX-512 register


def aligned_zeros(shape, dtype):
    """Zeros whose first element starts a cache line.

    NumPy promises only 16-byte alignment; rows that straddle cache lines made
    the same training run up to 10% slower or faster from process to process.
    """
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    raw = np.zeros(n * dtype.itemsize + ALIGN, np.uint8)
    start = (-raw.ctypes.data) % ALIGN
    return raw[start:start + n * dtype.itemsize].view(dtype).reshape(shape)


def _check_sizes(sizes):
    """`sizes` as a list of ints: a sequence (not a string) of at least two integers >= 1."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise ValueError(f"`sizes` must be a sequence of layer widths, got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"`sizes` needs at least two widths (input, output), got {sizes!r}")
    return [check_int(f"sizes[{i}]", s, 1) for i, s in enumerate(sizes)]


class MLP:
    """A feed-forward network z^l = w^l a^{l-1} + b^l, a^l = sigma(z^l).

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``[2, 32, 32, 1]``.
    activation : str or sequence of str
        Hidden-layer activation, one name for all or one per hidden layer.
    output_activation : str
        Activation of the output layer (``"identity"`` for regression).
    seed : int, numpy.random.Generator or None
        Seeds the initial weights (Glorot or He, by activation; biases 0).
    dtype : numpy.float64 or numpy.float32

    ``params`` holds every weight and bias in one flat array; ``weights[l]``
    (shape ``(sizes[l+1], sizes[l])``, entry ``[j, k]`` is w_jk of Eq. (5)) and
    ``biases[l]`` are views into it, so writing either changes the other.
    """

    def __init__(self, sizes, activation="tanh", output_activation="identity", seed=None,
                 dtype=np.float64):
        self.sizes = _check_sizes(sizes)
        n_hidden = len(self.sizes) - 2
        if isinstance(activation, str):
            hidden = [activation] * n_hidden
        else:
            try:
                hidden = list(activation)
            except TypeError:
                raise ValueError(f"`activation` must be a name or one name per hidden layer, "
                                 f"got {activation!r}") from None
            if len(hidden) != n_hidden:
                raise ValueError(f"`activation` needs one name per hidden layer ({n_hidden}), "
                                 f"got {len(hidden)}: {hidden!r}")
        self.activations = hidden + [output_activation]
        codes = [activation_code(a) for a in hidden] + [
            activation_code(output_activation, "output_activation")]
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float64, np.float32):
            raise ValueError(f"`dtype` must be float64 or float32, got {self.dtype}")
        self._layout, n_params, self._ws_size = make_layout(self.sizes, codes)
        self.params = aligned_zeros(n_params, self.dtype)
        lay = self._layout
        self.weights = [self.params[o:o + J * K].reshape(J, K)
                        for o, J, K in zip(lay.w_off, self.sizes[1:], self.sizes[:-1])]
        self.biases = [self.params[o:o + J] for o, J in zip(lay.b_off, self.sizes[1:])]
        self._local = threading.local()
        self.initialise(seed)

    @property
    def n_params(self):
        return self.params.size

    @functools.cached_property
    def flops_per_sample(self):
        """Training flops per sample: forward, weight gradients, back-propagated deltas."""
        macs = [J * K for J, K in zip(self.sizes[1:], self.sizes[:-1])]
        return 2 * sum(macs) + 2 * sum(macs) + 2 * sum(macs[1:])

    def initialise(self, seed=None):
        """Draw fresh weights: Glorot uniform for tanh/sigmoid/identity, He normal for relu-like."""
        rng = np.random.default_rng(seed)
        for w, b, act in zip(self.weights, self.biases, self.activations):
            J, K = w.shape
            if INITIALISATION[act] == "he":
                w[:] = rng.normal(0.0, np.sqrt(2.0 / K), size=(J, K))
            else:
                limit = np.sqrt(6.0 / (K + J))
                w[:] = rng.uniform(-limit, limit, size=(J, K))
            b[:] = 0.0

    def __repr__(self):
        return (f"MLP(sizes={self.sizes}, activations={self.activations}, "
                f"dtype={self.dtype.name}, n_params={self.n_params})")

    # -- compiled passes -------------------------------------------------------

    def tile_workspace(self, n_chunks):
        """One tile buffer per chunk: activations, sigma'(z), deltas, scratch."""
        return aligned_zeros((n_chunks, self._ws_size), self.dtype)

    def gradient_buffers(self, n_chunks):
        """One gradient buffer per chunk, each row padded to start a cache line."""
        per_line = ALIGN // self.dtype.itemsize
        width = -(-self.n_params // per_line) * per_line
        return aligned_zeros((n_chunks, width), self.dtype)

    def _predict_workspace(self, n_chunks):
        """The forward pass's tile buffers, kept between calls (one set per thread)."""
        ws = getattr(self._local, "ws", None)
        if ws is None or ws.shape[0] < n_chunks:
            ws = self._local.ws = self.tile_workspace(n_chunks)
        return ws

    def __getstate__(self):  # workspaces are caches: not part of the network
        state = dict(self.__dict__)
        state.pop("_local", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def predict(self, X, threads=None):
        """a^L for each row of X: shape (n, sizes[0]) -> (n, sizes[-1]).

        threads: at most this many threads (None: Numba's setting).
        """
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0] or X.shape[0] == 0:
            raise ValueError(f"`X` must have shape (n, {self.sizes[0]}) with n >= 1, "
                             f"got shape {X.shape}")
        out = np.empty((X.shape[0], self.sizes[-1]), self.dtype)
        for r0 in range(0, X.shape[0], PREDICT_CHUNK):  # converted a chunk at a time: bounded memory
            part = check_array(X[r0:r0 + PREDICT_CHUNK], "X", self.sizes[0], self.dtype)
            self._forward_into(part, out[r0:r0 + part.shape[0]], threads)
        return out

    def _forward(self, Z, threads=None):
        """`predict` for rows already checked (C-contiguous, finite, of this dtype)."""
        out = np.empty((Z.shape[0], self.sizes[-1]), self.dtype)
        for r0 in range(0, Z.shape[0], PREDICT_CHUNK):
            self._forward_into(Z[r0:r0 + PREDICT_CHUNK], out[r0:r0 + PREDICT_CHUNK], threads)
        return out

    def _forward_into(self, Z, out, threads):
        # the forward pass is a third of a training step's flops
        flops = Z.shape[0] * (self.flops_per_sample // 3)
        if flops < _chunks.MIN_FLOPS_PER_CHUNK or threads == 1:
            # one chunk: the serial kernel, no parallel launch (a one-row predict is microseconds)
            n_tiles = -(-Z.shape[0] // TILE)
            _chunks._predict_tiles(self.params, Z, self._layout, self._predict_workspace(1)[0], out, 0, n_tiles)
            return
        n_threads = numba.get_num_threads()
        if threads is not None:
            n_threads = min(threads, n_threads)
        nc = _chunks.n_predict_chunks(Z.shape[0], self.flops_per_sample // 3, n_threads)
        _chunks.predict(self.params, Z, self._layout, self._predict_workspace(nc), out, nc)

    def loss_and_grad(self, X, Y):
        """(C, g): C is Eq. (8), g = dC/dparams by back-propagation, layout of `params`."""
        X, Y = check_pair(X, Y, self.sizes[0], self.sizes[-1], self.dtype)
        return self._full_batch(X, Y)()

    def _full_batch(self, X, Y):
        """A function () -> (C, g) for checked (X, Y), its buffers allocated once.

        L-BFGS evaluates the full-batch cost hundreds of times; each call
        overwrites and returns the same gradient array.
        """
        n = X.shape[0]
        rows = np.arange(n, dtype=np.int64)
        nc = _chunks.n_chunks_for(n, self.flops_per_sample)
        # Start Numba's threading layer: `batch_grad` calls the parallel `accumulate`,
        # and a cached caller compiled after its callee was loaded from the cache
        # does not start it, so it would crash on the first parallel launch
        # (numba issue #8578). Training starts it through the thread policy.
        numba.get_num_threads()
        WS, G = self.tile_workspace(nc), self.gradient_buffers(nc)
        grad = np.empty(self.n_params, self.dtype)
        shared = _chunks.make_replicas(self, 1)  # no copies: the threads share the parameters

        def cost_and_grad():
            cost = _chunks.batch_grad(self.params, shared, X, Y, rows, 0, n, self._layout, WS, G, grad, nc,
                                      numba.get_num_threads())
            return float(cost), grad
        return cost_and_grad
