"""Dataset files in every format: .npz, .nc, .h5/.hdf5, .csv, and the xarray view.

The written files are read back by the format libraries themselves (xarray,
netCDF4, h5py, the csv module, pandas), not only by our own reader, and
checked against the problem's own description (its parameter names and units).
"""
import csv
import json
import sys

import numpy as np
import pytest

import problems
from problems import Dataset

xr = pytest.importorskip("xarray")
h5py = pytest.importorskip("h5py")
pytest.importorskip("h5netcdf")

SUFFIXES = [".npz", ".nc", ".h5", ".hdf5", ".csv"]


@pytest.fixture(scope="module")
def heat():
    return problems.get("heat")


@pytest.fixture(scope="module")
def data(heat):
    """40 solved heat cases: units from the problem, real metadata."""
    return problems.generate(heat, 40, seed=0, workers=1)


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def assert_same(back, data):
    for name in ("X", "Y", "grid"):
        np.testing.assert_array_equal(bits(getattr(back, name)), bits(getattr(data, name)), err_msg=name)
    assert back.param_names == data.param_names
    assert back.metadata == data.metadata
    assert (back.grid_name, back.grid_unit, back.output_name, back.output_unit) == \
        (data.grid_name, data.grid_unit, data.output_name, data.output_unit)


# -- round trips -----------------------------------------------------------------------

@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_format_round_trips_bitwise(data, heat, suffix, tmp_path):
    path = data.save(tmp_path / f"data{suffix}")
    assert path == tmp_path / f"data{suffix}"
    back = Dataset.load(path)
    assert_same(back, data)
    assert back.param_units == [p.unit for p in heat.parameters]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"data{suffix}"]  # no temporary left


@pytest.mark.parametrize("suffix", [".nc", ".h5", ".csv"])
def test_round_trip_of_awkward_numbers_and_user_data(suffix, tmp_path):
    """Subnormals, huge and negative values, -0.0, no problem metadata, a custom grid name."""
    X = np.array([[5e-324, -0.0], [1.7976931348623157e308, 0.1 + 0.2], [-2.5e-300, 1 / 3]])
    Y = np.array([[np.pi, -np.e, 1e-17], [0.0, 2.0 ** -1074, 123456789.123456789], [-1.0, 1e300, 7.0]])
    ds = Dataset(X, Y, [-1.0, 0.0, 1e-9], ["a", "b"], {"note": "mine", "nested": {"k": [1, None]}},
                 grid_name="t", grid_unit="s", output_name="v", output_unit="V")
    back = Dataset.load(ds.save(tmp_path / f"mine{suffix}"))
    assert_same(back, ds)
    assert back.param_units == ["", ""]


# -- the files, seen by the format libraries ---------------------------------------------

def test_netcdf_as_xarray_and_netCDF4_see_it(data, heat, tmp_path):
    path = data.save(tmp_path / "data.nc")
    with xr.open_dataset(path) as ds:
        assert dict(ds.sizes) == {"case": 40, "x": heat.grid.size}
        assert ds["T"].dims == ("case", "x") and ds["T"].attrs["units"] == heat.output_unit == "T_ref"
        np.testing.assert_array_equal(ds["T"].values, data.Y)
        np.testing.assert_array_equal(ds["x"].values, heat.grid)
        assert ds["x"].attrs["units"] == heat.grid_unit
        for j, par in enumerate(heat.parameters):
            assert ds[par.name].dims == ("case",)
            assert ds[par.name].attrs["units"] == par.unit
            assert ds[par.name].attrs["description"] == par.description
            np.testing.assert_array_equal(ds[par.name].values, data.X[:, j])
        assert json.loads(ds.attrs["param_names"]) == heat.param_names
        assert ds.attrs["problem"] == "heat"
        assert json.loads(ds.attrs["metadata"]) == data.metadata
    netCDF4 = pytest.importorskip("netCDF4")
    with netCDF4.Dataset(path) as nc:  # the netCDF C library reads it as netCDF-4
        assert nc.file_format == "NETCDF4"
        assert nc.variables["T"].dimensions == ("case", "x")
        assert [nc.variables[p.name].getncattr("units") for p in heat.parameters] == \
            [p.unit for p in heat.parameters]
        np.testing.assert_array_equal(nc.variables["source_width"][:], data.X[:, 3])


def test_hdf5_as_h5py_sees_it(data, heat, tmp_path):
    path = data.save(tmp_path / "data.h5")
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "problems.Dataset" and f.attrs["format_version"] == 1
        assert f["X"].shape == (40, 5) and f["X"].dtype == np.float64
        assert list(f["X"].attrs["param_names"]) == heat.param_names
        assert list(f["X"].attrs["units"]) == [p.unit for p in heat.parameters]
        assert (f["Y"].attrs["name"], f["Y"].attrs["units"]) == ("T", "T_ref")
        assert (f["grid"].attrs["name"], f["grid"].attrs["units"]) == ("x", "L")
        np.testing.assert_array_equal(f["Y"][()], data.Y)
        np.testing.assert_array_equal(f["grid"][()], heat.grid)
        assert json.loads(f["metadata"][()])["parameters"] == [p.as_dict() for p in heat.parameters]


def test_csv_as_the_csv_module_and_pandas_see_it(data, heat, tmp_path):
    path = data.save(tmp_path / "data.csv")
    with open(path, newline="") as f:
        first = f.readline()
        rows = list(csv.reader(f))
    assert first.startswith("# problems.Dataset 1 {")
    head = json.loads(first[len("# problems.Dataset 1 "):])
    assert head["param_units"] == [p.unit for p in heat.parameters] and head["n_cases"] == 40
    assert rows[0] == heat.param_names + [f"T[x={float(g)!r}]" for g in heat.grid]
    assert len(rows) == 41 and all(len(r) == 5 + heat.grid.size for r in rows)
    np.testing.assert_array_equal(bits(np.array(rows[1:], dtype=float)), bits(np.hstack([data.X, data.Y])))
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(path, comment="#", float_precision="round_trip")
    assert list(frame.columns[:5]) == heat.param_names and frame.columns[5] == "T[x=0.0]"
    np.testing.assert_array_equal(bits(frame[heat.param_names].to_numpy()), bits(data.X))
    # pandas's default parser ("high" precision) is not exact: pandas 2.3 was off by up to 2e-16
    default = pd.read_csv(path, comment="#")
    np.testing.assert_allclose(default[heat.param_names].to_numpy(), data.X, rtol=1e-14, atol=1e-15)


def test_csv_without_its_comment_line_still_loads_and_from_csv_reads_both_kinds(data, tmp_path):
    path = data.save(tmp_path / "data.csv")
    plain = tmp_path / "plain.csv"
    plain.write_text(path.read_text().split("\n", 1)[1])  # as a spreadsheet would export it
    back = Dataset.load(plain)
    for name in ("X", "Y", "grid"):
        np.testing.assert_array_equal(bits(getattr(back, name)), bits(getattr(data, name)))
    assert back.param_names == data.param_names and back.metadata == {}
    for p in (path, plain):  # the old reader: the comment skipped, the grid read from the header
        old = Dataset.from_csv(p, n_inputs=5)
        np.testing.assert_array_equal(bits(old.grid), bits(data.grid))
        np.testing.assert_array_equal(bits(old.Y), bits(data.Y))
    old_style = tmp_path / "old.csv"
    old_style.write_text("a,b,0.0,0.5\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"old.csv .*from_csv\(path, n_inputs=...\)"):
        Dataset.load(old_style)
    assert Dataset.from_csv(old_style, n_inputs=2).grid.tolist() == [0.0, 0.5]


# -- xarray ------------------------------------------------------------------------------

def test_to_xarray_and_back(data, heat):
    ds = data.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds["T"].dims == ("case", "x") and list(ds.coords) == ["x"]
    assert [ds[p.name].attrs["units"] for p in heat.parameters] == [p.unit for p in heat.parameters]
    assert ds.attrs["description"] == heat.description
    assert_same(Dataset.from_xarray(ds), data)
    ds["T"].values[0, 0] = -1.0  # the xarray.Dataset holds copies
    assert data.Y[0, 0] != -1.0


def test_from_xarray_reads_a_foreign_dataset_by_its_shape():
    ds = xr.Dataset({"density": (("shot", "r"), np.ones((3, 4)), {"units": "m^-3"}),
                     "current": (("shot",), [1.0, 2.0, 3.0], {"units": "MA"}),
                     "field": (("shot",), [4.0, 5.0, 6.0])},
                    coords={"r": ("r", [0.0, 0.1, 0.2, 0.3], {"units": "m"})})
    data = Dataset.from_xarray(ds)
    assert data.param_names == ["current", "field"] and data.param_units == ["MA", ""]
    assert (data.grid_name, data.grid_unit, data.output_name, data.output_unit) == ("r", "m", "density", "m^-3")
    np.testing.assert_array_equal(data.X, [[1, 4], [2, 5], [3, 6]])


def _ours(data):
    return data.to_xarray()


@pytest.mark.parametrize("change, match", [
    (lambda ds: ds.assign(T=ds["T"].where(ds["T"] > 0.5)), r"non-finite value at index"),
    (lambda ds: ds.assign_coords(x=ds["x"].values[::-1]), r"strictly increasing"),
    (lambda ds: ds.assign(q_in=ds["q_in"].astype(str)), r"'q_in' holds <U"),
    (lambda ds: ds.assign_attrs(param_names='["q_in", "2bad"]'), r"'2bad' is not an identifier"),
    (lambda ds: ds.assign_attrs(param_names='["q_in"]').drop_vars("q_in"), r"no variable 'q_in'"),
    (lambda ds: ds.assign_attrs(format_version=2), r"version 2"),
    (lambda ds: ds.assign_attrs(metadata="{not json"), r"'metadata' is not JSON"),
    (lambda ds: ds.assign(q_in=ds["q_in"].assign_attrs(units="eV")), r"unit 'eV' .* in its metadata"),
])
def test_from_xarray_refuses_what_does_not_fit(data, change, match):
    with pytest.raises(ValueError, match=match):
        Dataset.from_xarray(change(_ours(data)))
    with pytest.raises(ValueError, match=r"`ds` must be an xarray.Dataset, got dict"):
        Dataset.from_xarray({})


# -- errors, atomic writes, hostile files ------------------------------------------------

def test_unknown_extension_names_the_path_and_the_supported_ones(data, tmp_path):
    for call in (lambda: data.save(tmp_path / "data.json"), lambda: Dataset.load(tmp_path / "data.json")):
        with pytest.raises(ValueError, match=r"data.json.*'\.json'.*\.npz, \.nc, \.h5, \.hdf5, \.csv"):
            call()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".nc", ".h5", ".csv"])
def test_save_refuses_what_load_would_refuse(suffix, tmp_path):
    for ds, match in ((Dataset(np.ones((2, 1)), np.ones((2, 3)), [0.0, 2.0, 1.0]),
                       r"grid must be strictly increasing, but element 2 \(1.0\) follows 2.0"),
                      (Dataset(np.ones((2, 1)), np.ones((2, 3)), param_names=["a b"]), r"'a b' is not an identifier"),
                      (Dataset(np.ones((2, 1)), np.ones((2, 3)), param_names=["u"]), r"\['u'\] appear twice")):
        with pytest.raises(ValueError, match=rf"cannot write .*x{suffix} as \w+: .*" + match):
            ds.save(tmp_path / f"x{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_missing_library_says_which_package_and_the_extra(data, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray now raises ImportError
    for call in (lambda: data.save(tmp_path / "d.nc"), lambda: Dataset.load(tmp_path / "d.nc"),
                 data.to_xarray):
        with pytest.raises(ImportError, match=r'`xarray` package.*pip install "surrogate-toolkit\[io\]"'):
            call()
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"`h5py`"):
        data.save(tmp_path / "d.h5")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".nc", ".h5", ".csv"])
def test_a_failed_write_leaves_the_old_file_whole(data, suffix, tmp_path, monkeypatch):
    path = data.subset([0, 1]).save(tmp_path / f"data{suffix}")
    before = path.read_bytes()
    import problems.formats as formats

    def fail_midway(f):
        f.write(b"half a file")
        raise OSError("disk full")
    if suffix == ".csv":
        real = formats.write_atomic
        monkeypatch.setattr(formats, "write_atomic", lambda p, write: real(p, fail_midway))
    elif suffix == ".nc":
        def to_netcdf(self, tmp, **kwargs):
            with open(tmp, "wb") as f:
                fail_midway(f)
        monkeypatch.setattr(xr.Dataset, "to_netcdf", to_netcdf)
    else:  # h5py has made the file when the second dataset fails
        def create_dataset(self, name, *args, **kwargs):
            if name == "Y":
                raise OSError("disk full")
            return real_create(self, name, *args, **kwargs)
        real_create = h5py.File.create_dataset
        monkeypatch.setattr(h5py.File, "create_dataset", create_dataset)
    with pytest.raises(OSError, match="disk full"):
        data.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_truncated_netcdf_is_refused_naming_the_file(data, tmp_path):
    path = data.save(tmp_path / "data.nc")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"data.nc is not a readable problems.Dataset netCDF file"):
        Dataset.load(path)
    path.write_bytes(b"not a netCDF file at all")
    with pytest.raises(ValueError, match=r"data.nc is not a netCDF file"):
        Dataset.load(path)


def _h5_with(data, path, edit):
    data.save(path)
    with h5py.File(path, "a") as f:
        edit(f)
    return path


def _replace(name, value, **kw):
    def edit(f):
        attrs = dict(f[name].attrs)
        del f[name]
        d = f.create_dataset(name, data=value, **kw) if value is not None else f.create_dataset(name, **kw)
        d.attrs.update(attrs)
    return edit


@pytest.mark.parametrize("edit, match", [
    (_replace("grid", np.linspace(0, 1, 7)), r"'grid' is float64 \(7,\), expected .* the width of 'Y'"),
    (_replace("Y", np.zeros((39, 65))), r"'Y' is float64 \(39, 65\), expected .*\(40, m\)"),
    (_replace("X", np.zeros((40, 4))), r"'X' is float64 \(40, 4\), expected .*\(n, 5\)"),
    (lambda f: [_replace(k, None, shape=(10 ** 8, w), dtype="f8", chunks=(1024, w))(f)
                for k, w in (("X", 5), ("Y", 65))],  # declared, never written: 56 GB of fill value
     r"declares 56000000520 bytes .* more than 1032 times"),
    (_replace("Y", np.array([["a"] * 65] * 40, dtype="S1")), r"'Y' is \|S1"),
    (lambda f: f["X"].attrs.__setitem__("units", list(f["X"].attrs["units"][:4]) + ["eV"]),
     r"'T_edge' has unit 'eV' .* but 'T_ref' in its metadata"),
    (lambda f: f.attrs.__setitem__("format_version", 7), r"format 'problems.Dataset' version 7, expected"),
    (lambda f: f["grid"].__setitem__(slice(None), np.linspace(1, 0, 65)), r"strictly increasing"),
])
def test_hostile_hdf5_is_refused_before_its_data_is_read(data, edit, match, tmp_path):
    path = _h5_with(data, tmp_path / "data.h5", edit)
    with pytest.raises(ValueError, match=r"data.h5 is not a readable problems.Dataset HDF5 file.*" + match):
        Dataset.load(path)


def test_a_users_own_hdf5_points_to_from_hdf5(tmp_path):
    with h5py.File(tmp_path / "mine.h5", "w") as f:
        f["X"], f["Y"] = np.ones((3, 2)), np.ones((3, 4))
    with pytest.raises(ValueError, match=r"mine.h5 .*no 'format' attribute.*Dataset.from_hdf5"):
        Dataset.load(tmp_path / "mine.h5")


def _csv_lines(data, tmp_path):
    return data.subset([0, 1, 2]).save(tmp_path / "data.csv").read_text().splitlines()


@pytest.mark.parametrize("edit, match", [
    (lambda ls: ls[:3] + [ls[3].rsplit(",", 1)[0]], r"line 4 has 69 cells, the header 70"),
    (lambda ls: ls[:3] + [ls[3].replace(",", ",abc,", 1).rsplit(",", 1)[0]],
     r"line 4, column 2 \(source_amplitude\): 'abc' is not a number"),
    (lambda ls: ls[:3] + [ls[3].replace(",", ",nan,", 1).rsplit(",", 1)[0]], r"'nan' is not finite"),
    (lambda ls: ls[:4], r"line 1 declares 3 cases but 2 rows follow"),
    (lambda ls: ls[:3] + [""] + ls[3:], r"line 4 is empty, and rows follow it"),
    (lambda ls: [ls[0].replace('"T_ref"]', '"eV"]')] + ls[1:], r"unit 'eV' .* in its metadata"),
    (lambda ls: [ls[0], ls[1].replace("T[x=0.015625]", "T[x=-1.0]")] + ls[2:], r"strictly increasing"),
    (lambda ls: [ls[0], ls[1].replace("q_in", "q in")] + ls[2:], r"'q in' is not an identifier"),
    (lambda ls: ["# something else"] + ls[1:], r"line 1 is a comment but not"),
])
def test_hostile_csv_is_refused_naming_the_line(data, edit, match, tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("\n".join(edit(_csv_lines(data, tmp_path))) + "\n")
    with pytest.raises(ValueError, match=r"data.csv is not a readable problems.Dataset CSV file.*" + match):
        Dataset.load(path)


# -- the command line ------------------------------------------------------------------------

def test_cli_trains_on_a_netcdf_file(data, heat, tmp_path, capsys):
    from surrogate.model import Surrogate
    from surrogate.workflow.cli import main
    nc = data.save(tmp_path / "data.nc")
    assert main(["train", str(nc), "--out", str(tmp_path / "model.npz"), "--quick"]) == 0
    model = Surrogate.load(tmp_path / "model.npz")
    assert model.n_inputs == 5 and model.n_outputs == heat.grid.size
    assert model.metadata_["param_names"] == heat.param_names
    assert model.metadata_["param_units"] == [p.unit for p in heat.parameters]


@pytest.mark.slow
def test_cli_generates_netcdf_and_evaluates_on_hdf5(tmp_path, capsys):
    from surrogate.workflow.cli import main
    nc = tmp_path / "data.nc"
    assert main(["generate", "heat", "-n", "40", "--out", str(nc), "--workers", "1"]) == 0
    with xr.open_dataset(nc) as ds:
        assert ds["T"].shape == (40, 65) and ds["q_in"].attrs["units"] == "kappa0 T_ref^(7/2)/L"
    assert main(["train", str(nc), "--out", str(tmp_path / "model.npz"), "--quick"]) == 0
    h5 = Dataset.load(nc).subset(range(10)).save(tmp_path / "held.h5")
    assert main(["evaluate", str(tmp_path / "model.npz"), str(h5), "--out", str(tmp_path / "ev")]) == 0
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["test"]["n_profiles"] == 10


@pytest.mark.parametrize("name, content, fragment", [
    ("data.txt", b"1,2\n", "unknown dataset file extension '.txt'; supported: .npz, .nc"),
    ("data.csv", b"a,b,0.0,1.0\n1,2,3,4\n", "data.csv is not a readable problems.Dataset CSV file"),
    ("data.h5", b"\x89HDF\r\n\x1a\n truncated", "data.h5 is not a readable problems.Dataset HDF5 file"),
    ("data.npz", b"foreign", "data.npz is not a readable problems.Dataset file"),
])
def test_cli_refuses_a_bad_data_file_in_one_line(name, content, fragment, tmp_path, capsys):
    from surrogate.workflow.cli import main
    (tmp_path / name).write_bytes(content)
    assert main(["train", str(tmp_path / name), "--out", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "pickle" not in err


def test_cli_refuses_an_unknown_output_format_before_solving(tmp_path, capsys, monkeypatch):
    from surrogate.workflow.cli import main
    monkeypatch.setattr(problems, "generate", lambda *a, **k: pytest.fail("solved before checking --out"))
    assert main(["generate", "heat", "-n", "5", "--out", str(tmp_path / "data.parquet")]) == 2
    assert "--out: " in capsys.readouterr().err and not (tmp_path / "data.parquet").exists()
