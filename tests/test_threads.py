"""The thread policy: results never depend on the thread count, and "auto"
keeps whichever of one thread and all is measured faster."""
import contextlib
import math
import os
import subprocess
import sys
import textwrap
import threading
import time

import numba
import numpy as np
import pytest

import surrogate
from surrogate import Surrogate, _chunks, _threads
from surrogate._checks import check_threads

TWO = numba.config.NUMBA_NUM_THREADS >= 2




def test_chunks_follow_the_batch_and_the_network_not_the_threads():
    f = 100_000  # flops per sample of a [8, 64, 64, 64, 128] network, roughly
    assert _chunks.n_chunks_for(64, f) == 2          # 64 // MIN_CHUNK_ROWS
    assert _chunks.n_chunks_for(1400, f) == _chunks.MAX_CHUNKS
    assert _chunks.n_chunks_for(64, 1_000) == 1      # too little work to split
    assert _chunks.n_chunks_for(63, 10**9) == 1      # a chunk holds at least a full tile
    assert _chunks.n_chunks_for(32, 10**9) == 1
    # a replicated network splits a batch of one to two tiles in two, and no more
    assert _chunks.n_chunks_for(32, f, True) == 2
    assert _chunks.n_chunks_for(48, f, True) == 2
    assert _chunks.n_chunks_for(64, f, True) == 2
    assert _chunks.n_chunks_for(128, f, True) == 4
    assert _chunks.n_chunks_for(31, f, True) == 1
    assert _chunks.n_chunks_for(32, 1_000, True) == 1


def test_networks_are_replicated_up_to_a_size_in_bytes():
    assert _chunks.replicated(surrogate.MLP([8, 256, 256, 256, 128]))      # 1.3 MB
    assert not _chunks.replicated(surrogate.MLP([8, 1024, 1024, 8]))        # 8.5 MB
    assert _chunks.replicated(surrogate.MLP([8, 1024, 1024, 8], dtype=np.float32))


def _epoch_spans(net, X, Y, opt, threads, batch=32, seed=0):
    """Two epochs of `_chunks.train_epoch`, called in spans of a few batches on the given
    thread counts in turn (as the thread policy would); returns the network's parameters
    and each call's Replicas after it."""
    n = X.shape[0]
    replicated = _chunks.replicated(net)
    nc = _chunks.n_chunks_for(batch, net.flops_per_sample, replicated)
    WS, G = net.tile_workspace(nc), net.gradient_buffers(nc)
    reps = _chunks.make_replicas(net, 2)
    state, backup = opt.ensure_state(net.params), np.empty_like(net.params)
    rng, n_batches, calls, seen = np.random.default_rng(seed), -(-n // batch), 0, []
    for epoch in range(2):
        order = rng.permutation(n).astype(np.int64)
        total = 0.0
        for first in range(0, n_batches, 3):
            lanes = threads[calls % len(threads)]
            calls += 1
            total, done, status = _chunks.train_epoch(
                net.params, reps, X, Y, order, first, min(first + 3, n_batches), total, batch,
                net._layout, opt.kind, opt.hyper(opt.lr), state, opt.steps, WS, G, backup,
                net.flops_per_sample, lanes)
            assert status == 0
            seen.append((lanes, reps.fresh[0], reps.params[0, :net.n_params].copy(),
                         reps.state[0][:, :net.n_params].copy()))
    return net.params.copy(), state.copy(), seen


@pytest.mark.parametrize("make_opt", [lambda: surrogate.Adam(3e-3),
                                      lambda: surrogate.SGD(0.01, momentum=0.9, nesterov=True)])
@pytest.mark.parametrize("sizes, n", [([8, 64, 64, 16], 200),
                                      ([5, 64, 64, 64, 7], 510)])  # 9159 parameters: not whole vectors
def test_replicas_take_every_step_and_catch_up_after_calls_on_one_thread(make_opt, sizes, n):
    """The copies on a second core must hold the network's numbers whenever a call uses
    them: after a call on one thread they are stale, and the next call on two copies them
    back (parameters and optimiser state). The last batch (8 samples) is one chunk that
    every copy still steps. Run on any number of Numba threads: a lane count above it
    runs its lanes in turn."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(n, sizes[0])), rng.normal(size=(n, sizes[-1]))
    runs = {}
    for threads in ((1,), (2,), (2, 1, 1, 2, 1, 2, 2)):
        net = surrogate.MLP(sizes, seed=1)
        assert _chunks.replicated(net) and _chunks.n_chunks_for(32, net.flops_per_sample, True) == 2
        runs[threads] = _epoch_spans(net, X, Y, make_opt(), threads)
    params, state, _ = runs[(1,)]
    for threads in ((2,), (2, 1, 1, 2, 1, 2, 2)):
        np.testing.assert_array_equal(runs[threads][0], params)
        np.testing.assert_array_equal(runs[threads][1], state)
    for lanes, fresh, copy, _ in runs[(1,)][2]:
        assert fresh == 1  # never used
    for lanes, fresh, copy, copy_state in runs[(2, 1, 1, 2, 1, 2, 2)][2]:
        assert fresh == lanes
    assert sum(lanes == 2 for lanes, *_ in runs[(2, 1, 1, 2, 1, 2, 2)][2]) >= 3
    # after a call on two lanes, the copy is the network's parameters, bit for bit
    (lanes, fresh, copy, copy_state), = runs[(2,)][2][-1:]
    np.testing.assert_array_equal(copy, params)
    np.testing.assert_array_equal(copy_state, state)


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
def test_a_diverging_run_on_replicas_keeps_the_same_last_finite_parameters():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(300, 8)), 1e3 * rng.normal(size=(300, 16))
    params = {}
    for threads in (1, 2):
        net = surrogate.MLP([8, 64, 64, 16], seed=1)
        with pytest.raises(surrogate.TrainingDiverged):
            surrogate.train(net, X, Y, surrogate.SGD(lr=1e3), batch_size=32, epochs=5, seed=0,
                            progress=False, threads=threads)
        assert np.isfinite(net.params).all()
        params[threads] = net.params.copy()
    np.testing.assert_array_equal(params[1], params[2])


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("optimizer", [lambda: surrogate.Adam(3e-3), lambda: surrogate.LBFGS()])
def test_training_is_bitwise_the_same_on_one_two_and_auto_threads(optimizer, monkeypatch):
    # trials at once, of one mini-batch: "auto" then cuts epochs into pieces
    monkeypatch.setattr(_threads, "TRIAL_SECONDS", 1e-9)
    monkeypatch.setattr(_threads, "cores_taken", lambda: False)
    monkeypatch.setattr(_threads, "WORTH_SECONDS", 0.0)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(200, 8)), rng.normal(size=(200, 16))
    params, losses = {}, {}
    for threads in (1, 2, "auto"):
        net = surrogate.MLP([8, 64, 64, 16], seed=1)
        assert _chunks.n_chunks_for(64, net.flops_per_sample) == 2  # the split path is the one tested
        history = surrogate.train(net, X, Y, optimizer(), batch_size=64, epochs=40, seed=2,
                                  progress=False, threads=threads)
        params[threads], losses[threads] = net.params.copy(), history.loss
    np.testing.assert_array_equal(params[1], params[2])
    np.testing.assert_array_equal(params[1], params["auto"])
    assert losses[1] == losses[2] == losses["auto"]  # an epoch cut into pieces sums its cost in one order


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
def test_the_full_batch_cost_and_gradient_are_bitwise_the_same_on_one_and_two_threads():
    """Summed over 4 chunks: a parallel reduction would add them in an order set by the threads
    (a cost that differs in the last bit for about one seed in seven)."""
    for seed in range(60):
        rng = np.random.default_rng(seed)
        net = surrogate.MLP([5, 64, 64, 7], seed=seed)
        X, Y = rng.normal(size=(510, 5)), rng.normal(size=(510, 7))
        assert _chunks.n_chunks_for(510, net.flops_per_sample) == 4
        out = {}
        for n in (1, 2):
            numba.set_num_threads(n)
            try:
                C, g = net.loss_and_grad(X, Y)
                out[n] = (C, g.copy())
            finally:
                numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        assert out[1][0] == out[2][0]
        np.testing.assert_array_equal(out[1][1], out[2][1])


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predictions_are_bitwise_the_same_on_one_and_two_threads(dtype):
    """The forward pass splits rows into as many chunks as there are threads
    (`n_predict_chunks`); a row's tile, and the compiled place that computes
    it, must not depend on that."""
    net = surrogate.MLP([5, 64, 64, 64, 17], seed=0, dtype=dtype)
    X = np.random.default_rng(0).uniform(-1, 1, (2001, 5)).astype(dtype)
    out = {}
    for n in (1, 2):
        numba.set_num_threads(n)
        try:
            assert _chunks.n_predict_chunks(X.shape[0], net.flops_per_sample // 3, n) == n
            out[n] = net.predict(X)
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(out[1], out[2])


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
def test_a_fit_is_bitwise_the_same_whatever_threads():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(300, 4))
    Y = np.sin(X @ rng.normal(size=(4, 40)))
    for batch, lbfgs in ((64, 40), (32, 0)):  # 32: the default, in two half-tile chunks
        fits = [Surrogate(hidden=(64, 64), epochs=15, batch_size=batch, lbfgs_iter=lbfgs, seed=0,
                          threads=t).fit(X, Y, progress=False)
                for t in (1, 2, "auto")]
        net = fits[0].net_
        assert _chunks.n_chunks_for(batch, net.flops_per_sample, _chunks.replicated(net)) == 2
        for other in fits[1:]:
            np.testing.assert_array_equal(net.params, other.net_.params)


class _Clock:
    """A stand-in for the Chooser's clock: work advances it by its modelled duration,
    so the tests see exact timings, whatever the machine is doing."""

    def __init__(self, monkeypatch, taken=False):
        self.now = 0.0
        monkeypatch.setattr(_threads, "perf_counter", lambda: self.now)
        monkeypatch.setattr(_threads, "cores_taken", lambda: taken)  # a quiet machine, unless told

    def work(self, one, most):
        """Work whose unit takes `one` seconds on one thread and `most` on two; returns the threads it ran on."""
        def run(units=1):
            n = numba.get_num_threads()
            self.now += units * (one if n == 1 else most)
            return n
        return run


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("one, most, expected, waits", [
    # all threads 4.5125 ms behind after a call: given up at once; the next trial waits
    # for 4.5125 ms / MAX_OVERHEAD = 90.25 ms of work (181 calls), more than 16 x TRIAL_SECONDS
    (0.0005, 0.0050125, 1, [181, 640]),
    # slower by less than GIVE_UP_SECONDS over TRIAL_SECONDS (0.5 ms lost: 10 ms' wait):
    # 16, then 64 x TRIAL_SECONDS of work (80 ms, 320 ms) as the answer holds
    (0.0005, 0.00055, 1, [160, 640]),
    (0.0005, 0.00045, 2, [178, 712]),
    (0.004, 0.0005, 2, [160, 640])])
def test_auto_keeps_the_faster_count_and_measures_again_later(one, most, expected, waits, monkeypatch):
    work, chooser = _Clock(monkeypatch).work(one, most), _threads.Chooser("auto")
    chooser.most = 2
    calls = []                                         # (phase, threads) of each call
    with chooser:
        while len(calls) < 2000 and [p for p, _ in calls].count("one") < 3:
            calls.append((chooser.phase, chooser.run(work)))
            if chooser.phase is None:
                assert numba.get_num_threads() == chooser.best  # between trials: the choice
    phases = [p for p, _ in calls]
    # a warm-up, then the trial: TRIAL_SECONDS on one thread, then all threads until
    # they lose GIVE_UP_SECONDS or spend TRIAL_SECONDS
    assert calls[:2] == [("warm", 1), ("one", 1)]
    on_most = phases.count("most") // 2
    assert calls[2:2 + on_most] == [("most", 2)] * on_most
    assert on_most == (1 if most > 0.001 else math.ceil(_threads.TRIAL_SECONDS / most - 1e-9))
    # then the choice, for as much work as is due, and the same trial again
    second = 2 + on_most + waits[0]
    assert calls[2 + on_most:second] == [(None, expected)] * waits[0]
    assert calls[second:second + 1 + on_most] == [("one", 1)] + [("most", 2)] * on_most
    # the same answer again: the wait grows
    third = second + 1 + on_most + waits[1]
    assert calls[second + 1 + on_most:] == [(None, expected)] * waits[1] + [("one", 1)]
    assert len(calls) == third + 1
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # restored when the block ends


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("one, most, expected", [
    # (threads, first unit, units) of each piece, worked out by hand: warm-up; TRIAL_SECONDS
    # on one thread (at the unit time on one thread of the last trial, the first time at
    # the last unit time seen); all threads in pieces of 1, 2, 4, ...; then
    # the choice until 16 x TRIAL_SECONDS of work (80 ms) is done; a trial again; the choice
    # until 64 x TRIAL_SECONDS (320 ms), across the epoch's end
    (0.001, 0.004, [[(1, 0, 1), (1, 1, 5), (2, 6, 1), (1, 7, 80), (1, 87, 5), (2, 92, 1), (1, 93, 307)],
                    [(1, 0, 13), (1, 13, 5), (2, 18, 1), (1, 19, 381)]]),
    (0.002, 0.0005, [[(1, 0, 1), (1, 1, 3), (2, 4, 1), (2, 5, 2), (2, 7, 4), (2, 11, 8), (2, 19, 160),
                      (1, 179, 3), (2, 182, 1), (2, 183, 2), (2, 185, 4), (2, 189, 8), (2, 197, 203)],
                     [(2, 0, 400)]])])
def test_trials_cut_epochs_into_pieces_when_they_are_due(one, most, expected, monkeypatch):
    """A call may be a whole epoch: trials come after seconds of work, not calls, so one
    unlucky trial does not hold a fit of a few epochs to one thread."""
    work, chooser = _Clock(monkeypatch).work(one, most), _threads.Chooser("auto")
    chooser.most = 2
    epochs = [[], []]
    with chooser:
        for pieces in epochs:
            for lo, hi in chooser.spans(400):
                pieces.append((chooser.run(work, hi - lo, units=hi - lo), lo, hi - lo))
    assert epochs == expected


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("reads, tried", [
    ([True, True], False),  # taken at the start and at the end of the part on one thread: skipped
    ([True, False], True),  # freed meanwhile: the trial goes on
    ([False, True], True)])
def test_a_trial_is_skipped_when_other_processes_fill_the_cores(reads, tried, monkeypatch):
    work = _Clock(monkeypatch).work(0.0005, 0.0001)   # two threads would be 5x faster
    answers = iter(reads * 10)
    monkeypatch.setattr(_threads, "cores_taken", lambda: next(answers))
    chooser = _threads.Chooser("auto")
    chooser.most = 2
    calls = []
    with chooser:
        while chooser.trials < 1:
            calls.append((chooser.phase, chooser.run(work)))
    assert [p for p, _ in calls[:2]] == ["warm", "one"]
    assert any(p == "most" for p, _ in calls) == tried
    assert chooser.best == (2 if tried else 1)
    assert chooser.lost == 0.0
    assert chooser.recheck == (_threads.FIRST_RECHECK if tried else _threads.SKIP_RECHECK)


def test_cores_taken_counts_runnable_tasks_of_other_processes(tmp_path, monkeypatch):
    tasks = tmp_path / "task"
    for tid, state in ((101, "R"), (102, "S"), (103, "R")):
        (tasks / str(tid)).mkdir(parents=True)
        # a thread name may hold spaces and parentheses: the state follows the last ")"
        (tasks / str(tid) / "stat").write_text(f"{tid} (numba (w) {tid}) {state} 1 2 3\n")
    loadavg = tmp_path / "loadavg"
    monkeypatch.setattr(_threads, "LOADAVG", str(loadavg))
    monkeypatch.setattr(_threads, "TASKS", str(tasks))
    # two of this process's three threads run: the others are runnable - 2; in any
    # order of the threads (reading stops once ours alone answer False)
    listdir = os.listdir
    for order in (["101", "102", "103"], ["101", "103", "102"], ["102", "103", "101"]):
        monkeypatch.setattr(_threads.os, "listdir",
                            lambda path, order=order: order if path == str(tasks) else listdir(path))
        for runnable, cpus, expected in ((2, 2, False), (3, 2, True), (3, 3, False), (4, 3, True),
                                         (4, 4, False), (9, 4, True), (1, 2, False)):
            loadavg.write_text(f"0.52 0.61 0.70 {runnable}/345 12345\n")
            monkeypatch.setattr(_threads.os, "cpu_count", lambda: cpus)
            assert _threads.cores_taken() is expected, (order, runnable, cpus)
    monkeypatch.setattr(_threads.os, "listdir", listdir)
    loadavg.write_text("garbage\n")
    assert _threads.cores_taken() is False
    monkeypatch.setattr(_threads, "LOADAVG", str(tmp_path / "missing"))
    assert _threads.cores_taken() is False


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="reads Linux's /proc")
def test_cores_taken_sees_spinning_processes():
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(max(1, (os.cpu_count() or 1) - 1))]
    try:
        time.sleep(0.3)
        assert sum(_threads.cores_taken() for _ in range(10)) >= 9
    finally:
        for p in spinners:
            p.kill()
            p.wait()


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("shared", [True, False])
def test_a_costly_trial_delays_the_next_choosers_first_trial_in_a_shared_block(shared, monkeypatch):
    work = _Clock(monkeypatch).work(0.0005, 0.0045125)   # all threads lose 4.0125 ms in one call
    with _threads.shared_trials() if shared else contextlib.nullcontext():
        first = _threads.Chooser("auto")
        first.most = 2
        with first:
            while first.phase is not None:      # until the first trial has decided
                first.run(work)
        assert first.best == 1 and first.lost == pytest.approx(0.0040125)
        second = _threads.Chooser("auto")       # a fit's L-BFGS phase after its Adam phase
    # in the block: 4.0125 ms / MAX_OVERHEAD = 80.25 ms of work first; outside, afresh
    assert second.first_wait == pytest.approx(0.0040125 / _threads.MAX_OVERHEAD if shared else 0.0)
    assert _threads.Chooser("auto").first_wait == 0.0   # the block forgets
    if shared:
        calls = []
        with second:
            while second.phase != "one":
                calls.append((second.phase, second.run(work)))
        assert calls == [("warm", 1)] + [("wait", 1)] * 160  # 161 calls of 0.5 ms: 80.5 ms


def test_a_shared_block_belongs_to_its_python_thread():
    seen = []
    with _threads.shared_trials():
        _threads._shared()["lost"] = 0.01
        worker = threading.Thread(target=lambda: seen.append(_threads.Chooser("auto").first_wait))
        worker.start()
        worker.join()
        assert _threads.Chooser("auto").first_wait == pytest.approx(0.01 / _threads.MAX_OVERHEAD)
    assert seen == [0.0] and _threads._shared() is None


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("units, measured", [(199, False), (200, True), (None, True)])
def test_work_expected_to_be_short_is_not_measured(units, measured, monkeypatch):
    """A trial risks a stall of milliseconds: work of less than WORTH_SECONDS (0.5 ms a unit,
    200 units) stays on one thread, and /proc is not even read for it."""
    chooser = _threads.Chooser("auto", units=units)
    chooser.most = 2
    work = _Clock(monkeypatch).work(0.0005, 0.0001)
    asked = []
    monkeypatch.setattr(_threads, "cores_taken", lambda: asked.append(1) or False)
    with chooser:
        seen = [chooser.run(work) for _ in range(40)]
    assert (2 in seen) == measured and seen[:2] == [1, 1]
    assert bool(asked) == measured


def test_work_that_cannot_use_threads_runs_on_one_unmeasured():
    chooser = _threads.Chooser("auto", parallel=False)
    seen = []
    with chooser:
        for _ in range(3):
            for lo, hi in chooser.spans(50):
                seen.append((lo, hi, chooser.run(numba.get_num_threads, units=hi - lo)))
    assert seen == [(0, 50, 1)] * 3


def test_an_integer_is_used_as_given_and_never_measured(monkeypatch):
    work, chooser = _Clock(monkeypatch).work(0.0005, 0.0), _threads.Chooser(1)
    assert {chooser.run(work) for _ in range(40)} == {1}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "all", True, None])
def test_bad_threads_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="`threads` must be"):
        check_threads("threads", bad)


# The BLAS tests run in a fresh process: OpenBLAS's thread count is one for the
# whole process, and a test before them may have set it for good (a Dask
# worker thread of an in-process cluster limits its process to one BLAS
# thread, by design for a worker process of its own), and the environment is
# the `own_threads_env` fixture's.
BLAS_PRELUDE = """
import threading
import numpy as np
from threadpoolctl import threadpool_info
from surrogate import Surrogate, _threads

def blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

start = blas_threads()
if not start or min(start) < 2:
    print("SKIP BLAS runs on one thread here")
    raise SystemExit(0)
"""


def _run_blas_check(body, env):
    """Run BLAS_PRELUDE + body in a new Python process; skip if BLAS starts on one thread there."""
    proc = subprocess.run([sys.executable, "-c", BLAS_PRELUDE + textwrap.dedent(body)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if proc.stdout.startswith("SKIP"):
        pytest.skip(proc.stdout[5:].strip())


def test_blas_one_thread_limits_blas_and_restores_it(own_threads_env):
    _run_blas_check("""
        with _threads.blas_one_thread():
            assert set(blas_threads()) == {1}, blas_threads()
            with _threads.blas_one_thread():
                assert set(blas_threads()) == {1}, blas_threads()
            assert set(blas_threads()) == {1}, blas_threads()
        assert blas_threads() == start, (blas_threads(), start)
    """, own_threads_env)


def test_blas_blocks_overlapping_in_python_threads_leave_blas_as_found(own_threads_env):
    """A enters, B enters, A leaves, B leaves (an ensemble's L-BFGS polishes ran so):
    BLAS is on one thread while both are in, and as it was at the end."""
    _run_blas_check("""
        a_in, a_out, b_in, b_done = (threading.Event() for _ in range(4))
        seen = {}

        def a():
            with _threads.blas_one_thread():
                a_in.set()
                b_in.wait(5)
                seen["both in"] = set(blas_threads())
            a_out.set()

        def b():
            a_in.wait(5)
            with _threads.blas_one_thread():
                b_in.set()
                a_out.wait(5)
            b_done.set()

        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert b_done.is_set()
        assert seen["both in"] == {1}, seen
        assert blas_threads() == start, (blas_threads(), start)
        with _threads.blas_one_thread():  # and a later block still limits it
            assert set(blas_threads()) == {1}, blas_threads()
        assert blas_threads() == start, (blas_threads(), start)
    """, own_threads_env)


def test_an_ensemble_fit_leaves_blas_threads_as_it_found_them(own_threads_env):
    """...and its members' L-BFGS polishes, side by side in Python threads, each
    run on one BLAS thread to the end."""
    _run_blas_check("""
        import scipy.optimize
        minimize, seen = scipy.optimize.minimize, []

        def watched(*args, **kwargs):
            result = minimize(*args, **kwargs)
            seen.append(set(blas_threads()))
            return result
        scipy.optimize.minimize = watched
        rng = np.random.default_rng(0)
        X = rng.uniform(size=(200, 3))
        Y = np.sin(X @ rng.normal(size=(3, 8)))
        for seed in range(3):
            Surrogate(hidden=(8,), epochs=3, lbfgs_iter=10, ensemble=3, seed=seed).fit(X, Y, progress=False)
            assert blas_threads() == start, (seed, blas_threads(), start)
        assert len(seen) == 9 and all(s == {1} for s in seen), seen
    """, own_threads_env)
