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
def _scale2(m, n):
    """m 2**n for 1/2 <= m <= 4 and integer -1076 <= n <= 1023.

    Two normal powers of two, m 2**h then 2**(n - h): the first product is
    exact, so a normal result is the same as m 2**n in one step and a
    subnormal one is rounded once, to 0 below the smallest subnormal.
    """
    h = n >> 1
    return m * _pow2(h) * _pow2(n - h)


@jit(fastmath=EXACT_ORDER)
def _exp_pade(x):
    """(n, p, q) with e**x = 2**n (q + p)/(q - p), for -746 <= x <= 709.

    n = round(x / ln 2); p/q is Cephes' Pade form of tanh(r/2) on the reduced
    argument r = x - n ln 2, |r| <= ln(2)/2.
    """
    n = math.floor(x * _LOG2E + 0.5)
    r = x - n * _LN2_HI - n * _LN2_LO
    rr = r * r
    p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
             + 9.99999999999999999910e-1)
    q = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
          + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    return n, p, q


@jit(fastmath=EXACT_ORDER)
def exp(x):
    """e**x; arguments are clamped to [-746, 709]: subnormal results down to
    0 (e**-746 rounds to 0), no overflow."""
    n, p, q = _exp_pade(min(max(x, -746.0), 709.0))
    return _scale2(1.0 + 2.0 * p / (q - p), int(n))


@jit(fastmath=EXACT_ORDER)
def tanh(x):
    """tanh(x) = (e - 1)/(e + 1) with e = e^{2|x|}, in one division.

    With e = 2^n (q + p)/(q - p) this is ((2^n - 1) q + (2^n + 1) p) /
    ((2^n + 1) q + (2^n - 1) p): no cancellation (for n = 0 it is p/q, which
    keeps full relative accuracy near 0) and no branch, so a loop over it
    vectorises. Within 4 ulp of libm.
    """
    n, p, q = _exp_pade(2.0 * min(abs(x), 20.0))  # tanh(20) == 1.0 in float64
    e = _pow2(int(n))
    t = ((e - 1.0) * q + (e + 1.0) * p) / ((e + 1.0) * q + (e - 1.0) * p)
    return t if x >= 0.0 else -t


@jit(fastmath=EXACT_ORDER)
def sigmoid(x):
    """The logistic function 1/(1 + e^{-x}), Eq. (4), without overflow.

    With e^{-|x|} = E/D, E = 2^n (q + p), D = q - p (all positive), it is
    D/(D + E) for x >= 0 and E/(D + E) below: one division. e^{-|x|} is
    clamped at e^{-746}, which rounds to 0, as in `exp`: sigmoid(x) reaches
    exactly 0 and 1, so x sigmoid(x) (silu) goes to 0 as x -> -inf instead
    of growing with x, as a clamp at e^{-708} made it.
    """
    n, p, q = _exp_pade(max(-abs(x), -746.0))
    D, E = q - p, _scale2(q + p, int(n))
    return (D if x >= 0.0 else E) / (D + E)
