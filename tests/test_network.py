"""MLP: layout, forward pass and gradient against the NumPy transcription and
central finite differences."""
import numpy as np
import pytest

import surrogate
from surrogate import MLP, network

import naive

SMOOTH = ["identity", "relu", "sigmoid", "tanh", "softplus", "silu"]


def _data(rng, n, sizes):
    return rng.normal(size=(n, sizes[0])), rng.normal(size=(n, sizes[-1]))


def test_weights_and_biases_are_views_of_params():
    net = MLP([3, 4, 2], seed=0)
    assert net.params.size == 3 * 4 + 4 + 4 * 2 + 2
    assert net.weights[0].shape == (4, 3) and net.weights[1].shape == (2, 4)
    net.weights[1][1, 3] = 7.0
    net.biases[0][2] = -3.0
    assert 7.0 in net.params and -3.0 in net.params
    net.params[:] = np.arange(net.n_params)
    # Layer by layer: w^l row-major, then b^l.
    np.testing.assert_array_equal(net.weights[0].ravel(), np.arange(12))
    np.testing.assert_array_equal(net.biases[0], np.arange(12, 16))
    np.testing.assert_array_equal(net.weights[1].ravel(), np.arange(16, 24))


def test_initialisation_is_seeded_and_scaled():
    a, b, c = MLP([50, 200, 1], seed=1), MLP([50, 200, 1], seed=1), MLP([50, 200, 1], seed=2)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    glorot = np.sqrt(6 / 250)
    assert np.abs(a.weights[0]).max() <= glorot and np.abs(a.weights[0]).max() > 0.9 * glorot
    he = MLP([50, 400, 1], activation="relu", seed=0).weights[0]
    assert abs(he.std() - np.sqrt(2 / 50)) < 0.02 * np.sqrt(2 / 50) * 5
    assert np.all(a.biases[0] == 0)


@pytest.mark.parametrize("act", SMOOTH + ["step"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_matches_numpy_feedforward(act, dtype, rng):
    net = MLP([3, 7, 17, 20, 2], activation=act, output_activation="tanh", seed=3, dtype=dtype)  # 17 -> 20: BLAS
    for b in net.biases:
        b[:] = rng.normal(scale=0.5, size=b.size)
    X = rng.normal(size=(45, 3)) * 2
    ref = np.array([naive.feedforward(net.weights, net.biases, net.activations, x)[1][-1] for x in X])
    rtol = 1e-13 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(net.predict(X), ref, rtol=rtol, atol=rtol)


# Narrow layers (< 8 inputs: two a pass; 8-15: eight, then one and two) and
# wide ones (>= 16) whose widths are not multiples of the register blocks
# (4 rows x 4 samples, 4 x 2): every kernel path. Layers with 8 or more
# inputs and outputs take BLAS's products in the backward pass
# (`_blas.rows_per_call`); 10 -> 6, 18 -> 6 and 33 -> 1 keep our loops there.
# 100 -> 100 is too large for one BLAS call: its weight gradient is cut into
# calls of 81 and 19 rows, its delta into calls of 81 and 19 columns, and
# its affine map on the full tile is w a^T on transposed tiles. In
# [20, 70, 300, 40, 2] the affine maps take every path on a full tile:
# transposed (20 -> 70; 70 -> 300 in calls of 117, 117 and 66 rows of w),
# a w^T in calls of 27 and 13 rows of w (300 -> 40), our loops (40 -> 2).
# 1030 -> 64 is too deep for a call of 8 rows: our loops.
WIDE = [9, 100, 100, 3]
EVERY_AFFINE = [20, 70, 300, 40, 2]


def _tanh_network(sizes, rng):
    """A tanh network with random biases: a new network's are 0, which would
    hide a bias left out."""
    net = MLP(sizes, activation="tanh", seed=0)
    for b in net.biases:
        b[:] = rng.normal(scale=0.5, size=b.size)
    return net


def _numpy_gradient(net, X, Y):
    """(C, gradient) of the NumPy transcription, the gradient laid out as `params`."""
    C, gw, gb = naive.cost_and_grad(net.weights, net.biases, net.activations, X, Y)
    return C, np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(gw, gb)])


@pytest.mark.parametrize("sizes", [[2, 1], [3, 6, 2], [4, 8, 7, 3], [2, 5, 5, 5, 5, 1],
                                   [9, 13, 10, 6], [11, 33, 1], [8, 16, 5], [15, 17, 18, 6],
                                   WIDE, EVERY_AFFINE, [1030, 64, 3]])
def test_loss_and_grad_matches_numpy_backprop(sizes, rng):
    net = _tanh_network(sizes, rng)
    X, Y = _data(rng, 37, sizes)  # 37: partial last tile
    C, g = net.loss_and_grad(X, Y)
    C_ref, ref = _numpy_gradient(net, X, Y)
    assert C == pytest.approx(C_ref, rel=1e-13)
    np.testing.assert_allclose(g, ref, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("sizes", [[4, 8, 7, 3], [15, 17, 18, 6], WIDE, EVERY_AFFINE])
def test_chunk_gradient_ignores_the_buffers_old_contents(sizes, rng):
    """A chunk's first tile writes the gradient and the next tiles add to it,
    with no zeroing pass: a gradient buffer and workspace left full of NaN give
    the NumPy gradient. 53 rows: a full tile, then 21 rows, which take the
    transposed affine map too (16 or more rows)."""
    from surrogate import _chunks
    net = _tanh_network(sizes, rng)
    n = 53
    X, Y = _data(rng, n, sizes)
    G, WS = net.gradient_buffers(1), net.tile_workspace(1)
    G[:], WS[:] = np.nan, np.nan
    cost = _chunks._chunk_grad(net.params, X, Y, np.arange(n), 0, n, net._layout, WS[0], G[0])
    C_ref, ref = _numpy_gradient(net, X, Y)
    assert cost / n == pytest.approx(C_ref, rel=1e-13)
    np.testing.assert_allclose(G[0, :net.n_params] / n, ref, rtol=1e-11, atol=1e-14)
    G[:] = np.nan  # no rows: no tile to write it, and the gradient is still 0
    assert _chunks._chunk_grad(net.params, X, Y, np.arange(n), 5, 5, net._layout, WS[0], G[0]) == 0
    np.testing.assert_array_equal(G[0], 0.0)


def _central_differences(net, X, Y, h=1e-6):
    p0 = net.params.copy()
    fd = np.empty_like(p0)
    for i in range(p0.size):
        net.params[i] = p0[i] + h
        up = net.loss_and_grad(X, Y)[0]
        net.params[i] = p0[i] - h
        down = net.loss_and_grad(X, Y)[0]
        net.params[i] = p0[i]
        fd[i] = (up - down) / (2 * h)
    return fd


@pytest.mark.parametrize("act", SMOOTH)
@pytest.mark.parametrize("sizes", [[2, 3], [2, 4, 3], [3, 5, 4, 2]])
def test_gradient_matches_central_differences(act, sizes, rng):
    net = MLP(sizes, activation=act, output_activation=act if len(sizes) == 2 else "identity",
              seed=1)
    X, Y = _data(rng, 20, sizes)
    _, g = net.loss_and_grad(X, Y)
    fd = _central_differences(net, X, Y)
    # relu's kink: h = 1e-6 crosses it only if some z is within 1e-6 of 0.
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("out_act", SMOOTH)
def test_output_activation_gradient(out_act, rng):
    net = MLP([2, 4, 3], activation="sigmoid", output_activation=out_act, seed=2)
    X, Y = _data(rng, 15, net.sizes)
    np.testing.assert_allclose(net.loss_and_grad(X, Y)[1], _central_differences(net, X, Y),
                               rtol=1e-6, atol=1e-8)


def test_per_layer_activations(rng):
    net = MLP([2, 4, 4, 1], activation=["relu", "sigmoid"], seed=0)
    assert net.activations == ["relu", "sigmoid", "identity"]
    X, Y = _data(rng, 10, net.sizes)
    C_ref, *_ = naive.cost_and_grad(net.weights, net.biases, net.activations, X, Y)
    assert net.loss_and_grad(X, Y)[0] == pytest.approx(C_ref, rel=1e-13)
    with pytest.raises(ValueError, match="one name per hidden layer"):
        MLP([2, 4, 4, 1], activation=["relu"])


@pytest.mark.parametrize("sizes", [[3, 16, 16, 2], EVERY_AFFINE])
def test_float32_gradient_close_to_float64(sizes, rng):
    n64 = MLP(sizes, seed=0)
    n32 = MLP(sizes, seed=0, dtype=np.float32)
    X, Y = _data(rng, 53, n64.sizes)  # a full tile and 21 rows
    C64, g64 = n64.loss_and_grad(X, Y)
    C32, g32 = n32.loss_and_grad(X, Y)
    assert g32.dtype == np.float32 and n32.predict(X).dtype == np.float32
    assert C32 == pytest.approx(C64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


def test_parallel_chunks_match_one_chunk(rng):
    """A batch big enough to split among threads gives the serial gradient."""
    import numba
    net = MLP([8, 64, 64, 8], seed=0)
    X, Y = _data(rng, 1000, net.sizes)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        C1, g1 = net.loss_and_grad(X, Y)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        C2, g2 = net.loss_and_grad(X, Y)
        C3, g3 = net.loss_and_grad(X, Y)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_allclose(g2, g1, rtol=1e-11, atol=1e-15)
    assert C2 == pytest.approx(C1, rel=1e-13)
    np.testing.assert_array_equal(g2, g3)  # same thread count: bit-identical


def test_predict_in_chunks(monkeypatch, rng):
    net = MLP([2, 8, 3], seed=0)
    X = rng.normal(size=(1000, 2))
    whole = net.predict(X)
    monkeypatch.setattr(network, "PREDICT_CHUNK", 97)
    np.testing.assert_array_equal(net.predict(X), whole)
    np.testing.assert_array_equal(net.predict(X[:1]), whole[:1])


def test_integer_and_float32_input_converted():
    net = MLP([2, 4, 1], seed=0)
    Xi = np.array([[1, 2], [3, 4]])
    np.testing.assert_array_equal(net.predict(Xi), net.predict(Xi.astype(float)))
    np.testing.assert_allclose(net.predict(Xi.astype(np.float32)), net.predict(Xi.astype(float)))
    C, _ = net.loss_and_grad(Xi, np.array([[1], [0]]))
    assert np.isfinite(C)


@pytest.mark.parametrize("kwargs, match", [
    ({"sizes": [3]}, "at least two"),
    ({"sizes": [3, 0, 1]}, r"`sizes\[1\]` must be an integer >= 1, got 0"),
    ({"sizes": "abc"}, "sizes"),
    ({"sizes": [2, 1], "output_activation": "gelu"}, r"`output_activation` must be one of .*'tanh'.*got 'gelu'"),
    ({"sizes": [2, 3, 1], "activation": "swish"}, r"`activation` must be one of .*'relu'.*got 'swish'"),
    ({"sizes": [2, 1], "dtype": np.int32}, "float64 or float32"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


@pytest.mark.parametrize("X, Y, match", [
    (np.zeros((4, 3)), np.zeros((4, 1)), r"`X` must have shape \(n, 2\).*got shape \(4, 3\)"),
    (np.zeros(4), np.zeros((4, 1)), r"`X` must have shape \(n, 2\).*got shape \(4,\)"),
    (np.zeros((0, 2)), np.zeros((0, 1)), r"`X` must have shape .* n >= 1, got shape \(0, 2\)"),
    (np.zeros((4, 2)), np.zeros((4, 2)), r"`Y` must have shape \(n, 1\).*got shape \(4, 2\)"),
    (np.zeros((4, 2)), np.zeros((3, 1)), "same number of rows, got 4 and 3"),
    (np.array([[0.0, np.nan]]), np.zeros((1, 1)), "`X` must be finite; row 0, column 1 is nan"),
    (np.zeros((1, 2)), np.array([[np.inf]]), "`Y` must be finite"),
    (np.array([["a", "b"]]), np.zeros((1, 1)), "`X` must be numeric"),
])
def test_bad_data(X, Y, match):
    net = MLP([2, 3, 1], seed=0)
    with pytest.raises(ValueError, match=match):
        net.loss_and_grad(X, Y)


def test_public_surface():
    for name in surrogate.__all__:
        assert hasattr(surrogate, name), name


@pytest.mark.parametrize("sizes, match", [
    ([2.7, 8, 1], r"`sizes\[0\]` must be an integer >= 1, got 2.7"),
    ("281", r"`sizes` must be a sequence of layer widths, got '281'"),
    ([True, 8, 1], r"`sizes\[0\]` must be an integer >= 1, got True"),
    ([2, np.float64(8.0), 1], r"`sizes\[1\]` must be an integer"),
    ([2, 0, 1], r"`sizes\[1\]` must be an integer >= 1, got 0"),
    ([3], r"at least two widths"),
    (5, r"`sizes` must be a sequence"),
])
def test_bad_sizes_are_refused_not_truncated(sizes, match):
    """int() used to turn 2.7 into 2, "281" into [2, 8, 1] and True into 1."""
    with pytest.raises(ValueError, match=match):
        MLP(sizes)


def test_activation_none_is_a_clear_error():
    with pytest.raises(ValueError, match=r"`activation` must be a name or one name per hidden layer, got None"):
        MLP([2, 4, 1], activation=None)
    with pytest.raises(ValueError, match=r"`output_activation` must be one of .* got None"):
        MLP([2, 4, 1], output_activation=None)


def test_finite_input_that_overflows_float32_says_so():
    """1e300 is finite: the message used to say "X must be finite"."""
    net = MLP([2, 3, 1], dtype=np.float32, seed=0)
    with pytest.raises(ValueError, match=r"`X` overflows float32; row 0, column 1 is inf"):
        net.predict(np.array([[0.5, 1e300]]))
    with pytest.raises(ValueError, match=r"`X` must be finite; row 0, column 0 is nan"):
        net.predict(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"`X` must be real, got dtype complex128"):
        net.predict(np.array([[0.5, 1.0 + 2j]]))
