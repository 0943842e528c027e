"""The one place for Numba options (fastmath flags, caching, parallelism,
vector width)."""
import os

import numba
from numba import types
from numba.extending import intrinsic

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


def _vector_bits():
    """The widest vectors the kernels ask for: 512, or SURROGATE_VECTOR_BITS."""
    value = os.environ.get("SURROGATE_VECTOR_BITS", "512")
    if value not in ("128", "256", "512"):
        raise ValueError(f"SURROGATE_VECTOR_BITS must be 128, 256 or 512, got {value!r}")
    return int(value)


VECTOR_BITS = _vector_bits()


def jit(*, parallel=False, fastmath=None):
    """`numba.njit` with the project's options: cached, explicit fastmath.

    Numba's cache does not know the vector width, so kernels built with a
    width other than the default are not cached (each process compiles them).
    """
    return numba.njit(cache=VECTOR_BITS == 512,
                      fastmath=FASTMATH if fastmath is None else fastmath,
                      parallel=parallel, error_model="numpy", nogil=True)


# LLVM vectorises with 256-bit registers even on CPUs that have 512-bit ones
# (AVX-512: Intel Skylake-X and later, AMD Zen 4 and later): its x86 tuning
# prefers 256 bits because 512-bit instructions lowered the clock of the
# first AVX-512 chips. Our kernels are dense multiply-adds, where twice the
# lanes win over that: one thread trained a 32-sample batch of [2, 32, 32, 1]
# in 12.4 us instead of 16.1 us, and of [8, 64, 64, 64, 128] in 120 us
# instead of 151 us (Xeon, Emerald Rapids; `benchmarks/bench_vectors.py`
# compares whole training runs). The preference is an attribute
# of each compiled function, so every training and prediction kernel, and
# every function its loops may be inlined into, starts with `wide_vectors()`.
# The Jacobian kernels (`jacobian.py`) do not: their loops run over a few
# inputs (4-8), half a 512-bit register or less, and a one-row Jacobian took
# about 1.4x as long with it. Where the CPU has no 512-bit registers the
# attribute changes nothing. SURROGATE_VECTOR_BITS=256 asks for 256 bits
# instead, for a chip whose clock drops too far under 512-bit instructions
# (and for `benchmarks/bench_vectors.py`, which compares the two).
WIDE = f'"prefer-vector-width"="{VECTOR_BITS}"'


@intrinsic
def _wide_vectors(typingctx):
    """Mark the calling compiled function: vectorise with the widest registers."""
    def codegen(context, builder, signature, args):
        attributes = builder.function.attributes
        if isinstance(attributes, set):  # llvmlite checks names against a fixed list
            set.add(attributes, WIDE)    # of flags; this key="value" one is valid LLVM IR
        return context.get_dummy_value()
    return types.none(), codegen


if DISABLED:
    def wide_vectors():
        """No-op in the pure-Python run."""
else:
    wide_vectors = _wide_vectors
