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
mini-batches of an epoch, L-BFGS evaluations) on one thread at first and,
if the work it expects is worth it (WORTH_SECONDS), holds a trial at once,
then now and then: about TRIAL_SECONDS of work on one thread, then work
on all threads in growing pieces until as much time is spent there, and
keeps the faster.
The trial on all threads stops as soon as it has lost GIVE_UP_SECONDS to
one thread, so on a busy machine it costs a stall or two (a scheduler time
slice each, 5-25 ms), not an epoch. Epochs are cut into pieces (`spans`)
so that trials come when they are due, mid-epoch if need be: the choice
serves the rest of the first epoch, and a three-epoch fit gets the second
core on a quiet machine.

Trials come again after 16, 64, then 256 times TRIAL_SECONDS of work
while the answer holds (back to 16 when it changes; the first trial's
answer always gets 16), and never before the work done since the last
trial is 1/MAX_OVERHEAD times what that trial lost. The wait is counted
in seconds of work, not in calls: a call may be a whole epoch, and one
trial spoilt by a burst of load from elsewhere must not hold a whole fit
to one thread. Inside a
`shared_trials()` block (one `Surrogate.fit`: its Adam phase, then its
L-BFGS phase) that wait carries over to the next Chooser: a machine found
busy a moment ago is likely busy still. Outside one, each Chooser starts
afresh, so one unlucky trial never holds later work to one thread. So a
machine that becomes busy, or quiet, is noticed while a long fit runs,
and trials cost a short fit on a busy machine little. A trial is skipped,
as if one thread had won it at no cost, when runnable tasks of other
processes fill every core but ours both as it starts and as its part on
one thread ends (`cores_taken`, from Linux's /proc): there a second thread
could only wait for a core, and the trial would lose a whole stall before
it could give up. Work on which
threads cannot matter (one chunk a batch) is never measured: it runs on
one thread. Within the `with` block everything else (validation passes,
the monitor) also runs on the chosen count.
"""
import contextlib
import functools
import math
import os
import threading
from time import perf_counter

import numba

# Work between trials, in units of TRIAL_SECONDS. On a quiet machine a trial
# loses at most half its TRIAL_SECONDS on one thread (if two threads are twice
# as fast): about 3% of the work after the first trials, 0.2% once the answer
# has held twice.
FIRST_RECHECK, LAST_RECHECK, GROWTH = 16, 256, 4
# After a trial skipped because other processes filled the cores: the next
# comes after this much work (in TRIAL_SECONDS), so a moment's load seen by
# chance holds a fit on one thread for 20 ms of work, not 80 ms or more.
SKIP_RECHECK = 4
# Each side of a trial: long enough to cover a scheduler time slice or two
# (~3 ms), so a thread descheduled on a busy core shows; short against a fit.
TRIAL_SECONDS = 0.005
# All threads behind one thread by this much (the units done on all threads
# would have taken this much less on one): the trial stops there.
GIVE_UP_SECONDS = 0.001
# No trial for work expected to take less than this on one thread: on a busy
# machine a trial can lose a stall of 5-25 ms (measured with two busy
# processes on two cores), and where two threads are 1.2x faster (L-BFGS on
# a small network's full batch) they save a sixth of the work, 17 ms here.
# `surrogate run heat`'s fit, whose L-BFGS phase takes about 50 ms, gained
# nothing from trials on a quiet machine (auto / pinned 1.00-1.09x) and lost
# up to 1.26x on a busy one.
WORTH_SECONDS = 0.1
# What trials may cost: the next waits until the work since the last is
# 1/MAX_OVERHEAD times the seconds that trial lost.
MAX_OVERHEAD = 0.05

# The kernel's count of runnable tasks, machine-wide (Linux): read when a trial
# is due. A trial on a busy machine lost a whole stall before it could give up:
# with one core held by a spinning process, the first piece on two threads (one
# mini-batch of M, 0.08 ms of work) took 29-32 ms, as long as 370 mini-batches
# on one thread.
LOADAVG, TASKS = "/proc/loadavg", "/proc/self/task"

# Inside `shared_trials()`: the seconds the block's last trial lost. Per
# Python thread, as Numba's thread count is: fits in two threads (a
# threading backend of a grid search) keep their blocks apart.
_local = threading.local()

# `blas_one_thread` blocks open in any Python thread.
_blas_lock = threading.Lock()
_blas_blocks = 0


def _shared():
    return getattr(_local, "shared", None)


def _read(path, size):
    """The first `size` bytes of a /proc file: os.read, without a file object
    (a task's stat read by `open` costs 15 us, 9 us this way; a process with
    the pools of JAX and PyTorch has 30 threads to read)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def _running(stat):
    """Whether the task of a /proc/<pid>/task/<tid>/stat file is running (state R)."""
    try:
        return _read(stat, 512).rpartition(b")")[2].split()[0] == b"R"
    except (OSError, IndexError):
        return False


def cores_taken():
    """True when runnable tasks of other processes fill every core but one,
    so a second thread of ours would wait for a core: the machine's runnable
    tasks (the fourth field of /proc/loadavg) less this process's (its own
    pool threads spin for a few ms after parallel work), against
    `os.cpu_count()`. False where /proc cannot be read (not Linux). Our
    threads are read only until more of them run than would leave the
    answer True: on a quiet machine the first read, the main thread's
    (usually the caller, running), answers."""
    try:
        runnable = int(_read(LOADAVG, 256).split()[3].split(b"/")[0])
        tasks = os.listdir(TASKS)
    except (OSError, ValueError, IndexError):
        return False
    most_ours = runnable - ((os.cpu_count() or 1) - 1)  # of the runnable tasks, for True
    ours = 0
    for t in tasks:
        if ours > most_ours:
            return False
        ours += _running(f"{TASKS}/{t}/stat")
    return ours <= most_ours


@contextlib.contextmanager
def shared_trials():
    """Choosers made in the block learn from each other's trials: after one
    that lost time, the next waits as long as the first would have."""
    outer, _local.shared = _shared(), {"lost": 0.0}
    try:
        yield
    finally:
        _local.shared = outer


@contextlib.contextmanager
def blas_one_thread():
    """Run the block with BLAS on one thread: for the small dense algebra of a
    fit (L-BFGS-B's vectors, the output basis's SVD), where a threaded BLAS
    only oversubscribes the cores the kernels use. Set around the work, not
    per call, with threadpoolctl's view of the loaded libraries taken once
    (`_blas_pools`): `threadpool_limits` scans them again each time, 0.6-1.6
    ms a block on a quiet machine and 5.5 ms on a busy one, three blocks a
    fit, against 0.01 ms.

    OpenBLAS's thread count is one for the whole process. So only the first
    of blocks that overlap, in any Python thread, sets and restores it; the
    others leave it alone. When each block set and restored it, a block that
    began inside another's (an ensemble's L-BFGS polishes run side by side)
    restored the one thread it had found, and BLAS stayed on one thread in
    the user's process for good. A block that outlasts the first runs on
    BLAS's own count for the rest; an ensemble's polishes run inside one
    block of the fit's thread, so they do not."""
    global _blas_blocks
    with _blas_lock:
        first = _blas_blocks == 0
        _blas_blocks += 1
    try:
        if first:
            with _blas_pools().limit(limits=1):
                yield
        else:
            yield
    finally:
        with _blas_lock:
            _blas_blocks -= 1


@functools.cache
def _blas_pools():
    """threadpoolctl's controller of the BLAS libraries loaded now: NumPy's,
    and SciPy's, which `_blas` loads at import (L-BFGS-B uses it). A BLAS
    loaded later (another package's) is not limited; our fits call neither."""
    from threadpoolctl import ThreadpoolController  # here: importing it costs every import of the package
    return ThreadpoolController().select(user_api="blas")


class Chooser:
    """Runs calls of one kind of work on the faster of 1 and `most` threads.

    threads: "auto" (choose between 1 and all Numba threads, measured) or
    an int (exactly that many, at most Numba's pool; no measuring).
    parallel: False when the work cannot use a second thread (a batch of one
    chunk); "auto" then runs it on one thread, unmeasured.
    units: the units of work expected in all (None: unknown, many); after
    the warm-up, work expected to take less than WORTH_SECONDS is not
    measured either. Use it as a context manager: inside, Numba runs on
    the chosen count.

    The phases: "warm" (one unit on one thread: first touch of buffers and
    caches, and a first time per unit), "wait" (one thread, only after a
    costly trial in the same `shared_trials` block), then each trial's
    "one" (about TRIAL_SECONDS on one thread) and "most" (pieces of 1, 2,
    4, ... units on all threads); `phase` is None between trials.
    """

    def __init__(self, threads="auto", parallel=True, units=None):
        pool = numba.config.NUMBA_NUM_THREADS
        if threads == "auto":
            self.most = numba.get_num_threads() if parallel else 1
        else:
            self.most = max(1, min(int(threads), pool))
        self.auto = threads == "auto" and self.most > 1
        self.best = 1 if self.auto else self.most
        self.phase = "warm" if self.auto else None
        self.recheck, self.trials = FIRST_RECHECK, 0  # TRIAL_SECONDS of work between trials; trials so far
        self.worked, self.lost = 0.0, 0.0             # seconds since the last trial, lost in it
        shared = _shared()
        self.first_wait = 0.0 if shared is None else shared["lost"] / MAX_OVERHEAD
        self.units = units
        self.taken = False                            # other processes filled the cores at the trial's start
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
            if self.phase is None and self.auto:  # up to the next trial
                size = self._units_to_trial()
            elif self.phase == "warm":
                size = 1
            elif self.phase == "wait":
                size = math.ceil((self.first_wait - self.worked) / self.unit_seconds)
            elif self.phase == "one":  # at the unit time on one thread of the last trial, if any
                size = math.ceil(TRIAL_SECONDS / (self.one or self.unit_seconds) - 1e-6)
            elif self.phase == "most":
                size = self.piece
            hi = min(units, lo + max(1, size))
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
            self.worked += seconds
            if self.auto and self._units_to_trial() <= 0:
                self._begin_trial()
        elif phase in ("warm", "wait"):
            self.worked += seconds
            if phase == "warm" and self.units is not None and self.unit_seconds * self.units < WORTH_SECONDS:
                self.auto, self.phase = False, None   # too little work to risk a trial on
            elif self.worked >= self.first_wait:
                self._begin_trial()
            else:
                self.phase = "wait"
        elif phase == "one":
            self.one, self.spent, self.done, self.piece = self.unit_seconds, 0.0, 0, 1
            self.phase = "most"
            if self.taken and cores_taken():  # at the trial's start and now: the answer, at no risk
                self.lost = 0.0
                self._decide(1)
                self.recheck = SKIP_RECHECK  # asking again costs two reads of /proc, not a stall
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

    def _begin_trial(self):
        """A trial's first phase; whether other processes fill the cores now is
        asked here and again at its end, the two reads some 5 ms apart."""
        self.phase, self.taken = "one", cores_taken()

    def _units_to_trial(self):
        """Units of work, at the last unit time, until the next trial is due: the
        work between trials is the larger of `recheck` x TRIAL_SECONDS and what
        the last trial lost / MAX_OVERHEAD. A millionth of a unit counts as
        none (round-off in the sum of seconds)."""
        due = max(self.recheck * TRIAL_SECONDS, self.lost / MAX_OVERHEAD)
        return math.ceil((due - self.worked) / self.unit_seconds - 1e-6)

    def _decide(self, faster):
        """Keep `faster`; trials come less often while the answer holds."""
        holds = faster == self.best and self.trials > 0  # the first answer is not yet a confirmation
        self.recheck = min(GROWTH * self.recheck, LAST_RECHECK) if holds else FIRST_RECHECK
        self.best, self.phase, self.worked = faster, None, 0.0
        self.trials += 1
        self.unit_seconds = self.one if faster == 1 else self.spent / self.done  # on the choice
        shared = _shared()
        if shared is not None:
            shared["lost"] = self.lost
