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


# -- figures for a talk: units, cases by their parameters, sets by colour, no empty panels --------

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # the report's backend; the functions build Figures without pyplot anyway


def drawn(ax):
    """The data an axis shows: its lines and its scatter/band collections."""
    return len(ax.get_lines()) + len(ax.collections)


def assert_every_axis_has_data(fig):
    assert fig.axes, "a figure without axes"
    for ax in fig.axes:
        assert drawn(ax) > 0, f"empty panel: {ax.get_title()!r}"


#: three parameters with units (one dimensionless, written "-"), one row per case
X_UNITS = np.array([[0.31, 0.05, 2.0], [0.42, 0.10, 3.5], [0.55, 0.15, 1.25], [0.60, 0.20, 4.0],
                    [0.70, 0.11, 2.5], [0.33, 0.07, 3.0], [0.45, 0.19, 1.5]])
NAMES, UNITS = ["k", "n_b", "Ip"], ["1/m", "-", "MA"]


def test_profiles_carry_units_and_name_each_case_by_its_parameters(data):
    grid, _, Y_true, Y_pred = data  # errors grow with the row: best 0, median 3, worst 6
    fig = plot_profiles(grid, Y_true, Y_pred, grid_label="x", grid_unit="m", value_label="T_e",
                        value_unit="keV", X=X_UNITS, param_names=NAMES, param_units=UNITS)
    top, bottom = fig.axes[:3], fig.axes[3:]
    assert top[0].get_ylabel() == "T_e [keV]" and bottom[0].get_ylabel() == "error [keV]"
    assert all(ax.get_xlabel() == "x [m]" for ax in bottom)
    titles = [" ".join(ax.get_title().split()) for ax in top]
    assert titles[0] == "best (rel. L2 = 1.00e-03) k = 0.31 1/m, n_b = 0.05, Ip = 2 MA"
    assert titles[1].startswith("median (rel. L2 = 4.00e-03) k = 0.6 1/m, n_b = 0.2, Ip = 4 MA")
    assert titles[2].startswith("worst (rel. L2 = 7.00e-03) k = 0.45 1/m, n_b = 0.19, Ip = 1.5 MA")
    assert not any("sample" in t for t in titles)
    assert_every_axis_has_data(fig)
    with pytest.raises(ValueError, match="`X` must have one row of parameters per profile"):
        plot_profiles(grid, Y_true, Y_pred, X=X_UNITS[:3], param_names=NAMES)
    with pytest.raises(ValueError, match="`param_units` must give a unit for each of the 3"):
        plot_profiles(grid, Y_true, Y_pred, X=X_UNITS, param_names=NAMES, param_units=["m"])


def test_error_vs_parameters_has_units_titles_and_a_colour_per_set():
    rel = np.geomspace(1e-4, 1e-2, 7)
    groups = ["interpolation"] * 4 + ["extrapolation"] * 3
    fig = plot_error_vs_parameters(X_UNITS, rel, NAMES, param_units=UNITS, groups=groups)
    assert len(fig.axes) == 3
    assert [ax.get_xlabel() for ax in fig.axes] == ["k [1/m]", "n_b [-]", "Ip [MA]"]
    assert [ax.get_title() for ax in fig.axes] == ["error vs k", "error vs n_b", "error vs Ip"]
    assert fig.axes[0].get_ylabel() == "relative L2 error" and fig.get_suptitle()
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["interpolation", "extrapolation"]
    for j, ax in enumerate(fig.axes):  # each set's points are its own rows, in its own colour
        inside, edge = ax.collections
        np.testing.assert_array_equal(inside.get_offsets()[:, 0], X_UNITS[:4, j])
        np.testing.assert_array_equal(edge.get_offsets()[:, 1], rel[4:])
        assert not np.allclose(inside.get_facecolor()[0][:3], edge.get_facecolor()[0][:3])
    with pytest.raises(ValueError, match="`groups` must name the set of each of the 7 rows"):
        plot_error_vs_parameters(X_UNITS, rel, NAMES, groups=groups[:3])


def test_no_empty_panel_slots_when_parameters_do_not_fill_the_grid():
    rng = np.random.default_rng(1)
    for d, ncols in ((5, 4), (7, 3), (3, 2), (1, 4)):
        fig = plot_error_vs_parameters(rng.uniform(size=(9, d)), rng.uniform(0.1, 1, 9), ncols=ncols)
        assert len(fig.axes) == d
        assert_every_axis_has_data(fig)


def test_error_along_grid_has_units_and_a_line_per_set(data):
    grid = data[0]
    fig = plot_error_along_grid(grid, {"interpolation": 1e-3 * (1 + grid), "extrapolation": 3e-3 * (1 + grid)},
                                grid_label="r", grid_unit="m", value_label="q", value_unit="keV")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "r [m]" and ax.get_ylabel() == "RMSE over held-out cases of q [keV]"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["interpolation", "extrapolation"]
    assert ax.get_lines()[0].get_color() != ax.get_lines()[1].get_color()
    assert_every_axis_has_data(fig)


def test_loss_axes_are_labelled():
    fig = plot_loss({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel().startswith("loss")
    phases = plot_loss({"adam": {"loss": [1.0, 0.5]}, "lbfgs": {"loss": [0.4, 0.3]}}).axes[0]
    assert phases.get_xlabel() == "Adam epoch, then L-BFGS iteration"
    assert_every_axis_has_data(fig)


def test_report_figures_carry_the_problem_units_and_parameter_values(tmp_path, monkeypatch):
    """The path metadata takes from a problem to the report's figures: every axis that shows
    a parameter, the grid or the profile names its unit as the problem declares it."""
    import problems
    from surrogate import Surrogate, plotting
    from surrogate.workflow import fit_dataset, write_report
    from surrogate.workflow.run import evaluate_dataset

    figures = {}
    monkeypatch.setattr(plotting, "_save", lambda fig, path: figures.setdefault(path.stem, fig))
    pinch = problems.get("pinch")
    data = problems.generate(pinch, 40, seed=0, workers=1, progress=False)
    split = data.split_extrapolation(0.2)
    inside, edge = split
    train, test = inside.split((0.75, 0.25), seed=0)
    model = fit_dataset(Surrogate(hidden=(8,), epochs=3, lbfgs_iter=3), train, box=split.trusted_box,
                        progress=False)
    reports = {"interpolation": evaluate_dataset(model, test),
               "extrapolation": evaluate_dataset(model, edge, extrapolating=True)}
    write_report(tmp_path, "t", model, reports, {"interpolation": test, "extrapolation": edge}, {})
    assert set(figures) == {"profiles_interpolation", "profiles_extrapolation", "error_vs_parameters",
                            "error_along_grid", "loss"}
    grid_label = f"{pinch.grid_name} [{pinch.grid_unit}]"
    units = {p.name: p.unit for p in pinch.parameters}
    for tag, cases in (("interpolation", test), ("extrapolation", edge)):
        fig = figures[f"profiles_{tag}"]
        assert_every_axis_has_data(fig)
        assert fig.axes[-1].get_xlabel() == grid_label
        worst = int(np.argmax(reports[tag].rel_l2))
        title = " ".join(fig.axes[2].get_title().split())
        for name, value in zip(data.param_names, cases.X[worst]):
            shown = f"{value:.3g}" if units[name] in ("", "-", "1") else f"{value:.3g} {units[name]}"
            assert f"{name} = {shown}" in title
    fig = figures["error_vs_parameters"]
    assert [ax.get_xlabel() for ax in fig.axes] == [f"{p.name} [{p.unit}]" if p.unit else p.name
                                                    for p in pinch.parameters]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["interpolation", "extrapolation"]
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == len(test) + len(edge)
    assert figures["error_along_grid"].axes[0].get_xlabel() == grid_label
    for fig in figures.values():
        assert_every_axis_has_data(fig)
