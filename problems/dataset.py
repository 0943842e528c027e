"""Dataset: parameter points X, profiles Y on a grid, names and metadata.

`Dataset.save` and `Dataset.load` choose the file format by extension:
``.npz`` (the project's own, below), ``.nc`` (netCDF-4), ``.h5``/``.hdf5``
(HDF5) and ``.csv``; the last three are in `formats`, with their layouts.
``.npz`` files are archives read with ``allow_pickle=False``: arrays only,
the metadata as a JSON string stored as UTF-8 bytes in a uint8 array.
Every file is written whole or not at all (`_files.write_atomic`), so a
reader never sees half a file.
"""

from __future__ import annotations

import csv
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from . import formats
from ._files import strict_json, write_atomic

__all__ = ["Dataset"]

FORMAT = "problems.Dataset"
FORMAT_VERSION = 1
_MEMBERS = ("header", "X", "Y", "grid", "metadata")


def write_npz(path, fsync=True, **arrays):
    """Write an uncompressed .npz to ``path``, whole or not at all (see `_files`)."""
    return write_atomic(path, lambda f: np.savez(f, **arrays), fsync=fsync)


def json_to_array(obj) -> np.ndarray:
    return np.frombuffer(strict_json(obj, sort_keys=True).encode("utf-8"), dtype=np.uint8)


def array_to_json(a: np.ndarray):
    if a.dtype != np.uint8 or a.ndim != 1:
        raise ValueError(f"expected a 1-D uint8 array holding JSON, got {a.dtype} {a.shape}")
    return json.loads(a.tobytes().decode("utf-8"))


def _real(a, name):
    """`a` as a float64 copy; ValueError for complex (whose imaginary part a cast drops) or non-numbers."""
    try:
        a = np.asarray(a)
    except ValueError as err:  # ragged lists
        raise ValueError(f"`{name}` must be a numeric array: {err}") from None
    if a.dtype.kind not in "biuf":
        raise ValueError(f"`{name}` must hold real numbers, got dtype {a.dtype}")
    return np.array(a, dtype=np.float64, copy=True)


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else None


def _check_path(path):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise ValueError(f"`path` must be a file path, got {type(path).__name__} {path!r}")
    return Path(os.fsdecode(path))


def read_npz(path, names, optional=(), stored_only=False):
    """{name: array} of the .npy members `names` (and `optional` if present) of the zip at `path`.

    Nothing is allocated before it is checked: no two members of one name,
    each member's .npy header read first (plain real numeric dtype, shape
    matching the bytes the member declares, which bound what is read);
    with `stored_only`, compressed members or members declaring more bytes
    than the file are refused (our own files are written uncompressed).
    Never unpickles. ValueError names the member; FileNotFoundError passes.
    """
    path = _check_path(path)
    if not zipfile.is_zipfile(path):
        if not path.is_file():
            open(path, "rb").close()  # FileNotFoundError, IsADirectoryError: as the OS says
        raise ValueError(f"{path} is not an .npz archive (not a zip file)")
    file_size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        entries = {}
        for info in archive.infolist():
            if info.filename in entries:
                raise ValueError(f"{path}: member {info.filename!r} appears twice")
            entries[info.filename] = info
        present = {n[:-4] for n in entries if n.endswith(".npy")}
        missing = [n for n in names if n not in present]
        if missing:
            raise ValueError(f"{path} has no array {missing[0]!r}; it has {sorted(present)}")
        out = {}
        for name in list(names) + [n for n in optional if n in present]:
            info = entries[name + ".npy"]
            if stored_only and (info.compress_type != zipfile.ZIP_STORED or info.file_size > file_size):
                raise ValueError(f"{path}: member {name!r} is compressed or larger than the file")
            with archive.open(info) as f:
                try:
                    version = np.lib.format.read_magic(f)
                    read = {(1, 0): np.lib.format.read_array_header_1_0,
                            (2, 0): np.lib.format.read_array_header_2_0}[version]
                    shape, fortran, dtype = read(f)
                except (ValueError, KeyError) as err:
                    why = "header too long" if "pickle" in str(err) else err
                    raise ValueError(f"{path}: member {name!r} is not a plain .npy array ({why})") from None
                if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype:
                    raise ValueError(f"{path}: member {name!r} has dtype {dtype}; expected real numbers")
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes != info.file_size - f.tell():
                    raise ValueError(f"{path}: member {name!r} declares shape {shape} ({nbytes} bytes) "
                                     f"but holds {info.file_size - f.tell()} bytes")
                data = f.read(nbytes)
                f.read(1)  # at the end: the zip's CRC check runs
            if len(data) != nbytes:
                raise ValueError(f"{path}: member {name!r} is truncated")
            out[name] = np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C").copy()
    return out


class EdgeSplit(tuple):
    """``(inside, edge)`` of :meth:`Dataset.split_extrapolation`, plus ``trusted_box``.

    ``trusted_box`` is ``(lower, upper)``: the box, scaled about its centre,
    that the inside cases fill; a model trained on them may trust it.
    """

    def __new__(cls, inside, edge, trusted_box):
        split = super().__new__(cls, (inside, edge))
        split.inside, split.edge, split.trusted_box = inside, edge, trusted_box
        return split


class Dataset:
    """Samples of a map from parameters (d) to a profile on a grid (m).

    ``X``: (n, d) parameter points; ``Y``: (n, m) profiles; ``grid``: (m,)
    coordinates of the profile; ``param_names``: d names; ``metadata``: a
    JSON-serialisable dict (for generated data: problem, box, sampler,
    seed, solver settings, solver seconds per sample, failures, versions).
    """

    def __init__(self, X, Y, grid=None, param_names=None, metadata=None,
                 grid_name="x", grid_unit="", output_name="u", output_unit=""):
        X, Y = _real(X, "X"), _real(Y, "Y")
        if X.ndim == 1:
            X = X[:, np.newaxis]
        if X.ndim != 2:
            raise ValueError(f"`X` must be 2-D (n, d), got shape {X.shape}")
        if Y.ndim != 2:
            raise ValueError(f"`Y` must be 2-D (n, m), got shape {Y.shape}")
        if X.shape[0] != Y.shape[0]:
            raise ValueError(f"`X` and `Y` need the same number of rows, got {X.shape[0]} and {Y.shape[0]}")
        for label, A in (("X", X), ("Y", Y)):
            if not np.all(np.isfinite(A)):
                bad = tuple(int(i) for i in np.argwhere(~np.isfinite(A))[0])
                raise ValueError(f"`{label}` holds a non-finite value at index {bad}")
        grid = np.arange(Y.shape[1], dtype=np.float64) if grid is None else _real(grid, "grid")
        if grid.shape != (Y.shape[1],):
            raise ValueError(f"`grid` must have shape ({Y.shape[1]},) to match Y, got {grid.shape}")
        if not np.all(np.isfinite(grid)):
            raise ValueError(f"`grid` must be finite, got {grid[~np.isfinite(grid)][0]} in it")
        if param_names is None:
            param_names = [f"p{i}" for i in range(X.shape[1])]
        param_names = [str(s) for s in param_names]
        if len(param_names) != X.shape[1] or len(set(param_names)) != len(param_names):
            raise ValueError(f"`param_names` must be {X.shape[1]} distinct names, got {param_names!r}")
        metadata = {} if metadata is None else dict(metadata)
        try:
            metadata = json.loads(strict_json(metadata))  # a deep copy that proves it serialises
        except (TypeError, ValueError) as err:
            raise ValueError(f"`metadata` must be JSON-serialisable: {err}") from None
        self.X, self.Y, self.grid = X, Y, grid
        self.param_names = param_names
        self.metadata = metadata
        self.grid_name, self.grid_unit = str(grid_name), str(grid_unit)
        self.output_name, self.output_unit = str(output_name), str(output_unit)

    # ----------------------------------------------------------- basics
    def __len__(self):
        return self.X.shape[0]

    @property
    def n_inputs(self):
        return self.X.shape[1]

    @property
    def n_grid(self):
        return self.grid.size

    @property
    def param_units(self):
        """Each parameter's unit, from ``metadata["parameters"]`` (as a problem describes
        them); '' for a parameter it does not list."""
        return formats.param_units(self)

    def __repr__(self):
        name = self.metadata.get("problem", "data")
        return (f"Dataset({name!r}, n={len(self)}, params={self.param_names}, "
                f"grid={self.grid_name}[{self.n_grid}])")

    def _like(self, X, Y, **extra_metadata):
        meta = dict(self.metadata, **extra_metadata)
        return Dataset(X, Y, self.grid, self.param_names, meta, self.grid_name,
                       self.grid_unit, self.output_name, self.output_unit)

    def subset(self, indices):
        """The rows ``indices`` (integers, in that order, negative from the end)
        or the rows where a boolean mask of length n is True, as a new Dataset."""
        idx = np.asarray(indices)
        n = len(self)
        if idx.dtype == bool:
            if idx.shape != (n,):
                raise ValueError(f"a boolean mask `indices` needs shape ({n},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        elif idx.size == 0:
            idx = idx.astype(np.intp)
        elif idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise ValueError(f"`indices` must be a 1-D sequence of integers or a boolean mask, "
                             f"got {np.asarray(indices).dtype} {np.shape(indices)}: {indices!r:.80}")
        if idx.size and not (-n <= idx.min() and idx.max() < n):
            raise ValueError(f"`indices` must lie in [-{n}, {n}), got {idx.min()}..{idx.max()}")
        return self._like(self.X[idx], self.Y[idx])

    # ------------------------------------------------------------ splits
    def split(self, fractions=(0.8, 0.1, 0.1), seed=0):
        """Random disjoint parts (e.g. train, validation, test) covering all rows.

        Part sizes are floor(fraction * n), the remainder going one row at a
        time to the parts with the largest fractional remainders.
        """
        try:
            f = np.asarray(fractions, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"`fractions` must be numbers, got {fractions!r}") from None
        if f.ndim != 1 or f.size < 2 or np.any(~np.isfinite(f)) or np.any(f <= 0) \
                or abs(f.sum() - 1.0) > 1e-9:
            raise ValueError(f"`fractions` must be >= 2 positive numbers summing to 1, got {fractions!r}")
        n = len(self)
        counts = np.floor(f * n).astype(int)
        order = np.argsort(-(f * n - counts), kind="stable")
        counts[order[: n - counts.sum()]] += 1
        if np.any(counts == 0):
            raise ValueError(f"{n} rows are too few for fractions {tuple(f)}: a part would be empty")
        perm = np.random.default_rng(seed).permutation(n)
        bounds = np.concatenate(([0], np.cumsum(counts)))
        return tuple(self._like(self.X[perm[a:b]], self.Y[perm[a:b]], split={"fractions": f.tolist(), "seed": seed, "part": i})
                     for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])))

    def box(self):
        """(lower, upper) of the parameter box: the problem's if known, else the data's."""
        box = self.metadata.get("box")
        if box is not None:
            return np.asarray(box["lower"], dtype=np.float64), np.asarray(box["upper"], dtype=np.float64)
        return self.X.min(axis=0), self.X.max(axis=0)

    def edge_distance(self):
        """Normalised distance of each point from the box centre, infinity norm.

        0 at the centre, 1 on the faces of the box.
        """
        lower, upper = self.box()
        half = 0.5 * (upper - lower)
        half = np.where(half > 0, half, 1.0)  # a constant column is never at an edge
        return np.max(np.abs(self.X - 0.5 * (lower + upper)) / half, axis=1)

    def split_extrapolation(self, fraction=0.1):
        """(inside, edge): hold out the ``fraction`` of cases nearest the box edge.

        ``edge`` holds the ceil(fraction * n) points with the largest
        :meth:`edge_distance`; every one of them is at least as far out as
        any point of ``inside``.  Train on ``inside`` (and split it further),
        test on ``edge`` to see how a surrogate extrapolates.  The result
        unpacks as ``inside, edge = ...`` and also carries ``trusted_box``,
        the box the inside cases fill (what a model trained on them may trust).
        """
        if not (isinstance(fraction, (int, float)) and 0.0 < fraction < 1.0):
            raise ValueError(f"`fraction` must be in (0, 1), got {fraction!r}")
        n = len(self)
        n_edge = math.ceil(fraction * n)
        if n_edge >= n:
            raise ValueError(f"{n} rows are too few to hold out a fraction {fraction} at the edge")
        r = self.edge_distance()
        order = np.argsort(-r, kind="stable")  # ties: lower index first, deterministic
        edge, inside = np.sort(order[:n_edge]), np.sort(order[n_edge:])
        threshold = float(r[order[n_edge - 1]])
        info = {"fraction": fraction, "threshold": threshold}
        # inside cases have edge distance <= threshold: the box scaled by it about the centre
        lower, upper = self.box()
        centre, half = 0.5 * (lower + upper), 0.5 * (upper - lower)
        return EdgeSplit(self._like(self.X[inside], self.Y[inside], extrapolation=dict(info, part="inside")),
                         self._like(self.X[edge], self.Y[edge], extrapolation=dict(info, part="edge")),
                         (centre - threshold * half, centre + threshold * half))

    # ---------------------------------------------------------------- IO
    def save(self, path):
        """Write to ``path`` atomically in the format of its extension; returns the Path.

        ``.npz`` (no pickle), ``.nc`` (netCDF-4, needs xarray and h5netcdf),
        ``.h5``/``.hdf5`` (needs h5py) or ``.csv``: see `formats` for the
        layouts.  Another extension is a ValueError listing these.
        """
        path = _check_path(path)
        kind = formats.format_of(path)
        if kind != "npz":
            return formats.write(self, path, kind)
        header = {"format": FORMAT, "version": FORMAT_VERSION, "grid_name": self.grid_name,
                  "grid_unit": self.grid_unit, "output_name": self.output_name,
                  "output_unit": self.output_unit, "param_names": self.param_names}
        write_npz(path, header=json_to_array(header), X=self.X, Y=self.Y,
                         grid=self.grid, metadata=json_to_array(self.metadata))
        return path

    @classmethod
    def load(cls, path):
        """Read a file written by :meth:`save`; ValueError naming the field if it is not one.

        The format is that of the extension (see :meth:`save`); for .nc,
        .h5 and .csv, `formats` says what is checked.  For .npz, checked
        before anything is trusted: exactly the five members we write,
        stored uncompressed, none twice; the header's format, version and the
        types of its fields; X (n, d) with d the number of param_names, Y
        (n, m) and grid (m,) float64 (the constructor then refuses NaN/inf).
        """
        path = _check_path(path)
        kind = formats.format_of(path)
        if kind != "npz":
            return formats.read(cls, path, kind)
        try:
            with zipfile.ZipFile(path) as archive:
                keys = sorted(n[:-4] if n.endswith(".npy") else n for n in archive.namelist())
            if keys != sorted(_MEMBERS):
                raise ValueError(f"its members are {keys}, expected {sorted(_MEMBERS)}")
            a = read_npz(path, _MEMBERS, stored_only=True)
            header, metadata = array_to_json(a["header"]), array_to_json(a["metadata"])
            if not isinstance(header, dict) or header.get("format") != FORMAT \
                    or header.get("version") != FORMAT_VERSION:
                raise ValueError(f"format {_get(header, 'format')!r} version {_get(header, 'version')!r}")
            for key in ("grid_name", "grid_unit", "output_name", "output_unit"):
                if not isinstance(header.get(key), str):
                    raise ValueError(f"header field {key!r} must be a string, got {header.get(key)!r}")
            names = header.get("param_names")
            if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
                raise ValueError(f"header field 'param_names' must be a list of strings, got {names!r}")
            if not isinstance(metadata, dict):
                raise ValueError(f"'metadata' must be a JSON object, got {type(metadata).__name__}")
            X, Y, grid = a["X"], a["Y"], a["grid"]
            for key, A, ok, expected in (
                    ("X", X, X.ndim == 2 and X.shape[1] == len(names), f"(n, {len(names)})"),
                    ("Y", Y, Y.ndim == 2 and Y.shape[0] == X.shape[0], f"({X.shape[0]}, m)"),
                    ("grid", grid, Y.ndim == 2 and grid.shape == (Y.shape[1],), "(m,), m the width of Y")):
                if A.dtype != np.float64 or not ok:
                    raise ValueError(f"array {key!r} is {A.dtype} {A.shape}, expected float64 {expected}")
            if "solver_seconds_per_sample" in metadata:  # the name before version 0.2
                metadata["solver_seconds_per_profile"] = metadata.pop("solver_seconds_per_sample")
            return cls(X, Y, grid, names, metadata, header["grid_name"], header["grid_unit"],
                       header["output_name"], header["output_unit"])
        except (FileNotFoundError, IsADirectoryError):
            raise
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as err:
            raise ValueError(f"{path} is not a readable {FORMAT} file (corrupted, truncated or "
                             f"foreign): {err}") from None

    def to_xarray(self):
        """An ``xarray.Dataset``: the profiles over (case, GRID), GRID the grid's name (e.g.
        ``x``), each parameter a variable over case, units as ``units`` attributes, the
        metadata as JSON in the ``metadata`` attribute (needs xarray)."""
        return formats.to_xarray(self)

    @classmethod
    def from_xarray(cls, ds):
        """The inverse of :meth:`to_xarray`; also reads an ``xarray.Dataset`` holding one 2-D
        variable (profiles over case and grid) and 1-D parameter variables over case.

        Checks names, dimensions, shapes, real dtypes, a strictly increasing
        grid and finite values; ValueError naming what is wrong.
        """
        return formats.from_xarray(cls, ds)

    @classmethod
    def from_npz(cls, path, X="X", Y="Y", grid="grid", param_names=None, metadata=None, **labels):
        """Load your own .npz; ``X``, ``Y``, ``grid`` name its arrays (grid optional).

        Only those arrays are read, each checked from its .npy header first
        (see `read_npz`); compressed archives are fine.
        """
        for argument, key in (("X", X), ("Y", Y), ("grid", grid)):
            if not isinstance(key, str):
                raise ValueError(f"`{argument}` must be the name of an array in the file, got {key!r}")
        try:
            a = read_npz(path, (X, Y), optional=(grid,))
        except (zipfile.BadZipFile, EOFError) as err:
            raise ValueError(f"{path} is a corrupted .npz archive: {err}") from None
        return cls(a[X], a[Y], a.get(grid), param_names, metadata, **labels)

    @classmethod
    def from_csv(cls, path, n_inputs, grid=None, delimiter=",", metadata=None, **labels):
        """Load a CSV with one case per row: ``n_inputs`` parameters, then the profile.

        A header row, if present, names the parameters; if the remaining
        header entries are numbers, or name grid points as ``u[x=0.5]`` (the
        form :meth:`save` writes), they are taken as the grid (unless
        ``grid`` is given).  A first line starting with ``#`` is skipped.
        """
        path = _check_path(path)
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, (int, np.integer)):
            raise ValueError(f"`n_inputs` must be an integer, got {n_inputs!r}")
        if not (isinstance(delimiter, str) and len(delimiter) == 1):
            raise ValueError(f"`delimiter` must be one character, got {delimiter!r}")
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                if not fh.readline().startswith("#"):
                    fh.seek(0)
                rows = [r for r in csv.reader(fh, delimiter=delimiter) if r]
        except (UnicodeDecodeError, csv.Error) as err:
            raise ValueError(f"{path} is not a CSV text file: {err}") from None
        if not rows:
            raise ValueError(f"{path} is empty")
        header = None
        try:
            [float(v) for v in rows[0]]
        except ValueError:
            header, rows = rows[0], rows[1:]
        try:
            data = np.array(rows, dtype=np.float64)
        except ValueError as err:
            raise ValueError(f"{path}: rows must have equal length and hold numbers: {err}") from None
        if data.ndim != 2 or not (0 < n_inputs < data.shape[1]):
            raise ValueError(f"`n_inputs` = {n_inputs!r} must be between 1 and the number of "
                             f"columns - 1 in {path} (shape {data.shape})")
        names = None
        if header is not None:
            names = [h.strip() for h in header[:n_inputs]]
            if grid is None:
                try:
                    grid = [float(h) for h in header[n_inputs:]]
                except ValueError:
                    try:
                        split = formats.split_csv_header(header)
                    except ValueError:
                        split = None
                    grid = split[3] if split is not None and len(split[0]) == n_inputs else None
        return cls(data[:, :n_inputs], data[:, n_inputs:], grid, names, metadata, **labels)

    @classmethod
    def from_hdf5(cls, path, X="X", Y="Y", grid="grid", param_names=None, metadata=None, **labels):
        """Load datasets ``X``, ``Y`` (and ``grid`` if present) from an HDF5 file (needs h5py)."""
        try:
            import h5py
        except ImportError:
            raise ImportError(f"reading HDF5 needs the `h5py` package, which is not installed: "
                              f"{formats.INSTALL}") from None
        for argument, key in (("X", X), ("Y", Y), ("grid", grid)):
            if not isinstance(key, str):
                raise ValueError(f"`{argument}` must be the name of a dataset in the file, got {key!r}")
        path = _check_path(path)
        if not path.is_file():
            open(path, "rb").close()  # FileNotFoundError, IsADirectoryError: as the OS says
        if not h5py.is_hdf5(path):
            raise ValueError(f"{path} is not an HDF5 file")
        with h5py.File(path, "r") as f:
            arrays = {}
            for key in (X, Y, grid):
                if key not in f:
                    if key == grid:
                        continue
                    raise ValueError(f"{path} has no dataset {key!r}; it has {sorted(f.keys())}")
                if not isinstance(f[key], h5py.Dataset) or f[key].dtype.kind not in "biuf":
                    raise ValueError(f"{path}: {key!r} is not a dataset of real numbers")
                arrays[key] = f[key][()]
            return cls(arrays[X], arrays[Y], arrays.get(grid), param_names, metadata, **labels)
