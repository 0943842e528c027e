"""Figures: valid PNGs with the expected axes, and the right best/median/worst cases."""
import types

import numpy as np
import pytest
from matplotlib.figure import Figure

from surrogate.plotting import (case_indices, plot_error_along_grid, plot_error_vs_parameters,
                                plot_loss, plot_profiles)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert path.is_file()
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    grid = np.linspace(0.0, 1.0, 21)
    X = rng.uniform(0.5, 2.0, size=(7, 3))
    Y_true = X[:, :1] * np.sin(np.pi * grid)
    # relative L2 error of sample i is exactly 1e-3 * (i + 1)
    return grid, X, Y_true, Y_true * (1 + 1e-3 * np.arange(1, 8))[:, None]


def test_case_indices_against_argsort_by_hand():
    rel = np.array([0.30, 0.01, 0.50, 0.02, 0.10])
    # sorted: 0.01 (1), 0.02 (3), 0.10 (4), 0.30 (0), 0.50 (2)
    assert case_indices(rel) == [1, 4, 2]
    assert case_indices(rel, ("worst", "best")) == [2, 1]
    even = np.array([0.4, 0.1, 0.3, 0.2])  # sorted: 1, 3, 2, 0 -> lower median is rank 1
    assert case_indices(even, ("median",)) == [3]
    assert case_indices(np.array([0.2, np.nan, 0.1]), ("best", "worst")) == [2, 1]
    assert case_indices(rel, ("best", 0, -1)) == [1, 0, 4]
    with pytest.raises(ValueError, match="unknown case 'mean'"):
        case_indices(rel, ("mean",))
    with pytest.raises(ValueError, match="out of range"):
        case_indices(rel, (5,))


def test_plot_profiles(tmp_path, data):
    grid, _, Y_true, Y_pred = data
    path = tmp_path / "deep" / "dir" / "profiles.png"
    fig = plot_profiles(grid, Y_true, Y_pred, title="test", path=path)
    assert isinstance(fig, Figure)
    assert_png(path)
    assert len(fig.axes) == 6  # 3 cases x (profile, error)
    # the error grows with the sample index: best = 0, median = 3, worst = 6
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles == ["best: sample 0, rel. L2 = 1.00e-03", "median: sample 3, rel. L2 = 4.00e-03",
                      "worst: sample 6, rel. L2 = 7.00e-03"]
    top = fig.axes[0]
    styles = [line.get_linestyle() for line in top.get_lines()]
    assert styles == ["-", "--"]  # solver solid, surrogate dashed
    np.testing.assert_array_equal(top.get_lines()[0].get_ydata(), Y_true[0])


def test_plot_profiles_given_rel_l2_and_cases(data):
    grid, _, Y_true, Y_pred = data
    rel = np.array([5.0, 1.0, 2.0, 3.0, 4.0, 6.0, 0.5])
    fig = plot_profiles(grid, Y_true, Y_pred, rel_l2=rel, cases=("best", "worst"))
    assert len(fig.axes) == 4
    assert fig.axes[0].get_title().startswith("best: sample 6")
    assert fig.axes[1].get_title().startswith("worst: sample 5")
    with pytest.raises(ValueError, match="`Y_pred` must have the shape"):
        plot_profiles(grid, Y_true, Y_pred[:, :-1])


def test_plot_error_vs_parameters(tmp_path, data):
    _, X, _, _ = data
    rel = np.geomspace(1e-4, 1e-2, X.shape[0])
    fig = plot_error_vs_parameters(X, rel, ["a", "b", "c"], path=tmp_path / "params.png")
    assert_png(tmp_path / "params.png")
    assert len(fig.axes) == 3
    assert [ax.get_xlabel() for ax in fig.axes] == ["a", "b", "c"]
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    wrapped = plot_error_vs_parameters(np.ones((7, 5)), rel, None, ncols=2)
    assert len(wrapped.axes) == 5  # 3 rows x 2 columns, the unused cell removed
    with pytest.raises(ValueError, match="`param_names` must name the 3 columns"):
        plot_error_vs_parameters(X, rel, ["a", "b"])


def test_plot_error_along_grid(tmp_path, data):
    grid = data[0]
    path = tmp_path / "grid_error"  # no suffix: saved as PNG anyway
    fig = plot_error_along_grid(grid, 1e-3 * (1 + grid), path=path)
    assert_png(path)
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="one value per grid point"):
        plot_error_along_grid(grid, np.ones(3))


def test_plot_loss_from_dict_and_object(tmp_path):
    history = {"loss": [1.0, 0.3, 0.1, 0.05], "val_loss": [1.2, 0.4, 0.2, 0.25]}
    fig = plot_loss(history, path=tmp_path / "loss.png")
    assert_png(tmp_path / "loss.png")
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "log"
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["training", "validation", "best validation (epoch 3)"]

    fig = plot_loss(types.SimpleNamespace(loss=[2.0, 1.0]), path=tmp_path / "loss2.png")
    assert_png(tmp_path / "loss2.png")
    assert fig.axes[0].get_legend_handles_labels()[1] == ["training"]
    with pytest.raises(ValueError, match="no 'loss'"):
        plot_loss({"val_loss": [1.0]})


def test_plot_loss_phases_of_a_surrogate(tmp_path):
    history = {"adam": {"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.6, 0.3]},
               "lbfgs": {"loss": [0.1, 0.05], "val_loss": [0.2, 0.25]}}
    fig = plot_loss(history, path=tmp_path / "phases.png")
    assert_png(tmp_path / "phases.png")
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    training = [line for line in ax.get_lines() if line.get_color() == "tab:blue"]
    np.testing.assert_array_equal(np.concatenate([t.get_xdata() for t in training]), [1, 2, 3, 4, 5])
    assert ax.get_legend_handles_labels()[1] == ["training", "validation",
                                                 "best validation (lbfgs, step 1)"]
    assert [t.get_text() for t in ax.texts] == ["adam", "lbfgs"]
