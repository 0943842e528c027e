"""Metrics against values computed by hand on tiny arrays; the evaluation report."""
import json
import math
import time
import warnings

import numpy as np
import pytest

from surrogate.metrics import (Report, error_per_point, evaluate, max_abs_error, nrmse, r2,
                               rel_l2, rmse)

# n = 3 profiles on m = 2 grid points.
TRUE = np.array([[3.0, 4.0],
                 [1.0, 0.0],
                 [0.0, 2.0]])
PRED = np.array([[3.0, 5.0],
                 [1.0, 1.0],
                 [2.0, 2.0]])
# PRED - TRUE = [[0, 1], [0, 1], [2, 0]]


def test_rel_l2_by_hand():
    # ||diff_i|| = 1, 1, 2 ; ||true_i|| = 5, 1, 2
    np.testing.assert_allclose(rel_l2(y_true=TRUE, y_pred=PRED), [0.2, 1.0, 1.0], rtol=1e-15)


def test_rmse_by_hand():
    # squared errors 0, 1, 0, 1, 4, 0: mean 6/6 = 1
    assert rmse(y_true=TRUE, y_pred=PRED) == pytest.approx(1.0, rel=1e-15)


def test_nrmse_by_hand_pdebench_formula():
    # per profile sqrt(mean diff^2) / sqrt(mean true^2):
    # sqrt(1/2)/sqrt(25/2) = 0.2, sqrt(1/2)/sqrt(1/2) = 1, sqrt(4/2)/sqrt(4/2) = 1 ; mean 2.2/3
    assert nrmse(y_true=TRUE, y_pred=PRED) == pytest.approx(2.2 / 3, rel=1e-15)
    assert nrmse(y_true=TRUE, y_pred=PRED) == pytest.approx(rel_l2(y_true=TRUE, y_pred=PRED).mean(), rel=1e-15)


def test_max_abs_error_by_hand():
    assert max_abs_error(y_true=TRUE, y_pred=PRED) == 2.0
    assert max_abs_error(y_true=-TRUE, y_pred=-PRED) == 2.0


def test_error_per_point_by_hand():
    # column 0: errors 0, 0, 2 -> sqrt(4/3); column 1: errors 1, 1, 0 -> sqrt(2/3)
    np.testing.assert_allclose(error_per_point(y_true=TRUE, y_pred=PRED), [math.sqrt(4 / 3), math.sqrt(2 / 3)],
                               rtol=1e-15)


def test_r2_by_hand():
    # column 0: true 3, 1, 0 (mean 4/3) ss_tot = 42/9, ss_res = 4 -> 1 - 4*9/42 = 1/7
    # column 1: true 4, 0, 2 (mean 2)   ss_tot = 8,    ss_res = 2 -> 3/4
    assert r2(y_true=TRUE, y_pred=PRED) == pytest.approx((1 / 7 + 3 / 4) / 2, rel=1e-14)
    assert r2(y_true=TRUE, y_pred=PRED) == pytest.approx(25 / 56, rel=1e-14)
    assert r2(y_true=TRUE, y_pred=TRUE) == 1.0
    # predicting the column means scores 0
    assert r2(y_true=TRUE, y_pred=np.broadcast_to(TRUE.mean(axis=0), TRUE.shape)) == pytest.approx(0.0, abs=1e-15)


def test_r2_constant_output_sklearn_convention_and_skip():
    true = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])  # column 1 is a fixed boundary value
    pred = np.array([[1.0, 0.0], [2.0, 0.1], [4.0, 0.0]])
    # column 0: ss_res = 1, ss_tot = 2 -> 0.5 ; column 1: constant, missed -> 0 (sklearn)
    assert r2(y_true=true, y_pred=pred) == pytest.approx(0.25)
    assert r2(y_true=true, y_pred=pred, skip_constant=True) == pytest.approx(0.5)
    exact_boundary = pred.copy()
    exact_boundary[:, 1] = 0.0  # constant column hit exactly -> 1
    assert r2(y_true=true, y_pred=exact_boundary) == pytest.approx(0.75)
    # all columns constant: skip falls back to the sklearn convention
    assert r2(y_true=np.zeros((3, 2)), y_pred=np.zeros((3, 2)), skip_constant=True) == 1.0
    assert r2(y_true=np.zeros((3, 2)), y_pred=np.ones((3, 2)), skip_constant=True) == 0.0


def test_r2_single_profile_is_nan_with_warning():
    with pytest.warns(RuntimeWarning, match="fewer than two"):
        assert math.isnan(r2(y_true=TRUE[:1], y_pred=PRED[:1]))


def test_zero_profile_guard():
    true = np.array([[0.0, 0.0], [3.0, 4.0]])
    with pytest.warns(RuntimeWarning, match="1 profile"):
        np.testing.assert_array_equal(rel_l2(y_true=true, y_pred=np.array([[0.0, 0.0], [3.0, 5.0]])), [0.0, 0.2])
    with pytest.warns(RuntimeWarning, match="identically zero"):
        np.testing.assert_array_equal(rel_l2(y_true=true, y_pred=np.array([[1e-9, 0.0], [3.0, 4.0]])), [np.inf, 0.0])
    with pytest.warns(RuntimeWarning, match="nrmse"):
        assert nrmse(y_true=true, y_pred=np.array([[1.0, 0.0], [3.0, 4.0]])) == np.inf


def test_float32_inputs_are_measured_in_float64():
    assert rel_l2(y_true=TRUE.astype(np.float32), y_pred=PRED.astype(np.float32)).dtype == np.float64
    assert rmse(y_true=TRUE, y_pred=PRED.astype(np.float32)) == 1.0


@pytest.mark.parametrize("metric", [rel_l2, rmse, nrmse, max_abs_error, r2, error_per_point])
def test_shape_errors_name_argument_and_shapes(metric):
    with pytest.raises(ValueError, match=r"`y_pred` must be a 2-D array.*got shape \(2,\)"):
        metric(y_true=np.ones((1, 2)), y_pred=np.ones(2))
    with pytest.raises(ValueError, match=r"`y_true` must be a 2-D array.*got shape \(1, 2, 1\)"):
        metric(y_true=np.ones((1, 2, 1)), y_pred=np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"y_pred.shape=\(3, 2\) and y_true.shape=\(3, 4\)"):
        metric(y_true=np.ones((3, 4)), y_pred=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"`y_pred` is empty \(shape \(0, 2\)\)"):
        metric(y_true=np.ones((0, 2)), y_pred=np.ones((0, 2)))


# ----------------------------------------------------------------------------
# evaluate and Report

SHAPE = np.array([1.0, 2.0, 2.0, 4.0])  # ||SHAPE|| = 5
OFFSET = 0.1


class OffsetModel:
    """Profile x0 * SHAPE, plus OFFSET at every point: every error is known exactly."""

    def __init__(self, sleep=0.0):
        self.sleep = sleep
        self.calls = []

    def predict(self, X):
        self.calls.append(np.shape(X))
        if self.sleep:
            time.sleep(self.sleep)
        return np.asarray(X)[:, :1] * SHAPE + OFFSET


X_EVAL = np.array([[1.0, 7.0], [2.0, 7.0], [4.0, 7.0]])
Y_EVAL = X_EVAL[:, :1] * SHAPE


def test_evaluate_with_known_offset():
    report = evaluate(OffsetModel(), X_EVAL, Y_EVAL, timing=False)
    # ||diff_i|| = 0.1 * ||(1,1,1,1)|| = 0.2 ; ||true_i|| = 5 x_i -> 0.04 / x_i
    expected_rel = [0.04, 0.02, 0.01]
    np.testing.assert_allclose(report.rel_l2, expected_rel, rtol=1e-12)
    assert report.n_profiles == 3 and report.n_points == 4
    assert report.rel_l2_mean == pytest.approx(0.07 / 3, rel=1e-12)
    assert report.rel_l2_median == pytest.approx(0.02, rel=1e-12)
    assert report.rel_l2_max == pytest.approx(0.04, rel=1e-12)
    assert report.nrmse == pytest.approx(0.07 / 3, rel=1e-12)
    assert report.rmse == pytest.approx(0.1, rel=1e-12)
    assert report.max_abs_error == pytest.approx(0.1, rel=1e-12)
    np.testing.assert_allclose(report.error_per_point, [0.1] * 4, rtol=1e-12)
    # column j: true = SHAPE_j * (1, 2, 4), ss_tot = SHAPE_j^2 * 14/3, ss_res = 3 * 0.01
    expected_r2 = 1 - 0.09 / 14 * (1 + 1 / 4 + 1 / 4 + 1 / 16) / 4
    assert report.r2 == pytest.approx(expected_r2, rel=1e-12)
    assert report.surrogate_seconds_per_profile_batched is None
    assert report.speedup_per_profile is None and report.speedup_single is None


def test_evaluate_timing_and_speedup():
    model = OffsetModel(sleep=0.002)
    report = evaluate(model, X_EVAL, Y_EVAL, solver_seconds_per_profile=1.0, repeats=3,
                      timing_batch=7)
    batched = report.surrogate_seconds_per_profile_batched
    single = report.surrogate_seconds_per_profile_single
    assert 0.002 / 7 <= batched < 0.5 and 0.002 <= single < 0.5
    assert report.speedup_per_profile == pytest.approx(1.0 / batched, rel=1e-12)
    assert report.speedup_single == pytest.approx(1.0 / single, rel=1e-12)
    assert report.solver_seconds_per_profile == 1.0
    # 1 call for the metrics; the 3 rows repeated to a batch of 7: 1 warm-up and
    # 3 timed calls; then 1 warm-up and 3 single rows
    assert model.calls == [(3, 2)] + [(7, 2)] * 4 + [(1, 2)] * 4


def test_evaluate_times_a_batch_of_repeated_rows():
    seen = []

    class Recorder(OffsetModel):
        def predict(self, X):
            seen.append(np.array(X))
            return super().predict(X)

    evaluate(Recorder(), X_EVAL, Y_EVAL, repeats=1, timing_batch=8, max_single=1)
    batch = seen[1]
    np.testing.assert_array_equal(batch, X_EVAL[np.arange(8) % len(X_EVAL)])
    big = np.repeat(X_EVAL, 4, axis=0)  # more rows than timing_batch: timed as they are
    seen.clear()
    evaluate(Recorder(), big, np.repeat(Y_EVAL, 4, axis=0), repeats=1, timing_batch=8, max_single=1)
    assert seen[1].shape == big.shape


def test_evaluate_samples_at_most_max_single_rows():
    X = np.column_stack([np.linspace(1.0, 2.0, 120), np.zeros(120)])
    model = OffsetModel()
    evaluate(model, X, X[:, :1] * SHAPE, repeats=2, max_single=50)
    assert model.calls.count((1, 2)) == 1 + 50


def test_evaluate_input_errors():
    with pytest.raises(ValueError, match=r"model.predict\(X\) returned shape \(3, 4\), expected \(3, 3\)"):
        evaluate(OffsetModel(), X_EVAL, Y_EVAL[:, :3], timing=False)
    with pytest.raises(ValueError, match="same number of rows"):
        evaluate(OffsetModel(), X_EVAL[:2], Y_EVAL, timing=False)
    with pytest.raises(ValueError, match="`X` must be a 2-D"):
        evaluate(OffsetModel(), X_EVAL[:, 0], Y_EVAL, timing=False)
    with pytest.raises(ValueError, match="solver_seconds_per_profile` must be > 0"):
        evaluate(OffsetModel(), X_EVAL, Y_EVAL, solver_seconds_per_profile=0.0)


def test_report_dict_and_json_round_trip(tmp_path):
    report = evaluate(OffsetModel(), X_EVAL, Y_EVAL, solver_seconds_per_profile=0.5, repeats=2)
    d = report.to_dict()
    assert isinstance(d["rel_l2"], list) and isinstance(d["error_per_point"], list)
    spread = ("coverage_2std", "spread_error_spearman")  # None: OffsetModel has no spread
    assert all(isinstance(v, (int, float, list)) for k, v in d.items() if k not in spread)
    assert all(d[k] is None for k in spread)
    assert json.loads(json.dumps(d)) == d

    path = tmp_path / "out" / "metrics.json"
    text = report.to_json(path)
    assert json.loads(path.read_text()) == d == json.loads(text)
    again = Report.from_dict(json.loads(text))
    assert again.to_dict() == d
    np.testing.assert_array_equal(again.rel_l2, report.rel_l2)

    with pytest.raises(ValueError, match="unknown Report field"):
        Report.from_dict({**d, "rel_l2_men": 1.0})


def test_report_prints_aligned_table():
    report = evaluate(OffsetModel(), X_EVAL, Y_EVAL, solver_seconds_per_profile=2.0, repeats=2)
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == "Held-out evaluation: 3 profiles x 4 grid points"
    assert len(lines) == 1 + len(report.rows())
    assert len({len(line) for line in lines[1:]}) == 1  # values right-aligned in one column
    assert "relative L2 error, mean" in text and "2.333e-02" in text
    assert "nRMSE (PDEBench)" in text and "speed-up per profile, batched" in text
    no_timing = str(evaluate(OffsetModel(), X_EVAL, Y_EVAL, timing=False))
    assert "n/a" in no_timing


def test_measures_take_keywords_only():
    """A swapped positional order would silently invert the normalisation: refused."""
    for measure in (rel_l2, rmse, nrmse, max_abs_error, r2, error_per_point):
        with pytest.raises(TypeError):
            measure(PRED, TRUE)


@pytest.mark.parametrize("bad, match", [(np.nan, r"`Y` must be finite; Y\[1, 2\] is nan"),
                                        (np.inf, r"`Y` must be finite; Y\[1, 2\] is inf")])
def test_evaluate_refuses_non_finite_truth(bad, match):
    """A NaN in Y made every error NaN, reported without a word."""
    Y = Y_EVAL.copy()
    Y[1, 2] = bad
    with pytest.raises(ValueError, match=match):
        evaluate(OffsetModel(), X_EVAL, Y, timing=False)


def test_evaluate_refuses_complex_truth():
    """np.asarray(Y, float) dropped the imaginary part with only a warning."""
    with pytest.raises(ValueError, match="`Y` must be a real numeric array, got dtype complex128"):
        evaluate(OffsetModel(), X_EVAL, Y_EVAL + 1j, timing=False)


def test_evaluate_warns_once_outside_the_box_not_once_per_timed_call():
    from surrogate import Surrogate
    from surrogate.domain import OutOfDomainWarning
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (60, 2))
    Y = np.sin(X @ np.ones((2, 5)))
    model = Surrogate(hidden=(4,), epochs=3, lbfgs_iter=0).fit(X, Y, progress=False)
    outside = X + 2.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluate(model, outside, Y, repeats=2, max_single=5)
    assert sum(issubclass(w.category, OutOfDomainWarning) for w in caught) == 1
