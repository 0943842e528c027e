"""Versioned, pickle-free model files, written atomically.

A model file is an ordinary ``.npz`` archive (a zip of ``.npy`` members) so
that any NumPy can open it, with one reserved member, ``__header__``: a
``uint8`` array holding UTF-8 JSON. The header always starts with
``{"format": "surrogate-model", "format_version": 1}``; the caller's own keys
(architecture, scaling, history, ...) follow.

Why this shape:

* no pickle anywhere: object arrays are refused on writing, and reading uses
  ``np.load(..., allow_pickle=False)``, so opening a file from a stranger can
  never run code;
* the header is read and checked before any array, so a foreign archive or a
  file from a newer version of this package fails with a message that says so;
* nothing is allocated before it is checked: members are stored uncompressed,
  so each one's declared size is bounded by the file's, and each member's
  ``.npy`` header (dtype, shape, bytes held) is read, and checked against what
  the caller expects, before its data;
* writing goes through `_files.write_atomic` (a temporary file, fsync-ed and
  renamed over the target), so a crash leaves either the old file or the new
  one, never half of one; the header is strict JSON (no NaN).
"""
from __future__ import annotations

import json
import math
import os
import pathlib
import zipfile

import numpy as np

from ._files import strict_json, write_atomic

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "ModelFileNotFoundError",
    "read_model_file",
    "write_model_file",
]

FORMAT = "surrogate-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_MAX_NPY_HEADER = 10_000  # bytes: NumPy's own limit; our headers are ~100


class ModelFileError(ValueError):
    """A model file that cannot be read: missing, truncated, foreign or too new."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """The model file does not exist (also catchable as ``FileNotFoundError``)."""


# ----------------------------------------------------------------------------
# writing

def _json_default(obj):
    """Let NumPy scalars, small arrays and paths appear in a header."""
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"header value of type {type(obj).__name__} is not JSON-serialisable: {obj!r}")


def _full_header(header: dict) -> dict:
    if not isinstance(header, dict):
        raise TypeError(f"`header` must be a dict, got {type(header).__name__}")
    for key, ours in (("format", FORMAT), ("format_version", FORMAT_VERSION)):
        if key in header and header[key] != ours:
            raise ValueError(f"`header` key {key!r} is reserved; it is {ours!r} in files "
                             f"written by this version, got {header[key]!r}")
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            **{k: v for k, v in header.items() if k not in ("format", "format_version")}}


def _checked_arrays(arrays: dict, check_finite: bool) -> dict[str, np.ndarray]:
    if not isinstance(arrays, dict):
        raise TypeError(f"`arrays` must be a dict of name -> array, got {type(arrays).__name__}")
    out = {}
    for key, value in arrays.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"array names must be non-empty strings, got {key!r}")
        if key == HEADER_KEY:
            raise ValueError(f"array name {HEADER_KEY!r} is reserved for the file header")
        a = np.asarray(value)
        if a.dtype.hasobject:
            raise ValueError(f"array {key!r} has dtype {a.dtype}; model files hold numeric "
                             "arrays only (objects would need pickle). Convert it with "
                             "`.astype(float)` or store it in the header.")
        if check_finite and a.dtype.kind in "fc":
            bad = int(a.size - np.count_nonzero(np.isfinite(a)))
            if bad:
                raise ValueError(f"refusing to save a model with non-finite parameters: array "
                                 f"{key!r} has {bad} NaN/inf value(s) out of {a.size} "
                                 "(pass check_finite=False to save it anyway)")
        out[key] = a
    return out


def write_model_file(path, header: dict, arrays: dict, *, check_finite: bool = True) -> pathlib.Path:
    """Write `arrays` and a JSON `header` to one ``.npz`` file at `path`, atomically.

    The stored header is ``{"format": "surrogate-model", "format_version": 1,
    **header}``. Object arrays are refused (ValueError naming the key); so are
    float arrays holding NaN/inf unless ``check_finite=False``. The file is
    written exactly at `path` (no suffix is added; parent directories are
    created), its members uncompressed (the reader refuses compressed ones, so
    that no member can expand beyond the file's size). Returns the path.
    """
    path = pathlib.Path(path)
    full = _full_header(header)
    checked = _checked_arrays(arrays, check_finite)
    text = strict_json(full, default=_json_default, ensure_ascii=False)
    members = {HEADER_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **checked}

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda f: np.savez(f, **members))
    return path


# ----------------------------------------------------------------------------
# reading

def _parse_header(path: pathlib.Path, raw: np.ndarray) -> dict:
    if not isinstance(raw, np.ndarray) or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(f"{path}: member {HEADER_KEY!r} is not a uint8 array of UTF-8 "
                             "JSON; the file is corrupted or was not written by surrogate")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: the header is not valid UTF-8 JSON ({exc}); "
                             "the file is corrupted") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: the header is a JSON {type(header).__name__}, "
                             "expected an object")
    fmt = header.get("format")
    if fmt != FORMAT:
        raise ModelFileError(f"{path}: not a surrogate model file (header format is {fmt!r}, "
                             f"expected {FORMAT!r})")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r} in the header "
                             "(expected a positive integer)")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path}: written with model file format_version {version}, but "
                             f"this version of surrogate reads format_version <= {FORMAT_VERSION}; "
                             "upgrade the package to read it")
    return header


def _members(path, archive: zipfile.ZipFile, file_size: int) -> dict[str, zipfile.ZipInfo]:
    """name -> entry of each ``.npy`` member, after the checks that need no data.

    We write members uncompressed, so each one's size is bounded by the
    file's: a deflated member (which could expand to gigabytes) or one that
    declares more bytes than the file holds is refused, as are two members
    of one name (zip readers disagree on which one wins).
    """
    members = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise ModelFileError(f"{path}: member {info.filename!r} is not a .npy array; "
                                 "the file was not written by surrogate")
        key = info.filename[:-4]
        if key in members:
            raise ModelFileError(f"{path}: member {key!r} appears twice; the file was tampered with")
        if info.compress_type != zipfile.ZIP_STORED:
            raise ModelFileError(f"{path}: member {key!r} is compressed; surrogate writes members "
                                 "uncompressed, so their size is bounded by the file's")
        if info.file_size > file_size:
            raise ModelFileError(f"{path}: member {key!r} declares {info.file_size} bytes, more "
                                 f"than the whole file ({file_size} bytes)")
        members[key] = info
    return members


def _npy_header(path, key, f, size):
    """(shape, dtype, fortran_order, data_bytes) of an open .npy member, read before its data."""
    try:
        version = np.lib.format.read_magic(f)
        read = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran, dtype = read(f, max_header_size=_MAX_NPY_HEADER)
    except ValueError as exc:  # NumPy's word for an oversized header suggests allow_pickle: not ours
        why = f"longer than {_MAX_NPY_HEADER} bytes" if "allow_pickle" in str(exc) else str(exc)
        raise ModelFileError(f"{path}: member {key!r} has a malformed .npy header ({why})") from None
    if dtype.hasobject:
        raise ModelFileError(f"{path}: member {key!r} holds pickled Python objects; refusing to "
                             "unpickle it (model files hold numeric arrays only, and unpickling "
                             "can run arbitrary code)")
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise ModelFileError(f"{path}: member {key!r} has dtype {dtype}; model files hold "
                             "plain integer or float arrays only")
    count = math.prod(shape)
    if count * dtype.itemsize != size - f.tell():
        raise ModelFileError(f"{path}: member {key!r} declares shape {shape} of {dtype} "
                             f"({count * dtype.itemsize} bytes) but holds {size - f.tell()} bytes")
    return shape, dtype, fortran, count * dtype.itemsize


def _check_expected(path, key, shape, dtype, want, dims):
    """`shape`/`dtype` against `want` = (shape, dtype); names in the shape bind in `dims`."""
    want_shape, want_dtype = want
    if dtype.kind != np.dtype(want_dtype).kind or dtype.itemsize != np.dtype(want_dtype).itemsize:
        raise ModelFileError(f"{path}: member {key!r} has dtype {dtype}, expected {np.dtype(want_dtype)}")
    bound = tuple(dims.setdefault(w, s) if isinstance(w, str) else w
                  for w, s in zip(want_shape, shape))
    if len(shape) != len(want_shape) or tuple(shape) != bound:
        named = f" with {dims}" if any(isinstance(w, str) for w in want_shape) else ""
        raise ModelFileError(f"{path}: member {key!r} has shape {tuple(shape)}, expected "
                             f"{tuple(want_shape)}{named}")


def read_model_file(path, expect=None, *, check_finite: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a file written by `write_model_file`: ``(header, arrays)``.

    Nothing is allocated or trusted before it is checked: the archive's
    directory first (only stored ``.npy`` members, no duplicates, none larger
    than the file), then the JSON header, then each member's ``.npy`` header
    (plain numeric dtype, shape matching the bytes it holds) before its data.

    expect : callable, optional
        ``expect(header) -> {name: (shape, dtype)}``: only these members are
        read, each must be present with exactly that dtype and shape; a name
        (str) in a shape is a size shared by the members that use it.
        Without it every member is read.
    check_finite : float members holding NaN or inf are refused.

    Never unpickles. Every failure (missing, truncated, corrupted, not an
    npz, an npz without our header, another format, a newer format_version,
    a member of the wrong shape or dtype) raises `ModelFileError` naming the
    path and the field.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise ModelFileNotFoundError(f"{path}: no such model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: is not a regular file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if len(magic) == 0:
        raise ModelFileError(f"{path}: the file is empty (an interrupted copy or download?)")
    if magic not in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
        raise ModelFileError(f"{path}: not a surrogate model file (not a zip/npz archive; "
                             f"it starts with {magic!r})")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: the zip archive is truncated or corrupted "
                             "(its central directory is missing); re-save or re-copy the model")
    key = HEADER_KEY
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(path, archive, path.stat().st_size)
            if HEADER_KEY not in members:
                raise ModelFileError(f"{path}: an npz archive without a surrogate model header "
                                     f"(members: {sorted(members)[:8]}); not a surrogate model file")

            def read(key, want=None, dims=None):
                info = members[key]
                with archive.open(info) as f:
                    shape, dtype, fortran, nbytes = _npy_header(path, key, f, info.file_size)
                    if want is not None:
                        _check_expected(path, key, shape, dtype, want, dims)
                    data = f.read(nbytes)
                    f.read(1)  # at the end: the zip's CRC check runs
                if len(data) != nbytes:
                    raise EOFError(f"{len(data)} of {nbytes} bytes")
                a = np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C").copy()
                if check_finite and a.dtype.kind == "f" and not np.isfinite(a).all():
                    bad = int(a.size - np.count_nonzero(np.isfinite(a)))
                    raise ModelFileError(f"{path}: member {key!r} holds {bad} NaN/inf value(s)")
                return a

            header = _parse_header(path, read(HEADER_KEY))
            if expect is None:
                wanted = {k: None for k in members if k != HEADER_KEY}
            else:
                wanted = expect(header)
                missing = sorted(set(wanted) - set(members))
                if missing:
                    raise ModelFileError(f"{path}: missing array(s) {missing}; the file is incomplete")
            for key in members:  # a stranger's member is refused, but its header still says why
                if key not in wanted and key != HEADER_KEY:
                    with archive.open(members[key]) as f:
                        _npy_header(path, key, f, members[key].file_size)
                    raise ModelFileError(f"{path}: unexpected member {key!r}; the file was not "
                                         "written by surrogate or was tampered with")
            dims = {}
            arrays = {}
            for key, want in wanted.items():
                arrays[key] = read(key, want, dims)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, ValueError) as exc:
        raise ModelFileError(f"{path}: the archive is truncated or corrupted while reading "
                             f"member {key!r} ({type(exc).__name__}: {exc})") from None
    return header, arrays
