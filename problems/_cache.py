"""Resumable on-disk cache of finished batches for :func:`problems.generate`.

Layout of a cache directory::

    manifest.json        the arguments that define the run (its identity)
    batch_000000.npz     one file per finished batch: X, Y, ok, messages, seconds

Every file is written under a temporary name and moved into place with
``os.replace``, so a process killed at any moment (even by SIGKILL) leaves
only whole files; a batch file that does not read back exactly as written
(truncated, corrupted, foreign) is reported and computed again, never used.

Two runs may share a cache directory: the first to write the manifest
claims it (a hard link, which fails if the name exists, so neither
overwrites the other), temporary files of a live writer are left alone,
and a batch both compute is the same bytes whichever lands last.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ._files import probe_writable, remove_orphans, strict_json, temporary_name, write_text_atomic
from .dataset import array_to_json, json_to_array, write_npz

CACHE_FORMAT = "problems.generate-cache"
CACHE_VERSION = 1
MANIFEST = "manifest.json"
_BATCH_KEYS = {"start", "X", "Y", "ok", "messages", "seconds"}


class BatchResult:
    """Profiles of one batch: Y (b, m) with NaN rows where ``ok`` is False."""

    __slots__ = ("Y", "ok", "messages", "seconds", "timed_out")

    def __init__(self, Y, ok, messages, seconds, timed_out=False):
        self.Y, self.ok, self.messages, self.seconds = Y, ok, messages, seconds
        self.timed_out = timed_out  # a solve was stopped at the timeout: not for the cache


class Cache:
    """A cache directory bound to one run identity (a JSON-able dict)."""

    def __init__(self, path, identity, versions):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"`cache` = {str(path)!r} exists and is not a directory")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ValueError(f"`cache` directory {str(path)!r} cannot be made ({err.strerror})") from None
        identity = json.loads(json.dumps(identity))
        manifest = self.path / MANIFEST
        if manifest.exists():
            try:
                stored = json.loads(manifest.read_text())
                if stored.get("format") != CACHE_FORMAT or stored.get("version") != CACHE_VERSION:
                    raise ValueError(f"format {stored.get('format')!r}")
                stored_identity = stored["identity"]
            except (ValueError, KeyError, AttributeError, UnicodeDecodeError) as err:
                raise ValueError(f"{manifest} is not a problems.generate cache manifest "
                                 f"({type(err).__name__}: {err}); use another `cache` path") from None
            if stored_identity != identity:
                diff = sorted(k for k in set(identity) | set(stored_identity)
                              if identity.get(k) != stored_identity.get(k))
                details = "; ".join(f"{k}: cache has {stored_identity.get(k)!r}, "
                                    f"this run has {identity.get(k)!r}" for k in diff)
                raise ValueError(f"cache {str(self.path)!r} was made with other arguments ({details}). "
                                 f"Use another `cache` path, or delete this one to start afresh.")
            if stored.get("versions") != versions:
                warnings.warn(f"cache {str(self.path)!r} was written with other package versions "
                              f"({stored.get('versions')} vs {versions}); results may differ in the "
                              f"last bits", RuntimeWarning, stacklevel=3)
        else:
            foreign = [p.name for p in self.path.iterdir() if not p.name.startswith(".")]
            if foreign and not manifest.exists():
                raise ValueError(f"`cache` directory {str(self.path)!r} is not empty and has no "
                                 f"{MANIFEST} (holds {sorted(foreign)[:5]}); give an empty or new path")
            text = strict_json({"format": CACHE_FORMAT, "version": CACHE_VERSION,
                                "identity": identity, "versions": versions}, indent=1, sort_keys=True)
            try:
                claimed = self._claim(manifest, text)
            except OSError as err:
                raise ValueError(f"`cache` directory {str(self.path)!r} is not writable "
                                 f"({err.strerror}); nothing was solved") from None
            if not claimed:  # another run wrote it first: check it is ours
                return self.__init__(path, identity, versions)
        remove_orphans(self.path)

    def _claim(self, manifest, text):
        """Write the manifest unless it exists; False if another run got there first."""
        tmp = write_text_atomic(temporary_name(manifest), text, fsync=False)
        try:
            os.link(tmp, manifest)
        except FileExistsError:
            return False
        finally:
            tmp.unlink()
        return True

    def check_writable(self):
        """A ValueError now, before any solve, if finished batches could not be stored."""
        try:
            probe_writable(self.path)
        except OSError as err:
            raise ValueError(f"`cache` directory {str(self.path)!r} is not writable "
                             f"({err.strerror}); nothing was solved") from None

    def _file(self, k):
        return self.path / f"batch_{k:06d}.npz"

    def load(self, k, start, X_batch, n_grid):
        """The stored result of batch k, or None if absent or unusable (with a warning)."""
        path = self._file(k)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as f:
                if set(f.files) != _BATCH_KEYS:
                    raise ValueError(f"arrays {sorted(f.files)}")
                data = {key: f[key] for key in _BATCH_KEYS}
            b = X_batch.shape[0]
            messages = array_to_json(data["messages"])
            Y, ok = data["Y"], data["ok"]
            if not (data["start"].shape == () and int(data["start"]) == start):
                raise ValueError("batch start differs")
            if data["X"].shape != X_batch.shape or not np.array_equal(data["X"], X_batch):
                raise ValueError("parameter points differ from this run's")
            if Y.dtype != np.float64 or Y.shape != (b, n_grid) or ok.dtype != np.bool_ or ok.shape != (b,):
                raise ValueError(f"Y {Y.dtype} {Y.shape}, ok {ok.dtype} {ok.shape}")
            if not np.all(np.isfinite(Y[ok])) or not isinstance(messages, list) or len(messages) != b:
                raise ValueError("inconsistent profiles or messages")
            return BatchResult(Y, ok, [str(m) for m in messages], float(data["seconds"]))
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as err:
            warnings.warn(f"cache file {path} is unusable ({type(err).__name__}: {err}); "
                          f"computing that batch again", RuntimeWarning, stacklevel=3)
            return None

    def store(self, k, start, X_batch, result):
        # No fsync: os.replace already makes a killed process leave whole
        # files, and after a power cut an empty or torn file fails load().
        write_npz(self._file(k), fsync=False, start=np.int64(start), X=X_batch,
                         Y=result.Y, ok=result.ok, messages=json_to_array(result.messages),
                         seconds=np.float64(result.seconds))
