"""Model files: round trip, atomic writing, and refusal of everything that is not ours."""
import json
import os
import pathlib
import re
import zipfile

import numpy as np
import pytest

from surrogate import _files
from surrogate.io import (FORMAT, FORMAT_VERSION, HEADER_KEY, ModelFileError,
                          ModelFileNotFoundError, read_model_file, write_model_file)


@pytest.fixture
def model(tmp_path):
    header = {"architecture": {"sizes": [3, 8, 5], "activations": ["tanh", "identity"]},
              "history": {"loss": [1.0, 0.5, 0.25]}, "note": "µ-units ok"}
    arrays = {"theta": np.linspace(-1.0, 1.0, 59), "x_mean": np.array([0.5, 1.0, 2.0]),
              "sizes": np.array([3, 8, 5], dtype=np.int64),
              "theta32": np.arange(6, dtype=np.float32).reshape(2, 3)}
    return header, arrays


class PickleBomb:
    """Unpickling this runs `exec`, which creates the marker file: proof code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('unpickled')",))


def _bomb_file(path, marker, with_header):
    members = {"theta": np.array([PickleBomb(marker)], dtype=object)}
    if with_header:
        text = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION})
        members[HEADER_KEY] = np.frombuffer(text.encode(), dtype=np.uint8)
    np.savez(path, **members)


def test_round_trip_is_exact(tmp_path, model):
    header, arrays = model
    path = write_model_file(tmp_path / "m.npz", header, arrays)
    got_header, got = read_model_file(path)
    assert got_header == {"format": "surrogate-model", "format_version": 1, **header}
    assert list(got_header)[:2] == ["format", "format_version"]
    assert set(got) == set(arrays)
    for key, a in arrays.items():
        assert got[key].dtype == a.dtype and got[key].shape == a.shape
        np.testing.assert_array_equal(got[key], a)


def test_numpy_values_in_header_become_json(tmp_path):
    header = {"n": np.int64(3), "lr": np.float32(0.5), "box": np.array([[0.0, 1.0]]),
              "ok": np.bool_(True), "where": tmp_path}
    got, _ = read_model_file(write_model_file(tmp_path / "m", header, {"a": np.zeros(2)}))
    assert got["n"] == 3 and got["lr"] == 0.5 and got["box"] == [[0.0, 1.0]]
    assert got["ok"] is True and got["where"] == str(tmp_path)


def test_file_is_plain_npz_and_written_exactly_at_path(tmp_path, model):
    path = write_model_file(tmp_path / "model.surrogate", *model)
    assert path == tmp_path / "model.surrogate" and path.is_file()
    assert read_model_file(write_model_file(tmp_path / "new" / "dir" / "m", *model))[0]["note"] == "µ-units ok"
    with np.load(path, allow_pickle=False) as npz:  # any NumPy can open it
        assert set(npz.files) == {HEADER_KEY, *model[1]}
    assert sorted(os.listdir(tmp_path)) == ["model.surrogate", "new"]  # no temporary left behind


def test_overwrite_replaces_whole_file(tmp_path, model):
    header, arrays = model
    path = tmp_path / "m.npz"
    write_model_file(path, header, arrays)
    write_model_file(path, {"v": 2}, {"only": np.ones(1)})
    got_header, got = read_model_file(path)
    assert got_header["v"] == 2 and set(got) == {"only"}


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path, model, monkeypatch):
    header, arrays = model
    path = tmp_path / "m.npz"
    write_model_file(path, header, arrays)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        write_model_file(path, {"v": 2}, {"a": np.ones(3)})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


@pytest.mark.parametrize("where, error", [("m/m.npz", NotADirectoryError),   # cannot make the temporary
                                           ("d.npz", IsADirectoryError)])     # cannot rename it
def test_an_unwritable_target_is_named_not_a_temporary(tmp_path, where, error):
    (tmp_path / "m").write_bytes(b"a file, not a folder")
    (tmp_path / "d.npz").mkdir()
    target = tmp_path / where
    with pytest.raises(error, match=f"cannot write {re.escape(str(target))}: "):
        _files.write_atomic(target, lambda f: f.write(b"data"))
    assert sorted(os.listdir(tmp_path)) == ["d.npz", "m"]


def test_object_arrays_refused_naming_the_key(tmp_path):
    with pytest.raises(ValueError, match="'bad'.*object"):
        write_model_file(tmp_path / "m.npz", {}, {"ok": np.ones(2), "bad": np.array([{}], dtype=object)})
    assert not (tmp_path / "m.npz").exists()


def test_non_finite_refused_by_default_naming_the_key(tmp_path):
    arrays = {"b": np.ones(3), "w": np.array([1.0, np.nan, np.inf])}
    with pytest.raises(ValueError, match=r"refusing to save a model with non-finite parameters.*'w'.*2 NaN/inf"):
        write_model_file(tmp_path / "m.npz", {}, arrays)
    assert not (tmp_path / "m.npz").exists()
    write_model_file(tmp_path / "m.npz", {}, arrays, check_finite=False)
    with pytest.raises(ModelFileError, match=r"member 'w' holds 2 NaN/inf"):  # reading checks too
        read_model_file(tmp_path / "m.npz")
    np.testing.assert_array_equal(read_model_file(tmp_path / "m.npz", check_finite=False)[1]["w"], arrays["w"])


def test_reserved_names_refused(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        write_model_file(tmp_path / "m.npz", {"format": "other"}, {})
    with pytest.raises(ValueError, match="reserved"):
        write_model_file(tmp_path / "m.npz", {}, {HEADER_KEY: np.zeros(1)})


@pytest.mark.parametrize("with_header", [False, True])
def test_pickled_object_refused_without_unpickling(tmp_path, with_header):
    # Positive control: the crafted file really does run code when unpickled.
    control_marker = tmp_path / "control_marker"
    _bomb_file(tmp_path / "control.npz", control_marker, with_header)
    with np.load(tmp_path / "control.npz", allow_pickle=True) as npz:
        npz["theta"]
    assert control_marker.exists()

    marker = tmp_path / "marker"
    _bomb_file(tmp_path / "bomb.npz", marker, with_header)
    with pytest.raises(ModelFileError, match="bomb.npz") as info:
        read_model_file(tmp_path / "bomb.npz")
    assert not marker.exists()
    expected = "pickled Python objects" if with_header else "without a surrogate model header"
    assert expected in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileNotFoundError, match=r"nope\.npz: no such model file"):
        read_model_file(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError):  # also the standard exception
        read_model_file(tmp_path / "nope.npz")


def test_directory_and_empty_file(tmp_path):
    with pytest.raises(ModelFileError, match="not a regular file"):
        read_model_file(tmp_path)
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"empty\.npz: the file is empty"):
        read_model_file(tmp_path / "empty.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, model, keep):
    path = write_model_file(tmp_path / "m.npz", *model)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match=r"m\.npz: .*truncated or corrupted"):
        read_model_file(path)


def test_corrupted_member_detected(tmp_path, model):
    header, arrays = model
    path = write_model_file(tmp_path / "m.npz", header, {"theta": np.arange(4000.0)})
    data = bytearray(path.read_bytes())
    middle = len(data) // 2  # inside theta's data: the zip CRC catches the flip
    data[middle] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"m\.npz: .*'theta'"):
        read_model_file(path)


def test_not_a_zip(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("hello, I am a text file\n")
    with pytest.raises(ModelFileError, match=r"model\.txt: not a surrogate model file \(not a zip/npz"):
        read_model_file(path)
    np.save(tmp_path / "single.npy", np.zeros(3))  # an .npy, not an .npz
    with pytest.raises(ModelFileError, match="not a zip/npz"):
        read_model_file(tmp_path / "single.npy")


def test_foreign_npz_without_header(tmp_path):
    np.savez(tmp_path / "foreign.npz", weights=np.ones(3))
    with pytest.raises(ModelFileError, match=r"foreign\.npz: an npz archive without a surrogate model header.*weights"):
        read_model_file(tmp_path / "foreign.npz")


def test_foreign_zip_member_that_is_not_npy(tmp_path, model):
    path = write_model_file(tmp_path / "m.npz", *model)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("readme.txt", "extra")
    with pytest.raises(ModelFileError, match="'readme.txt' is not a .npy array"):
        read_model_file(path)


def _with_header(path, header_obj_or_text):
    text = header_obj_or_text if isinstance(header_obj_or_text, str) else json.dumps(header_obj_or_text)
    np.savez(path, **{HEADER_KEY: np.frombuffer(text.encode(), dtype=np.uint8), "a": np.ones(2)})
    return path


def test_wrong_format(tmp_path):
    path = _with_header(tmp_path / "other.npz", {"format": "someone-else", "format_version": 1})
    with pytest.raises(ModelFileError, match=r"other\.npz: not a surrogate model file \(header format is 'someone-else'"):
        read_model_file(path)


def test_newer_format_version(tmp_path):
    path = _with_header(tmp_path / "new.npz", {"format": FORMAT, "format_version": FORMAT_VERSION + 1})
    with pytest.raises(ModelFileError, match=r"new\.npz: written with model file format_version 2.*upgrade"):
        read_model_file(path)


@pytest.mark.parametrize("version", [0, "1", 1.0, None, True])
def test_invalid_format_version(tmp_path, version):
    path = _with_header(tmp_path / "bad.npz", {"format": FORMAT, "format_version": version})
    with pytest.raises(ModelFileError, match="invalid format_version"):
        read_model_file(path)


@pytest.mark.parametrize("text, message", [("{not json", "not valid UTF-8 JSON"),
                                            ("[1, 2]", "JSON list, expected an object")])
def test_bad_header_text(tmp_path, text, message):
    with pytest.raises(ModelFileError, match=message):
        read_model_file(_with_header(tmp_path / "h.npz", text))


def test_header_of_wrong_dtype(tmp_path):
    np.savez(tmp_path / "h.npz", **{HEADER_KEY: np.zeros(3)})
    with pytest.raises(ModelFileError, match="not a uint8 array"):
        read_model_file(tmp_path / "h.npz")


def test_the_two_files_modules_stay_twins():
    """surrogate/_files.py and problems/_files.py are one module written twice
    (the physics package does not import the engine): a fix to one is a fix to
    both, so they differ only in the line that names the other."""
    root = pathlib.Path(__file__).resolve().parents[1]
    ours, theirs = ((root / pkg / "_files.py").read_text().splitlines() for pkg in ("surrogate", "problems"))
    differ = [(a, b) for a, b in zip(ours, theirs) if a != b]
    assert len(ours) == len(theirs) and differ == [
        ("`problems/_files.py` is this module's twin: the physics package does not",
         "`surrogate/_files.py` is this module's twin: the physics package does not")]
