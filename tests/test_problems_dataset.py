"""Dataset: splits, pickle-free atomic files, user data."""

import json
import os
import re

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


@pytest.mark.parametrize("where, error", [("missing/data.npz", FileNotFoundError),
                                           ("data.npz/data.npz", NotADirectoryError),
                                           ("folder.npz", IsADirectoryError)])
def test_an_unwritable_path_is_named_in_the_error_and_nothing_is_left(tmp_path, where, error):
    (tmp_path / "data.npz").write_bytes(b"a file, not a folder")
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(error, match=f"cannot write {re.escape(str(tmp_path / where))}:"):
        make().save(tmp_path / where)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.npz", "folder.npz"]


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


# -- hostile dataset files and arguments -------------------------------------------

def _parts(ds):
    """The members `save` writes, as arrays, to be tampered with."""
    header = {"format": "problems.Dataset", "version": 1, "grid_name": "x", "grid_unit": "m",
              "output_name": "u", "output_unit": "", "param_names": list(ds.param_names)}
    return header, {"X": ds.X, "Y": ds.Y, "grid": ds.grid, "metadata": ds.metadata}


def _write(path, header, arrays, save=np.savez):
    def as_json(obj):
        return np.frombuffer(json.dumps(obj).encode(), np.uint8)
    members = dict(arrays, header=as_json(header), metadata=as_json(arrays["metadata"]))
    save(path, **members)
    return path


def test_rewritten_parts_load():
    """Positive control for the tampered files below."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        back = Dataset.load(_write(os.path.join(d, "ok.npz"), *_parts(make())))
    np.testing.assert_array_equal(back.X, make().X)


@pytest.mark.parametrize("change, match", [
    (lambda h, a: h.update(param_names="abc"), r"'param_names' must be a list of strings, got 'abc'"),
    (lambda h, a: h.update(param_names=[1, 2, 3]), r"'param_names' must be a list of strings"),
    (lambda h, a: h.update(grid_name=None), r"'grid_name' must be a string, got None"),
    (lambda h, a: h.update(version="1"), r"format 'problems.Dataset' version '1'"),
    (lambda h, a: h.clear(), r"format None version None"),
    (lambda h, a: a.update(metadata=[1, 2]), r"'metadata' must be a JSON object, got list"),
    (lambda h, a: a.update(X=a["X"][:, :2]), r"array 'X' is float64 \(40, 2\), expected float64 \(n, 3\)"),
    (lambda h, a: a.update(X=a["X"].astype(np.float32)), r"array 'X' is float32"),
    (lambda h, a: a.update(Y=a["Y"].astype(np.complex128)), r"member 'Y' has dtype complex128; expected real"),
    (lambda h, a: a.update(Y=a["Y"][:3]), r"array 'Y' is float64 \(3, 7\), expected float64 \(40, m\)"),
    (lambda h, a: a.update(grid=a["grid"][:1]), r"array 'grid' is float64 \(1,\), expected float64 \(m,\)"),
    (lambda h, a: a.update(Y=np.where(a["Y"] > 0.5, np.inf, a["Y"])), r"`Y` holds a non-finite value"),
    (lambda h, a: a.update(grid=np.full(7, np.nan)), r"`grid` must be finite"),
    (lambda h, a: a.update(extra=np.ones(2)), r"its members are \['X', 'Y', 'extra', 'grid', 'header', 'metadata'\]"),
])
def test_tampered_dataset_files_refused_naming_the_field(tmp_path, change, match):
    header, arrays = _parts(make())
    change(header, arrays)
    with pytest.raises(ValueError, match=rf"not a readable problems.Dataset file .*{match}"):
        Dataset.load(_write(tmp_path / "bad.npz", header, arrays))


def test_dataset_file_members_bounded_by_the_file(tmp_path):
    """A 10^15-element .npy header, a compressed member and a duplicate X are
    refused from headers alone (no MemoryError, nothing decompressed)."""
    import io as _io
    import warnings
    import zipfile
    header, arrays = _parts(make())
    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 15, 3)})
    path = _write(tmp_path / "huge.npz", header, {k: v for k, v in arrays.items() if k != "X"})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("X.npy", buf.getvalue() + bytes(16))
    with pytest.raises(ValueError, match=r"member 'X' declares shape \(1000000000000000, 3\)"):
        Dataset.load(path)
    with pytest.raises(ValueError, match=r"member '.*' is compressed"):
        Dataset.load(_write(tmp_path / "deflated.npz", header, arrays, save=np.savez_compressed))
    path = _write(tmp_path / "twice.npz", header, arrays)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as z:
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        z.writestr("X.npy", bytes(200))
    with pytest.raises(ValueError, match=r"members are \['X', 'X', "):
        Dataset.load(path)


def test_subset_takes_a_boolean_mask_and_refuses_fractions():
    ds = make(n=6)
    mask = np.array([True, False, False, True, True, False])
    np.testing.assert_array_equal(ds.subset(mask).X, ds.X[[0, 3, 4]])
    np.testing.assert_array_equal(ds.subset(list(mask)).X, ds.X[[0, 3, 4]])  # a list of bools too
    np.testing.assert_array_equal(ds.subset([5, -6, 2]).X, ds.X[[5, 0, 2]])
    for bad, match in (([0.7], r"integers or a boolean mask, got float64"),
                       (mask[:3], r"boolean mask `indices` needs shape \(6,\), got \(3,\)"),
                       ([6], r"must lie in \[-6, 6\), got 6..6"),
                       (["a"], r"integers or a boolean mask")):
        with pytest.raises(ValueError, match=match):
            ds.subset(bad)


def test_complex_or_non_numeric_data_refused_not_cast():
    X, Y = np.zeros((3, 2)), np.ones((3, 4))
    with pytest.raises(ValueError, match=r"`Y` must hold real numbers, got dtype complex128"):
        Dataset(X, Y + 1j)
    with pytest.raises(ValueError, match=r"`X` must hold real numbers, got dtype <U1"):
        Dataset([["a", "b"]] * 3, Y)


def test_user_file_readers_give_value_errors(tmp_path):
    """Wrong files and argument types: a ValueError saying what is wrong, not
    a TypeError/AttributeError from inside numpy, csv or h5py."""
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    binary = tmp_path / "blob.csv"
    binary.write_bytes(bytes(range(256)))
    np.savez(tmp_path / "mine.npz", X=np.zeros((2, 2)), Y=np.ones((2, 3)), obj=np.array([{}], dtype=object))
    cases = [
        (lambda: Dataset.from_npz(text), r"notes.txt is not an .npz archive"),
        (lambda: Dataset.from_npz(None), r"`path` must be a file path, got NoneType"),
        (lambda: Dataset.from_npz(tmp_path / "mine.npz", X=3), r"`X` must be the name of an array"),
        (lambda: Dataset.from_npz(tmp_path / "mine.npz", Y="obj"), r"member 'obj' has dtype object"),
        (lambda: Dataset.from_csv(binary, 1), r"blob.csv is not a CSV text file"),
        (lambda: Dataset.from_csv(text, "1"), r"`n_inputs` must be an integer, got '1'"),
        (lambda: Dataset.from_csv(text, 1, delimiter=None), r"`delimiter` must be one character"),
        (lambda: Dataset.from_csv(3.5, 1), r"`path` must be a file path, got float"),
    ]
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "mine.h5", "w") as f:
        f["X"], f["Y"] = np.zeros((2, 2)), np.ones((2, 3))
        f.create_group("G")
    cases += [
        (lambda: Dataset.from_hdf5(text), r"notes.txt is not an HDF5 file"),
        (lambda: Dataset.from_hdf5(tmp_path / "mine.h5", Y="G"), r"'G' is not a dataset of real numbers"),
        (lambda: Dataset.from_hdf5(tmp_path / "mine.h5", X=["X"]), r"`X` must be the name of a dataset"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(FileNotFoundError):  # a missing file stays what the OS calls it
        Dataset.from_npz(tmp_path / "missing.npz")
    assert Dataset.from_npz(tmp_path / "mine.npz").X.shape == (2, 2)  # positive control
