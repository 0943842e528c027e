"""The one place for Numba options (fastmath flags, caching, parallelism)."""
import numba

# Reassociation lets LLVM vectorise reductions; contraction gives FMAs.
# Deliberately not `nnan`/`ninf`: a diverging run must still produce NaN/inf
# so training can detect it.
FASTMATH = {"reassoc", "contract", "arcp", "nsz"}

DISABLED = bool(numba.config.DISABLE_JIT)


def jit(*, parallel=False, inline="never"):
    """`numba.njit` with the project's options: cached, explicit fastmath."""
    return numba.njit(cache=True, fastmath=FASTMATH, parallel=parallel, inline=inline,
                      error_model="numpy", nogil=True)
