"""Adaptive sampling (`surrogate.workflow.adapt`) and `problems.solve_points`, on a cheap tanh front."""
import json
import os
import pathlib

import numpy as np
import pytest

import problems
from problems import Parameter
from surrogate.workflow import adapt
from surrogate.workflow.adapt import acquire
from surrogate.workflow.cli import main

GRID = np.linspace(0.0, 1.0, 32)
PARAMETERS = [Parameter("a", 0.2, 0.6, "", "front position"), Parameter("b", 0.0, 1.0, "", "front shift")]


def _count():
    """One byte per solver call in $ADAPT_COUNTER: calls counted across processes and runs."""
    path = os.environ.get("ADAPT_COUNTER")
    if path:
        with open(path, "ab") as f:
            f.write(b".")


def front(params):
    """A sharp tanh front whose position moves with both parameters."""
    _count()
    a, b = params
    return 1.5 + np.tanh((GRID - a - 0.2 * b) / 0.05)


def front_failing(params):
    """`front`, but the 'solver' fails for a > 0.5 (a quarter of the box)."""
    _count()
    if params[0] > 0.5:
        raise RuntimeError("no convergence")
    a, b = params
    return 1.5 + np.tanh((GRID - a - 0.2 * b) / 0.05)


FRONT = problems.wrap(front, PARAMETERS, GRID, name="front")
FAILING = problems.wrap(front_failing, PARAMETERS, GRID, name="front_failing")
TINY = {"hidden": (8,), "epochs": 30, "lbfgs_iter": 30, "ensemble": 3, "workers": 1, "initial": 20, "batch": 8}


@pytest.fixture
def counter(tmp_path, monkeypatch):
    path = tmp_path / "calls"
    path.write_bytes(b"")
    monkeypatch.setenv("ADAPT_COUNTER", str(path))
    return lambda: path.stat().st_size


def test_acquire_by_hand():
    """1-D: solved {0}, 101 candidates 0, 0.01, ..., 1, batch 4, half space-filling.

    Farthest-point: 1.0, then 0.5. Spacing 0.5 * 5^-1 = 0.1. By score: 0.30
    (score 5) is 0.2 from 0; 0.33 (4) is 0.03 from 0.30, skipped; 0.45 (3) is
    0.05 from 0.5, skipped; 0.70 (2) is 0.2 from 0.5, taken.
    """
    candidates = np.linspace(0.0, 1.0, 101)[:, None]
    score = np.zeros(101)
    score[[30, 33, 45, 70]] = [5, 4, 3, 2]
    idx, filling = acquire(candidates, score, np.zeros((1, 1)), 4)
    assert idx.tolist() == [100, 50, 30, 70]
    assert filling.tolist() == [True, True, False, False]


def test_acquire_fills_a_shortfall_space_filling():
    # 0, 0.005, ..., 0.02 between solved 0 and 0.02: all nearer than the spacing 0.5 * 4^-1, so
    # farthest-point fills in: 0.01 (0.01 from both), then 0.005 (the first of two at 0.005)
    candidates = np.linspace(0.0, 0.02, 5)[:, None]
    idx, filling = acquire(candidates, np.arange(5.0), np.array([[0.0], [0.02]]), 2, share=0.0)
    assert idx.tolist() == [2, 1] and filling.tolist() == [True, True]


def test_budget_is_exact_counting_failures_and_points_are_distinct_in_the_box(counter):
    with pytest.warns(RuntimeWarning, match="failed"):
        result = adapt(FAILING, 34, **TINY)
    assert counter() == 34                                      # every solver call, failures too
    meta = result.data.metadata
    assert len(result.data) + meta["n_failed"] == 34 and meta["n_failed"] > 0
    X = np.concatenate(result.rounds)
    assert X.shape == (34, 2) and len(np.unique(X, axis=0)) == 34
    assert np.all(X >= FAILING.lower) and np.all(X <= FAILING.upper)
    failed = np.array([[f["params"]["a"], f["params"]["b"]] for f in meta["failures"]])
    assert np.all(failed[:, 0] > 0.5) and all(f["message"] == "RuntimeError: no convergence"
                                              for f in meta["failures"])
    assert np.array_equal(failed, X[[f["index"] for f in meta["failures"]]])
    assert [h["n_new"] for h in result.history] == [20, 8, 6]     # the last round cut to the budget
    assert [h["n_space_filling"] for h in result.history] == [20, 4, 3]  # half of each later batch
    assert [h["n_solved"] for h in result.history] == [20, 28, 34]


def test_resume_reuses_rounds_and_solves_nothing_twice(tmp_path, counter):
    cache = tmp_path / "cache"
    first = adapt(FRONT, 28, cache=cache, **TINY)
    assert counter() == 28
    # killed after choosing round 1 but before solving it: its points are on disk, its solves are not
    for f in (cache / "round_001").iterdir():
        f.unlink()
    again = adapt(FRONT, 36, cache=cache, **TINY)
    assert counter() == 28 + 8 + 8                              # round 1 once more, round 2 new
    assert all(np.array_equal(a, b) for a, b in zip(first.rounds, again.rounds[:2]))
    assert [h["refit"] for h in again.history] == [False, True, True]
    assert again.history[0]["estimated_error"] == first.history[0]["estimated_error"]
    adapt(FRONT, 36, cache=cache, **TINY)
    assert counter() == 44                                      # a third run solves nothing
    with pytest.raises(ValueError, match="other options.*seed"):
        adapt(FRONT, 36, cache=cache, **dict(TINY, seed=1))


def test_same_seed_same_design_and_model():
    a, b = adapt(FRONT, 28, **TINY), adapt(FRONT, 28, **TINY)
    assert all(np.array_equal(x, y) for x, y in zip(a.rounds, b.rounds))
    assert np.array_equal(a.model.predict(GRID[:4, None] * [0.4, 1] + [0.2, 0]),
                          b.model.predict(GRID[:4, None] * [0.4, 1] + [0.2, 0]))


def test_stops_at_target(counter):
    test = problems.generate(FRONT, 16, method="random", seed=5, workers=1)
    result = adapt(FRONT, 60, target=1e6, test=test, **TINY)
    assert [h["n_solved"] for h in result.history] == [20] and counter() == 16 + 20
    h = result.history[0]
    assert h["estimated_error"] <= 1e6 and h["test_error"] > 0
    pred = result.model.predict(test.X)
    expect = np.mean(np.linalg.norm(pred - test.Y, axis=1) / np.linalg.norm(test.Y, axis=1))
    assert h["test_error"] == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize("kwargs, match", [({"budget": 0}, "`budget`"),
                                           ({"budget": 10, "initial": 11}, "`initial` = 11"),
                                           ({"budget": 10, "ensemble": 1}, "`ensemble`"),
                                           ({"budget": 10, "target": -1.0}, "`target`"),
                                           ({"budget": 10, "hiden": (8,)}, "hiden")])
def test_bad_arguments_are_named(kwargs, match, counter):
    with pytest.raises(ValueError, match=match):
        adapt(FRONT, **kwargs)
    assert counter() == 0


def test_solve_points_matches_generate_and_refuses_points_outside():
    data = problems.generate(FRONT, 12, seed=2, workers=1)
    again = problems.solve_points(FRONT, data.X, workers=1)
    assert np.array_equal(again.Y, data.Y) and again.metadata["sampler"]["method"] == "points"
    with pytest.raises(ValueError, match=r"`X` row 1 .* outside the box"):
        problems.solve_points(FRONT, [[0.3, 0.5], [0.7, 0.5]], workers=1)
    with pytest.raises(ValueError, match="`timeout`"):
        problems.solve_points(FRONT, data.X, timeout=-1.0)
    timed = problems.solve_points(FRONT, data.X, workers=1, timeout=60.0)  # a limit no solve reaches
    assert np.array_equal(timed.Y, data.Y)


def test_cli_adapt_end_to_end(tmp_path, capsys):
    assert main(["adapt", "test_adapt:FRONT", "-n", "24", "--batch", "4", "--ensemble", "2",
                 "--hidden", "8", "--epochs", "30", "--lbfgs-iter", "30", "--workers", "1",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines()[1:3]]
    assert lines == [["0", "20", "20", "20", "20", lines[0][5]], ["1", "4", "2", "24", "24", lines[1][5]]]
    history = json.loads((tmp_path / "front" / "history.json").read_text())
    assert [h["n_solved"] for h in history] == [20, 24]
    assert len(problems.Dataset.load(tmp_path / "front" / "data.npz")) == 24
    assert main(["adapt", "test_adapt:FRONT", "-n", "24", "--target", "-1"]) == 2
