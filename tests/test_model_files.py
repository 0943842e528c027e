"""Hostile model files: each is the committed version-0.1 model with one thing
changed, and `Surrogate.load` must refuse it with a `ModelFileError` naming
the field, before allocating more than the file's own size."""
import io as _io
import json
import pathlib
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

from surrogate.io import HEADER_KEY, ModelFileError
from surrogate.model import Surrogate

V1 = pathlib.Path(__file__).parent / "data" / "model_v1.npz"


def _parts():
    with np.load(V1) as f:
        header = json.loads(f[HEADER_KEY].tobytes())
        arrays = {k: f[k] for k in f.files if k != HEADER_KEY}
    return header, arrays


def _write(path, header, arrays, save=np.savez):
    text = json.dumps(header)  # Python's json writes NaN and Infinity: an attacker's would
    save(path, **{HEADER_KEY: np.frombuffer(text.encode(), np.uint8)}, **arrays)
    return path


def _refused(path, match):
    with pytest.raises(ModelFileError, match=match):
        Surrogate.load(path)


def test_the_unchanged_file_loads(tmp_path):
    """Positive control: rewriting the parts as they are gives a loadable model."""
    model = Surrogate.load(_write(tmp_path / "m.npz", *_parts()))
    assert model.net_.sizes == [5, 8, 8, 12]


@pytest.mark.parametrize("name, value, match", [
    ("params", lambda a: np.where(np.arange(a.size) == 3, np.nan, a), r"'params' holds 1 NaN/inf"),
    ("x_scale", lambda a: np.full_like(a, np.inf), r"'x_scale' holds 5 NaN/inf"),
    ("basis", lambda a: np.where(a > 0.1, np.nan, a), r"'basis' holds \d+ NaN/inf"),
    ("x_scale", lambda a: -a, r"`x_scale` must be > 0"),
    ("params", lambda a: a.astype(np.int64), r"'params' has dtype int64, expected float64"),
    ("params", lambda a: a > 0, r"'params' has dtype bool, expected float64"),
    ("params", lambda a: a.astype(np.float32), r"'params' has dtype float32, expected float64"),
    ("params", lambda a: a.astype(np.complex128), r"'params' has dtype complex128; .*integer or float arrays only"),
    ("params", lambda a: a[:-1], r"'params' has shape \(227,\), expected \(228,\)"),
    ("x_mean", lambda a: a[:1], r"'x_mean' has shape \(1,\), expected \(5,\)"),  # broadcastable
    ("y_mean", lambda a: a[:1], r"'basis' has shape \(12, 65\), expected \(12, 'm'\) with \{'m': 1\}"),
    ("basis", lambda a: a[:, None, :], r"'basis' has shape \(12, 1, 65\)"),
])
def test_bad_arrays_refused_naming_the_member(tmp_path, name, value, match):
    header, arrays = _parts()
    arrays[name] = value(arrays[name])
    _refused(_write(tmp_path / "m.npz", header, arrays), match)


@pytest.mark.parametrize("field, value, match", [
    ("scaling.y_scale", float("nan"), r"'scaling.y_scale' must be a finite number > 0, got nan"),
    ("scaling.y_scale", float("inf"), r"'scaling.y_scale' must be a finite number > 0, got inf"),
    ("scaling.y_scale", 0.0, r"'scaling.y_scale' must be a finite number > 0"),
    ("scaling.y_scale", "0.3", r"'scaling.y_scale' must be"),
    ("scaling.y_scale", True, r"'scaling.y_scale' must be"),
    ("scaling", [0.3], r"'scaling.y_scale' must be"),
    ("architecture", "5-8-8-12", r"'architecture.sizes' must be list"),
    ("architecture.sizes", [5, 8.0, 8, 12], r"'architecture.sizes' must list at least two positive integer"),
    ("architecture.sizes", [5, True, 8, 12], r"'architecture.sizes' must list"),
    ("architecture.sizes", [5], r"'architecture.sizes' must list"),
    ("architecture.activations", ["tanh", "tanh"], r"'architecture.activations' must name 3"),
    ("architecture.activations", ["tanh", None, "identity"], r"'architecture.activations' must name 3"),
    ("architecture.dtype", "int64", r"'architecture.dtype' must be 'float64' or 'float32'"),
    ("options", None, r"'options' must be dict"),
    ("options.hidden", [8, 9], r"'options' .*hidden \[8, 9\].* disagrees with 'architecture'"),
    ("options.lr", -1, r"'options': `lr` must be a finite number > 0, got -1"),
    ("options.typo", 1, r"'options' holds unknown option\(s\), got \['typo'\]"),
    ("model_version", "1", r"'model_version' must be int"),
    ("model_version", 0, r"'model_version' must be a positive integer"),
    ("history", [1, 2], r"'history' must map phases to training records"),
    ("history.adam", {"bogus": 1}, r"'history' must map phases to training records"),
    ("metadata", [1], r"'metadata' must be an object"),
    ("kind", None, r"of kind None"),
])
def test_malformed_headers_refused_naming_the_field(tmp_path, field, value, match):
    header, arrays = _parts()
    *outer, last = field.split(".")
    node = header
    for name in outer:
        node = node[name]
    node[last] = value
    _refused(_write(tmp_path / "m.npz", header, arrays), match)


def test_a_tiny_file_claiming_a_huge_layer_fails_fast_without_allocating(tmp_path):
    """A 14 KB file whose header claims a 3e7-wide layer: the parameter count
    is checked against the `params` member's .npy header before any network
    is built (it used to allocate 3.5 GB first)."""
    header, arrays = _parts()
    header["architecture"]["sizes"] = [5, 30_000_000, 12]
    header["architecture"]["activations"] = ["tanh", "identity"]
    header["options"]["hidden"] = [30_000_000]
    path = _write(tmp_path / "m.npz", header, arrays)
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        _refused(path, r"'params' has shape \(228,\), expected \(540000012,\)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000 and time.perf_counter() - t0 < 5.0


def _npy_bytes(shape, descr="<f8", data=b"\0" * 16):
    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + data


def test_npy_header_claiming_more_than_it_holds(tmp_path):
    """A member whose .npy header claims 10^15 elements: refused from its
    header (it used to end in a raw MemoryError)."""
    path = _write(tmp_path / "m.npz", *_parts())
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("huge.npy", _npy_bytes((10 ** 15,)))
    _refused(path, r"'huge' declares shape \(1000000000000000,\) of float64 .* but holds 16 bytes")


def test_large_npy_header_is_called_malformed_not_pickled(tmp_path):
    path = _write(tmp_path / "m.npz", *_parts())
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("big.npy", b"\x93NUMPY\x01\x00" + (60000).to_bytes(2, "little") + b" " * 60000)
    with pytest.raises(ModelFileError, match=r"'big' has a malformed \.npy header") as info:
        Surrogate.load(path)
    assert "pickle" not in str(info.value)


def test_compressed_members_are_refused_unread(tmp_path):
    """An extra deflated member of 100 MB of zeros (a file of 100 KB): refused
    from the zip directory, never decompressed; a deflated `params` too."""
    header, arrays = _parts()
    path = _write(tmp_path / "bomb.npz", header, arrays)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z, \
            z.open("padding.npy", "w", force_zip64=True) as f:
        f.write(_npy_bytes((12_500_000,), data=b""))
        block = bytes(1 << 20)
        for _ in range(100):
            f.write(block)
    assert path.stat().st_size < 1_000_000
    t0 = time.perf_counter()
    _refused(path, r"member 'padding' is compressed")
    assert time.perf_counter() - t0 < 2.0
    _refused(_write(tmp_path / "deflated.npz", header, arrays, save=np.savez_compressed),
             r"member '.*' is compressed")


def test_member_declaring_more_bytes_than_the_file(tmp_path):
    """The zip directory's size field of `params` patched to 2 GB."""
    path = _write(tmp_path / "m.npz", *_parts())
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the first central directory entry
    while not data[entry + 46:].startswith(b"params.npy"):
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24:entry + 28] = (2 ** 31).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    _refused(path, r"member 'params' declares 2147483648 bytes, more than the whole file")


def test_duplicate_members_refused(tmp_path):
    """Two `params` members (zip readers disagree on which wins): refused."""
    header, arrays = _parts()
    path = _write(tmp_path / "m.npz", header, arrays)
    buf = _io.BytesIO()
    np.save(buf, np.zeros_like(arrays["params"]))
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as z:
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        z.writestr("params.npy", buf.getvalue())
    _refused(path, r"member 'params' appears twice")


def test_unexpected_member_refused(tmp_path):
    header, arrays = _parts()
    _refused(_write(tmp_path / "m.npz", header, dict(arrays, extra=np.ones(3))), r"unexpected member 'extra'")
