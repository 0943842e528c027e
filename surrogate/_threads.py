"""Thread policy: the one place that decides how many Numba threads a training
call gets.

Results never depend on it. A mini-batch is split into chunks by its size
and the network's (`_chunks.n_chunks_for`), never by the thread count, and
the chunks' gradients are summed in chunk order; so the policy may change
the thread count from one call to the next without changing a bit of the
result. It does so because the best count depends on the machine's load,
not only on the work: on a quiet machine two threads share a mini-batch
well, but when another process holds a core, the thread that is
descheduled stalls every mini-batch at the barrier for a scheduler time
slice, and one thread is several times faster.

`Chooser` (the "auto" policy) times repeated calls of the same work (epochs,
L-BFGS evaluations) on all threads and on one, keeps the faster, and
measures again after a growing number of calls (16, 64, 256; back to 16
when the answer changes), so a machine that becomes busy, or quiet, is
noticed while a long fit runs. It starts on one thread, so a busy machine
pays for one trial call on all threads, not for a first epoch there.
Within its `with` block everything else (validation passes, the monitor)
also runs on the chosen count.
"""
import contextlib
import time

import numba

FIRST_RECHECK, LAST_RECHECK, GROWTH = 16, 256, 4


@contextlib.contextmanager
def blas_one_thread():
    """Run the block with BLAS on one thread: for the small dense algebra of a
    fit (L-BFGS-B's vectors, the output basis's SVD), where a threaded BLAS
    only oversubscribes the cores the kernels use. Set once around the work,
    not per call: threadpoolctl scans the loaded libraries each time."""
    from threadpoolctl import threadpool_limits  # here: importing it costs every import of the package
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class Chooser:
    """Runs calls of one kind of work on the faster of 1 and `most` threads.

    threads: "auto" (choose between 1 and all Numba threads, measured) or
    an int (exactly that many, at most Numba's pool; no measuring). Use it
    as a context manager: inside, Numba runs on the chosen count.
    """

    def __init__(self, threads="auto"):
        pool = numba.config.NUMBA_NUM_THREADS
        self.auto = threads == "auto"
        self.most = numba.get_num_threads() if self.auto else max(1, min(int(threads), pool))
        self.best = 1 if self.auto else self.most
        self.calls = 0
        self.trial_at = 1          # call 0 is a warm-up (first touch of buffers and caches)
        self.recheck = FIRST_RECHECK
        self.seconds = {}
        self._before = []

    def __enter__(self):
        self._before.append(numba.get_num_threads())
        numba.set_num_threads(self.best)
        return self

    def __exit__(self, *exc):
        numba.set_num_threads(self._before.pop())

    def run(self, fn, *args):
        """fn(*args) on the chosen number of threads; its result."""
        k = self.calls - self.trial_at   # 0, 1: the trial calls on `most`, then on one thread
        self.calls += 1
        trial = self.auto and self.most > 1 and 0 <= k < 2
        before = numba.get_num_threads()
        n = (self.most, 1)[k] if trial else self.best
        numba.set_num_threads(n)
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            if trial:
                self.seconds[n] = time.perf_counter() - t0
                if k == 1:
                    self._decide()
            numba.set_num_threads(self.best if self._before else before)  # in a `with`: the choice

    def _decide(self):
        """Keep the faster of the trial's two calls; trials come less often while it holds."""
        faster = 1 if self.seconds[1] <= self.seconds[self.most] else self.most
        self.recheck = min(GROWTH * self.recheck, LAST_RECHECK) if faster == self.best else FIRST_RECHECK
        self.best = faster
        self.trial_at = self.calls + self.recheck
