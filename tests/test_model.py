"""Surrogate: fit quality on a smooth field, save/load, refusal of bad files, domain guard."""
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest

from surrogate.io import ModelFileError, read_model_file, write_model_file
from surrogate.metrics import rel_l2
from surrogate.model import OPTIONS, OutOfDomainError, OutOfDomainWarning, Surrogate

GRID = np.linspace(0.0, 1.0, 24)


def smooth_field(X):
    """Profiles u(x; a, k) = a sin(k x) + x^2: smooth in both the parameters and x."""
    a, k = X[:, :1], X[:, 1:2]
    return a * np.sin(k * GRID) + GRID ** 2


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    lower, upper = np.array([0.5, 1.0]), np.array([1.5, 3.0])
    X = lower + (upper - lower) * rng.random((160, 2))
    Xt = lower + (upper - lower) * rng.random((60, 2))
    return X, smooth_field(X), Xt, smooth_field(Xt)


@pytest.fixture(scope="module")
def fitted(data):
    X, Y, _, _ = data
    model = Surrogate(hidden=(16, 16), epochs=150, lbfgs_iter=300, seed=3)
    return model.fit(X, Y, progress=False, metadata={"param_names": ["a", "k"], "problem": "toy"})


def test_fit_reaches_stated_error_on_smooth_field(data, fitted):
    _, _, Xt, Yt = data
    err = rel_l2(y_true=Yt, y_pred=fitted.predict(Xt))
    assert err.mean() < 1e-2, err.mean()
    assert fitted.fit_seconds_ > 0
    assert set(fitted.history_) == {"adam", "lbfgs"}
    # the L-BFGS polish improved on Adam's best validation cost
    assert min(fitted.history_["lbfgs"].val_loss) < min(fitted.history_["adam"].val_loss)
    assert fitted.n_train_ + fitted.n_val_ == 160


def test_sin_1d_fit():
    """The smallest case: a 1-D sine, each 'profile' one value."""
    X = np.linspace(-np.pi, np.pi, 64)[:, None]
    Xt = np.linspace(-np.pi, np.pi, 101)[:, None][1:-1]
    model = Surrogate(hidden=(12,), epochs=100, lbfgs_iter=300, validation_fraction=0.0, seed=0)
    model.fit(X, np.sin(X), progress=False)
    err = np.linalg.norm(model.predict(Xt) - np.sin(Xt)) / np.linalg.norm(np.sin(Xt))
    assert err < 1e-2, err


def test_fit_is_reproducible_with_seed(data):
    X, Y, Xt, _ = data
    kw = dict(hidden=(8,), epochs=20, lbfgs_iter=20, seed=11)
    a = Surrogate(**kw).fit(X, Y, progress=False).predict(Xt)
    b = Surrogate(**kw).fit(X, Y, progress=False).predict(Xt)
    np.testing.assert_array_equal(a, b)


def test_single_point_and_pca_modes(data, fitted):
    _, _, Xt, _ = data
    np.testing.assert_array_equal(fitted.predict(Xt[3]), fitted.predict(Xt[3:4])[0])
    # a*sin(kx) + x^2 over a 2-D box: a few modes, far fewer than the 24 grid points
    assert 2 <= fitted.scaling_.n_modes < GRID.size
    assert fitted.net_.sizes == [2, 16, 16, fitted.scaling_.n_modes]


def test_save_load_round_trip_is_bit_identical(tmp_path, data, fitted):
    _, _, Xt, _ = data
    path = fitted.save(tmp_path / "m.npz")
    loaded = Surrogate.load(path)
    np.testing.assert_array_equal(loaded.predict(Xt), fitted.predict(Xt))
    assert loaded.get_params() == fitted.get_params()
    assert loaded.metadata_["param_names"] == ["a", "k"]
    assert loaded.history_["lbfgs"].loss == fitted.history_["lbfgs"].loss
    header, _ = read_model_file(path)
    assert header["architecture"]["sizes"] == fitted.net_.sizes
    assert header["input_box"]["lower"] == fitted.guard_.lower.tolist()
    assert "package_version" in header and header["format_version"] >= 1


def test_float32_round_trip(tmp_path, data):
    X, Y, Xt, _ = data
    model = Surrogate(hidden=(8,), epochs=10, lbfgs_iter=10, dtype=np.float32).fit(X, Y, progress=False)
    loaded = Surrogate.load(model.save(tmp_path / "m32.npz"))
    assert loaded.net_.dtype == np.float32
    np.testing.assert_array_equal(loaded.predict(Xt), model.predict(Xt))


def test_save_refuses_non_finite_parameters(tmp_path, fitted):
    model = Surrogate.load(fitted.save(tmp_path / "ok.npz"))
    model.net_.params[5] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        model.save(tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


def test_unfitted_model_errors():
    with pytest.raises(RuntimeError, match="unfitted"):
        Surrogate().predict(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="unfitted"):
        Surrogate().save("never.npz")


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden": (0, 4)}, "`hidden`"), ({"domain": "maybe"}, "`domain`"), ({"lr": -1.0}, "`lr`"),
    ({"validation_fraction": 1.5}, "`validation_fraction`"), ({"dtype": np.int32}, "`dtype`"),
    ({"epochs": 0}, "`epochs`"), ({"threads": 0}, "`threads`"),
])
def test_bad_options_name_the_argument(kwargs, match, data):
    model = Surrogate(**kwargs)  # stored as given, as scikit-learn requires
    assert model.get_params()[next(iter(kwargs))] is next(iter(kwargs.values()))
    with pytest.raises(ValueError, match=match):
        model.check_options()
    X, Y, _, _ = data
    with pytest.raises(ValueError, match=match):  # before any work
        model.fit(X, Y)


def test_options_are_declared_once():
    """The constructor's signature, get_params, and the options table agree."""
    import inspect
    signature = inspect.signature(Surrogate)
    assert list(signature.parameters) == list(OPTIONS)
    assert {k: p.default for k, p in signature.parameters.items()} == {k: d for k, (d, _) in OPTIONS.items()}
    assert Surrogate().get_params() == {k: d for k, (d, _) in OPTIONS.items()}
    model = Surrogate().set_params(hidden=(3,), lr=0.1)
    assert model.get_params()["hidden"] == (3,) and model.lr == 0.1
    with pytest.raises(ValueError, match="unknown option 'hiden'"):
        Surrogate().set_params(hiden=(3,))


def test_files_of_version_0_1_still_load():
    """A model written by version 0.1 (committed fixture) predicts what it predicted then."""
    import pathlib
    here = pathlib.Path(__file__).parent / "data"
    model = Surrogate.load(here / "model_v1.npz")
    expected = np.load(here / "model_v1_expected.npz")
    # the decode is a BLAS matrix product: its last bit depends on the BLAS build (numpy 1.24's
    # wheels differ from 2.x's by 1 ulp), so equal to round-off, not bit for bit
    np.testing.assert_allclose(model.predict(expected["X"]), expected["Y"], rtol=1e-13, atol=1e-15)
    assert model.input_names == ['q_in', 'source_amplitude', 'source_centre', 'source_width', 'T_edge']


@pytest.mark.parametrize("activation", [None, ["tanh"], 3])
def test_activation_of_the_wrong_type_is_a_clear_error(activation, data):
    X, Y, _, _ = data
    with pytest.raises(ValueError, match=r"`activation` must be the name of an activation"):
        Surrogate(activation=activation).fit(X, Y, progress=False)


@pytest.mark.parametrize("name, big", [("Y", 1e160), ("X", 1e300)])
def test_fit_refuses_finite_data_whose_scaling_overflows(name, big, data):
    """Y near 1e160 (its squares overflow) or X near 1e300 (its spread does)
    gave an infinite scale and NaN predictions; now a message saying what to do."""
    X, Y, _, _ = data
    X, Y = (X * big, Y) if name == "X" else (X, Y * big)
    with pytest.raises(ValueError, match=rf"`{name}` is too large to scale: .*divide it by a typical magnitude"):
        Surrogate(epochs=1, lbfgs_iter=0).fit(X, Y, progress=False)


def test_fit_refuses_complex_data(data):
    X, Y, _, _ = data
    with pytest.raises(ValueError, match=r"`Y` must be real, got dtype complex128"):
        Surrogate(epochs=1, lbfgs_iter=0).fit(X, Y + 0j, progress=False)
    with pytest.raises(ValueError, match=r"`X` must be real, got dtype complex128"):
        Surrogate(epochs=1, lbfgs_iter=0).fit(X * (1 + 1j), Y, progress=False)


def test_save_refuses_a_non_finite_scale(tmp_path, fitted):
    model = Surrogate.load(fitted.save(tmp_path / "ok.npz"))
    model.scaling_.y_scale = np.inf
    with pytest.raises(ValueError, match=r"scaling is not finite \(y_scale inf\)"):
        model.save(tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


def test_fit_input_errors(data):
    X, Y, _, _ = data
    with pytest.raises(ValueError, match="same number of rows"):
        Surrogate().fit(X[:10], Y[:9])
    with pytest.raises(ValueError, match="`X` must be a 2-D"):
        Surrogate().fit(X[:, 0], Y)
    with pytest.raises(ValueError, match="`box`"):
        Surrogate(epochs=1, lbfgs_iter=0).fit(X, Y, progress=False, box=([0.0], [1.0]))


# -- files that are not ours ------------------------------------------------------

class PickleBomb:
    """Unpickling this runs `exec`, which creates a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


def test_pickled_member_is_refused_without_running_it(tmp_path, fitted):
    path = fitted.save(tmp_path / "m.npz")
    marker = tmp_path / "marker"
    # append a member holding a pickled object, as np.save(allow_pickle=True) would write it
    bomb = np.empty(1, dtype=object)
    bomb[0] = PickleBomb(marker)
    with zipfile.ZipFile(path, "a") as z, z.open("x_mean_evil.npy", "w") as f:
        np.lib.format.write_array(f, bomb, allow_pickle=True)
    with pytest.raises(ModelFileError, match="pickle"):
        Surrogate.load(path)
    assert not marker.exists()
    # a whole file that is a pickle is refused too
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(PickleBomb(marker)))
    with pytest.raises(ModelFileError, match="not a surrogate model file"):
        Surrogate.load(raw)
    assert not marker.exists()


def test_truncated_and_corrupted_files(tmp_path, fitted):
    path = fitted.save(tmp_path / "m.npz")
    blob = path.read_bytes()
    short = tmp_path / "short.npz"
    short.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        Surrogate.load(short)
    # flip bytes inside the stored parameters: the zip CRC check catches it
    flipped = bytearray(blob)
    mid = blob.find(b"params") + 400
    flipped[mid:mid + 16] = bytes(16)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError):
        Surrogate.load(bad)
    with pytest.raises(ModelFileError, match="no such model file"):
        Surrogate.load(tmp_path / "missing.npz")


def test_foreign_and_inconsistent_files(tmp_path, fitted):
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ModelFileError, match="without a surrogate model header"):
        Surrogate.load(other)
    header, arrays = read_model_file(fitted.save(tmp_path / "m.npz"))
    kind = tmp_path / "kind.npz"
    write_model_file(kind, {**{k: v for k, v in header.items() if not k.startswith("format")},
                            "kind": "someone.Else"}, arrays)
    with pytest.raises(ModelFileError, match="kind"):
        Surrogate.load(kind)
    newer = tmp_path / "newer.npz"
    write_model_file(newer, {**{k: v for k, v in header.items() if not k.startswith("format")},
                             "model_version": 99}, arrays)
    with pytest.raises(ModelFileError, match="newer"):
        Surrogate.load(newer)
    short = tmp_path / "short_params.npz"
    write_model_file(short, {k: v for k, v in header.items() if not k.startswith("format")},
                     {**arrays, "params": arrays["params"][:-1]})
    with pytest.raises(ModelFileError, match="params"):
        Surrogate.load(short)


# -- domain guard --------------------------------------------------------------------

def test_inside_the_box_is_silent(data, fitted):
    X, _, _, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.predict(X)


def test_outside_the_box_warns_naming_input_and_distance(fitted):
    x = np.array([[fitted.guard_.upper[0] + 0.25, 2.0], [1.0, 2.0]])
    with pytest.warns(OutOfDomainWarning) as rec:
        out = fitted.predict(x)
    msg = str(rec[0].message)
    assert out.shape == (2, GRID.size)
    assert "1 of 2" in msg and "a in 1 row(s)" in msg and "0.25 above" in msg
    assert "k " not in msg  # k is inside: not named


def test_outside_mask(fitted):
    x = np.array([[1.0, 2.0], [fitted.guard_.lower[0] - 1e-3, 2.0], [1.0, fitted.guard_.upper[1] + 1.0]])
    np.testing.assert_array_equal(fitted.outside(x), [False, True, True])


def test_outside_the_box_raises_when_asked(fitted):
    x = np.array([[1.0, fitted.guard_.lower[1] - 0.5]])
    with pytest.raises(OutOfDomainError, match=r"k in 1 row\(s\), up to 0.5 below"):
        fitted.predict(x, domain="raise")
    strict = Surrogate(domain="raise")
    assert strict.domain == "raise"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.predict(x, domain="ignore")


def test_box_given_to_fit_is_the_trusted_domain(data):
    X, Y, _, _ = data
    box = ([0.5, 1.0], [1.5, 3.0])
    model = Surrogate(hidden=(4,), epochs=2, lbfgs_iter=0, domain="raise").fit(X, Y, progress=False, box=box)
    model.predict(np.array([[0.5, 3.0]]))  # a corner of the box, beyond the samples
    with pytest.raises(OutOfDomainError, match="x1"):  # no param_names: generic names
        model.predict(np.array([[1.0, 3.1]]))


def test_loaded_model_keeps_the_guard(tmp_path, fitted):
    loaded = Surrogate.load(fitted.save(tmp_path / "m.npz"))
    with pytest.raises(OutOfDomainError, match="a in 1 row"):
        loaded.predict(np.array([[9.0, 2.0]]), domain="raise")
    assert os.path.getsize(tmp_path / "m.npz") > 0
