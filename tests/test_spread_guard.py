"""The domain guard's second check: an ensemble warns where its members
disagree more than on every validation case."""
import warnings

import numpy as np
import pytest

from surrogate import Surrogate
from surrogate.domain import OutOfDomainWarning, UncertainPredictionWarning


@pytest.fixture(scope="module")
def ensemble():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (240, 3))
    grid = np.linspace(0, 1, 20)
    Y = np.sin(np.pi * (X[:, :1] + grid)) * (1 + X[:, 1:2]) + X[:, 2:]
    return Surrogate(hidden=(16,), epochs=40, lbfgs_iter=40, ensemble=3, seed=0).fit(X, Y, progress=False)


def _rms_std(model, X):
    _, std = model.predict(X, return_std=True, domain="ignore")
    return np.sqrt(np.mean(std ** 2, axis=1))


def test_the_limit_is_the_largest_validation_spread(ensemble):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (240, 3))
    # the validation split fit() draws: the same seeded permutation
    order = np.random.default_rng(np.random.SeedSequence(0).spawn(3)[0]).permutation(240)
    n_val = int(round(ensemble.validation_fraction * 240))
    assert ensemble.spread_limit_ == pytest.approx(_rms_std(ensemble, X[order[:n_val]]).max(), rel=1e-12)


def test_warns_exactly_on_the_rows_above_the_limit(ensemble):
    X = np.array([[0.0, 0.0, 0.0], [0.9, -0.9, 0.5], [-0.99, 0.99, -0.99]])
    rms = _rms_std(ensemble, X)
    for limit, expected in ((np.inf, 0), (-1.0, 3), (float(np.median(rms)), int((rms > np.median(rms)).sum()))):
        ensemble.spread_limit_, before = limit, ensemble.spread_limit_
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ensemble.predict(X, domain="warn")
            spread = [w for w in caught if issubclass(w.category, UncertainPredictionWarning)]
            assert len(spread) == (expected > 0)
            if expected:
                assert f"{expected} of 3 prediction(s)" in str(spread[0].message)
                assert spread[0].filename == __file__  # points at the caller of predict
        finally:
            ensemble.spread_limit_ = before


def test_far_outside_the_box_the_members_disagree_and_it_warns(ensemble):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ensemble.predict(np.array([[6.0, -6.0, 6.0]]), domain="warn")
    kinds = {w.category: w for w in caught}
    assert "ensemble spread" in str(kinds[UncertainPredictionWarning].message)
    assert "outside the box" in str(kinds[OutOfDomainWarning].message)
    assert {w.filename for w in caught} == {__file__}  # both point at the caller of predict
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ensemble.predict(np.array([[6.0, -6.0, 6.0]]), domain="ignore")  # ignore: no warning at all


def test_the_limit_survives_save_and_load(ensemble, tmp_path):
    path = ensemble.save(tmp_path / "m.npz")
    assert Surrogate.load(path).spread_limit_ == ensemble.spread_limit_
    single = Surrogate(hidden=(4,), epochs=2, lbfgs_iter=0).fit(np.random.default_rng(1).normal(size=(40, 2)),
                                                               np.random.default_rng(2).normal(size=(40, 3)),
                                                               progress=False)
    assert single.spread_limit_ is None
    assert Surrogate.load(single.save(tmp_path / "s.npz")).spread_limit_ is None
