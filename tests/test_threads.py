"""The thread policy: results never depend on the thread count, and "auto"
keeps whichever of one thread and all is measured faster."""
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
    assert _chunks.n_chunks_for(32, f) == 2          # 32 // MIN_CHUNK_ROWS
    assert _chunks.n_chunks_for(1400, f) == _chunks.MAX_CHUNKS
    assert _chunks.n_chunks_for(32, 1_000) == 1      # too little work to split
    assert _chunks.n_chunks_for(15, 10**9) == 1      # too few samples to split


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("optimizer", [lambda: surrogate.Adam(3e-3), lambda: surrogate.LBFGS()])
def test_training_is_bitwise_the_same_on_one_two_and_auto_threads(optimizer):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(200, 8)), rng.normal(size=(200, 16))
    params = {}
    for threads in (1, 2, "auto"):
        net = surrogate.MLP([8, 64, 64, 16], seed=1)
        assert _chunks.n_chunks_for(32, net.flops_per_sample) == 2  # the split path is the one tested
        surrogate.train(net, X, Y, optimizer(), batch_size=32, epochs=40, seed=2, progress=False,
                        threads=threads)
        params[threads] = net.params.copy()
    np.testing.assert_array_equal(params[1], params[2])
    np.testing.assert_array_equal(params[1], params["auto"])


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
def test_a_fit_is_bitwise_the_same_whatever_threads():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(300, 4))
    Y = np.sin(X @ rng.normal(size=(4, 40)))
    fits = [Surrogate(hidden=(64, 64), epochs=15, lbfgs_iter=40, seed=0, threads=t).fit(X, Y, progress=False)
            for t in (1, 2, "auto")]
    for other in fits[1:]:
        np.testing.assert_array_equal(fits[0].net_.params, other.net_.params)


class _Work:
    """A call whose duration depends on the thread count it is given."""

    def __init__(self, slow_threads):
        self.slow_threads, self.seen = slow_threads, []

    def __call__(self):
        n = numba.get_num_threads()
        self.seen.append(n)
        time.sleep(0.004 if n == self.slow_threads else 0.0005)
        return n


@pytest.mark.skipif(not TWO, reason="needs two Numba threads")
@pytest.mark.parametrize("slow, expected", [(2, 1), (1, 2)])
def test_auto_keeps_the_faster_count_and_measures_again_later(slow, expected):
    work, chooser = _Work(slow_threads=slow), _threads.Chooser("auto")
    chooser.most = 2
    # an answer that confirms the current one (one thread, the start) waits longer for the next trial
    wait = _threads.FIRST_RECHECK * (_threads.GROWTH if expected == 1 else 1)
    with chooser:
        for _ in range(3 + wait + 2):
            chooser.run(work)
            assert numba.get_num_threads() == chooser.best  # between calls: the choice
    # call 0 warms up on one thread, calls 1-2 are the trial (all, then one)
    assert work.seen[:3] == [1, 2, 1]
    assert set(work.seen[3:3 + wait]) == {expected}
    assert work.seen[3 + wait:] == [2, 1]          # measured again
    assert chooser.best == expected and chooser.recheck == _threads.GROWTH * wait  # confirmed: less often
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # restored when the block ends


def test_an_integer_is_used_as_given_and_never_measured():
    work, chooser = _Work(slow_threads=1), _threads.Chooser(1)
    for _ in range(40):
        chooser.run(work)
    assert set(work.seen) == {1}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "all", True, None])
def test_bad_threads_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="`threads` must be"):
        check_threads("threads", bad)
