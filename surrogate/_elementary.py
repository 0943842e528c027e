"""Elementary functions written so LLVM can vectorise them at float64 accuracy.

`math.exp`/`math.tanh` compile to scalar libm calls, which no loop around them
can vectorise; on small networks those calls, not the arithmetic, dominate.
These are Cephes' rational approximations (S. L. Moshier, *Methods and
Programs for Mathematical Functions*, 1989), branch-free so that a loop over
them becomes SIMD code; they agree with libm to a few ulp.
"""
import math

from numba import types
from numba.extending import intrinsic

from ._jit import DISABLED, EXACT_ORDER, jit

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93145751953125e-1
_LN2_LO = 1.42860682030941723212e-6


@intrinsic
def _bits_to_float(typingctx, bits):
    """Reinterpret an int64 bit pattern as a float64 (a free register move)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


if DISABLED:  # pure-Python run (NUMBA_DISABLE_JIT=1): no intrinsics there
    def _pow2(n):
        return math.ldexp(1.0, int(n))
else:
    @jit(fastmath=EXACT_ORDER)
    def _pow2(n):
        """2**n for integer -1022 <= n <= 1023, built from its exponent bits."""
        return _bits_to_float((n + 1023) << 52)


@jit(fastmath=EXACT_ORDER)
def exp(x):
    """e**x; arguments are clamped to [-708, 709] (no subnormals, no overflow)."""
    x = min(max(x, -708.0), 709.0)
    n = math.floor(x * _LOG2E + 0.5)
    r = x - n * _LN2_HI - n * _LN2_LO
    rr = r * r
    p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
             + 9.99999999999999999910e-1)
    q = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
          + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    return (1.0 + 2.0 * p / (q - p)) * _pow2(int(n))


@jit(fastmath=EXACT_ORDER)
def tanh(x):
    """tanh(x): a rational function near 0, 1 - 2/(e^{2|x|} + 1) elsewhere."""
    ax = min(abs(x), 20.0)  # tanh(20) == 1.0 in float64
    z = ax * ax
    small = ax + ax * z * (((-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z
                            - 1.61468768441708447952e3)
                           / (((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z
                              + 4.84406305325125486048e3))
    large = 1.0 - 2.0 / (exp(2.0 * ax) + 1.0)
    t = small if ax < 0.625 else large
    return t if x >= 0.0 else -t


@jit(fastmath=EXACT_ORDER)
def sigmoid(x):
    """The logistic function 1/(1 + e^{-x}), Eq. (4), without overflow."""
    e = exp(-abs(x))
    s = 1.0 / (1.0 + e)
    return s if x >= 0.0 else e * s
