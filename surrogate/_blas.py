"""Small matrix products through BLAS's gemm, called from compiled code.

A tile's three products (docs/maths.md), the affine map w a + b (Eq. 7),
the weight gradient sum_t delta[t] a[t]^T (Eq. 16) and the back-propagated
w^T delta (Eq. 24), are plain matrix products of a 32-sample tile with a
layer's weights or deltas. OpenBLAS has hand-written kernels for such
small products (packing skipped, registers laid out for the CPU). On one
thread the two backward products ran at 24-27 GMAC/s where our loops ran
at 12-24 (Xeon, Emerald Rapids, 32 x 32 to 64 x 128 layers;
`benchmarks/bench_kernels.py`); for the affine map see `_tiles._affine`.
The BLAS is the one SciPy ships (`scipy.linalg.cython_blas`), a core
dependency already; the kernels call it directly, with no Python in between.

`gemm` works on row-major (C-contiguous) matrices, as the tiles are; BLAS is
column-major, so it computes the transposed product C^T = op(B)^T op(A)^T.

Threads: OpenBLAS runs a product of m n k <= SINGLE_THREAD_MNK multiply-adds
on the calling thread (its GEMM_MULTITHREAD_THRESHOLD of 4 x 65536); larger
ones it would split over threads of its own, inside ours. The kernels call
`gemm` only up to that size, a larger product in calls of whole rows (or
columns) of its result (`rows_per_call`), so each call is one thread's
deterministic sum, whatever the thread count of the caller.
"""
from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic
from numba.np.arrayobj import make_array

from ._jit import DISABLED, jit

SINGLE_THREAD_MNK = 4 * 65536
# Below this many rows or columns our own loops were as fast (a 32 -> 1
# output layer: 0.14 against 0.19 us for the weight gradient).
MIN_SIDE = 8

# The kernels name BLAS's functions by symbol, not by address, so Numba can
# cache them: each process binds the symbols again at import.
_SYMBOLS = {types.float64: "surrogate_cython_dgemm", types.float32: "surrogate_cython_sgemm"}
for _name, _symbol in (("dgemm", _SYMBOLS[types.float64]), ("sgemm", _SYMBOLS[types.float32])):
    binding.add_symbol(_symbol, get_cython_function_address("scipy.linalg.cython_blas", _name))


@intrinsic
def _gemm_colmajor(typingctx, ta, tb, m, n, k, A, lda, B, ldb, beta, C, ldc):
    """BLAS ?gemm (alpha 1): C <- op(A) op(B) + beta C, all column-major.

    Fortran takes every argument by reference: each scalar gets a stack slot.
    """
    if not (isinstance(C, types.Array) and C.dtype in _SYMBOLS
            and all(isinstance(x, types.Array) and x.dtype == C.dtype for x in (A, B))):
        return None  # a typing error: float64 or float32 arrays, one dtype
    sig = types.void(ta, tb, m, n, k, A, lda, B, ldb, beta, C, ldc)

    def codegen(context, builder, signature, args):
        tys, dtype = signature.args, signature.args[10].dtype
        ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc = args
        voidptr, i8, i32 = cgutils.voidptr_t, ir.IntType(8), ir.IntType(32)
        fp = context.get_value_type(dtype)

        def ref(value):
            return builder.bitcast(cgutils.alloca_once_value(builder, value), voidptr)

        def char(value, ty):
            return ref(builder.trunc(context.cast(builder, value, ty, types.intp), i8))

        def int32(value, ty):
            return ref(builder.trunc(context.cast(builder, value, ty, types.intp), i32))

        def data(value, ty):
            return builder.bitcast(make_array(ty)(context, builder, value).data, voidptr)

        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [voidptr] * 13),
                                            _SYMBOLS[dtype])
        builder.call(fn, [char(ta, tys[0]), char(tb, tys[1]),
                          int32(m, tys[2]), int32(n, tys[3]), int32(k, tys[4]),
                          ref(ir.Constant(fp, 1.0)), data(a, tys[5]), int32(lda, tys[6]),
                          data(b, tys[7]), int32(ldb, tys[8]),
                          ref(context.cast(builder, beta, tys[9], dtype)), data(c, tys[10]),
                          int32(ldc, tys[11])])
        return context.get_dummy_value()

    return sig, codegen


_N, _T = ord("N"), ord("T")


@jit()
def gemm(A, B, C, beta, trans_a, trans_b):
    """C <- op(A) op(B) + beta C for row-major matrices (op: transpose if asked).

    Each row's elements must be contiguous; rows may be strided (a block of
    columns of a wider matrix). Column-major, this is
    C^T <- op(B)^T op(A)^T: B's buffer comes first, and a row stride is
    BLAS's leading dimension.
    """
    inner = A.shape[0] if trans_a else A.shape[1]
    _gemm_colmajor(_T if trans_b else _N, _T if trans_a else _N, C.shape[1], C.shape[0], inner,
                   B, B.strides[0] // B.itemsize, A, A.strides[0] // A.itemsize, beta,
                   C, C.strides[0] // C.itemsize)


def _gemm_numpy(A, B, C, beta, trans_a, trans_b):
    """`gemm` for the pure-Python run (NUMBA_DISABLE_JIT=1), where intrinsics do not run."""
    product = (A.T if trans_a else A) @ (B.T if trans_b else B)
    C[...] = product if beta == 0 else product + beta * C  # as BLAS: C is not read when beta is 0


if DISABLED:
    gemm = _gemm_numpy  # noqa: F811


@jit()
def rows_per_call(rows, J, K):
    """For a product of J x K outputs over `rows` samples, cut into calls of
    whole output rows: the most rows a call may take to run on one thread, or
    0 (our loops) if a side is under MIN_SIDE or not even MIN_SIDE rows fit."""
    if min(J, K) < MIN_SIDE:
        return 0
    most = SINGLE_THREAD_MNK // (rows * K)
    return min(J, most) if most >= MIN_SIDE else 0

