"""The `surrogate` command end to end on small problems, and its user-error paths."""
import gc
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

import problems
from surrogate.workflow.cli import main
from surrogate.metrics import rel_l2
from surrogate.model import Surrogate

COMMANDS = ("problems", "generate", "train", "evaluate", "run", "adapt")
ERROR_LINE = re.compile(r"^surrogate( (problems|generate|train|evaluate|run|adapt))?: error: \S")
QUICK_RUN_KEYS = {"problem", "interpolation", "extrapolation", "speedup_per_profile",
                  "fit_seconds", "n_train", "solver_seconds_per_profile"}


@pytest.fixture(scope="module")
def heat_files(tmp_path_factory):
    """A small heat dataset and a model trained on it, through the commands."""
    d = tmp_path_factory.mktemp("cli")
    assert main(["generate", "heat", "-n", "48", "--out", str(d / "data.npz"), "--workers", "1",
                 "--seed", "3"]) == 0
    assert main(["train", str(d / "data.npz"), "--out", str(d / "model.npz"), "--quick"]) == 0
    return d


def test_problems_lists_every_problem_with_its_box(capsys):
    assert main(["problems"]) == 0
    out = capsys.readouterr().out
    for name in problems.names():
        p = problems.get(name)
        assert f"{name}:" in out
        for par in p.parameters:
            assert par.name in out and f"[{par.lower:g}, {par.upper:g}]" in out


def test_generate_writes_a_dataset(heat_files):
    data = problems.Dataset.load(heat_files / "data.npz")
    assert data.X.shape == (48, 5) and data.Y.shape[0] == 48
    assert data.metadata["problem"] == "heat" and data.metadata["solver_seconds_per_profile"] > 0


def test_train_writes_a_loadable_model(heat_files):
    model = Surrogate.load(heat_files / "model.npz")
    data = problems.Dataset.load(heat_files / "data.npz")
    assert model.n_inputs == 5 and model.n_outputs == data.n_grid
    assert model.metadata_["param_names"] == data.param_names
    assert np.isfinite(model.predict(data.X)).all()


def test_evaluate_writes_metrics_report_and_plots(heat_files, capsys):
    out = heat_files / "eval"
    assert main(["evaluate", str(heat_files / "model.npz"), str(heat_files / "data.npz"),
                 "--out", str(out)]) == 0
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["problem"] == "heat" and doc["test"]["n_profiles"] == 48
    assert doc["n_outside_training_box"] == 0  # the model was trained on these very cases
    assert doc["test"]["rel_l2_mean"] >= 0 and doc["speedup_per_profile"] > 0
    for png in ("profiles_test.png", "error_vs_parameters.png", "error_along_grid.png", "loss.png"):
        assert (out / png).stat().st_size > 1000
        assert f"]({png})" in (out / "report.md").read_text()
    assert "relative L2 error, mean" in capsys.readouterr().out


@pytest.mark.slow
def test_run_quick_writes_the_report_folder(tmp_path):
    assert main(["run", "--quick", "--out", str(tmp_path), "--workers", "1"]) == 0
    out = tmp_path / "heat"
    doc = json.loads((out / "metrics.json").read_text())
    assert QUICK_RUN_KEYS <= set(doc)
    assert doc["problem"] == "heat" and doc["quick"] is True
    assert doc["interpolation"]["rel_l2_mean"] > 0 and doc["extrapolation"]["rel_l2_mean"] > 0
    assert doc["speedup_per_profile"] > 0
    names = ["report.md", "model.npz", "data.npz", "loss.png", "profiles_interpolation.png",
             "profiles_extrapolation.png", "error_vs_parameters.png",
             "error_along_grid.png"]
    for name in names:
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    assert "| relative L2 error, mean |" in report and "(profiles_interpolation.png)" in report
    # the saved model predicts like the one evaluated: its errors reproduce metrics.json
    model = Surrogate.load(out / "model.npz")
    assert model.metadata_["problem"] == "heat"
    inside, _ = problems.Dataset.load(out / "data.npz").split_extrapolation(0.1)
    _, _, test = inside.split((0.7, 0.15, 0.15), seed=0)
    assert np.mean(rel_l2(y_true=test.Y, y_pred=model.predict(test.X))) == pytest.approx(
        doc["interpolation"]["rel_l2_mean"], rel=1e-12)
    # a second run reuses the cached solves instead of solving again
    first = problems.Dataset.load(out / "data.npz")
    assert main(["run", "--quick", "--out", str(tmp_path), "--workers", "1"]) == 0
    again = problems.Dataset.load(out / "data.npz")
    assert again.metadata["cache"]["batches_computed"] == 0 and again.metadata["cache"]["batches_loaded"] > 0
    np.testing.assert_array_equal(again.Y, first.Y)


@pytest.mark.parametrize("argv, fragment", [
    (["run", "plasma"], "unknown problem 'plasma'"),
    (["generate", "heat", "-n", "0", "--out", "x.npz"], "argument -n/--n: must be an integer >= 1, got '0'"),
    (["generate", "heat", "-n", "5", "--out", "/no/such/dir/x.npz"], "does not exist"),
    (["train", "/no/such/data.npz", "--out", "m.npz"], "not found"),
    (["train", "d.npz", "--out", "m.npz", "--hidden", "64,x"], "argument --hidden"),
    (["evaluate", "/no/such/model.npz", "/no/such/data.npz", "--out", "o"], "no such model file"),
    (["run", "--epochs", "-3"], "argument --epochs"),
    (["train", "d.npz", "--out", "m.npz", "--validation-fraction", "2"], "argument --validation-fraction"),
    (["frobnicate"], "invalid choice"),
    (["generate", "heat", "-n", "5", "--out", "x.npz", "--method", "grid"], "argument --method: invalid choice: 'grid'"),
])
def test_user_errors_exit_2_with_one_line(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert fragment in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert ERROR_LINE.match(err) and err.count("error:") == 1, err
    command = argv[0] if argv[0] in COMMANDS else None  # an unknown command is the top level's error
    assert err.startswith(f"surrogate {command}: error: " if command else "surrogate: error: ")


def test_corrupted_model_is_a_user_error(tmp_path, heat_files, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["evaluate", str(bad), str(heat_files / "data.npz"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "truncated or corrupted" in err


@pytest.mark.parametrize("cmd", [[], ["problems"], ["generate"], ["train"], ["evaluate"], ["run"], ["adapt"]])
def test_every_command_has_help(cmd, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*cmd, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: surrogate")


def test_module_entry_point_runs():
    """`python -m surrogate.workflow.cli` (what the console script calls) starts and exits 0."""
    proc = subprocess.run([sys.executable, "-m", "surrogate.workflow.cli", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "generate" in proc.stdout and "run" in proc.stdout


# -- every option and output path checked before any work; user errors vs bugs --------

HOSTILE = '''
import sys, time
import numpy as np
from problems import Parameter, Problem

class Hostile(Problem):
    """The line a + b x; hangs for a > 0.85."""
    name = "hostile"
    description = "test double"
    parameters = (Parameter("a", 0.0, 1.0, "", "offset"), Parameter("b", 0.0, 1.0, "", "slope"))

    def __init__(self):
        self.grid = np.linspace(0.0, 1.0, 5)
        self.settings = {}

    def _solve(self, params):
        if params[0] > 0.85:
            time.sleep(3600)
        return params[0] + params[1] * self.grid
'''


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    (tmp_path / "hostile_problem.py").write_text(HOSTILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "hostile_problem:Hostile"


def one_line_error(capsys, fragment):
    """The error is one line, the last (progress news may come before it)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert ERROR_LINE.match(lines[-1]) and lines[-1].count("error:") == 1 and fragment in lines[-1], lines
    assert not any("Traceback" in line or "error" in line for line in lines[:-1]), lines


@pytest.mark.parametrize("argv, fragment", [
    (["run", "--activation", "tanhh"], "activation"),
    (["run", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "not both"),
    (["generate", "heat", "-n", "5", "--out", "x.npz", "--timeout", "0"], "argument --timeout"),
    (["run", "--timeout", "nan"], "argument --timeout"),
    (["generate", "heat", "-n", "5", "--out", "x.npz", "--scheduler", "nonsense://nowhere"], "--scheduler"),
    (["adapt", "heat", "-n", "40", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "not both"),
    (["adapt", "heat", "-n", "40", "--scheduler", "nonsense://nowhere"], "--scheduler"),
    (["adapt", "heat", "-n", "40", "--timeout", "-1"], "argument --timeout"),
])
def test_bad_options_are_refused_before_any_solve(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    solved = []
    monkeypatch.setattr(problems, "generate", lambda *a, **k: solved.append(1))
    monkeypatch.setattr(problems, "solve_points", lambda *a, **k: solved.append(1))
    assert main(argv) == 2
    one_line_error(capsys, fragment)
    assert solved == [] and not (tmp_path / "surrogate-run").exists()


def test_a_scheduler_that_cannot_be_reached_leaves_no_client_for_the_collector(capsys):
    """A Client that failed to connect lives on in a reference cycle; finalised later by
    the garbage collector inside a new cluster's loop start, it deadlocked a test run."""
    distributed = pytest.importorskip("distributed")
    gc.collect()
    assert main(["adapt", "heat", "-n", "40", "--scheduler", "nonsense://nowhere"]) == 2
    one_line_error(capsys, "--scheduler")
    gc.disable()  # only what is still reachable, or waiting for a collection, is seen
    try:
        assert not any(isinstance(o, distributed.Client) for o in gc.get_objects())
    finally:
        gc.enable()


def test_output_paths_are_checked_before_any_solve(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(problems, "generate", lambda *a, **k: pytest.fail("solved before checking --out"))
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    assert main(["generate", "heat", "-n", "5", "--out", "folder"]) == 2
    one_line_error(capsys, "'folder' is a directory, not a file")
    assert main(["run", "--out", "afile"]) == 2
    one_line_error(capsys, "cannot make directory 'afile/heat'")
    assert main(["evaluate", "m.npz", "d.npz", "--out", "afile"]) == 2
    one_line_error(capsys, "'afile' exists and is not a directory")
    assert main(["train", "d.npz", "--out", "folder"]) == 2
    one_line_error(capsys, "'folder' is a directory")


@pytest.mark.slow
def test_unwritable_output_folder_is_refused_before_any_solve(tmp_path):
    import os
    import shutil
    prefix = []
    if os.geteuid() == 0:  # permissions do not bind root: drop the capability that overrides them
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv")
        prefix = ["setpriv", "--inh-caps=-dac_override", "--bounding-set=-dac_override"]
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "old.npz").write_text("x")
    locked.chmod(0o555)
    try:
        for out in (locked / "new.npz", locked / "old.npz"):
            proc = subprocess.run([*prefix, sys.executable, "-m", "surrogate.workflow.cli", "generate", "heat",
                                   "-n", "4", "--workers", "1", "--cache", str(tmp_path / "cache"),
                                   "--out", str(out)], capture_output=True, text=True, timeout=120)
            assert proc.returncode == 2, proc.stderr
            assert "is not writable" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
            assert not (tmp_path / "cache").exists()  # nothing solved
    finally:
        locked.chmod(0o755)


def test_library_argument_errors_are_user_errors_but_bugs_show_a_traceback(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    # A ValueError of the toolkit's own checks (problems._cache): the user's mistake.
    assert main(["generate", "heat", "-n", "5", "--out", "x.npz", "--cache", "afile", "--workers", "1"]) == 2
    one_line_error(capsys, "`cache` = 'afile' exists and is not a directory")

    def broken(*args, **kwargs):
        return np.ones(3) + np.ones(4)  # a ValueError from numpy: our bug, not the user's

    monkeypatch.setattr(problems, "generate", broken)
    assert main(["generate", "heat", "-n", "5", "--out", "x.npz"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "operands could not be broadcast" in err
    assert err.strip().splitlines()[-1].startswith("surrogate generate: internal error (ValueError): this is a bug")
    monkeypatch.setattr(problems, "generate", lambda *a, **k: None.X)
    assert main(["generate", "heat", "-n", "5", "--out", "x.npz"]) == 1
    assert "internal error (AttributeError)" in capsys.readouterr().err


def test_interrupt_exits_130(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(problems, "generate", interrupted)
    assert main(["generate", "heat", "-n", "5", "--out", "x.npz"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "surrogate generate: interrupted"


def test_generate_timeout_records_hung_solves(hostile, tmp_path, capsys):
    out = tmp_path / "d.npz"
    X = problems.sample(problems.get(hostile), 16, seed=2)
    hung = X[:, 0] > 0.85
    assert hung.any()
    with pytest.warns(RuntimeWarning, match="solves failed"):
        assert main(["generate", hostile, "-n", "16", "--seed", "2", "--workers", "2", "--timeout", "0.5",
                     "--out", str(out)]) == 0
    data = problems.Dataset.load(out)
    assert [f["index"] for f in data.metadata["failures"]] == np.flatnonzero(hung).tolist()
    assert all("SolveTimeout" in f["message"] for f in data.metadata["failures"])
    np.testing.assert_array_equal(data.Y, X[~hung, :1] + X[~hung, 1:] * data.grid)


@pytest.mark.slow
def test_generate_and_run_on_a_dask_scheduler(tmp_path, capsys, local_cluster):
    with local_cluster(n_workers=1, threads_per_worker=2, processes=False) as cluster:
        assert main(["generate", "heat", "-n", "24", "--seed", "1", "--scheduler", cluster.scheduler_address,
                     "--out", str(tmp_path / "d.npz")]) == 0
        assert main(["run", "--quick", "--scheduler", cluster.scheduler_address, "--timeout", "60",
                     "--out", str(tmp_path / "r")]) == 0
    data = problems.Dataset.load(tmp_path / "d.npz")
    assert data.metadata["executor"]["kind"] == "dask"
    np.testing.assert_array_equal(data.Y, problems.generate("heat", 24, seed=1, workers=1, progress=False).Y)
    assert problems.Dataset.load(tmp_path / "r" / "heat" / "data.npz").metadata["executor"]["kind"] == "dask"


def test_run_with_an_ensemble_reports_its_calibration(tmp_path):
    assert main(["run", "--quick", "--ensemble", "3", "--out", str(tmp_path), "--workers", "1"]) == 0
    doc = json.loads((tmp_path / "heat" / "metrics.json").read_text())
    model = Surrogate.load(tmp_path / "heat" / "model.npz")
    assert len(model.members_) == 3 and doc["model"]["ensemble"] == 3
    # the coverage in metrics.json is that of the saved model on the interpolation cases
    inside, _ = problems.Dataset.load(tmp_path / "heat" / "data.npz").split_extrapolation(0.1)
    _, _, test = inside.split((0.7, 0.15, 0.15), seed=0)
    mean, std = model.predict(test.X, return_std=True)
    inside_band = np.abs(test.Y - mean) <= 2 * std
    assert doc["interpolation"]["coverage_2std"] == pytest.approx(inside_band.mean(), rel=1e-12)


# -- one convention for every command ---------------------------------------------------

def _subparsers():
    from surrogate.workflow.cli import build_parser
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return parser, action.choices


def test_version_prints_the_installed_package_version(capsys):
    from importlib.metadata import version
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == version("surrogate-toolkit") + "\n"


def test_the_same_option_means_the_same_in_every_command():
    _, commands = _subparsers()
    assert set(commands) == set(COMMANDS)
    seen = {}
    for name, sub in commands.items():
        for action in sub._actions:
            for flag in action.option_strings:
                seen.setdefault(flag, {})[name] = (action.dest, type(action).__name__, action.nargs)
    for flag, by_command in seen.items():
        assert len(set(by_command.values())) == 1, (flag, by_command)
    # a count of cases (or solver calls) is -n wherever there is one; -q/--quiet is everywhere
    for name, sub in commands.items():
        flags = {f for a in sub._actions for f in a.option_strings}
        assert {"-q", "--quiet"} <= flags, name
        assert ("-n" in flags) == any(a.dest == "n" for a in sub._actions), name
    # every command that solves offers the same ways to solve
    for name in ("generate", "run", "adapt"):
        flags = {f for a in commands[name]._actions for f in a.option_strings}
        assert {"-n", "--seed", "--workers", "--scheduler", "--timeout", "--quick", "--out"} <= flags, name


@pytest.mark.parametrize("argv", [
    ["generate", "heat", "-n", "7", "--out", "x.npz"],
    ["run", "heat", "-n", "7"],
    ["adapt", "heat", "-n", "7"],
])
def test_n_counts_cases_in_every_command_that_solves(argv):
    parser, _ = _subparsers()
    assert parser.parse_args(argv).n == 7
    assert parser.parse_args([argv[0], argv[1], "--n", "9", *argv[4:]]).n == 9


def test_help_shows_every_default_and_the_choices(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # no wrapping inside a value like surrogate-run
    from surrogate.activations import ACTIVATIONS
    from surrogate.workflow.run import QUICK, RUN_DEFAULTS
    _, commands = _subparsers()
    for name, sub in commands.items():
        text = " ".join(sub.format_help().split())
        for action in sub._actions:
            if action.default in (None, False, "==SUPPRESS==") or action.help in (None, "==SUPPRESS=="):
                continue
            flag = action.option_strings[0] if action.option_strings else action.dest
            assert f"(default: {action.default})" in text or "default:" in action.help, (name, flag)
    text = " ".join(commands["run"].format_help().split())
    assert "(default: tanh)" in text and "(default: surrogate-run)" in text
    assert "{" + ",".join(a for a in ACTIVATIONS if a != "step") + "}" in text
    assert "{sobol,lhs,halton,random}" in " ".join(commands["generate"].format_help().split())
    # the per-problem defaults are listed by value, for every command that uses them
    for name in ("train", "run", "adapt"):
        lines = [" ".join(line.split()) for line in commands[name].format_help().splitlines()]
        for problem, d in [*RUN_DEFAULTS.items(), ("--quick", QUICK)]:
            row = " ".join([{"*": "any other"}.get(problem, problem), str(d["n"]),
                            ",".join(map(str, d["hidden"])), str(d["epochs"]), str(d["lbfgs_iter"])])
            assert row in lines, (name, row)
    assert "RUN_DEFAULTS" not in " ".join(c.format_help() for c in commands.values())


@pytest.mark.parametrize("argv, prefix", [
    (["generate", "heat", "-n", "x", "--out", "x.npz"], "surrogate generate: error: argument -n/--n: "
                                                         "must be an integer >= 1, got 'x'"),
    (["run", "-n", "-1"], "surrogate run: error: argument -n/--n: must be an integer >= 1, got '-1'"),
    (["adapt", "heat", "-n", "0"], "surrogate adapt: error: argument -n/--n: must be an integer >= 1, got '0'"),
    (["train", "d.npz", "--out", "m.npz", "--activation", "step"], "surrogate train: error: argument "
                                                                   "--activation: invalid choice: 'step'"),
    (["evaluate", "m.npz"], "surrogate evaluate: error: the following arguments are required: data"),
    (["run", "--hidden", "0"], "surrogate run: error: argument --hidden: must be comma-separated positive"),
    (["--quiet", "run", "plasma"], "surrogate run: error: unknown problem 'plasma'"),
])
def test_bad_values_are_one_line_with_one_prefix_and_exit_2(argv, prefix, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(prefix), err
    assert err.count("error:") == 1 and "surrogate: error" not in err


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so tqdm would draw its bars on it."""

    def isatty(self):
        return True


def test_quiet_prints_no_progress_and_no_news_only_the_paths(heat_files, tmp_path, monkeypatch, capsys):
    argv = ["train", str(heat_files / "data.npz"), "--out", str(tmp_path / "m.npz"), "--quick"]
    # loud, on a terminal: the news and the progress bar are there to be silenced
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert main(argv) == 0
    loud = sys.stderr.getvalue()
    assert "fitting on" in loud and "epoch" in loud and "\r" in loud  # tqdm redraws with carriage returns
    for quiet in (argv + ["--quiet"], ["-q"] + argv):
        monkeypatch.setattr(sys, "stderr", _Terminal())
        capsys.readouterr()
        assert main(quiet) == 0
        assert sys.stderr.getvalue() == ""
        assert capsys.readouterr().out == f"wrote {tmp_path / 'm.npz'}\n"
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert main(["generate", "heat", "-n", "24", "--workers", "1", "--quiet", "--out", str(tmp_path / "d.npz")]) == 0
    assert sys.stderr.getvalue() == "" and capsys.readouterr().out == f"wrote {tmp_path / 'd.npz'}\n"
    assert main(["evaluate", str(tmp_path / "m.npz"), str(tmp_path / "d.npz"), "-q", "--out", str(tmp_path / "e")]) == 0
    assert sys.stderr.getvalue() == ""
    assert capsys.readouterr().out == f"wrote {tmp_path / 'e'}/metrics.json, report.md and plots\n"


def test_train_says_what_it_fits_and_validates_on_and_the_validation_error(heat_files, tmp_path, capsys):
    data = problems.Dataset.load(heat_files / "data.npz")
    n_val = round(0.15 * len(data))  # 48 cases: 7 held out, 41 fitted
    assert main(["train", str(heat_files / "data.npz"), "--out", str(tmp_path / "m.npz"), "--quick"]) == 0
    err = capsys.readouterr().err
    assert f"fitting on {len(data) - n_val} cases, validating on {n_val}" in err
    model = Surrogate.load(tmp_path / "m.npz")
    assert (model.n_train_, model.n_val_) == (len(data) - n_val, n_val)
    # the error it quotes is that of the saved model on the held-out cases
    _, val = data.split((0.85, 0.15), seed=0)
    err_val = rel_l2(y_true=val.Y, y_pred=model.predict(val.X, domain="ignore"))
    assert f"relative L2 error on the {n_val} validation cases: mean {err_val.mean():.3g}, " \
           f"max {err_val.max():.3g}" in err
    # too few cases to hold any out: refused, naming the option
    assert main(["train", str(heat_files / "data.npz"), "--out", str(tmp_path / "m.npz"),
                 "--validation-fraction", "0.01"]) == 2
    assert "argument --validation-fraction: 48 cases are too few" in capsys.readouterr().err
