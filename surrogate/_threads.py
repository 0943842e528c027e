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
slice (milliseconds, against tens of microseconds of work), and one thread
is many times faster.

`Chooser` (the "auto" policy) runs repeated calls of the same work (the
mini-batches of an epoch, L-BFGS evaluations) on one thread at first, and
after FIRST_TRIAL_AFTER seconds of it, then now and then, holds a trial:
about TRIAL_SECONDS of work on one thread, then work on all threads in
growing pieces until as much time is spent there, and keeps the faster.
The trial on all threads stops as soon as it has lost GIVE_UP_SECONDS to
one thread, so on a busy machine it costs a stall or two (a scheduler time
slice each, 5-25 ms), not an epoch. Epochs are cut into pieces (`spans`)
only during a trial, so the choice already serves the rest of the first
epoch: a three-epoch fit gets the second core on a quiet machine.

Trials come again after 16, 64, then 256 calls while the answer holds
(back to 16 when it changes), and never before the work done since the
last trial is 1/MAX_OVERHEAD times what that trial lost. That wait carries
over to the next Chooser for MEMORY_SECONDS (a fit's Adam phase, then its
L-BFGS phase, then the next fit): a machine found busy a moment ago is
likely busy still, and only a long fit pays for asking again. So a
machine that becomes busy, or quiet, is noticed while a long fit runs,
and trials cost a short fit on a busy machine little. Work on which
threads cannot matter (one chunk a batch) is never measured: it runs on
one thread. Within the `with` block everything else (validation passes,
the monitor) also runs on the chosen count.
"""
import contextlib
import math
from time import perf_counter

import numba

FIRST_RECHECK, LAST_RECHECK, GROWTH = 16, 256, 4
# Each side of a trial: long enough to cover a scheduler time slice or two
# (~3 ms), so a thread descheduled on a busy core shows; short against a fit.
TRIAL_SECONDS = 0.005
# All threads behind one thread by this much (the units done on all threads
# would have taken this much less on one): the trial stops there.
GIVE_UP_SECONDS = 0.001
# No trial before this much work on one thread: a shorter fit can gain only
# milliseconds from a second thread, and on a busy machine a trial can lose
# a stall of 5-25 ms (measured with two busy processes on two cores).
FIRST_TRIAL_AFTER = 0.05
# What trials may cost: the next waits until the work since the last is
# 1/MAX_OVERHEAD times the seconds that trial lost.
MAX_OVERHEAD = 0.05
MEMORY_SECONDS = 10.0

# The last trial in this process: when it ended, and the seconds it lost.
_last_trial = {"at": -math.inf, "lost": 0.0}


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
    an int (exactly that many, at most Numba's pool; no measuring).
    parallel: False when the work cannot use a second thread (a batch of one
    chunk); "auto" then runs it on one thread, unmeasured. Use it as a
    context manager: inside, Numba runs on the chosen count.

    The phases: "warm" (one unit on one thread: first touch of buffers and
    caches, and a first time per unit), "wait" (one thread until
    FIRST_TRIAL_AFTER seconds of work, or longer after a recent costly
    trial), then each trial's "one" (about
    TRIAL_SECONDS on one thread) and "most" (pieces of 1, 2, 4, ... units
    on all threads); `phase` is None between trials.
    """

    def __init__(self, threads="auto", parallel=True):
        pool = numba.config.NUMBA_NUM_THREADS
        if threads == "auto":
            self.most = numba.get_num_threads() if parallel else 1
        else:
            self.most = max(1, min(int(threads), pool))
        self.auto = threads == "auto" and self.most > 1
        self.best = 1 if self.auto else self.most
        self.phase = "warm" if self.auto else None
        self.recheck, self.since = FIRST_RECHECK, 0   # calls between trials, calls since the last
        self.worked, self.lost = 0.0, 0.0             # seconds since the last trial, lost in it
        recent = perf_counter() - _last_trial["at"] < MEMORY_SECONDS
        self.first_wait = max(FIRST_TRIAL_AFTER, _last_trial["lost"] / MAX_OVERHEAD if recent else 0.0)
        self.unit_seconds = None                      # of the last call
        self.one = None                               # seconds a unit on one thread, this trial
        self.spent, self.done, self.piece = 0.0, 0, 1  # on all threads, this trial
        self._before = []

    def __enter__(self):
        self._before.append(numba.get_num_threads())
        numba.set_num_threads(self.best)
        return self

    def __exit__(self, *exc):
        numba.set_num_threads(self._before.pop())

    def spans(self, units):
        """Pieces (lo, hi) of `units` units of work, to `run` one after another:
        the whole between trials; during one, pieces as long as its phase wants."""
        lo = 0
        while lo < units:
            size = units - lo
            if self.phase == "warm":
                size = 1
            elif self.phase == "wait":
                size = math.ceil((self.first_wait - self.worked) / self.unit_seconds)
            elif self.phase == "one":
                size = math.ceil(TRIAL_SECONDS / self.unit_seconds)
            elif self.phase == "most":
                size = self.piece
            hi = min(units, lo + size)
            yield lo, hi
            lo = hi

    def run(self, fn, *args, units=1):
        """fn(*args), `units` units of work, on the chosen number of threads; its result."""
        phase, before = self.phase, numba.get_num_threads()
        numba.set_num_threads(self.most if phase == "most" else 1 if phase else self.best)
        t0 = perf_counter()
        try:
            return fn(*args)
        finally:
            seconds = max(perf_counter() - t0, 1e-9)
            self.unit_seconds = seconds / units
            self._next(phase, seconds, units)
            numba.set_num_threads(self.best if self._before else before)  # in a `with`: the choice

    def _next(self, phase, seconds, units):
        """The phase after a call of `phase` that took `seconds` for `units` units."""
        if phase is None:
            self.since += 1
            self.worked += seconds
            if self.auto and self.since >= self.recheck and self.worked * MAX_OVERHEAD >= self.lost:
                self.phase = "one"
        elif phase in ("warm", "wait"):
            self.worked += seconds
            self.phase = "one" if self.worked >= self.first_wait else "wait"
        elif phase == "one":
            self.one, self.spent, self.done, self.piece = self.unit_seconds, 0.0, 0, 1
            self.phase = "most"
        else:
            self.spent += seconds
            self.done += units
            self.lost = max(0.0, self.spent - self.one * self.done)
            if self.lost > GIVE_UP_SECONDS:
                self._decide(1)
            elif self.spent >= TRIAL_SECONDS:
                self._decide(self.most if self.spent < self.one * self.done else 1)
            else:
                self.piece *= 2

    def _decide(self, faster):
        """Keep `faster`; trials come less often while the answer holds."""
        self.recheck = min(GROWTH * self.recheck, LAST_RECHECK) if faster == self.best else FIRST_RECHECK
        self.best, self.phase, self.since, self.worked = faster, None, 0, 0.0
        _last_trial.update(at=perf_counter(), lost=self.lost)
