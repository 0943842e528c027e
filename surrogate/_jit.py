"""The one place for Numba options (fastmath flags, caching, parallelism)."""
import numba

# Reassociation lets LLVM vectorise reductions; contraction gives FMAs.
# Deliberately not `nnan`/`ninf`: a diverging run must still produce NaN/inf
# so training can detect it.
FASTMATH = {"reassoc", "contract", "arcp", "nsz"}

# Elementary functions keep their evaluation order: reassociation would fold
# the two-constant range reduction (x - n*ln2_hi) - n*ln2_lo into one
# rounded product and cost exp about six decimal digits at large |x|.
# LLVM keeps these per-instruction flags when it inlines them into kernels.
EXACT_ORDER = {"contract", "arcp", "nsz"}

DISABLED = bool(numba.config.DISABLE_JIT)


def jit(*, parallel=False, fastmath=None):
    """`numba.njit` with the project's options: cached, explicit fastmath."""
    return numba.njit(cache=True, fastmath=FASTMATH if fastmath is None else fastmath,
                      parallel=parallel, error_model="numpy", nogil=True)
