"""train(): an epoch against the NumPy transcription, determinism, validation,
early stopping, divergence, L-BFGS and bad input."""
import os
import subprocess
import sys

import numpy as np
import pytest

from surrogate import MLP, SGD, Adam, LBFGS, CosineDecay, TrainingDiverged, train

import naive


def _smooth(rng, n, d=2, m=3):
    X = rng.uniform(-1, 1, size=(n, d))
    return X, np.sin(X @ rng.normal(size=(d, m)))


@pytest.mark.parametrize("batch_size", [16, 7, 50])
def test_sgd_epoch_matches_numpy_transcription(batch_size, rng):
    """shuffle=False: batches are rows in order; the last one (50 % 16, 50 % 7)
    is averaged over its own size."""
    X, Y = _smooth(rng, 50)
    net = MLP([2, 6, 5, 3], activation="tanh", seed=4)
    w = [a.copy() for a in net.weights]
    b = [a.copy() for a in net.biases]
    for _ in range(2):
        naive.sgd_epoch(w, b, net.activations, X, Y, lr=0.1, batch_size=batch_size)
    train(net, X, Y, SGD(lr=0.1), batch_size=batch_size, epochs=2, shuffle=False, progress=False)
    for l in range(3):
        np.testing.assert_allclose(net.weights[l], w[l], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(net.biases[l], b[l], rtol=1e-12, atol=1e-14)


def test_history_loss_is_the_mean_batch_cost(rng):
    X, Y = _smooth(rng, 64)
    net = MLP([2, 8, 3], seed=0)
    C0 = net.loss_and_grad(X, Y)[0]
    h = train(net, X, Y, SGD(lr=1e-9), batch_size=64, epochs=1, shuffle=False, progress=False)
    assert h.loss[0] == pytest.approx(C0, rel=1e-12)  # one batch, tiny lr: cost before the step
    assert h.epoch == [0] and len(h.time) == 1 and h.lr == [1e-9]


def test_same_seed_same_parameters_bitwise(rng):
    X, Y = _smooth(rng, 300)
    runs = []
    for seed in (7, 7, 8):
        net = MLP([2, 16, 16, 3], seed=0)
        train(net, X, Y, Adam(lr=1e-2), batch_size=16, epochs=3, seed=seed, progress=False)
        runs.append(net.params.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_learns_a_smooth_function(rng):
    X, Y = _smooth(rng, 512)
    net = MLP([2, 32, 32, 3], seed=0)
    h = train(net, X, Y, Adam(lr=3e-3, schedule=CosineDecay(150)), batch_size=32, epochs=150,
              seed=0, progress=False)
    assert h.loss[-1] < 1e-2 * h.loss[0]
    rel = np.linalg.norm(net.predict(X) - Y) / np.linalg.norm(Y)
    assert rel < 0.02


def test_momentum_epoch_matches_formula(rng):
    """Two mini-batches of heavy-ball SGD written out with the NumPy gradient."""
    X, Y = _smooth(rng, 32)
    net = MLP([2, 5, 3], seed=1)
    p = net.params.copy()
    v = np.zeros_like(p)
    for start in (0, 16):
        net.params[:] = p
        _, g = net.loss_and_grad(X[start:start + 16], Y[start:start + 16])
        v = 0.9 * v - 0.05 * g
        p = p + v
    net2 = MLP([2, 5, 3], seed=1)
    train(net2, X, Y, SGD(0.05, momentum=0.9), batch_size=16, epochs=1, shuffle=False, progress=False)
    np.testing.assert_allclose(net2.params, p, rtol=1e-13)


def test_validation_early_stopping_and_restore_best(rng):
    X, Y = _smooth(rng, 200)
    Xv, Yv = _smooth(rng, 50)
    Yn = Y + rng.normal(scale=0.5, size=Y.shape)  # noisy targets: overfits, validation turns up
    net = MLP([2, 64, 64, 3], seed=0)
    h = train(net, X, Yn, Adam(lr=1e-2), batch_size=8, epochs=300, seed=0,
              validation=(Xv, Yv), early_stopping=5, progress=False)
    assert h.stopped_early and len(h.epoch) < 300
    assert len(h.val_loss) == len(h.loss)
    assert h.best_epoch == int(np.argmin(h.val_loss))
    assert len(h.epoch) == h.best_epoch + 1 + 5
    d = net.predict(Xv) - Yv
    assert 0.5 * np.sum(d * d) / len(Xv) == pytest.approx(min(h.val_loss), rel=1e-12)


def test_callback_can_stop(rng):
    X, Y = _smooth(rng, 40)
    seen = []

    def cb(epoch, history, net):
        seen.append((epoch, history.loss[-1]))
        return epoch == 2

    h = train(MLP([2, 4, 3], seed=0), X, Y, SGD(0.01), epochs=10, callbacks=[cb], progress=False)
    assert [e for e, _ in seen] == [0, 1, 2] and h.epoch == [0, 1, 2]


def test_divergence_stops_with_finite_parameters(rng):
    X, Y = _smooth(rng, 64)
    net = MLP([2, 16, 3], activation="relu", seed=0)
    with pytest.raises(TrainingDiverged, match=r"non-finite.*last finite values.*lr=1e\+30"):
        train(net, X, Y * 1e3, SGD(lr=1e30), batch_size=8, epochs=5, progress=False)
    assert np.isfinite(net.params).all()


def test_step_activation_refused(rng):
    X, Y = _smooth(rng, 10)
    with pytest.raises(ValueError, match="`step` activation: its derivative is zero almost everywhere"):
        train(MLP([2, 4, 3], activation="step"), X, Y, SGD(0.1), progress=False)


def test_lbfgs_reaches_lower_cost_than_adam(rng):
    X, Y = _smooth(rng, 256)
    adam_net, lbfgs_net = MLP([2, 16, 16, 3], seed=0), MLP([2, 16, 16, 3], seed=0)
    train(adam_net, X, Y, Adam(lr=1e-2), batch_size=32, epochs=60, seed=0, progress=False)
    lbfgs_net.params[:] = adam_net.params
    h = train(lbfgs_net, X, Y, LBFGS(), epochs=300, progress=False)
    C_adam, C_lbfgs = adam_net.loss_and_grad(X, Y)[0], lbfgs_net.loss_and_grad(X, Y)[0]
    assert C_lbfgs < 0.1 * C_adam
    assert h.loss[-1] == pytest.approx(C_lbfgs, rel=1e-10)
    assert all(np.diff(h.loss) <= 1e-15)  # L-BFGS-B's line search only accepts descent


def test_lbfgs_weight_decay_adds_the_penalty(rng):
    X, Y = _smooth(rng, 64)
    net = MLP([2, 8, 3], seed=0)
    h = train(net, X, Y, LBFGS(weight_decay=0.1), epochs=200, progress=False)
    # at the minimum of C + wd/2 |p|^2 the gradient of C balances -wd p
    _, g = net.loss_and_grad(X, Y)
    np.testing.assert_allclose(g, -0.1 * net.params, atol=2e-5)
    assert h.loss[-1] == pytest.approx(net.loss_and_grad(X, Y)[0], rel=1e-9)


def test_float32_training(rng):
    X, Y = _smooth(rng, 256)
    net = MLP([2, 16, 3], seed=0, dtype=np.float32)
    h = train(net, X, Y, Adam(lr=1e-2), batch_size=16, epochs=20, seed=0, progress=False)
    assert net.params.dtype == np.float32 and h.loss[-1] < 0.2 * h.loss[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "`batch_size` must be an integer >= 1, got 0"),
    ({"epochs": 1.5}, "`epochs` must be an integer >= 1, got 1.5"),
    ({"early_stopping": 0}, "`early_stopping`"),
    ({"validation": np.zeros((3, 2))}, "`validation` must be a pair"),
    ({"validation": (np.zeros((3, 2)), np.zeros((3, 1)))}, r"`validation Y` must have shape \(n, 3\)"),
    ({"optimizer": "adam"}, "`optimizer` must be SGD, Adam or LBFGS"),
])
def test_bad_arguments(kwargs, match, rng):
    X, Y = _smooth(rng, 10)
    args = {"optimizer": SGD(0.1), "progress": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        train(MLP([2, 4, 3]), X, Y, **args)


def test_progress_bar_only_when_asked(rng, capsys):
    X, Y = _smooth(rng, 20)
    train(MLP([2, 4, 3]), X, Y, SGD(0.1), epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    train(MLP([2, 4, 3]), X, Y, SGD(0.1), epochs=2, progress=True)
    assert "epoch" in capsys.readouterr().err


def test_kernels_as_plain_python_agree(tmp_path):
    """With NUMBA_DISABLE_JIT=1 the kernel bodies run as Python (coverage of
    their source); they must give the compiled result."""
    code = ("import numpy as np, surrogate\n"
            "net = surrogate.MLP([2, 5, 3], activation='silu', seed=0)\n"
            "r = np.random.default_rng(0); X = r.normal(size=(21, 2)); Y = r.normal(size=(21, 3))\n"
            "surrogate.train(net, X, Y, surrogate.Adam(1e-2), batch_size=8, epochs=2, seed=1, progress=False)\n"
            "C, g = net.loss_and_grad(X, Y)\n"
            "np.save(%r, np.concatenate([[C], g, net.predict(X).ravel()]))\n")
    out = {}
    for jit_off in ("0", "1"):
        path = tmp_path / f"{jit_off}.npy"
        env = dict(os.environ, NUMBA_DISABLE_JIT=jit_off)
        subprocess.run([sys.executable, "-c", code % str(path)], check=True, env=env, timeout=120)
        out[jit_off] = np.load(path)
    np.testing.assert_allclose(out["1"], out["0"], rtol=1e-10, atol=1e-13)


@pytest.mark.slow
def test_blocked_and_chunked_kernels_as_plain_python_agree(tmp_path):
    """The same with layers of 9 and 10 inputs (eight a pass, then one or two),
    one of 17 for the register-blocked loops (widths leaving 1 row and
    samples over the blocks of 4) and batches large enough to split into two
    chunks (two threads), so the plain-Python run covers those paths too, not
    only the narrow ones."""
    code = ("import numpy as np, surrogate\n"
            "from surrogate import _chunks\n"
            "net = surrogate.MLP([9, 10, 17, 5], activation=['tanh', 'softplus'], seed=0)\n"
            "r = np.random.default_rng(0); X = r.normal(size=(760, 9)); Y = r.normal(size=(760, 5))\n"
            "f = net.flops_per_sample\n"
            "chunks = [_chunks.n_chunks_for(n, f) for n in (725, 760)] + [_chunks.n_predict_chunks(2280, f // 3, 2)]\n"
            "surrogate.train(net, X, Y, surrogate.Adam(1e-2), batch_size=725, epochs=2, seed=1, progress=False)\n"
            "C, g = net.loss_and_grad(X, Y)\n"
            "P = net.predict(np.vstack([X, X, X]))\n"
            "np.save(%r, np.concatenate([chunks, [C], g, P.ravel()]))\n")
    out = {}
    for jit_off in ("0", "1"):
        path = tmp_path / f"{jit_off}.npy"
        env = dict(os.environ, NUMBA_DISABLE_JIT=jit_off, NUMBA_NUM_THREADS="2")
        subprocess.run([sys.executable, "-c", code % str(path)], check=True, env=env, timeout=300)
        out[jit_off] = np.load(path)
    np.testing.assert_array_equal(out["1"][:3], [2, 2, 2])  # every pass split into two chunks
    np.testing.assert_allclose(out["1"], out["0"], rtol=1e-10, atol=1e-13)


def test_progress_bars_show_on_a_terminal_only_and_redraw_at_most_twice_a_second(monkeypatch):
    import io
    import sys

    from surrogate.training import progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        for progress, expected in (("auto", shown), (None, shown), (True, True), (False, False)):
            with progress_bar(progress, total=3) as bar:
                assert bool(bar.disable) is (not expected), (type(stream).__name__, progress)
                assert not expected or bar.mininterval == 0.5  # a disabled bar keeps no settings
    with pytest.raises(ValueError, match="`progress` must be True, False or 'auto'"):
        progress_bar("yes", total=3)
