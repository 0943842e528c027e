"""The kernels' compile options (`surrogate._jit`): vector width."""
import llvmlite.binding as llvm
import numba
import numpy as np
import pytest

from surrogate import _jit, _tiles

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
        assert "zmm" in kernel.inspect_asm(kernel.signatures[0])
