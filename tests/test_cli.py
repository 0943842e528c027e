"""The `surrogate` command end to end on small problems, and its user-error paths."""
import json
import subprocess
import sys

import numpy as np
import pytest

import problems
from surrogate.workflow.cli import main
from surrogate.metrics import rel_l2
from surrogate.model import Surrogate

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
    for png in ("profiles_test.png", "error_vs_parameters_test.png", "error_along_grid_test.png", "loss.png"):
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
             "profiles_extrapolation.png", "error_vs_parameters_interpolation.png",
             "error_along_grid_extrapolation.png"]
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
    (["generate", "heat", "-n", "0", "--out", "x.npz"], "argument -n: must be an integer >= 1, got '0'"),
    (["generate", "heat", "-n", "5", "--out", "/no/such/dir/x.npz"], "does not exist"),
    (["train", "/no/such/data.npz", "--out", "m.npz"], "not found"),
    (["train", "d.npz", "--out", "m.npz", "--hidden", "64,x"], "argument --hidden"),
    (["evaluate", "/no/such/model.npz", "/no/such/data.npz", "--out", "o"], "no such model file"),
    (["run", "--epochs", "-3"], "argument --epochs"),
    (["train", "d.npz", "--out", "m.npz", "--validation-fraction", "2"], "argument --validation-fraction"),
    (["frobnicate"], "invalid choice"),
    (["generate", "heat", "-n", "5", "--out", "x.npz", "--method", "grid"], "unknown sampling method"),
])
def test_user_errors_exit_2_with_one_line(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert fragment in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("surrogate: error:")


def test_corrupted_model_is_a_user_error(tmp_path, heat_files, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["evaluate", str(bad), str(heat_files / "data.npz"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "truncated or corrupted" in err


@pytest.mark.parametrize("cmd", [[], ["problems"], ["generate"], ["train"], ["evaluate"], ["run"]])
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
