"""A physicist's own solver as a problem: `problems.wrap`, 'module:attribute'
references and problems registered by installed packages."""
import sys
import textwrap

import numpy as np
import pytest

import problems
from problems import Parameter
from problems.base import single_threaded_blas

USER_MODULE = '''
import numpy as np
import problems
from problems import Parameter

GRID = np.linspace(0.0, 1.0, 33)
PARAMETERS = [Parameter("tau", 0.1, 1.0, "s", "decay time"),
              Parameter("u0", 1.0, 2.0, "V", "initial value"),
              Parameter("omega", 0.0, 10.0, "rad/s", "angular frequency")]


def damped(params):
    """u(t) = u0 exp(-t / tau) cos(omega t), with a small linear solve so BLAS is involved."""
    tau, u0, omega = params
    A = np.eye(3) * (2.0 + tau) + 0.1
    shift = np.linalg.solve(A, np.array([tau, u0, omega]))[0] * 1e-3
    return u0 * np.exp(-GRID / tau) * np.cos(omega * GRID) + shift


def broken(params):
    raise RuntimeError("this solver always fails")


PROBLEM = problems.wrap(damped, PARAMETERS, GRID, name="damped", grid_name="t", grid_unit="s",
                        output_name="u", output_unit="V", description="a damped oscillation")


class Damped(problems.Problem):
    name = "damped_class"
    parameters = tuple(PARAMETERS)

    def __init__(self, n=33):
        self.grid = np.linspace(0.0, 1.0, n)
        self.settings = {"n": n}

    def _solve(self, params):
        return damped(params)[: self.grid.size]


def make_problem():
    return PROBLEM
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A user's module on sys.path (and PYTHONPATH, for spawned worker processes)."""
    (tmp_path / "userphysics.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    sys.modules.pop("userphysics", None)
    import userphysics
    yield userphysics
    sys.modules.pop("userphysics", None)


def test_wrapped_function_is_a_problem(user_module):
    p = user_module.PROBLEM
    assert isinstance(p, problems.Problem)
    assert p.param_names == ["tau", "u0", "omega"] and p.n_inputs == 3
    assert p.settings == {"function": "userphysics:damped", "settings": None}
    x = np.array([0.5, 1.5, 3.0])
    np.testing.assert_array_equal(p.solve(x), user_module.damped(x))
    with pytest.raises(ValueError, match="'omega' = 11.0 is outside"):
        p.solve([0.5, 1.5, 11.0])


def test_same_dataset_on_one_and_two_workers_and_direct_calls(user_module):
    p = user_module.PROBLEM
    one = problems.generate(p, 24, seed=2, workers=1, progress=False)
    two = problems.generate(p, 24, seed=2, workers=2, progress=False)
    with single_threaded_blas():
        direct = np.array([user_module.damped(x) for x in problems.sample(p, 24, "sobol", 2)])
    np.testing.assert_array_equal(one.X, two.X)
    np.testing.assert_array_equal(one.Y, two.Y)
    np.testing.assert_array_equal(one.Y, direct)
    assert one.metadata["settings"]["function"] == "userphysics:damped"


@pytest.mark.slow
def test_same_dataset_on_a_dask_cluster_of_worker_processes(user_module, local_cluster):
    distributed = pytest.importorskip("distributed")
    p = user_module.PROBLEM
    local = problems.generate(p, 16, seed=5, workers=1, progress=False)
    with local_cluster(n_workers=2, threads_per_worker=1, processes=True) as cluster, \
            distributed.Client(cluster) as client:
        remote = problems.generate(p, 16, seed=5, client=client, progress=False)
    assert remote.metadata["executor"]["kind"] == "dask"
    np.testing.assert_array_equal(remote.Y, local.Y)


def test_lambdas_and_closures_are_refused_before_any_work(user_module):
    params, grid = user_module.PARAMETERS, user_module.GRID
    with pytest.raises(ValueError, match="lambda or a nested function"):
        problems.wrap(lambda p: grid * p[0], params, grid, name="anon")

    def local(p):
        return grid * p[0]
    with pytest.raises(ValueError, match="lambda or a nested function"):
        problems.wrap(local, params, grid, name="nested")


def test_bad_wrap_arguments_name_themselves(user_module):
    f, params, grid = user_module.damped, user_module.PARAMETERS, user_module.GRID
    with pytest.raises(ValueError, match="`parameters`"):
        problems.wrap(f, [("tau", 0, 1)], grid, name="x")
    with pytest.raises(ValueError, match="`grid`"):
        problems.wrap(f, params, [[0.0, 1.0]], name="x")
    with pytest.raises(ValueError, match="`name`"):
        problems.wrap(f, params, grid, name="a:b")
    with pytest.raises(ValueError, match="`settings`"):
        problems.wrap(f, params, grid, name="x", settings={"tol": float("nan")})


def test_a_parameter_needs_a_unit_and_a_description():
    with pytest.raises(ValueError, match="'tau' needs a `unit`"):
        Parameter("tau", 0.1, 1.0)
    with pytest.raises(ValueError, match="'tau' needs a `description`"):
        Parameter("tau", 0.1, 1.0, "s")
    assert Parameter("ratio", 0.0, 1.0, "", "a pure number").unit == ""


def test_cache_knows_the_function_and_its_settings(user_module, tmp_path):
    f, params, grid = user_module.damped, user_module.PARAMETERS, user_module.GRID
    first = problems.wrap(f, params, grid, name="damped", settings={"version": 1})
    problems.generate(first, 8, seed=0, workers=1, cache=tmp_path / "c", progress=False)
    edited = problems.wrap(f, params, grid, name="damped", settings={"version": 2})
    with pytest.raises(ValueError, match="other arguments.*settings"):
        problems.generate(edited, 8, seed=0, workers=1, cache=tmp_path / "c", progress=False)
    other = problems.wrap(user_module.broken, params, grid, name="damped", settings={"version": 1})
    with pytest.raises(ValueError, match="broken"):
        problems.generate(other, 8, seed=0, workers=1, cache=tmp_path / "c", progress=False)


def test_module_attribute_references(user_module):
    assert problems.get("userphysics:PROBLEM") is user_module.PROBLEM
    assert problems.get("userphysics:make_problem") is user_module.PROBLEM
    built = problems.get("userphysics:Damped", n=9)
    assert built.grid.size == 9 and built.name == "damped_class"
    assert problems.get("problems.heat:Heat", n_cells=128).settings["n_cells"] == 128
    with pytest.raises(ValueError, match="ready Problem instance; solver options"):
        problems.get("userphysics:PROBLEM", n=9)
    with pytest.raises(ValueError, match="cannot import module 'nosuchmodule'"):
        problems.get("nosuchmodule:thing")
    with pytest.raises(ValueError, match="has no attribute 'nothing'"):
        problems.get("userphysics:nothing")
    with pytest.raises(ValueError, match="expected a problems.Problem instance"):
        problems.get("userphysics:GRID")
    with pytest.raises(ValueError, match="cannot be called with no arguments"):
        problems.get("userphysics:damped")  # a solver function, not a factory: it needs params
    with pytest.raises(ValueError, match="the factory returned ndarray"):
        problems.get("userphysics:GRID.copy")


def test_installed_packages_register_problems(user_module, tmp_path, monkeypatch, capsys):
    site = tmp_path / "site"
    info = site / "userphysics_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: userphysics-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[surrogate.problems]\ndamped = userphysics:PROBLEM\n"
                                           "damped_class = userphysics:Damped\n")
    monkeypatch.syspath_prepend(str(site))
    assert {"damped", "damped_class", "heat"} <= set(problems.names())
    assert problems.get("damped") is user_module.PROBLEM
    assert problems.get("damped_class", n=5).grid.size == 5
    from surrogate.workflow.cli import main
    assert main(["problems"]) == 0
    out = capsys.readouterr().out
    assert "damped:" in out and "tau" in out and "decay time" in out
