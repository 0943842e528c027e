"""Dataset: splits, pickle-free atomic files, user data."""

import json
import os

import numpy as np
import pytest

from problems import Dataset


def make(n=40, d=3, m=7, seed=0, box=True):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 3.0, (n, d))
    grid = np.linspace(0.0, 1.0, m)
    Y = np.sin(X[:, :1] + grid) * X[:, 1:2]
    meta = {"problem": "toy", "note": "unit test"}
    if box:
        meta["box"] = {"lower": [-1.0] * d, "upper": [3.0] * d}
    return Dataset(X, Y, grid, [f"k{i}" for i in range(d)], meta, grid_name="x", grid_unit="m")


def rows(ds):
    return {tuple(r) for r in ds.X}


def test_split_parts_are_disjoint_cover_everything_and_follow_the_seed():
    ds = make(n=101)
    train, val, test = ds.split((0.8, 0.1, 0.1), seed=3)
    assert (len(train), len(val), len(test)) == (81, 10, 10)
    assert rows(train) | rows(val) | rows(test) == rows(ds)
    assert not (rows(train) & rows(val) or rows(train) & rows(test) or rows(val) & rows(test))
    # Y travels with X.
    index = {tuple(x): i for i, x in enumerate(ds.X)}
    for part in (train, val, test):
        np.testing.assert_array_equal(part.Y, ds.Y[[index[tuple(x)] for x in part.X]])
    again = ds.split((0.8, 0.1, 0.1), seed=3)
    np.testing.assert_array_equal(again[0].X, train.X)
    assert not np.array_equal(ds.split((0.8, 0.1, 0.1), seed=4)[0].X, train.X)
    assert train.metadata["problem"] == "toy" and train.param_names == ds.param_names


def test_split_bad_fractions():
    ds = make(n=10)
    for bad in [(0.5, 0.6), (1.0,), (0.9, 0.1, 0.0), (0.5, -0.5, 1.0), "ab"]:
        with pytest.raises(ValueError, match="fractions"):
            ds.split(bad)
    with pytest.raises(ValueError, match="too few"):
        make(n=3).split((0.8, 0.1, 0.1))


def test_split_extrapolation_holds_out_the_outermost_cases():
    ds = make(n=200)
    inside, edge = ds.split_extrapolation(fraction=0.1)
    assert (len(inside), len(edge)) == (180, 20)
    assert rows(inside) | rows(edge) == rows(ds) and not rows(inside) & rows(edge)

    def r(part):  # normalised infinity-norm distance from the box centre, written out
        return np.max(np.abs(part.X - 1.0) / 2.0, axis=1)

    assert r(edge).min() >= r(inside).max()
    np.testing.assert_allclose(ds.edge_distance(), r(ds))
    assert edge.metadata["extrapolation"]["part"] == "edge"
    with pytest.raises(ValueError, match="fraction"):
        ds.split_extrapolation(fraction=1.5)


def test_split_extrapolation_gives_the_trusted_box():
    ds = make(n=200)
    split = ds.split_extrapolation(fraction=0.1)
    inside, edge = split
    assert split.inside is inside and split.edge is edge
    thr = edge.metadata["extrapolation"]["threshold"]
    lower, upper = split.trusted_box  # the box [-1, 3] of `make`, scaled by thr about 1
    np.testing.assert_allclose(lower, 1.0 - 2.0 * thr)
    np.testing.assert_allclose(upper, 1.0 + 2.0 * thr)
    assert np.all((inside.X >= lower) & (inside.X <= upper))
    assert np.all(np.any((edge.X <= lower) | (edge.X >= upper), axis=1))


def test_split_extrapolation_without_a_box_uses_the_data_range():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5], [0.45, 0.55], [0.9, 0.5]])
    ds = Dataset(X, np.zeros((5, 2)))
    inside, edge = ds.split_extrapolation(fraction=0.4)
    assert rows(edge) == {(0.0, 0.0), (1.0, 1.0)}
    assert rows(inside) == {(0.5, 0.5), (0.45, 0.55), (0.9, 0.5)}


def test_save_load_round_trip_without_pickle(tmp_path):
    ds = make()
    path = ds.save(tmp_path / "data.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["data.npz"]  # no temp file left
    back = Dataset.load(path)
    for name in ("X", "Y", "grid"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ds, name))
    assert back.param_names == ds.param_names and back.metadata == ds.metadata
    assert (back.grid_name, back.grid_unit) == ("x", "m")
    with np.load(path, allow_pickle=False) as f:  # every array is plain data
        assert all(f[key].dtype != object for key in f.files)
        assert json.loads(f["metadata"].tobytes())["problem"] == "toy"


def test_save_replaces_an_existing_file_atomically(tmp_path):
    path = tmp_path / "data.npz"
    make(seed=1).save(path)
    make(seed=2).save(path)
    np.testing.assert_array_equal(Dataset.load(path).X, make(seed=2).X)
    assert len(list(tmp_path.iterdir())) == 1


def test_corrupted_truncated_and_foreign_files_are_refused(tmp_path):
    good = make().save(tmp_path / "good.npz")
    raw = good.read_bytes()
    cases = {
        "truncated.npz": raw[: len(raw) // 2],
        "flipped.npz": raw[:2000] + bytes(b ^ 0xFF for b in raw[2000:2100]) + raw[2100:],
        "text.npz": b"not a dataset at all",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    np.savez(tmp_path / "foreign.npz", X=np.zeros((2, 2)), Y=np.zeros((2, 3)))
    np.savez(tmp_path / "pickled.npz", header=np.array([{"a": 1}], dtype=object), X=np.zeros((2, 2)),
             Y=np.zeros((2, 3)), grid=np.zeros(3), metadata=np.zeros(3, np.uint8))
    for name in list(cases) + ["foreign.npz", "pickled.npz"]:
        with pytest.raises(ValueError, match="not a readable problems.Dataset file"):
            Dataset.load(tmp_path / name)


def test_constructor_rejects_inconsistent_input():
    X, Y = np.zeros((5, 2)), np.zeros((5, 3))
    with pytest.raises(ValueError, match="same number of rows"):
        Dataset(X, Y[:4])
    with pytest.raises(ValueError, match="grid"):
        Dataset(X, Y, grid=np.zeros(4))
    with pytest.raises(ValueError, match="param_names"):
        Dataset(X, Y, param_names=["a", "a"])
    Y[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"`Y` holds a non-finite value at index \(2, 1\)"):
        Dataset(X, Y)
    with pytest.raises(ValueError, match="JSON"):
        Dataset(X, np.zeros((5, 3)), metadata={"f": object()})


def test_user_data_from_arrays_npz_csv_hdf5(tmp_path):
    rng = np.random.default_rng(7)
    X, Y, grid = rng.random((6, 2)), rng.random((6, 4)), np.array([0.0, 0.5, 1.0, 2.0])
    ds = Dataset(X, Y, grid, ["alpha", "beta"])
    np.savez(tmp_path / "mine.npz", params=X, profiles=Y, r=grid)
    from_npz = Dataset.from_npz(tmp_path / "mine.npz", X="params", Y="profiles", grid="r",
                                param_names=["alpha", "beta"])
    with open(tmp_path / "mine.csv", "w") as f:
        f.write("alpha,beta," + ",".join(map(str, grid)) + "\n")
        for x, y in zip(X, Y):
            f.write(",".join(repr(float(v)) for v in np.append(x, y)) + "\n")
    from_csv = Dataset.from_csv(tmp_path / "mine.csv", n_inputs=2)
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "mine.h5", "w") as f:
        f["X"], f["Y"], f["grid"] = X, Y, grid
    from_h5 = Dataset.from_hdf5(tmp_path / "mine.h5", param_names=["alpha", "beta"])
    for other in (from_npz, from_csv, from_h5):
        np.testing.assert_array_equal(other.X, ds.X)
        np.testing.assert_array_equal(other.Y, ds.Y)
        np.testing.assert_array_equal(other.grid, ds.grid)
        assert other.param_names == ["alpha", "beta"]
    with pytest.raises(ValueError, match="no array 'Y'"):
        Dataset.from_npz(tmp_path / "mine.npz", X="params")
    with pytest.raises(ValueError, match="n_inputs"):
        Dataset.from_csv(tmp_path / "mine.csv", n_inputs=6)


def test_csv_without_header_gets_default_names_and_index_grid(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1,2,3,4\n5,6,7,8\n")
    ds = Dataset.from_csv(path, n_inputs=1)
    assert ds.param_names == ["p0"]
    np.testing.assert_array_equal(ds.grid, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(ds.Y, [[2, 3, 4], [6, 7, 8]])
    assert os.path.exists(path)
