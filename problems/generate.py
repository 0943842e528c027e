"""Run a problem's solver over sampled parameters: parallel and resumable.

The samples are cut into batches of consecutive points (the cut depends
only on ``n`` and ``batch_size``, never on the number of workers), so that
cheap solvers cost one task per batch, not one per sample.  Each sample is
solved independently with single-threaded BLAS, whichever executor runs it,
so the same arguments give bitwise the same profiles on one process, many
processes or a Dask cluster.  At most a few batches per worker are in
flight at a time: memory beyond the dataset itself does not grow with n.

Local worker processes watch their parent through a pipe whose only
writer is the parent: when the parent dies (even by SIGKILL) the pipe
reads end-of-file and the workers exit, rather than wait forever for work.
With a ``timeout`` each sample is sent alone to a worker process, and a
worker still solving at its deadline is killed and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import platform
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing.connection import wait as wait_for_connections

import numpy as np

from ._cache import BatchResult, Cache
from .base import Problem, check_positive_float, check_positive_int, single_threaded_blas, threadpool_limits
from .dataset import Dataset
from .sampling import METHODS, sample

__all__ = ["generate", "solve_points"]

_worker_blas_limit = None


def _limit_worker_blas(inherited=False):
    """In a worker process, keep BLAS single-threaded for the process's life.

    Parallelism is across samples: a threaded BLAS inside each solve would
    fight the other workers for the cores, and a fixed thread count keeps
    results bitwise the same on every executor.  It is process-wide, so
    concurrent Dask threads must not each set and restore it: set it once.

    inherited: the worker was forked while the parent held the limit, so it
    runs with one BLAS thread already and must not set it again.  OpenBLAS
    stops its thread pool at fork, and setting the thread count (even to 1)
    starts a new pool whose threads busy-wait ~0.1 s each (two libraries,
    numpy's and scipy's): on a 2-core machine that was most of the cost of
    a 0.26 s run.
    """
    global _worker_blas_limit
    if inherited:
        _worker_blas_limit = "inherited from the parent at fork"
    elif _worker_blas_limit is None:
        _worker_blas_limit = threadpool_limits(limits=1, user_api="blas")


def _solve_batch(problem, X_batch, in_worker=True, timeout=None):
    """Solve every row of X_batch; a failure is recorded, never raised.

    Any exception of the solver is a failure, SystemExit included (a solver
    that calls sys.exit must not end the run); only KeyboardInterrupt, the
    user's, goes through.  timeout: each solve runs in a thread that is
    abandoned (left to finish on its own) if it has not returned within
    ``timeout`` seconds: the Dask executor's way, which cannot kill a task.
    """
    if in_worker:
        _limit_worker_blas()
    b, m = X_batch.shape[0], problem.grid.size
    Y = np.full((b, m), np.nan)
    ok = np.zeros(b, dtype=bool)
    messages = [""] * b
    timed_out = False
    start = time.perf_counter()
    for i, x in enumerate(X_batch):
        try:
            y = problem.solve(x) if timeout is None else _solve_in_thread(problem, x, timeout)
            n_bad = int(np.count_nonzero(~np.isfinite(y)))
            if n_bad:
                raise FloatingPointError(f"non-finite profile ({n_bad} of {y.size} values)")
            Y[i], ok[i] = y, True
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001 - any solver failure is data
            messages[i] = f"{type(err).__name__}: {err}"
            timed_out |= isinstance(err, SolveTimeout)
    return BatchResult(Y, ok, messages, time.perf_counter() - start, timed_out)


class SolveTimeout(Exception):
    """A solve that did not finish within the run's ``timeout``."""

    def __init__(self, timeout):
        super().__init__(f"no result within timeout = {timeout:g} s; the solve was stopped")


def _solve_in_thread(problem, x, timeout):
    box = []

    def target():
        try:
            box.append((True, problem.solve(x)))
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            box.append((False, err))

    thread = threading.Thread(target=target, daemon=True, name="solve")
    thread.start()
    thread.join(timeout)
    if not box:
        raise SolveTimeout(timeout)
    solved, value = box[0]
    if not solved:
        raise value
    return value


# --------------------------------------------------------- the parent's pipe
class ParentWatch:
    """A pipe whose write end only this process holds: its children read EOF when it dies.

    ``prctl(PR_SET_PDEATHSIG)`` would fire when the forking *thread* ends (a
    notebook's or Dask's worker thread), not the process; a pipe closes
    only with the last process holding its write end.
    """

    def __init__(self):
        self.read_end, self.write_end = os.pipe()

    def release(self):
        """Close the write end now: every watching child exits."""
        for fd in (self.write_end, self.read_end):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.write_end = self.read_end = -1


def _watch_parent(read_end, write_end):
    """In a forked child: exit as soon as the parent's pipe reads EOF.

    Siblings forked later inherit the write end too, and each closes its
    copy here, so the parent's is the last.  SIGINT is the parent's to
    handle: it ends its workers by closing the pipe.
    """
    os.close(write_end)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def wait_for_eof():
        while os.read(read_end, 1):
            pass
        os._exit(1)

    threading.Thread(target=wait_for_eof, daemon=True, name="parent-watch").start()


def _pool_worker_start(inherited, watch):
    if watch is not None:
        _watch_parent(*watch)
    _limit_worker_blas(inherited)


# ------------------------------------------------------------------ executors
def _run_serial(problem, tasks):
    # In the caller's own process: limit BLAS for this run only.
    with single_threaded_blas():
        for k, X_batch in tasks:
            yield k, _solve_batch(problem, X_batch, in_worker=False)


def _pool_context():
    # fork starts a worker in ~10 ms against ~0.5 s for spawn (which
    # re-imports numpy and scipy), and cheap solvers need the difference.
    # macOS (fork unsafe with its system libraries) and Windows keep their
    # default.
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def _run_pool(problem, tasks, executor, window, work_here=False):
    """An iterator of (k, result) as batches finish, at most ``window`` submitted at a time.

    work_here: this process solves batches too, whenever no result is
    waiting, instead of idling in wait().  It is one of the cores the run
    was given, and a millisecond solver cannot pay for the IPC of sending
    every batch away.  It takes batches not yet submitted and, once there
    are none left, takes back submitted ones that no worker has started
    (a ProcessPoolExecutor future can be cancelled until it is handed to a
    worker), so the run does not end waiting on a queue of batches.
    """
    pending = {}
    tasks = iter(tasks)

    def submit_next():
        for k, X_batch in tasks:
            pending[executor.submit(_solve_batch, problem, X_batch)] = (k, X_batch)
            return True
        return False

    def take_here():
        # A batch for this process: a fresh one, or the newest unstarted one.
        for k, X_batch in tasks:
            return k, X_batch
        for future in reversed(list(pending)):
            if future.cancel():
                return pending.pop(future)
        return None

    # The first window goes now, not at the first next(): the pool forks its
    # workers on the first submit, and fork is safest before the progress
    # bar starts its monitor thread.
    while len(pending) < window and submit_next():
        pass
    return _drain(problem, pending, take_here if work_here else None, submit_next)


def _drain(problem, pending, take_here, submit_next):
    try:
        while pending:
            done = [future for future in pending if future.done()]
            if not done and take_here is not None:
                mine = take_here()
                if mine is not None:
                    yield mine[0], _solve_batch(problem, mine[1], in_worker=False)
                    continue
            if not done:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                k, _ = pending.pop(future)
                yield k, future.result()
                submit_next()
    finally:
        for future in pending:
            future.cancel()


# A timed worker says STARTED as it begins each solve: the timeout counts the
# solve, not the worker's start-up (seconds of imports under "spawn") or a
# busy machine's delay in scheduling it. Until then the sample may wait
# START_SECONDS more.
STARTED = "started"
START_SECONDS = 60.0


def _timed_worker(conn, problem, watch):
    if watch is not None:
        _watch_parent(*watch)
    _limit_worker_blas(inherited=watch is not None)
    while True:
        try:
            x = conn.recv()
        except EOFError:
            return
        conn.send(STARTED)
        conn.send(_solve_batch(problem, x[None, :], in_worker=False))


def _run_timed(problem, tasks, workers, timeout, context):
    """Batches solved one sample at a time by ``workers`` child processes, each
    killed and replaced when a solve passes ``timeout`` seconds (a hung
    solver may sit in compiled code that no exception can interrupt).
    """
    watch = ParentWatch()
    forked = context.get_start_method() == "fork"
    slots = []   # per worker: [process, connection, (k, i) or None, deadline]
    batches = {}  # k -> [Y, ok, messages, seconds, timed out, samples left]
    queue = []    # (k, i, x) not yet sent
    tasks = iter(tasks)

    def start_worker():
        parent, child = context.Pipe()
        proc = context.Process(target=_timed_worker, args=(child, problem,
                               (watch.read_end, watch.write_end) if forked else None), daemon=True)
        proc.start()
        child.close()
        return [proc, parent, None, 0.0]

    def stop(slot):
        slot[0].kill()
        slot[0].join()
        slot[1].close()

    def record(k, i, result):
        Y, ok, messages = batches[k][:3]
        Y[i], ok[i], messages[i] = result.Y[0], result.ok[0], result.messages[0]
        batches[k][3] += result.seconds
        batches[k][4] |= result.timed_out
        batches[k][5] -= 1

    try:
        with single_threaded_blas():  # forked workers inherit one BLAS thread
            slots = [start_worker() for _ in range(workers)]
        while True:
            for slot in slots:
                if slot[2] is None:
                    if not queue:
                        for k, X_batch in tasks:
                            b = X_batch.shape[0]
                            batches[k] = [np.full((b, problem.grid.size), np.nan),
                                          np.zeros(b, dtype=bool), [""] * b, 0.0, False, b]
                            queue = [(k, i, x) for i, x in enumerate(X_batch)]
                            break
                    if queue:
                        k, i, x = queue.pop(0)
                        slot[1].send(x)
                        slot[2], slot[3] = (k, i), time.monotonic() + START_SECONDS + timeout
            busy = [slot for slot in slots if slot[2] is not None]
            if not busy:
                return
            ready = wait_for_connections([slot[1] for slot in busy],
                                         max(0.0, min(slot[3] for slot in busy) - time.monotonic()))
            now = time.monotonic()
            for j, slot in enumerate(slots):
                if slot[2] is None:
                    continue
                k, i = slot[2]
                result = None
                if slot[1] in ready:
                    try:
                        result = slot[1].recv()
                    except EOFError:  # the worker died mid-solve
                        slot[0].join()
                        result = _failure(problem, f"WorkerDied: the solving process ended "
                                                   f"with exit code {slot[0].exitcode}")
                    if isinstance(result, str) and result == STARTED:
                        slot[3] = now + timeout
                        continue
                elif now >= slot[3]:
                    result = _failure(problem, f"{SolveTimeout.__name__}: {SolveTimeout(timeout)}",
                                      timeout, timed_out=True)
                if result is None:
                    continue
                if not slot[0].is_alive() or result.timed_out:
                    stop(slot)
                    with single_threaded_blas():
                        slots[j] = start_worker()
                else:
                    slot[2] = None
                record(k, i, result)
                if batches[k][5] == 0:
                    Y, ok, messages, seconds, timed_out, _ = batches.pop(k)
                    yield k, BatchResult(Y, ok, messages, seconds, timed_out)
    finally:
        watch.release()  # every worker exits, even one blocked in a solve
        for slot in slots:
            stop(slot)


def _failure(problem, message, seconds=0.0, timed_out=False):
    return BatchResult(np.full((1, problem.grid.size), np.nan), np.zeros(1, dtype=bool),
                       [message], seconds, timed_out)


def _run_dask(problem, tasks, client, window, timeout=None):
    from distributed import as_completed

    problem_future = client.scatter(problem, broadcast=True)
    keys = {}
    tasks = iter(tasks)

    def submit(k, X_batch):
        future = client.submit(_solve_batch, problem_future, X_batch, timeout=timeout, pure=False)
        keys[future.key] = k
        return future

    first = []
    for k, X_batch in tasks:
        first.append(submit(k, X_batch))
        if len(first) >= window:
            break
    completed = as_completed(first, loop=client.loop)  # this client: it need not be the default one
    try:
        for future in completed:
            k = keys.pop(future.key)
            result = future.result()
            future.release()
            yield k, result
            for k_next, X_next in tasks:
                completed.add(submit(k_next, X_next))
                break
    finally:
        client.cancel(list(completed.futures))


def _end_workers_on_interrupt(watch):
    """An exit callback: on KeyboardInterrupt close the pipe, so the workers
    exit now rather than the pool's shutdown waiting for their solves."""
    def callback(exc_type, exc, traceback):
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            watch.release()
        return False
    return callback


# ------------------------------------------------------------------- helpers
def default_batch_size(n):
    """About 64 batches: enough to balance the load, few enough to be cheap."""
    return max(1, -(-n // 64))


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    import scipy

    out = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__}
    # Read from the installed metadata: importing numba just for this costs ~0.3 s.
    for dist in ("numba", "surrogate-toolkit"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _progress_bar(progress, total, initial, desc):
    from tqdm.auto import tqdm

    # True: a bar. None: a bar only on a terminal (tqdm's own test, disable=None)
    # and only for runs that last more than 2 s. Redrawn at most twice a second.
    return tqdm(total=total, initial=initial, desc=desc, unit="sample",
                disable=None if progress is None else not progress, delay=0.0 if progress else 2.0,
                mininterval=0.5)


# ------------------------------------------------------------------ the run
def _check_run(problem, progress, client, workers):
    """The arguments `generate` and `solve_points` share, checked; returns (problem, workers)."""
    if isinstance(problem, str):
        from . import get
        problem = get(problem)
    if not isinstance(problem, Problem):
        raise ValueError(f"`problem` must be a problems.Problem or a problem name, got {problem!r}")
    if progress not in (None, True, False):
        raise ValueError(f"`progress` must be True, False or None, got {progress!r}")
    if client is not None and workers is not None:
        raise ValueError(f"give either `workers` (local processes) or `client` (Dask), not both; "
                         f"got workers={workers!r} and a client")
    if client is None:
        workers = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1) if workers is None else check_positive_int("workers", workers, 1)
    return problem, workers


def _identity(problem):
    """What makes two problems give the same profiles: part of every cache identity."""
    return {"problem": problem.name, "settings": problem.settings,
            "box": {"lower": problem.lower.tolist(), "upper": problem.upper.tolist()},
            "grid_sha256": hashlib.sha256(problem.grid.tobytes()).hexdigest()}


def _solve_design(problem, X, identity, batch_size, workers, client, cache, progress, sampler, seed,
                  timeout):
    """Solve every row of X in batches, through the cache; the Dataset of the solved rows."""
    n = X.shape[0]
    m = problem.grid.size
    starts = list(range(0, n, batch_size))
    versions = _versions()
    store = Cache(cache, identity, versions) if cache is not None else None

    Y = np.full((n, m), np.nan)
    ok = np.zeros(n, dtype=bool)
    messages = [""] * n
    seconds = np.zeros(len(starts))

    def place(k, result):
        a = starts[k]
        b = a + result.ok.size
        Y[a:b], ok[a:b], messages[a:b], seconds[k] = result.Y, result.ok, result.messages, result.seconds

    todo = []
    for k, a in enumerate(starts):
        result = store.load(k, a, X[a:a + batch_size], m) if store is not None else None
        if result is None:
            todo.append(k)
        else:
            place(k, result)
    if store is not None and todo:
        store.check_writable()  # before any solve, not at the first finished batch
    n_loaded = len(starts) - len(todo)
    tasks = ((k, X[starts[k]:starts[k] + batch_size]) for k in todo)
    n_todo = sum(min(batch_size, n - starts[k]) for k in todo)

    wall = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if client is not None:
            kind = "dask"
            runner = _run_dask(problem, tasks, client, window=4 * max(1, len(client.nthreads())),
                               timeout=timeout)
        elif timeout is not None:
            kind = "processes"
            runner = _run_timed(problem, tasks, min(workers, max(1, n_todo)), timeout,
                                _pool_context() or multiprocessing.get_context())
        elif workers == 1 or len(todo) <= 1:
            kind = "serial"
            runner = _run_serial(problem, tasks)
        else:
            kind = "processes"
            # This process is one of the `workers`: it solves batches too
            # (see _run_pool), so the pool has workers - 1 processes.  It
            # holds the BLAS limit before the pool forks, so forked workers
            # inherit one BLAS thread (see _limit_worker_blas).
            context = _pool_context()
            forked = context is not None and context.get_start_method() == "fork"
            stack.enter_context(single_threaded_blas())
            watch = ParentWatch() if forked else None
            if watch is not None:  # closed last: after the pool has joined its workers
                stack.callback(watch.release)
            executor = stack.enter_context(ProcessPoolExecutor(
                workers - 1, mp_context=context, initializer=_pool_worker_start,
                initargs=(forked, None if watch is None else (watch.read_end, watch.write_end))))
            if watch is not None:
                stack.push(_end_workers_on_interrupt(watch))
            # Two batches in flight per worker: one running, one queued so it
            # need not wait while this process finishes a batch of its own.
            # More would be handed to the worker early (the pool queues
            # calls ahead) and the run would end waiting on them: 40 burgers
            # samples took 5% longer with four.
            runner = _run_pool(problem, tasks, executor, window=2 * (workers - 1), work_here=True)
        bar = stack.enter_context(_progress_bar(progress, n, n - n_todo, problem.name))
        stack.callback(runner.close)
        for k, result in runner:
            place(k, result)
            if store is not None and not result.timed_out:
                store.store(k, starts[k], X[starts[k]:starts[k] + batch_size], result)
            bar.update(result.ok.size)
    wall = time.perf_counter() - wall

    names = problem.param_names
    failures = [{"index": i, "params": dict(zip(names, X[i].tolist())), "message": messages[i]}
                for i in np.flatnonzero(~ok).tolist()]
    if failures:
        warnings.warn(f"{problem.name}: {len(failures)} of {n} solves failed and were left out; "
                      f"first: {failures[0]['message']} at {failures[0]['params']}. "
                      f"See dataset.metadata['failures'].", RuntimeWarning, stacklevel=3)
    metadata = problem.describe()
    metadata.update({
        "sampler": sampler,
        "seed": seed,
        "n_failed": len(failures),
        "failures": failures,
        "solver_seconds_per_profile": float(seconds.sum() / n),
        "executor": {"kind": kind, "workers": (1 if kind == "serial" else workers) if client is None
                     else len(client.nthreads())},
        "wall_seconds": wall,
        "cache": None if store is None else {"path": str(store.path), "batches_loaded": n_loaded,
                                             "batches_computed": len(todo)},
        "versions": versions,
    })
    return Dataset(X[ok], Y[ok], problem.grid, names, metadata, problem.grid_name,
                   problem.grid_unit, problem.output_name, problem.output_unit)


# ------------------------------------------------------------------ generate
def generate(problem, n, method="sobol", seed=0, workers=None, client=None, cache=None,
             progress=None, batch_size=None, timeout=None):
    """Solve ``problem`` at ``n`` sampled parameter points; returns a Dataset.

    problem     a :class:`Problem` or a problem name (``problems.names()``).
    n, method, seed
                the design, as in :func:`problems.sample`.
    workers     local processes (default: all CPUs); 1 runs in this process.
    client      a ``dask.distributed.Client``: run the batches on its cluster
                instead (then leave ``workers`` unset).
    cache       a directory: finished batches are written there as they
                complete, and a rerun with the same arguments computes only
                what is missing.  A cache made with other arguments is refused.
    progress    True, False, or None (a bar on a terminal, if the run lasts more than 2 s).
    batch_size  samples per task (default about n / 64); part of the cache identity.
    timeout     seconds one solve may take, or None (the default: wait for
                ever, so a hung solver hangs the run).  A solve still running
                at its deadline is stopped and recorded as a failure.  Local
                solves then run one sample at a time in child processes
                (also with ``workers=1``), and a worker past its deadline is
                killed and replaced; on Dask the solve runs in a thread of
                the task, which is abandoned (left to finish on its own).  A
                batch with a timed-out solve is not cached: a rerun tries it
                again.

    Worker processes (and Dask workers, which may be threads of this
    process) keep BLAS single-threaded: parallelism is across samples.

    A sample whose solver raises (any exception, SystemExit included) or
    returns a non-finite profile is left out and recorded in
    ``metadata["failures"]`` (parameters and message), with a warning.
    KeyboardInterrupt stops the run: the workers end, and the cache keeps
    every batch finished before it.  X, Y and the failures are bitwise the same for any executor;
    timings in the metadata are not.
    """
    problem, workers = _check_run(problem, progress, client, workers)
    n = check_positive_int("n", n, 1)
    seed = check_positive_int("seed", seed, 0)  # a plain int: np.int64 is not JSON
    if timeout is not None:
        timeout = check_positive_float("timeout", timeout)
    if method not in METHODS:  # checked here too so the error comes before any work
        raise ValueError(f"unknown sampling method {method!r}; choose one of {', '.join(map(repr, METHODS))}")
    batch_size = default_batch_size(n) if batch_size is None else check_positive_int("batch_size", batch_size, 1)
    X = sample(problem, n, method, seed)
    identity = dict(_identity(problem), n=n, method=method, seed=seed, batch_size=batch_size)
    return _solve_design(problem, X, identity, batch_size, workers, client, cache, progress,
                         {"method": method, "seed": seed, "n": n, "batch_size": batch_size}, seed, timeout)


def solve_points(problem, X, workers=None, client=None, cache=None, progress=None, batch_size=None,
                 timeout=None):
    """Solve ``problem`` at given parameter points X (n, d); returns a Dataset.

    :func:`generate` for a design chosen elsewhere (e.g. by adaptive
    sampling): the same executors, cache and failure records.  The cache
    identity holds a SHA-256 of X's bytes, so a cache made for other points
    is refused.  ``metadata["sampler"]`` is ``{"method": "points", ...}`` and
    ``metadata["failures"]`` index rows of X.

    timeout     seconds one solve may take, or None, as in :func:`generate`.
    """
    problem, workers = _check_run(problem, progress, client, workers)
    if timeout is not None:
        timeout = check_positive_float("timeout", timeout)
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] != problem.n_inputs:
        raise ValueError(f"`X` must have shape (n >= 1, {problem.n_inputs}) for {problem.name}, "
                         f"got {X.shape}")
    lower, upper = problem.lower, problem.upper
    outside = np.flatnonzero(~np.all((X >= lower) & (X <= upper), axis=1))  # NaN is outside too
    if outside.size:
        i = int(outside[0])
        raise ValueError(f"`X` row {i} = {X[i].tolist()} is outside the box of {problem.name} "
                         f"({outside.size} rows are); lower {lower.tolist()}, upper {upper.tolist()}")
    n = X.shape[0]
    batch_size = default_batch_size(n) if batch_size is None else check_positive_int("batch_size", batch_size, 1)
    identity = dict(_identity(problem), n=n, method="points",
                    points_sha256=hashlib.sha256(X.tobytes()).hexdigest(), batch_size=batch_size)
    return _solve_design(problem, X, identity, batch_size, workers, client, cache, progress,
                         {"method": "points", "n": n, "batch_size": batch_size}, None, timeout)
