"""Ensembles: the side-by-side member kernel against the single-network path,
determinism, files, the calibrated spread, and its measures in `evaluate`."""
import numba
import numpy as np
import pytest

from surrogate import plotting
from surrogate.metrics import coverage, evaluate, spread_error_spearman
from surrogate.model import Surrogate, calibration_factor, member_seeds
from surrogate.network import MLP
from surrogate.optimizers import Adam, CosineDecay
from surrogate.training import _train, _train_members

GRID = np.linspace(0.0, 1.0, 20)


def smooth_field(X):
    """u(x; a, k) = a sin(k x) + x^2."""
    return X[:, :1] * np.sin(X[:, 1:2] * GRID) + GRID ** 2


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    lower, upper = np.array([0.5, 1.0]), np.array([1.5, 3.0])
    X = lower + (upper - lower) * rng.random((120, 2))
    Xv = lower + (upper - lower) * rng.random((40, 2))
    Xt = lower + (upper - lower) * rng.random((50, 2))
    return X, smooth_field(X), Xv, smooth_field(Xv), Xt, smooth_field(Xt)


OPTIONS = dict(hidden=(12, 12), epochs=40, lbfgs_iter=30, patience=8, seed=5, domain="ignore")


@pytest.fixture(scope="module")
def ensemble(data):
    X, Y, Xv, Yv, _, _ = data
    return Surrogate(ensemble=3, **OPTIONS).fit(X, Y, validation=(Xv, Yv), progress=False)


def test_member_kernel_follows_the_single_network_path():
    """Each member of `_train_members` equals the same network trained alone by `_train`
    (one thread, its own seeds), epoch for epoch, including per-member early stopping."""
    rng = np.random.default_rng(0)
    X, Xv = rng.normal(size=(70, 3)), rng.normal(size=(20, 3))
    Y, Yv = np.tanh(X @ rng.normal(size=(3, 2))), np.tanh(Xv @ rng.normal(size=(3, 2)))
    K = 3
    seeds = [member_seeds(1, k) for k in range(K)]
    make = lambda k: MLP([3, 8, 2], seed=np.random.default_rng(seeds[k][0]))  # noqa: E731
    adam = lambda: Adam(1e-2, schedule=CosineDecay(30, lr_min=1e-4))  # noqa: E731
    nets = [make(k) for k in range(K)]
    together = _train_members(nets, X, Y, adam(), 16, 30, [s[1] for s in seeds],
                              validation=(Xv, Yv), early_stopping=3, progress=False)
    numba.set_num_threads(1)
    try:
        for k in range(K):
            alone = make(k)
            h = _train(alone, X, Y, adam(), batch_size=16, epochs=30, seed=np.random.default_rng(seeds[k][1]),
                       validation=(Xv, Yv), early_stopping=3, progress=False)
            np.testing.assert_array_equal(nets[k].params, alone.params)
            assert together[k].loss == h.loss and together[k].val_loss == h.val_loss
            assert together[k].best_epoch == h.best_epoch
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert not np.array_equal(nets[0].params, nets[1].params)  # members do differ


def test_member_0_is_the_single_model(data, ensemble):
    """ensemble=1 is the plain Surrogate, and member 0 of an ensemble equals it bitwise."""
    X, Y, Xv, Yv, Xt, _ = data
    single = Surrogate(**OPTIONS).fit(X, Y, validation=(Xv, Yv), progress=False)
    np.testing.assert_array_equal(ensemble.members_[0].params, single.net_.params)
    assert ensemble.net_ is ensemble.members_[0]
    np.testing.assert_array_equal(ensemble.predict_members(Xt)[0], single.predict(Xt))
    assert single.predict_members(Xt).shape == (1, Xt.shape[0], GRID.size)


def test_same_seed_and_any_thread_count_give_the_same_ensemble(data, ensemble):
    X, Y, Xv, Yv, _, _ = data
    before = numba.get_num_threads()
    try:
        fits = []
        for n in (1, 2):
            numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
            fits.append(Surrogate(ensemble=3, **OPTIONS).fit(X, Y, validation=(Xv, Yv), progress=False))
    finally:
        numba.set_num_threads(before)
    for fit in fits:
        for a, b in zip(fit.members_, ensemble.members_):
            np.testing.assert_array_equal(a.params, b.params)
        assert fit.calibration_ == ensemble.calibration_
    other = Surrogate(ensemble=3, **{**OPTIONS, "seed": 6}).fit(X, Y, validation=(Xv, Yv), progress=False)
    assert not np.array_equal(other.members_[1].params, ensemble.members_[1].params)


def test_mean_std_and_calibration_by_hand(data, ensemble):
    X, Y, Xv, Yv, Xt, _ = data
    members = ensemble.predict_members(Xt)
    assert members.shape == (3, Xt.shape[0], GRID.size)
    mean, std = ensemble.predict(Xt, return_std=True)
    assert mean.shape == std.shape == (Xt.shape[0], GRID.size)
    np.testing.assert_allclose(mean, members.sum(axis=0) / 3, rtol=0, atol=1e-14)
    dev = members - mean
    raw = np.sqrt((dev ** 2).sum(axis=0) / 2)  # ddof = 1
    np.testing.assert_allclose(std, raw * ensemble.calibration_, rtol=1e-12)
    np.testing.assert_array_equal(ensemble.predict(Xt), mean)
    m1, s1 = ensemble.predict(Xt[3], return_std=True)
    np.testing.assert_allclose(m1, mean[3], rtol=1e-12)  # a lone row runs in a smaller tile
    np.testing.assert_allclose(s1, std[3], rtol=1e-9)

    # the factor: half the 95.45% quantile (linear interpolation) of |error| / std on the validation split
    vm = ensemble.predict_members(Xv)
    err, spread = np.abs(Yv - vm.mean(axis=0)).ravel(), vm.std(axis=0, ddof=1).ravel()
    pinned = err == 0  # u(0) = 0 for every case: no error and no spread there, counted as inside
    assert pinned.any()
    z = np.sort(np.concatenate([err[~pinned] / spread[~pinned], np.zeros(pinned.sum())]))
    pos = 0.9545 * (z.size - 1)
    lo = int(pos)
    c = 0.5 * (z[lo] + (pos - lo) * (z[lo + 1] - z[lo]))
    assert ensemble.calibration_ == pytest.approx(c, rel=1e-12)
    # so mean +- 2 std covers 95.45% of the validation values, up to one value
    _, sv = ensemble.predict(Xv, return_std=True)
    inside = np.mean(np.abs(Yv - vm.mean(axis=0)) <= 2 * sv)
    assert abs(inside - 0.9545) <= 1.0 / z.size


def test_calibration_factor_edge_cases():
    Y = np.array([[1.0, 2.0, 3.0]])
    assert calibration_factor(Y, Y, np.zeros_like(Y)) == 1.0  # no error: leave the spread alone
    z = np.linspace(0.0, 4.0, 10001)  # |error| / std uniform on [0, 4]
    assert calibration_factor(z[None], np.zeros((1, z.size)), np.ones((1, z.size))) == pytest.approx(
        0.5 * 4.0 * 0.9545)


def test_save_load_round_trip_of_an_ensemble_is_bit_identical(tmp_path, data, ensemble):
    _, _, _, _, Xt, _ = data
    loaded = Surrogate.load(ensemble.save(tmp_path / "ens.npz"))
    assert loaded.ensemble == 3 and len(loaded.members_) == 3
    for a, b in zip(loaded.members_, ensemble.members_):
        np.testing.assert_array_equal(a.params, b.params)
    assert loaded.calibration_ == ensemble.calibration_
    for a, b in zip(ensemble.predict(Xt, return_std=True), loaded.predict(Xt, return_std=True)):
        np.testing.assert_array_equal(a, b)
    assert [h["adam"].val_loss for h in loaded.histories_] == [h["adam"].val_loss for h in ensemble.histories_]


def test_ensemble_errors_name_the_argument(data):
    X, Y, _, _, Xt, _ = data
    for bad in (0, 1.5, "3"):
        with pytest.raises(ValueError, match="`ensemble`"):
            Surrogate(ensemble=bad).check_options()
    with pytest.raises(ValueError, match="`threads`"):
        Surrogate(threads="many").check_options()
    single = Surrogate(hidden=(4,), epochs=2, lbfgs_iter=0).fit(X, Y, progress=False)
    with pytest.raises(ValueError, match="`return_std=True` needs an ensemble"):
        single.predict(Xt, return_std=True)


def _ranks(a):
    r = np.empty(a.size)
    r[np.argsort(a)] = np.arange(a.size)
    return r


def test_coverage_and_spearman_by_hand():
    rng = np.random.default_rng(3)
    true, pred = rng.normal(size=(30, 7)), rng.normal(size=(30, 7))
    std = rng.uniform(0.1, 2.0, size=(30, 7))
    inside = sum(abs(true[i, j] - pred[i, j]) <= 2 * std[i, j] for i in range(30) for j in range(7))
    assert coverage(y_true=true, y_pred=pred, y_std=std) == inside / 210
    assert coverage(y_true=true, y_pred=pred, y_std=std, k=1.0) < inside / 210
    spread = np.sqrt((std ** 2).mean(axis=1))
    error = np.sqrt(((pred - true) ** 2).mean(axis=1))
    rs, re = _ranks(spread), _ranks(error)  # no ties: Spearman is Pearson's r of the ranks
    rho = np.sum((rs - rs.mean()) * (re - re.mean())) / np.sqrt(np.sum((rs - rs.mean()) ** 2) * np.sum((re - re.mean()) ** 2))
    assert spread_error_spearman(y_true=true, y_pred=pred, y_std=std) == pytest.approx(rho, abs=1e-12)
    # a spread proportional to the error ranks it perfectly
    assert spread_error_spearman(y_true=true, y_pred=pred, y_std=3 * np.abs(pred - true)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="`y_std`"):
        coverage(y_true=true, y_pred=pred, y_std=-std)
    with pytest.raises(ValueError, match="`y_std`"):
        spread_error_spearman(y_true=true, y_pred=pred, y_std=std[:, :3])


class SpreadModel:
    """predict(X) = X[:, :1] * shape; its spread is X[:, 1:] (constant along the grid)."""

    def predict(self, X, return_std=False):
        mean = X[:, :1] * np.ones(5)
        return (mean, X[:, 1:2] * np.ones(5)) if return_std else mean


def test_evaluate_reports_calibration_of_a_model_with_spread(data, ensemble):
    X = np.array([[1.0, 0.1], [2.0, 0.5], [3.0, 0.2], [4.0, 0.9]])
    Y = X[:, :1] * np.ones(5) + np.array([[0.1], [0.3], [0.5], [1.0]]) * np.linspace(-1, 1, 5)
    rep = evaluate(SpreadModel(), X, Y, timing=False)
    # inside 2 std: case 0 (|e| <= 0.1 <= 0.2), case 1 all (<= 0.3 <= 1), case 2: |e| in {.5,.25,0} vs 0.4
    assert rep.coverage_2std == pytest.approx((5 + 5 + 3 + 5) / 20)
    assert rep.spread_error_spearman == pytest.approx(0.8)  # ranks (0,2,1,3) against (0,1,2,3)
    assert "mean +- 2 std" in str(rep)
    _, _, _, _, Xt, Yt = data
    rep = evaluate(ensemble, Xt, Yt, timing=False)
    mean, std = ensemble.predict(Xt, return_std=True)
    assert rep.coverage_2std == coverage(y_true=Yt, y_pred=mean, y_std=std)
    assert rep.rel_l2_mean == pytest.approx(np.mean(np.linalg.norm(mean - Yt, axis=1) / np.linalg.norm(Yt, axis=1)))


def test_plot_profiles_draws_the_band(data, ensemble):
    _, _, _, _, Xt, Yt = data
    mean, std = ensemble.predict(Xt, return_std=True)
    fig = plotting.plot_profiles(GRID, Yt, mean, Y_std=std)
    bands = [len(ax.collections) for ax in fig.axes]
    assert bands == [1, 1, 1, 1, 1, 1]  # one band per panel, 3 cases x (profile, error)
    best = plotting.case_indices(np.linalg.norm(mean - Yt, axis=1) / np.linalg.norm(Yt, axis=1))[0]
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]  # top-left: the best case
    assert band.max() == pytest.approx((mean + 2 * std)[best].max())
    assert band.min() == pytest.approx((mean - 2 * std)[best].min())
    with pytest.raises(ValueError, match="`Y_std`"):
        plotting.plot_profiles(GRID, Yt, mean, Y_std=std[:, :3])
