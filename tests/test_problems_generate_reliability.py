"""generate() under attack: hung and exiting solvers, killed parents, shared and read-only caches."""

import importlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import problems
from problems import Parameter, Problem

REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


class Hostile(Problem):
    """Test-only problem: the line a + b x, except that it hangs for a > 0.85
    and calls sys.exit for a < 0.1."""

    name = "hostile"
    description = "test double"
    parameters = (Parameter("a", 0.0, 1.0, "", "offset"), Parameter("b", 0.0, 1.0, "", "slope"))

    def __init__(self):
        self.grid = np.linspace(0.0, 1.0, 5)
        self.settings = {}

    def _solve(self, params):
        a, b = params
        if a > 0.85:
            time.sleep(3600)  # hung: only a kill ends it
        if a < 0.1:
            sys.exit(3)
        return a + b * self.grid


def expected_hostile(n, seed):
    X = problems.sample(Hostile(), n, seed=seed)
    return X, X[:, 0] > 0.85, X[:, 0] < 0.1


def children(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def gone(pid):
    """Exited (a zombie waiting for its reaper counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_until(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_solver_calling_sys_exit_is_a_recorded_failure_not_the_end_of_the_run():
    problem = Hostile()
    X = problems.sample(problem, 40, seed=4)
    X = X[X[:, 0] <= 0.85]  # no hangs here: no timeout given
    exits = X[:, 0] < 0.1
    assert exits.any() and not exits.all()

    from problems.generate import _solve_batch
    result = _solve_batch(problem, X, in_worker=False)
    np.testing.assert_array_equal(result.ok, ~exits)
    assert all(m == "SystemExit: 3" for m in np.array(result.messages)[exits])
    np.testing.assert_array_equal(result.Y[~exits], X[~exits, :1] + X[~exits, 1:] * problem.grid)


@pytest.mark.parametrize("workers", [1, 2])
def test_timeout_stops_hung_solves_records_them_and_keeps_the_rest(workers, tmp_path):
    n, seed = 24, 7
    X, hangs, exits = expected_hostile(n, seed)
    assert hangs.sum() >= 2 and exits.any()
    start = time.monotonic()
    with pytest.warns(RuntimeWarning, match=f"{int((hangs | exits).sum())} of {n} solves failed"):
        data = problems.generate(Hostile(), n, seed=seed, workers=workers, timeout=0.5, progress=False,
                                 batch_size=4, cache=tmp_path / "cache")
    assert time.monotonic() - start < 30  # the hour-long sleeps were killed
    assert multiprocessing.active_children() == []  # hung workers killed, replacements ended
    failures = {f["index"]: f["message"] for f in data.metadata["failures"]}
    assert sorted(failures) == np.flatnonzero(hangs | exits).tolist()
    for i in np.flatnonzero(hangs):
        assert failures[i].startswith("SolveTimeout: no result within timeout = 0.5 s")
    for i in np.flatnonzero(exits):
        assert failures[i] == "SystemExit: 3"
    good = ~(hangs | exits)
    np.testing.assert_array_equal(data.X, X[good])
    np.testing.assert_array_equal(data.Y, X[good, :1] + X[good, 1:] * Hostile().grid)
    # Batches with a timed-out solve are not cached: a rerun tries them again.
    batches_with_hang = {i // 4 for i in np.flatnonzero(hangs)}
    cached = {int(p.stem.split("_")[1]) for p in (tmp_path / "cache").glob("batch_*.npz")}
    assert cached == set(range(n // 4)) - batches_with_hang


def test_timeout_changes_nothing_when_every_solve_finishes():
    heat = problems.get("heat")
    plain = problems.generate(heat, 30, seed=1, workers=2, progress=False, batch_size=4)
    for workers in (1, 2):
        timed = problems.generate(heat, 30, seed=1, workers=workers, timeout=60, progress=False, batch_size=4)
        np.testing.assert_array_equal(timed.X, plain.X)
        np.testing.assert_array_equal(timed.Y, plain.Y)  # bitwise
    with pytest.raises(ValueError, match="`timeout` must be a positive number, got -1"):
        problems.generate(heat, 8, timeout=-1)


def test_timeout_counts_the_solve_not_the_start_of_its_worker(monkeypatch):
    """A worker slower to start than `timeout` (imports under "spawn", a busy
    machine) still solves its samples: the clock starts with the solve."""
    gen = importlib.import_module("problems.generate")
    start_up = gen._limit_worker_blas

    def slow_start(*args, **kwargs):  # runs in each forked worker before its first solve
        time.sleep(1.0)
        return start_up(*args, **kwargs)

    monkeypatch.setattr(gen, "_limit_worker_blas", slow_start)
    heat = problems.get("heat")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a failed solve would warn
        timed = problems.generate(heat, 6, seed=1, workers=2, timeout=0.5, progress=False, batch_size=2)
    assert timed.metadata["failures"] == []
    np.testing.assert_array_equal(timed.Y, problems.generate(heat, 6, seed=1, workers=1, progress=False).Y)


@pytest.mark.slow
def test_timeout_on_dask_abandons_the_task_and_records_it(local_cluster):
    distributed = pytest.importorskip("distributed")
    n, seed = 24, 7
    X, hangs, exits = expected_hostile(n, seed)

    class Sleepy(Hostile):  # hangs for 2 s, not an hour: the abandoned threads end soon after
        def _solve(self, params):
            if params[0] > 0.85:
                time.sleep(2)
            return super()._solve(np.minimum(params, 0.85))

    with local_cluster(n_workers=1, threads_per_worker=2, processes=False) as cluster, \
            distributed.Client(cluster) as client:
        with pytest.warns(RuntimeWarning, match="solves failed"):
            data = problems.generate(Sleepy(), n, seed=seed, client=client, timeout=0.3, progress=False,
                                     batch_size=4)
    failures = {f["index"]: f["message"] for f in data.metadata["failures"]}
    assert sorted(failures) == np.flatnonzero(hangs | exits).tolist()
    assert all(failures[i].startswith("SolveTimeout") for i in np.flatnonzero(hangs))


def test_numpy_integer_seed_is_the_same_run_as_the_int(tmp_path):
    heat = problems.get("heat")
    as_int = problems.generate(heat, 12, seed=5, workers=1, progress=False)
    as_numpy = problems.generate(heat, 12, seed=np.int64(5), workers=1, progress=False,
                                 cache=tmp_path / "cache")
    np.testing.assert_array_equal(as_numpy.Y, as_int.Y)
    assert as_numpy.metadata["seed"] == 5 and type(as_numpy.metadata["seed"]) is int
    back = problems.Dataset.load(as_numpy.save(tmp_path / "d.npz"))  # JSON metadata
    assert back.metadata["sampler"]["seed"] == 5
    again = problems.generate(heat, 12, seed=np.uint8(5), workers=1, progress=False, cache=tmp_path / "cache")
    assert again.metadata["cache"]["batches_computed"] == 0  # the same cache identity


SLOW = """
import sys, time
import problems
from problems.heat import Heat

class SlowHeat(Heat):
    # Same name and settings as Heat, so the same cache identity: slow only.
    def _solve(self, params):
        time.sleep(float(sys.argv[3]))
        return super()._solve(params)

if __name__ == "__main__":
    try:
        data = problems.generate(SlowHeat(), 64, seed=3, workers=int(sys.argv[4]), cache=sys.argv[1],
                                 progress=False, batch_size=2,
                                 timeout=float(sys.argv[5]) if len(sys.argv) > 5 else None)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    data.save(sys.argv[2])
"""


def start_slow(tmp_path, cache, out, sleep, workers, *extra):
    script = tmp_path / "slow_generate.py"
    script.write_text(textwrap.dedent(SLOW))
    return subprocess.Popen([sys.executable, str(script), str(cache), str(out), str(sleep), str(workers),
                             *map(str, extra)], env=ENV, cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def uninterrupted():
    return problems.generate("heat", 64, seed=3, workers=1, progress=False, batch_size=2)


@pytest.mark.slow
def test_two_runs_on_one_cache_both_finish_with_the_right_data(tmp_path):
    cache = tmp_path / "cache"
    runs = [start_slow(tmp_path, cache, tmp_path / f"run{i}.npz", 0.01, 2) for i in range(2)]
    for proc in runs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    expected = uninterrupted()
    for i in range(2):
        data = problems.Dataset.load(tmp_path / f"run{i}.npz")
        np.testing.assert_array_equal(data.X, expected.X)
        np.testing.assert_array_equal(data.Y, expected.Y)
    assert len(list(cache.glob("batch_*.npz"))) == 32 and not list(cache.glob(".*"))


def test_runs_racing_to_create_a_cache_share_it(tmp_path, monkeypatch):
    # Both runs saw no manifest; the other run writes its own (and a batch)
    # just before this one claims the name: this one must join that cache,
    # not overwrite its manifest nor call the directory foreign.
    from problems._cache import MANIFEST, Cache
    identity, versions = {"n": 4}, {"numpy": np.__version__}
    claim = Cache._claim

    def lose_the_race(self, manifest, text):
        assert claim(self, manifest, text.replace('"n": 4', '"n": 4, "by": "other"'))
        (self.path / "batch_000000.npz").write_bytes(b"the other run's")
        monkeypatch.setattr(Cache, "_claim", claim)
        return claim(self, manifest, text)

    monkeypatch.setattr(Cache, "_claim", lose_the_race)
    with pytest.raises(ValueError, match=r"other arguments \(by: cache has 'other'"):
        Cache(tmp_path / "c", identity, versions)  # joined, and found the other's identity
    assert '"by": "other"' in (tmp_path / "c" / MANIFEST).read_text()
    assert Cache(tmp_path / "c", dict(identity, by="other"), versions).path == tmp_path / "c"


READ_ONLY = """
import sys
import numpy as np
import problems
from problems.heat import Heat

class Loud(Heat):
    def _solve(self, params):
        print("SOLVED", flush=True)
        return super()._solve(params)

try:
    problems.generate(Loud(), 8, seed=0, workers=1, cache=sys.argv[1], progress=False, batch_size=2)
except ValueError as err:
    print("ValueError:", err)
"""


def unprivileged():
    """A command prefix under which file permissions bind, even for root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: permissions do not bind")
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}"]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_read_only_or_half_complete_cache_is_refused_before_any_solve():
    prefix = unprivileged()
    with tempfile.TemporaryDirectory() as top:
        top = Path(top)
        cache = top / "cache"
        problems.generate("heat", 8, seed=0, workers=1, cache=cache, progress=False, batch_size=2)
        (cache / "batch_000002.npz").unlink()  # half complete
        script = top / "try.py"
        script.write_text(READ_ONLY)
        for target in (cache, top / "new" / "cache"):
            os.chmod(top, 0o555)
            os.chmod(cache, 0o555)
            try:
                proc = subprocess.run([*prefix, sys.executable, str(script), str(target)], env=ENV,
                                      cwd=top, capture_output=True, text=True, timeout=120)
            finally:
                os.chmod(top, 0o755)
                os.chmod(cache, 0o755)
            assert proc.returncode == 0, proc.stderr
            assert "SOLVED" not in proc.stdout
            assert "ValueError: `cache` directory" in proc.stdout
            assert ("not writable" if target == cache else "cannot be made") in proc.stdout
        # A complete read-only cache is only read: nothing to store, no error.
        problems.generate("heat", 8, seed=0, workers=1, cache=cache, progress=False, batch_size=2)
        os.chmod(cache, 0o555)
        try:
            proc = subprocess.run([*prefix, sys.executable, str(script), str(cache)], env=ENV, cwd=top,
                                  capture_output=True, text=True, timeout=120)
        finally:
            os.chmod(cache, 0o755)
        assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and the fork start method")
@pytest.mark.parametrize("timeout", [None, 30])
def test_workers_exit_when_the_parent_is_killed(tmp_path, timeout):
    cache = tmp_path / "cache"
    extra = () if timeout is None else (timeout,)
    proc = start_slow(tmp_path, cache, tmp_path / "out.npz", 0.1, 3, *extra)
    workers = []
    try:
        wait_until(lambda: len(list(cache.glob("batch_*.npz"))) >= 2, 60, "no batch finished in 60 s")
        workers = children(proc.pid)
        assert len(workers) >= 2, workers  # the pool (and its resource tracker, if any)
        os.kill(proc.pid, signal.SIGKILL)  # the parent alone, not its process group
        proc.wait()
        wait_until(lambda: all(gone(pid) for pid in workers), 5, "workers outlived their parent by 5 s")
    finally:
        for pid in [proc.pid, *workers]:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        proc.communicate()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and the fork start method")
@pytest.mark.parametrize("timeout", [None, 30])
def test_keyboard_interrupt_ends_the_workers_and_leaves_the_cache_whole(tmp_path, timeout):
    cache = tmp_path / "cache"
    extra = () if timeout is None else (timeout,)
    proc = start_slow(tmp_path, cache, tmp_path / "out.npz", 0.5, 3, *extra)
    workers = []
    try:
        wait_until(lambda: len(list(cache.glob("batch_*.npz"))) >= 2, 60, "no batch finished in 60 s")
        workers = children(proc.pid)
        os.kill(proc.pid, signal.SIGINT)  # as Ctrl-C, but to the parent only
        out, err = proc.communicate(timeout=10)  # not after the 0.5 s solves of every queued batch
        assert proc.returncode == 130 and out.strip() == "interrupted", err
        wait_until(lambda: all(gone(pid) for pid in workers), 5, "workers outlived the interrupt by 5 s")
    finally:
        for pid in [proc.pid, *workers]:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
    assert not list(cache.glob(".*"))  # no temporary files left
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unusable batch
        resumed = problems.generate("heat", 64, seed=3, workers=2, cache=cache, progress=False,
                                    batch_size=2)
    assert 2 <= resumed.metadata["cache"]["batches_loaded"] < 32
    np.testing.assert_array_equal(resumed.Y, uninterrupted().Y)


def test_cache_files_get_the_permissions_open_would_give(tmp_path):
    # Fixed by the house issue (was 0600 from mkstemp): 0666 less the umask.
    old = os.umask(0o022)
    try:
        problems.generate("heat", 8, seed=0, workers=1, cache=tmp_path / "cache", progress=False, batch_size=4)
    finally:
        os.umask(old)
    files = sorted((tmp_path / "cache").iterdir())
    assert [p.name for p in files] == ["batch_000000.npz", "batch_000001.npz", "manifest.json"]
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in files)
