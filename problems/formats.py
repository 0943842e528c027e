"""Dataset files in netCDF (.nc), HDF5 (.h5, .hdf5) and CSV (.csv), and the xarray view.

`Dataset.save` and `Dataset.load` choose the format by the file's extension
(`SUFFIXES`); the project's own .npz format stays in `dataset.py`.  Every
format holds X, Y, the grid, the parameter names, the units (each
parameter's, from the metadata's "parameters" list as `Problem.describe`
writes it; the grid's and the profile's) and the metadata.  Files are
written whole or not at all: to a temporary name beside the target, then
renamed over it.

netCDF-4 (.nc; written by xarray through h5netcdf), the layout of `to_xarray`:

    dimensions   case (n); GRID (m), named by the grid, e.g. x or t
    GRID(GRID)           the grid, attribute units
    OUTPUT(case, GRID)   the profiles, named by the output, e.g. T; attribute units
    NAME(case)           one variable per parameter; attributes units, description
    attributes   format = "problems.Dataset", format_version = 1,
                 param_names (a JSON list: the order of X's columns),
                 grid_name, output_name, metadata (all of it, as JSON), and
                 problem and description when the metadata has them.

HDF5 (.h5, .hdf5), for h5py and any HDF5 reader:

    /X (n, d), /Y (n, m), /grid (m,)   float64, contiguous, uncompressed
    /X attributes param_names, units (one string per parameter)
    /Y and /grid attributes name, units
    /metadata   a scalar UTF-8 string dataset: the metadata as JSON (a dataset,
                not an attribute, which HDF5 limits to 64 KiB)
    root attributes format = "problems.Dataset", format_version = 1

CSV (.csv), one case per row:

    # problems.Dataset 1 {"grid_name": "x", ..., "n_cases": n, "metadata": {...}}
    q_in,T_edge,T[x=0.0],T[x=0.015625],...
    0.55,0.3,1.2345678901234567,...

The first line is a comment holding, as one line of JSON, the names and
units of the grid and the output, each parameter's unit, the number of
cases and the metadata.  The header names the parameters, then one column
per grid point as ``OUTPUT[GRID=VALUE]``: that form is how `load` tells
profile columns from parameter columns, so a file without the comment line
(a spreadsheet's export, say) still loads, without its metadata and units.
Numbers are written as Python's ``repr(float)``, the shortest text that
reads back to the same float64: X, Y and the grid round-trip bitwise.
pandas reads it with ``pandas.read_csv(path, comment="#")``.

Readers trust nothing before checking it: the format tag and version; the
names (identifiers, distinct); every array's declared shape and dtype
before its data is read, and its size against the file's (a file cannot
make a reader allocate more than ~1000 times its own size, the most zlib
can compress); a grid strictly increasing and as wide as Y; finite numbers;
in a CSV, every row as long as the header, every cell a number, the rows
as many as the comment line declares.  A refusal is a ValueError naming the
file and the problem.
"""
from __future__ import annotations

import csv
import importlib
import io
import json
import math
import numbers
import os
import re
from pathlib import Path

import numpy as np

from ._files import _fsync_directory, strict_json, temporary_name, write_atomic

FORMAT = "problems.Dataset"
FORMAT_VERSION = 1
#: extension -> format; `Dataset.save` and `Dataset.load` go by these.
SUFFIXES = {".npz": "npz", ".nc": "netcdf", ".h5": "hdf5", ".hdf5": "hdf5", ".csv": "csv"}
INSTALL = 'pip install "surrogate-toolkit[io]"'
#: the packages each format needs beyond numpy
NEEDS = {"npz": (), "csv": (), "hdf5": ("h5py",), "netcdf": ("xarray", "h5netcdf")}
#: a dataset may declare at most this many times the file's bytes (zlib's
#: best ratio is about 1032:1), so a small hostile file cannot make us allocate much
MAX_EXPANSION = 1032
CASE = "case"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_CSV_TAG = f"# {FORMAT} {FORMAT_VERSION} "
_PROFILE_COLUMN = re.compile(r"^(?P<output>[^\[\]=]+)\[(?P<grid>[^\[\]=]+)=(?P<value>[^\[\]=]+)\]$")


# ---------------------------------------------------------------- dispatch
def format_of(path) -> str:
    """The format of `path` by its extension: 'npz', 'netcdf', 'hdf5' or 'csv'; ValueError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{str(path)!r}: unknown dataset file extension {suffix or '(none)'!r}; "
                         f"supported: {', '.join(SUFFIXES)}")
    return SUFFIXES[suffix]


def require(path) -> str:
    """`format_of(path)`, and ImportError now if a package it needs is missing."""
    kind = format_of(path)
    for module in NEEDS[kind]:
        _import(module, f"{Path(path).suffix} files")
    return kind


def _import(module, purpose):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{purpose} need the `{module}` package, which is not installed: "
                          f"{INSTALL}") from None


def write(data, path, kind):
    """Write `data` to `path` in format `kind` (not 'npz'), whole or not at all."""
    writer = {"netcdf": _write_netcdf, "hdf5": _write_hdf5, "csv": _write_csv}[kind]
    for module in NEEDS[kind]:
        _import(module, f"{Path(path).suffix} files")
    try:  # what the readers will insist on
        _check_names(data.param_names, data.grid_name, data.output_name)
        _check_grid_increasing(data.grid, "the grid")
    except _Refused as err:
        raise ValueError(f"cannot write {path} as {kind}: {err}") from None
    writer(data, Path(path))
    return Path(path)


def read(cls, path, kind):
    """The Dataset (of class `cls`) in `path`, format `kind` (not 'npz'); ValueError if it is not one."""
    reader = {"netcdf": _read_netcdf, "hdf5": _read_hdf5, "csv": _read_csv}[kind]
    for module in NEEDS[kind]:
        _import(module, f"{path.suffix} files")
    if not path.is_file():
        open(path, "rb").close()  # FileNotFoundError, IsADirectoryError: as the OS says
    return reader(cls, path)


class _Refused(ValueError):
    """A reader's own refusal, already phrased; re-raised naming the file."""


def _replace_via_path(path, write_to):
    """Call `write_to(tmp_path)` for libraries that open files by name, then rename over `path`."""
    tmp = temporary_name(path)
    try:
        write_to(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


# ------------------------------------------------------------------ checks
def param_units(data):
    """Each parameter's unit, from the metadata's "parameters" list; '' where it has none."""
    units = {}
    for p in data.metadata.get("parameters") or ():
        if isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("unit"), str):
            units[p["name"]] = p["unit"]
    return [units.get(name, "") for name in data.param_names]


def _check_names(param_names, grid_name, output_name, case=CASE):
    """Identifiers, all distinct and none named `case`: they become variable names."""
    for label, name in [("grid name", grid_name), ("output name", output_name)] + \
            [("parameter name", n) for n in param_names]:
        if not (isinstance(name, str) and name.isidentifier()):
            raise _Refused(f"{label} {name!r} is not an identifier")
    every = [case, grid_name, output_name, *param_names]
    if len(set(every)) != len(every):
        twice = sorted({n for n in every if every.count(n) > 1})
        raise _Refused(f"the names of the case dimension, grid, output and parameters must be "
                       f"distinct, but {twice} appear twice in {every}")


def _check_grid_increasing(grid, label):
    if grid.size > 1 and not np.all(np.diff(grid) > 0):
        i = int(np.flatnonzero(~(np.diff(grid) > 0))[0])
        raise _Refused(f"{label} must be strictly increasing, but element {i + 1} "
                       f"({float(grid[i + 1])!r}) follows {float(grid[i])!r}")


def _string(value, label):
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(f"{label} is not UTF-8 text") from None
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "OU":
        value = value.item()
    if not isinstance(value, str):
        raise _Refused(f"{label} must be a string, got {type(value).__name__} {value!r:.80}")
    return value


def _json(text, label, kind):
    try:
        value = json.loads(_string(text, label))
    except json.JSONDecodeError as err:
        raise _Refused(f"{label} is not JSON: {err}") from None
    if not isinstance(value, kind):
        raise _Refused(f"{label} must be a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def _check_version(fmt, version, where):
    version = version.item() if isinstance(version, np.generic) else version
    if fmt != FORMAT or isinstance(version, bool) or not isinstance(version, numbers.Integral) \
            or int(version) != FORMAT_VERSION:
        raise _Refused(f"{where} format {fmt!r} version {version!r}, expected {FORMAT!r} "
                       f"version {FORMAT_VERSION}")


def _check_units(names, units, metadata):
    """Units read beside the arrays must agree with the metadata's; foreign files gain them."""
    listed = {p.get("name"): p for p in metadata.get("parameters") or () if isinstance(p, dict)}
    for name, unit in zip(names, units):
        if name in listed and listed[name].get("unit", unit) != unit:
            raise _Refused(f"parameter {name!r} has unit {unit!r} in the file's arrays but "
                           f"{listed[name].get('unit')!r} in its metadata")
    if not listed and any(units):
        metadata["parameters"] = [{"name": n, "unit": u} for n, u in zip(names, units)]
    return metadata


def _check_size(nbytes, path, what):
    size = path.stat().st_size
    if nbytes > MAX_EXPANSION * max(size, 1):
        raise _Refused(f"{what} declares {nbytes} bytes of data, more than {MAX_EXPANSION} "
                       f"times the file's {size} bytes")


def _refuse(path, kind, err):
    return ValueError(f"{path} is not a readable {FORMAT} {kind} file (corrupted, truncated or "
                      f"foreign): {' '.join(str(err).split())}")


# ------------------------------------------------------------------ xarray
def to_xarray(data):
    """`data` as an ``xarray.Dataset``: see the module docstring for the layout."""
    xr = _import("xarray", "Dataset.to_xarray and .nc files")
    names, g, out = data.param_names, data.grid_name, data.output_name
    try:
        _check_names(names, g, out)
    except _Refused as err:
        raise ValueError(f"cannot name the variables of an xarray.Dataset: {err}") from None
    described = {p.get("name"): p.get("description") for p in data.metadata.get("parameters") or ()
                 if isinstance(p, dict)}
    variables = {out: ((CASE, g), data.Y.copy(), {"units": data.output_unit})}
    for j, (name, unit) in enumerate(zip(names, param_units(data))):
        attrs = {"units": unit}
        if isinstance(described.get(name), str):
            attrs["description"] = described[name]
        variables[name] = ((CASE,), data.X[:, j].copy(), attrs)
    attrs = {"format": FORMAT, "format_version": FORMAT_VERSION, "param_names": json.dumps(names),
             "grid_name": g, "output_name": out,
             "metadata": strict_json(data.metadata, sort_keys=True)}
    for key in ("problem", "description"):
        if isinstance(data.metadata.get(key), str):
            attrs[key] = data.metadata[key]
    return xr.Dataset(variables, coords={g: ((g,), data.grid.copy(), {"units": data.grid_unit})},
                      attrs=attrs)


def from_xarray(cls, ds, source="the xarray.Dataset"):
    """The Dataset in the ``xarray.Dataset`` `ds`; ValueError naming the problem.

    A dataset from `to_xarray` is read by its attributes.  Any other is read
    by its shape: its one 2-D data variable is the profile, over (case, grid);
    its 1-D data variables over the case dimension are the parameters, in
    order; the grid is that dimension's coordinate (0, 1, ... without one).
    """
    xr = _import("xarray", "Dataset.from_xarray")
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"`ds` must be an xarray.Dataset, got {type(ds).__name__}")
    try:
        return _from_xarray(cls, ds)
    except _Refused as err:
        raise ValueError(f"{source} does not hold a {FORMAT}: {err}") from None


def _from_xarray(cls, ds):
    attrs = ds.attrs
    if "format" in attrs or "format_version" in attrs:
        _check_version(attrs.get("format"), attrs.get("format_version"), "attributes say")
        names = _json(attrs.get("param_names"), "attribute 'param_names'", list)
        if not all(isinstance(n, str) for n in names):
            raise _Refused(f"attribute 'param_names' must list strings, got {names!r:.200}")
        grid_name = _string(attrs.get("grid_name"), "attribute 'grid_name'")
        output_name = _string(attrs.get("output_name"), "attribute 'output_name'")
        metadata = _json(attrs.get("metadata"), "attribute 'metadata'", dict)
        _check_names(names, grid_name, output_name)
        for name in [output_name, *names]:
            if name not in ds.data_vars:
                raise _Refused(f"no variable {name!r}; it has {sorted(map(str, ds.data_vars))}")
        case_dim = CASE
    else:
        profiles = [str(k) for k, v in ds.data_vars.items() if v.ndim == 2]
        if len(profiles) != 1:
            raise _Refused(f"expected exactly one 2-D variable (the profiles over case and grid), "
                           f"found {profiles}")
        output_name = profiles[0]
        case_dim, grid_name = (str(d) for d in ds[output_name].dims)
        names = [str(k) for k, v in ds.data_vars.items() if v.dims == (case_dim,)]
        if not names:
            raise _Refused(f"no 1-D variable over {case_dim!r} (the parameters) beside {output_name!r}")
        metadata = {}
        _check_names(names, grid_name, output_name, case=case_dim)
    profile = ds[output_name]
    if profile.dims != (case_dim, grid_name):
        raise _Refused(f"variable {output_name!r} has dimensions {profile.dims}, "
                       f"expected {(case_dim, grid_name)}")
    n, m = profile.shape
    columns = []
    for name in names:
        v = ds[name]
        if v.dims != (case_dim,) or v.shape != (n,):
            raise _Refused(f"parameter {name!r} has dimensions {v.dims} shape {v.shape}, expected "
                           f"({case_dim!r},) of length {n}")
        columns.append(v)
    grid_var = ds[grid_name] if grid_name in ds.variables else None
    if grid_var is not None and (grid_var.dims != (grid_name,) or grid_var.shape != (m,)):
        raise _Refused(f"grid {grid_name!r} has dimensions {grid_var.dims} shape {grid_var.shape}, "
                       f"expected ({grid_name!r},) of length {m}, the width of {output_name!r}")
    for label, v in [(output_name, profile), *zip(names, columns)] + \
            ([(grid_name, grid_var)] if grid_var is not None else []):
        if v.dtype.kind not in "iuf":
            raise _Refused(f"variable {label!r} holds {v.dtype}, not real numbers")
    units = [_string(v.attrs.get("units", ""), f"the units of {name!r}") for name, v in zip(names, columns)]
    metadata = _check_units(names, units, metadata)
    grid = np.arange(m, dtype=np.float64) if grid_var is None else np.asarray(grid_var.values, np.float64)
    _check_grid_increasing(grid, f"grid {grid_name!r}")
    X = np.column_stack([np.asarray(v.values, np.float64) for v in columns]) if n else np.zeros((0, len(names)))
    Y = np.asarray(profile.values, np.float64)
    for label, A in (("profiles " + repr(output_name), Y), ("parameters", X), ("grid", grid)):
        if not np.all(np.isfinite(A)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(A))[0])
            raise _Refused(f"the {label} hold a non-finite value at index {bad}")
    grid_unit = _string(grid_var.attrs.get("units", ""), f"the units of {grid_name!r}") if grid_var is not None else ""
    output_unit = _string(profile.attrs.get("units", ""), f"the units of {output_name!r}")
    try:
        return cls(X, Y, grid, names, metadata, grid_name, grid_unit, output_name, output_unit)
    except ValueError as err:
        raise _Refused(str(err)) from None


# ------------------------------------------------------------------ netCDF
def _write_netcdf(data, path):
    ds = to_xarray(data)
    encoding = {name: {"_FillValue": None} for name in ds.variables}
    _replace_via_path(path, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf", format="NETCDF4",
                                                     encoding=encoding))


def _read_netcdf(cls, path):
    xr = _import("xarray", ".nc files")
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic == _HDF5_MAGIC:
        engine = "h5netcdf"
    elif magic[:3] == b"CDF" and magic[3:4] in (b"\x01", b"\x02"):
        engine = "scipy"  # netCDF-3 classic and 64-bit offset
    else:
        raise ValueError(f"{path} is not a netCDF file (it starts with {magic!r})")
    try:
        # times stay numbers: a grid in "s since ..." is still a grid
        with xr.open_dataset(path, engine=engine, decode_times=False, decode_timedelta=False,
                             cache=False) as ds:
            _check_size(sum(v.size * v.dtype.itemsize for v in ds.variables.values()), path,
                        "its variables")
            return from_xarray(cls, ds.load(), source=str(path))
    except (FileNotFoundError, IsADirectoryError, ImportError):
        raise
    except ValueError as err:
        if str(err).startswith(str(path)):
            raise
        raise _refuse(path, "netCDF", err) from None
    except (OSError, KeyError, RuntimeError, TypeError, IndexError) as err:
        raise _refuse(path, "netCDF", f"{type(err).__name__}: {err}") from None


# -------------------------------------------------------------------- HDF5
def _write_hdf5(data, path):
    import h5py

    def write_to(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            X = f.create_dataset("X", data=data.X)
            X.attrs["param_names"] = data.param_names
            X.attrs["units"] = param_units(data)
            for key, array, name, unit in (("Y", data.Y, data.output_name, data.output_unit),
                                           ("grid", data.grid, data.grid_name, data.grid_unit)):
                d = f.create_dataset(key, data=array)
                d.attrs["name"], d.attrs["units"] = name, unit
            f.create_dataset("metadata", data=strict_json(data.metadata, sort_keys=True),
                             dtype=h5py.string_dtype("utf-8"))
    _replace_via_path(path, write_to)


def _read_hdf5(cls, path):
    import h5py
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path} is not an HDF5 file")
    try:
        with h5py.File(path, "r") as f:
            return _read_hdf5_file(cls, f, path)
    except _Refused as err:
        raise _refuse(path, "HDF5", err) from None
    except (OSError, KeyError, RuntimeError, TypeError, ValueError) as err:
        raise _refuse(path, "HDF5", f"{type(err).__name__}: {err}") from None


def _read_hdf5_file(cls, f, path):
    import h5py
    fmt, version = f.attrs.get("format"), f.attrs.get("format_version")
    if fmt is None:
        raise _Refused("it has no 'format' attribute; read your own HDF5 layout with "
                       "Dataset.from_hdf5(path, X=..., Y=..., grid=...)")
    _check_version(_string(fmt, "attribute 'format'"), version, "its attributes say")
    members = {}
    for key in ("X", "Y", "grid", "metadata"):
        if key not in f or not isinstance(f[key], h5py.Dataset):
            raise _Refused(f"no dataset {key!r}; it has {sorted(f.keys())}")
        members[key] = f[key]
    X, Y, grid, meta = members["X"], members["Y"], members["grid"], members["metadata"]
    names = [_string(n, "a parameter name") for n in np.atleast_1d(X.attrs.get("param_names", []))]
    units = [_string(u, "a parameter unit") for u in np.atleast_1d(X.attrs.get("units", []))]
    grid_name = _string(grid.attrs.get("name"), "attribute 'name' of 'grid'")
    output_name = _string(Y.attrs.get("name"), "attribute 'name' of 'Y'")
    _check_names(names, grid_name, output_name)
    if len(units) != len(names):
        raise _Refused(f"'X' lists {len(names)} parameter names but {len(units)} units")
    d = len(names)
    # shapes and dtypes from the headers, before any data is read
    for key, ds, ok, expected in (
            ("X", X, len(X.shape) == 2 and X.shape[1] == d, f"(n, {d}), one column per parameter"),
            ("Y", Y, len(Y.shape) == 2 and len(X.shape) == 2 and Y.shape[0] == X.shape[0],
             f"({X.shape[0] if X.shape else '?'}, m), a row per case of 'X'"),
            ("grid", grid, len(Y.shape) == 2 and grid.shape == (Y.shape[1],),
             "(m,), m the width of 'Y'")):
        if ds.dtype.kind not in "iuf" or not ok:
            raise _Refused(f"dataset {key!r} is {ds.dtype} {ds.shape}, expected real numbers of shape {expected}")
    if meta.shape != () or meta.dtype.kind not in "OS":
        raise _Refused(f"dataset 'metadata' is {meta.dtype} {meta.shape}, expected a scalar string")
    _check_size(sum(math.prod(ds.shape) * ds.dtype.itemsize for ds in (X, Y, grid)), path, "its datasets")
    metadata = _json(meta[()], "dataset 'metadata'", dict)
    metadata = _check_units(names, units, metadata)
    grid_values = np.asarray(grid[()], np.float64)
    if not np.all(np.isfinite(grid_values)):
        raise _Refused("the grid holds a non-finite value")
    _check_grid_increasing(grid_values, "the grid")
    try:
        return cls(X[()], Y[()], grid_values, names, metadata, grid_name,
                   _string(grid.attrs.get("units", ""), "attribute 'units' of 'grid'"), output_name,
                   _string(Y.attrs.get("units", ""), "attribute 'units' of 'Y'"))
    except ValueError as err:
        raise _Refused(str(err)) from None


# --------------------------------------------------------------------- CSV
def _number(x):
    return repr(float(x))


def _write_csv(data, path):
    head = {"grid_name": data.grid_name, "grid_unit": data.grid_unit, "output_name": data.output_name,
            "output_unit": data.output_unit, "param_units": param_units(data), "n_cases": len(data),
            "metadata": data.metadata}
    buf = io.StringIO()
    buf.write(_CSV_TAG + strict_json(head, sort_keys=True) + "\n")
    columns = list(data.param_names) + [f"{data.output_name}[{data.grid_name}={_number(g)}]"
                                         for g in data.grid.tolist()]
    buf.write(",".join(columns) + "\n")
    for x, y in zip(data.X.tolist(), data.Y.tolist()):
        buf.write(",".join(map(repr, x + y)) + "\n")
    write_atomic(path, lambda f: f.write(buf.getvalue().encode("utf-8")))


def split_csv_header(header):
    """(parameter names, output name, grid name, grid) of a header row in the ``OUTPUT[GRID=VALUE]``
    convention, or None if no column has that form.  _Refused if it is mixed up."""
    matches = [_PROFILE_COLUMN.match(h.strip()) for h in header]
    first = next((i for i, m in enumerate(matches) if m), None)
    if first is None:
        return None
    for i in range(first, len(header)):
        if not matches[i]:
            raise _Refused(f"column {i + 1} {header[i]!r} follows the profile columns but is not "
                           f"one (OUTPUT[GRID=VALUE])")
    outputs = {m["output"] for m in matches[first:]}
    grids = {m["grid"] for m in matches[first:]}
    if len(outputs) != 1 or len(grids) != 1:
        raise _Refused(f"the profile columns name more than one output or grid: {sorted(outputs)}, "
                       f"{sorted(grids)}")
    grid = []
    for i in range(first, len(header)):
        try:
            grid.append(float(matches[i]["value"]))
        except ValueError:
            raise _Refused(f"column {i + 1} {header[i]!r}: grid value {matches[i]['value']!r} "
                           f"is not a number") from None
    return [h.strip() for h in header[:first]], outputs.pop(), grids.pop(), np.array(grid)


def _read_csv(cls, path):
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return _read_csv_text(cls, fh, path)
    except _Refused as err:
        raise _refuse(path, "CSV", err) from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise _refuse(path, "CSV", f"not CSV text: {err}") from None


def _read_csv_text(cls, fh, path):
    first = fh.readline()
    head, skipped = None, 0
    if first.startswith("#"):
        skipped = 1
        if not first.startswith(_CSV_TAG):
            raise _Refused(f"line 1 is a comment but not {_CSV_TAG.strip()!r} + JSON: {first[:80]!r}")
        head = _json(first[len(_CSV_TAG):], "the JSON of line 1", dict)
    else:
        fh.seek(0)
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        raise _Refused("it has no header row")
    split = split_csv_header(header)
    if split is None:
        raise _Refused("no header column has the form OUTPUT[GRID=VALUE], so parameter and profile "
                       "columns cannot be told apart; read it with "
                       "Dataset.from_csv(path, n_inputs=...)")
    names, output_name, grid_name, grid = split
    _check_names(names, grid_name, output_name)
    d, width = len(names), len(header)
    if d == 0:
        raise _Refused("the header names no parameter column before the profile columns")
    rows, blank = [], None
    for row in reader:
        line = reader.line_num + skipped
        if not row:
            blank = line if blank is None else blank
            continue
        if blank is not None:
            raise _Refused(f"line {blank} is empty, and rows follow it")
        if len(row) != width:
            raise _Refused(f"line {line} has {len(row)} cells, the header {width}")
        try:
            values = [float(c) for c in row]
        except ValueError:
            j = next(j for j, c in enumerate(row) if not _is_float(c))
            raise _Refused(f"line {line}, column {j + 1} ({header[j].strip()}): {row[j]!r} is not a "
                           f"number") from None
        if not all(map(math.isfinite, values)):
            j = next(j for j, v in enumerate(values) if not math.isfinite(v))
            raise _Refused(f"line {line}, column {j + 1} ({header[j].strip()}): {row[j]!r} is not finite")
        rows.append(values)
    metadata, units, grid_unit, output_unit = {}, [""] * d, "", ""
    if head is not None:
        for key in ("grid_name", "output_name", "grid_unit", "output_unit"):
            if not isinstance(head.get(key), str):
                raise _Refused(f"line 1: {key!r} must be a string, got {head.get(key)!r:.80}")
        if (head["grid_name"], head["output_name"]) != (grid_name, output_name):
            raise _Refused(f"line 1 names grid {head['grid_name']!r} and output {head['output_name']!r}, "
                           f"the header {grid_name!r} and {output_name!r}")
        units, metadata = head.get("param_units"), head.get("metadata")
        if not (isinstance(units, list) and len(units) == d and all(isinstance(u, str) for u in units)):
            raise _Refused(f"line 1: 'param_units' must be {d} strings, got {units!r:.200}")
        if not isinstance(metadata, dict):
            raise _Refused(f"line 1: 'metadata' must be a JSON object, got {type(metadata).__name__}")
        n = head.get("n_cases")
        if isinstance(n, bool) or not isinstance(n, int) or n != len(rows):
            raise _Refused(f"line 1 declares {n!r} cases but {len(rows)} rows follow (truncated?)")
        grid_unit, output_unit = head["grid_unit"], head["output_unit"]
    metadata = _check_units(names, units, metadata)
    _check_grid_increasing(grid, "the grid in the header")
    data = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    try:
        return cls(data[:, :d], data[:, d:], grid, names, metadata, grid_name, grid_unit,
                   output_name, output_unit)
    except ValueError as err:
        raise _Refused(str(err)) from None


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False
