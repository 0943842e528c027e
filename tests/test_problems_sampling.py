"""Sampling designs, the registry and parameter validation."""

import numpy as np
import pytest

import problems
from problems import Parameter


@pytest.mark.parametrize("method", ["sobol", "lhs", "halton", "random"])
def test_samples_fill_the_box_reproducibly(method):
    heat = problems.get("heat")
    X = problems.sample(heat, 100, method=method, seed=4)
    assert X.shape == (100, heat.n_inputs) and X.dtype == np.float64
    assert np.all(X >= heat.lower) and np.all(X <= heat.upper)
    np.testing.assert_array_equal(X, problems.sample(heat, 100, method=method, seed=4))
    assert not np.array_equal(X, problems.sample(heat, 100, method=method, seed=5))
    # Spread over the box: every coordinate reaches both outer tenths.
    u = (X - heat.lower) / (heat.upper - heat.lower)
    assert np.all(u.min(axis=0) < 0.1) and np.all(u.max(axis=0) > 0.9)


@pytest.mark.parametrize("method", ["sobol", "lhs", "halton", "random"])
def test_distinct_seeds_give_distinct_designs(method):
    # Every pair of 8 seeds, including those equal modulo 2, 4 or 256: a seed
    # folded to a few values (seed % 2, a uint8) would repeat a design.
    heat = problems.get("heat")
    seeds = [0, 1, 2, 3, 4, 256, 257, 2**40 + 1]
    designs = [problems.sample(heat, 16, method=method, seed=s) for s in seeds]
    for i in range(len(seeds)):
        for j in range(i):
            assert not np.any(np.all(designs[i] == designs[j], axis=1)), (seeds[i], seeds[j])
    # A numpy integer seed is the same seed.
    np.testing.assert_array_equal(problems.sample(heat, 16, method=method, seed=np.int64(257)), designs[6])


def test_latin_hypercube_puts_one_point_in_each_stratum():
    pinch = problems.get("pinch")
    n = 50
    u = (problems.sample(pinch, n, "lhs", seed=1) - pinch.lower) / (pinch.upper - pinch.lower)
    for column in u.T:
        np.testing.assert_array_equal(np.sort(np.floor(column * n)), np.arange(n))


def test_sobol_first_points_do_not_depend_on_n():
    heat = problems.get("heat")
    np.testing.assert_array_equal(problems.sample(heat, 10)[:7], problems.sample(heat, 7))


def test_sampling_bad_arguments():
    heat = problems.get("heat")
    with pytest.raises(ValueError, match="'sobol', 'lhs', 'halton', 'random'"):
        problems.sample(heat, 10, method="grid")
    for n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="`n`"):
            problems.sample(heat, n)
    with pytest.raises(ValueError, match="`seed`"):
        problems.sample(heat, 10, seed=-1)


def test_registry_names_and_unknown_name():
    assert problems.names() == sorted(problems.registry.BUILTIN)
    assert {"burgers", "heat", "pinch", "schrodinger", "vlasov"} <= set(problems.names())
    for name in problems.names():
        problem = problems.get(name)
        assert problem.name == name and problem.description
        assert problem.grid.ndim == 1 and problem.grid.dtype == np.float64
        assert 64 <= problem.grid.size <= 256
        assert problem.grid_name and isinstance(problem.settings, dict)
        for p in problem.parameters:
            assert p.lower < p.upper and p.description and isinstance(p.unit, str)
    with pytest.raises(ValueError, match="burgers, equilibrium, euler, heat, pinch, schrodinger, transport, vlasov"):
        problems.get("navier-stokes")


def test_solver_options_are_checked_and_recorded():
    assert problems.get("heat", n_cells=1024).settings["n_cells"] == 1024
    with pytest.raises(ValueError, match="n_cells"):
        problems.get("heat", n_cells=100)  # not a multiple of n_grid - 1
    with pytest.raises(ValueError, match="n_points"):
        problems.get("burgers", n_points=100)
    with pytest.raises(TypeError):
        problems.get("pinch", resolution=3)


def test_parameters_outside_the_box_name_the_parameter_and_bounds():
    heat = problems.get("heat")
    good = [0.5, 1.0, 0.5, 0.1, 0.3]
    with pytest.raises(ValueError, match=r"'T_edge' = 0\.9 is outside its bounds \[0\.1, 0\.5\]"):
        heat.solve(good[:4] + [0.9])
    with pytest.raises(ValueError, match="source_width"):
        heat.solve([0.5, 1.0, 0.5, np.nan, 0.3])
    with pytest.raises(ValueError, match="length 5"):
        heat.solve(good[:3])
    with pytest.raises(ValueError, match="length 5"):
        heat.solve([good, good])


def test_parameter_needs_an_ordered_finite_interval():
    with pytest.raises(ValueError, match="'a'.*lower=1.*upper=0"):
        Parameter("a", 1.0, 0.0, "m", "a length")
    with pytest.raises(ValueError, match="identifier"):
        Parameter("a b", 0.0, 1.0, "m", "a length")


def test_problems_never_imports_surrogate():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, problems; problems.get('heat'); print(sorted(m for m in sys.modules if m.split('.')[0] == 'surrogate'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"
