import gc
import hashlib
import os
import pathlib
import tempfile

# Numba's file cache checks only the file a kernel is defined in, so after an
# edit to a function that kernels of another module inline (a planted bug, a
# fix) it could keep running the old code. The tests compile into a cache of
# their own, named by a hash of every engine source: a changed line is a new
# cache, an unchanged tree reuses the last one. The workflow folder holds no
# compiled code, so editing it does not recompile every kernel. Set before
# anything imports numba; worker processes and notebooks inherit it.
_SOURCES = sorted((pathlib.Path(__file__).resolve().parents[1] / "surrogate").glob("*.py"))
_DIGEST = hashlib.sha256(b"".join(p.read_bytes() for p in _SOURCES)).hexdigest()[:16]
os.environ["NUMBA_CACHE_DIR"] = str(pathlib.Path(tempfile.gettempdir()) / f"surrogate-tests-numba-{_DIGEST}")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def local_cluster():
    """distributed.LocalCluster(**options), with one more try if it fails to start.

    distributed gives the IO-loop thread of a new cluster 10 s to start and
    asserts otherwise (`LoopRunner._start_unlocked`); on this shared two-core
    machine that failed once in about ten full test runs. A second failure
    is raised. Garbage is collected first: a Client that an earlier test left
    to the collector (one that failed to connect) could otherwise be finalised
    inside the new cluster's loop start, where its __del__ deadlocked.
    """
    distributed = pytest.importorskip("distributed")

    def make(**options):
        gc.collect()
        try:
            return distributed.LocalCluster(dashboard_address=None, **options)
        except AssertionError:
            return distributed.LocalCluster(dashboard_address=None, **options)
    return make


@pytest.fixture
def own_threads_env():
    """os.environ for a new Python process that picks its own thread counts:
    without OMP_/OPENBLAS_/MKL_NUM_THREADS, which distributed's Nanny sets to 1
    in the environment of the process that starts worker processes (an
    earlier test's cluster) and leaves there."""
    return {k: v for k, v in os.environ.items()
            if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
