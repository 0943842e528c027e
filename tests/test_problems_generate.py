"""generate(): reproducible on any executor, resumable after SIGKILL, failures recorded."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import problems
from problems import Parameter, Problem

REPO = Path(__file__).resolve().parents[1]


class Flaky(Problem):
    """Test-only problem: a line a + b x that raises for a > 0.8, is NaN for b > 0.9."""

    name = "flaky"
    description = "test double"
    parameters = (Parameter("a", 0.0, 1.0, "", "offset"), Parameter("b", 0.0, 1.0, "", "slope"))

    def __init__(self):
        self.grid = np.linspace(0.0, 1.0, 5)
        self.settings = {"kind": "line"}

    def _solve(self, params):
        a, b = params
        if a > 0.8:
            raise RuntimeError(f"diverged at a={a:.3f}")
        if b > 0.9:
            return np.full(self.grid.size, np.nan)
        return a + b * self.grid


def same_data(d1, d2):
    return (np.array_equal(d1.X, d2.X) and np.array_equal(d1.Y, d2.Y)
            and d1.metadata["failures"] == d2.metadata["failures"])


@pytest.mark.parametrize("name, n", [("heat", 64), ("pinch", 32), ("schrodinger", 32), ("burgers", 4)])
def test_one_and_two_workers_give_bitwise_the_same_dataset(name, n):
    problem = problems.get(name)
    one = problems.generate(problem, n, seed=2, workers=1, progress=False, batch_size=3)
    two = problems.generate(problem, n, seed=2, workers=2, progress=False, batch_size=3)
    assert one.metadata["executor"]["kind"] == "serial" and two.metadata["executor"]["kind"] == "processes"
    assert same_data(one, two)
    assert len(one) == n
    np.testing.assert_array_equal(one.X, problems.sample(problem, n, seed=2))
    # Each row is the solver's answer for that row's parameters.
    np.testing.assert_array_equal(one.Y[n // 2], problem.solve(one.X[n // 2]))


def test_dask_local_cluster_gives_the_same_dataset(local_cluster):
    distributed = pytest.importorskip("distributed")
    heat = problems.get("heat")
    local = problems.generate(heat, 48, seed=5, workers=2, progress=False)
    with local_cluster(n_workers=1, threads_per_worker=2, processes=False) as cluster, \
            distributed.Client(cluster) as client:
        remote = problems.generate(heat, 48, seed=5, client=client, progress=False)
        with pytest.warns(RuntimeWarning, match="solves failed"):
            flaky = problems.generate(Flaky(), 40, seed=1, client=client, progress=False)
    assert remote.metadata["executor"]["kind"] == "dask"
    assert same_data(local, remote)
    with pytest.warns(RuntimeWarning):
        assert same_data(flaky, problems.generate(Flaky(), 40, seed=1, workers=1, progress=False))


class BlasProbe(Problem):
    """Test-only problem whose profile is [BLAS threads, OS threads] of the solving process."""

    name = "blas-probe"
    description = "test double"
    parameters = (Parameter("a", 0.0, 1.0, "", "unused"),)

    def __init__(self):
        self.grid = np.array([0.0, 1.0])
        self.settings = {}

    def _solve(self, params):
        from threadpoolctl import threadpool_info
        blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
        return np.array([max(blas, default=1), len(os.listdir("/proc/self/task"))], dtype=float)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method and /proc")
def test_workers_run_single_threaded_blas_without_starting_a_blas_thread_pool():
    pytest.importorskip("threadpoolctl")
    data = problems.generate(BlasProbe(), 16, workers=2, progress=False, batch_size=1)
    assert data.metadata["executor"] == {"kind": "processes", "workers": 2}
    # One BLAS thread everywhere (bitwise reproducibility), and the forked
    # worker inherits it rather than setting it, which would start OpenBLAS
    # threads that busy-wait ~0.1 s each: two OS threads per worker process,
    # its own and the one watching the parent's pipe.  (The parent solves
    # batches too and has the pool's threads.)
    assert np.all(data.Y[:, 0] == 1)
    assert np.any(data.Y[:, 1] == 2)


def test_failures_are_recorded_left_out_and_warned_about():
    problem = Flaky()
    X = problems.sample(problem, 64, seed=1)
    expected_bad = np.flatnonzero((X[:, 0] > 0.8) | (X[:, 1] > 0.9))
    assert 0 < expected_bad.size < 64
    with pytest.warns(RuntimeWarning, match=rf"{expected_bad.size} of 64 solves failed"):
        data = problems.generate(problem, 64, seed=1, workers=2, progress=False, batch_size=5)
    failures = data.metadata["failures"]
    assert [f["index"] for f in failures] == expected_bad.tolist()
    assert data.metadata["n_failed"] == expected_bad.size
    for f in failures:
        a, b = X[f["index"]]
        assert f["params"] == {"a": a, "b": b}
        assert ("RuntimeError: diverged" in f["message"]) if a > 0.8 else ("non-finite profile" in f["message"])
    good = np.setdiff1d(np.arange(64), expected_bad)
    np.testing.assert_array_equal(data.X, X[good])
    np.testing.assert_array_equal(data.Y, X[good, :1] + X[good, 1:] * problem.grid)


def test_metadata_describes_the_run(tmp_path):
    data = problems.generate("pinch", 16, method="halton", seed=9, workers=1, progress=False)
    meta = data.metadata
    assert meta["problem"] == "pinch"
    assert meta["box"]["lower"] == problems.get("pinch").lower.tolist()
    assert meta["sampler"] == {"method": "halton", "seed": 9, "n": 16, "batch_size": 1}
    assert meta["settings"] == problems.get("pinch").settings
    assert meta["solver_seconds_per_profile"] > 0 and meta["failures"] == []
    assert {"numpy", "scipy", "python"} <= set(meta["versions"])
    back = problems.Dataset.load(data.save(tmp_path / "pinch.npz"))
    assert back.metadata == meta and (back.grid_name, back.grid_unit) == ("r", "m")


def test_cache_resumes_and_refuses_other_arguments(tmp_path):
    heat = problems.get("heat")
    cache = tmp_path / "cache"
    first = problems.generate(heat, 30, seed=1, workers=2, cache=cache, progress=False, batch_size=4)
    assert first.metadata["cache"]["batches_computed"] == 8
    # Lose three batches: only those are computed again.
    for k in (0, 3, 7):
        (cache / f"batch_{k:06d}.npz").unlink()
    again = problems.generate(heat, 30, seed=1, workers=1, cache=cache, progress=False, batch_size=4)
    assert again.metadata["cache"] == {"path": str(cache), "batches_loaded": 5, "batches_computed": 3}
    assert same_data(first, again)
    for changed in ({"n": 31}, {"seed": 2}, {"batch_size": 5}, {"method": "lhs"}):
        args = dict(n=30, seed=1, batch_size=4, method="sobol") | changed
        key = next(iter(changed))
        with pytest.raises(ValueError, match=rf"other arguments \({key}: cache has"):
            problems.generate(heat, workers=1, cache=cache, progress=False, **args)
    with pytest.raises(ValueError, match="settings"):
        problems.generate(problems.get("heat", n_cells=256), 30, seed=1, workers=1, cache=cache,
                          progress=False, batch_size=4)


def test_corrupted_cache_batches_are_recomputed_never_used(tmp_path):
    heat = problems.get("heat")
    cache = tmp_path / "cache"
    clean = problems.generate(heat, 24, seed=3, workers=1, cache=cache, progress=False, batch_size=4)
    raw = (cache / "batch_000001.npz").read_bytes()
    (cache / "batch_000001.npz").write_bytes(raw[: len(raw) // 2])  # truncated
    (cache / "batch_000002.npz").write_bytes(raw[:600] + b"\0" * 64 + raw[664:])  # corrupted
    raw0 = (cache / "batch_000000.npz").read_bytes()
    (cache / "batch_000004.npz").write_bytes(raw0)  # foreign: another batch's points
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = problems.generate(heat, 24, seed=3, workers=1, cache=cache, progress=False, batch_size=4)
    unusable = [str(w.message) for w in caught if "unusable" in str(w.message)]
    assert len(unusable) == 3 and all("computing that batch again" in m for m in unusable)
    assert again.metadata["cache"]["batches_computed"] == 3
    assert same_data(clean, again)


def test_cache_directory_must_be_ours(tmp_path):
    heat = problems.get("heat")
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "results.txt").write_text("someone else's")
    with pytest.raises(ValueError, match="not empty and has no manifest.json"):
        problems.generate(heat, 8, workers=1, cache=stranger, progress=False)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{ half a manif")
    with pytest.raises(ValueError, match="not a problems.generate cache manifest"):
        problems.generate(heat, 8, workers=1, cache=broken, progress=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        problems.generate(heat, 8, workers=1, cache=tmp_path / "afile", progress=False)


def test_batches_in_flight_stay_bounded_so_memory_is_flat_in_n():
    from concurrent.futures import Future

    run_pool = sys.modules["problems.generate"]._run_pool

    class CountingExecutor:  # runs each task at once, counts submissions
        submitted = 0

        def submit(self, fn, *args):
            self.submitted += 1
            future = Future()
            future.set_result(fn(*args))
            return future

    heat, executor = problems.get("heat"), CountingExecutor()
    X = problems.sample(heat, 200, seed=0)
    tasks = ((k, X[k:k + 1]) for k in range(200))
    received = 0
    for k, result in run_pool(heat, tasks, executor, window=6):
        received += 1
        assert executor.submitted - received < 6  # never more than the window outstanding
        np.testing.assert_array_equal(result.Y[0], heat.solve(X[k]))
    assert received == executor.submitted == 200


def test_progress_bar_reports_on_request(capsys):
    problems.generate("schrodinger", 16, workers=1, progress=True, batch_size=4)
    err = capsys.readouterr().err
    assert "schrodinger" in err and "16/16" in err
    problems.generate("schrodinger", 16, workers=1, progress=False)
    assert capsys.readouterr().err == ""


def test_bad_arguments_are_refused_before_any_work():
    heat = problems.get("heat")
    with pytest.raises(ValueError, match="`n`"):
        problems.generate(heat, 0)
    with pytest.raises(ValueError, match="`workers`"):
        problems.generate(heat, 8, workers=0)
    with pytest.raises(ValueError, match="either `workers`"):
        problems.generate(heat, 8, workers=2, client=object())
    with pytest.raises(ValueError, match="'sobol', 'lhs'"):
        problems.generate(heat, 8, method="grid")
    with pytest.raises(ValueError, match="valid names"):
        problems.generate("plasma", 8)
    with pytest.raises(ValueError, match="`progress`"):
        problems.generate(heat, 8, workers=1, progress="yes")


SCRIPT = """
import sys, time
import problems
from problems.heat import Heat

class SlowHeat(Heat):
    # Same name and settings as Heat, so the same cache identity: slow only.
    def _solve(self, params):
        time.sleep(0.05)
        return super()._solve(params)

if __name__ == "__main__":
    problems.generate(SlowHeat(), 64, seed=3, workers=2, cache=sys.argv[1], progress=False,
                      batch_size=2)
"""


def test_run_killed_mid_way_resumes_to_the_uninterrupted_result(tmp_path):
    script = tmp_path / "slow_generate.py"
    script.write_text(textwrap.dedent(SCRIPT))
    cache = tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # Own session, so SIGKILL reaches the worker processes too.
    proc = subprocess.Popen([sys.executable, str(script), str(cache)], env=env, cwd=tmp_path,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(cache.glob("batch_*.npz"))) < 4:
            assert proc.poll() is None, "generation ended before it could be killed"
            assert time.monotonic() < deadline, "no batch finished within 60 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    n_done = len(list(cache.glob("batch_*.npz")))
    assert 4 <= n_done < 32, n_done

    heat = problems.get("heat")
    resumed = problems.generate(heat, 64, seed=3, workers=2, cache=cache, progress=False, batch_size=2)
    assert resumed.metadata["cache"]["batches_loaded"] == n_done
    assert resumed.metadata["cache"]["batches_computed"] == 32 - n_done
    assert not list(cache.glob(".batch_*.tmp"))  # leftovers of the kill are cleaned
    uninterrupted = problems.generate(heat, 64, seed=3, workers=1, progress=False, batch_size=2)
    assert same_data(resumed, uninterrupted)
