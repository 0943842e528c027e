"""The kernels' compile options (`surrogate._jit`): vector width."""
import os
import subprocess
import sys
from pathlib import Path

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest

from surrogate import _jit, _tiles

REPO = Path(__file__).resolve().parents[1]
AVX512 = bool(llvm.get_host_cpu_features().get("avx512f", False))


def fresh(kernel):
    """An uncached compile of `kernel` (cached code cannot show its assembly)."""
    return numba.njit(fastmath=_jit.FASTMATH, error_model="numpy")(kernel.py_func)


@pytest.mark.skipif(_jit.DISABLED, reason="no machine code in the pure-Python run")
@pytest.mark.skipif(not AVX512, reason="this CPU has no 512-bit vector registers")
def test_kernels_compute_with_512_bit_registers():
    """LLVM's x86 tuning vectorises with 256-bit registers unless a function asks
    for more; our kernels ask (`wide_vectors`). Fresh compiles of the forward
    and back-propagation kernels must give the right numbers with zmm
    (512-bit) registers."""
    rng = np.random.default_rng(0)
    w, b, x = rng.normal(size=(64, 64)), rng.normal(size=64), rng.normal(size=(32, 64))
    s = rng.uniform(0.5, 1.0, 32 * 64)

    affine = fresh(_tiles._affine)
    z = np.zeros((32, 64))
    affine(w, b, x, z, 32, np.zeros(4096))
    np.testing.assert_allclose(z, x @ w.T + b, rtol=1e-12, atol=1e-12)   # Eq. (7)

    backpropagate = fresh(_tiles._backpropagate)
    below = np.zeros(32 * 64)
    backpropagate(w, x, s, below, 32)
    np.testing.assert_allclose(below, ((x @ w) * s.reshape(32, 64)).ravel(),
                               rtol=1e-12, atol=1e-12)                    # Eq. (24)

    for kernel in (affine, backpropagate):
        assert zmm_multiply_adds(kernel.inspect_asm(kernel.signatures[0]))


def zmm_multiply_adds(asm):
    """Whether the assembly multiply-adds in 512-bit registers (a copy of a
    struct through zmm, which LLVM may emit at any width, does not count)."""
    return any(line.split()[0].startswith("vfmadd") and "zmm" in line
               for line in asm.splitlines() if line.split())


CHILD = """
import numpy as np, numba
from surrogate import _jit, _tiles
affine = numba.njit(fastmath=_jit.FASTMATH, error_model="numpy")(_tiles._affine.py_func)
rng = np.random.default_rng(0)
w, b, x, z = rng.normal(size=(64, 64)), rng.normal(size=64), rng.normal(size=(32, 64)), np.zeros((32, 64))
affine(w, b, x, z, 32, np.zeros(4096))
assert np.allclose(z, x @ w.T + b)
print(_tiles._affine._cache.__class__.__name__)
print(affine.inspect_asm(affine.signatures[0]))
"""


def child_env(cache, **extra):
    """The environment of a child Python that imports this checkout and compiles into `cache`."""
    return dict(os.environ, NUMBA_CACHE_DIR=str(cache), **extra,
                PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


def child(bits, tmp_path):
    return subprocess.run([sys.executable, "-c", CHILD], env=child_env(tmp_path, SURROGATE_VECTOR_BITS=bits),
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(_jit.DISABLED, reason="no machine code in the pure-Python run")
@pytest.mark.skipif(not AVX512, reason="this CPU has no 512-bit vector registers")
def test_vector_bits_256_gives_narrower_vectors_uncached(tmp_path):
    """SURROGATE_VECTOR_BITS=256 is the way back to LLVM's x86 default; as
    Numba's cache cannot tell the widths apart, those kernels are not cached."""
    proc = child("256", tmp_path)
    assert proc.returncode == 0, proc.stderr
    cache, asm = proc.stdout.split("\n", 1)
    assert cache == "NullCache"
    assert not zmm_multiply_adds(asm)


def test_a_bad_vector_width_is_refused_by_name(tmp_path):
    proc = child("300", tmp_path)
    assert proc.returncode != 0
    assert "SURROGATE_VECTOR_BITS must be 128, 256 or 512, got '300'" in proc.stderr


CACHED_CALLER = """
import sys
import numpy as np, surrogate
rng = np.random.default_rng(0)
X, Y = rng.uniform(-1, 1, (4000, 2)), rng.uniform(-1, 1, (4000, 1))
net = surrogate.MLP([2, 16, 1], seed=0)
if sys.argv[1] == "train":
    surrogate.train(net, X[:64], Y[:64], surrogate.SGD(lr=0.01), epochs=1, progress=False)
else:
    print(repr(net.loss_and_grad(X, Y)[0]))
"""


@pytest.mark.slow
@pytest.mark.skipif(_jit.DISABLED, reason="no machine code in the pure-Python run")
def test_a_cached_caller_of_a_parallel_kernel_runs_in_a_fresh_process(tmp_path):
    """Numba issue #8578: a cached kernel compiled while its parallel callee came
    from the cache does not start the threading layer when it is loaded, and
    crashed (SIGSEGV) at its first parallel launch. The history that built such
    a cache: a process trains (compiling `accumulate`), the next computes a
    full-batch gradient (compiling `batch_grad`), and a third starts with that."""
    runs = [subprocess.run([sys.executable, "-c", CACHED_CALLER, what], env=child_env(tmp_path),
                           capture_output=True, text=True, timeout=600)
            for what in ("train", "gradient", "gradient")]
    assert [r.returncode for r in runs] == [0, 0, 0], runs[-1].stderr
    assert runs[1].stdout == runs[2].stdout and float(runs[2].stdout) > 0
