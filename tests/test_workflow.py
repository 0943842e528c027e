"""surrogate.workflow.run: the whole job once, from Python, with or without files."""
import os
import threading

import numpy as np
import pytest

import problems
from surrogate.workflow import run
from surrogate.workflow.run import EXTRAPOLATION_FRACTION, SPLIT, _writable_directory


@pytest.fixture(scope="module")
def quick_heat():
    return run("heat", 60, quick=True, workers=1, progress=False)


def test_run_without_out_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("heat", 40, quick=True, workers=1, progress=False)
    assert os.listdir(tmp_path) == [] and result.paths == {}
    assert len(result.data) == 40


def test_run_splits_fits_and_evaluates_once(quick_heat):
    r = quick_heat
    n_edge = int(np.ceil(EXTRAPOLATION_FRACTION * len(r.data)))
    assert len(r.edge) == n_edge
    assert len(r.train) + len(r.validation) + len(r.test) + len(r.edge) == len(r.data)
    # the split is the one Dataset.split_extrapolation and Dataset.split make, written out
    inside, edge = r.data.split_extrapolation(EXTRAPOLATION_FRACTION)
    train, val, test = inside.split(SPLIT, seed=0)
    np.testing.assert_array_equal(r.edge.X, edge.X)
    np.testing.assert_array_equal(r.test.X, test.X)
    # the model trusts the box the inside cases fill, and was fitted on the training cases
    lower, upper = r.data.split_extrapolation(EXTRAPOLATION_FRACTION).trusted_box
    np.testing.assert_array_equal(r.model.guard_.lower, lower)
    np.testing.assert_array_equal(r.model.guard_.upper, upper)
    assert r.model.n_train_ == len(train) and r.model.n_val_ == len(val)
    # the reports are the held-out errors of that model on those cases
    err = np.linalg.norm(r.model.predict(r.test.X) - r.test.Y, axis=1) / np.linalg.norm(r.test.Y, axis=1)
    assert r.report["interpolation"].rel_l2_mean == pytest.approx(err.mean(), rel=1e-12)
    assert r.metrics["interpolation"]["rel_l2_mean"] == r.report["interpolation"].rel_l2_mean
    assert r.metrics["quick"] is True and r.problem.name == "heat"


def test_options_and_out_are_checked_before_any_solve(tmp_path):
    with pytest.raises(ValueError, match="`activation`"):
        run("heat", 40, out=tmp_path / "a", quick=True, activation="tanhh")
    assert not (tmp_path / "a" / "cache").exists()  # nothing was solved
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        run("heat", 40, out=afile, quick=True)
    with pytest.raises(ValueError, match="unknown problem 'nope'"):
        run("nope")
    with pytest.raises(ValueError, match="`n` = 5 is too few"):
        run("heat", 5, out=tmp_path / "b", quick=True)
    assert not (tmp_path / "b" / "cache").exists()  # refused before solving


def test_run_with_out_writes_the_report_and_reuses_its_cache(tmp_path):
    first = run("heat", 40, out=tmp_path, quick=True, workers=1, progress=False)
    for name in ("data", "model", "report", "metrics", "loss", "profiles_interpolation"):
        assert first.paths[name].is_file(), name
    again = run("heat", 40, out=tmp_path, quick=True, workers=1, progress=False)
    assert again.data.metadata["cache"]["batches_computed"] == 0
    np.testing.assert_array_equal(again.data.Y, first.data.Y)
    np.testing.assert_array_equal(again.model.predict(again.test.X), first.model.predict(first.test.X))


def _a_dead_pid():
    """A process id no process has now, from the top of the range (the least likely to be reused)."""
    for pid in range(int(open("/proc/sys/kernel/pid_max").read()) - 1, 1, -1):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue


@pytest.mark.skipif(not os.path.exists("/proc/sys/kernel/pid_max"), reason="needs Linux's /proc")
def test_opening_an_output_folder_removes_what_a_killed_run_was_writing_and_nothing_else(tmp_path):
    dead = _a_dead_pid()                          # a writer killed mid-write, its pid gone
    left = tmp_path / f".model.npz.{dead}.0a1b2c3d.tmp"
    live = tmp_path / f".plot.png.{os.getpid()}.0a1b2c3d.tmp"    # another run, still writing
    other = tmp_path / ".notes.tmp"                               # not a name we make
    for f in (left, live, other):
        f.write_bytes(b"half a file")
    assert _writable_directory(tmp_path) == tmp_path   # what run and adapt call on `out`, before any work
    assert not left.exists() and live.exists() and other.exists()


def test_two_runs_checking_one_output_folder_do_not_fail_each_other(tmp_path):
    """Each check writes and removes a probe file; with one fixed probe name, a
    second run on the same folder removed the first's probe mid-check and the
    first reported the folder "not writable"."""
    failures = []

    def check():
        for _ in range(2000):
            try:
                _writable_directory(tmp_path)
            except ValueError as exc:
                failures.append(str(exc))
                return

    pair = [threading.Thread(target=check) for _ in range(2)]
    for t in pair:
        t.start()
    for t in pair:
        t.join()
    assert failures == [] and list(tmp_path.iterdir()) == []   # no probe left behind


def test_run_takes_a_problem_instance_and_quick_solver_options():
    coarse = problems.get("vlasov", quick=True)
    assert coarse.settings["n_v"] < problems.get("vlasov").settings["n_v"]
    heat = problems.get("heat", n_cells=64)
    r = run(heat, 30, quick=True, workers=1, progress=False)
    assert r.problem is heat and r.data.metadata["settings"]["n_cells"] == 64
