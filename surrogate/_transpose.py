"""Transposes of tile-sized matrices, 8 x 8 elements a step in registers.

The affine map on transposed tiles (`_tiles._affine_transposed`) turns a
tile a (rows x K) into a^T, and z^T back into z, once a layer. Loops that
copy B[j, i] = A[i, j] one element at a time took 0.56 us for 32 x 64
doubles (Zen 4, one thread), a tenth of the product they serve. Here each
8 x 8 block is 8 row loads, 24 shuffles (three rounds, swapping ever larger
halves of pairs of rows) and 8 row stores.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

from ._jit import DISABLED, jit

# The three rounds of an 8 x 8 transpose. Each pairs rows `distance` apart
# and swaps blocks of `distance` elements between them; the masks index the
# 16 lanes of the two rows side by side (lo goes to the first row, hi to the
# second). After the three, row c holds column c.
_ROUNDS = (  # (distance, lo mask, hi mask)
    (1, (0, 8, 2, 10, 4, 12, 6, 14), (1, 9, 3, 11, 5, 13, 7, 15)),
    (2, (0, 1, 8, 9, 4, 5, 12, 13), (2, 3, 10, 11, 6, 7, 14, 15)),
    (4, (0, 1, 2, 3, 8, 9, 10, 11), (4, 5, 6, 7, 12, 13, 14, 15)),
)


def _block8_codegen(context, builder, signature, args):
    """B[j:j+8, i:i+8] = A[i:i+8, j:j+8]^T (+ b[i:i+8] on each row unless b is None)."""
    tA, ti, tj, tB, tb = signature.args
    src, dst = make_array(tA)(context, builder, args[0]), make_array(tB)(context, builder, args[3])
    i = context.cast(builder, args[1], ti, types.intp)
    j = context.cast(builder, args[2], tj, types.intp)
    item = context.get_abi_sizeof(context.get_data_type(tA.dtype))
    vec = ir.VectorType(context.get_value_type(tA.dtype), 8)
    mask = ir.VectorType(ir.IntType(32), 8)

    def at(arr, r, c):  # arr[r, c:c+8] as a pointer to a vector of 8
        stride = cgutils.unpack_tuple(builder, arr.strides)[0]
        offset = builder.add(builder.mul(r, stride), builder.mul(c, ir.Constant(r.type, item)))
        base = builder.bitcast(arr.data, cgutils.voidptr_t)
        return builder.bitcast(builder.gep(base, [offset]), vec.as_pointer())

    rows = [builder.load(at(src, builder.add(i, ir.Constant(i.type, r)), j), align=item)
            for r in range(8)]
    for distance, lo, hi in _ROUNDS:
        out = list(rows)
        for r in range(8):
            if r & distance == 0:
                x, y = rows[r], rows[r + distance]
                out[r] = builder.shuffle_vector(x, y, ir.Constant(mask, lo))
                out[r + distance] = builder.shuffle_vector(x, y, ir.Constant(mask, hi))
        rows = out
    if isinstance(tb, types.Array):
        bias = make_array(tb)(context, builder, args[4])
        vb = builder.load(builder.bitcast(builder.gep(bias.data, [i]), vec.as_pointer()), align=item)
        rows = [builder.fadd(r, vb) for r in rows]
    for c in range(8):
        builder.store(rows[c], at(dst, builder.add(j, ir.Constant(j.type, c)), i), align=item)
    return context.get_dummy_value()


def _matrices(A, B):
    """Whether A and B are 2-D arrays of one float dtype, rows contiguous (C or a row slice)."""
    return (isinstance(A, types.Array) and isinstance(B, types.Array) and A.ndim == B.ndim == 2
            and A.layout in "CA" and B.layout in "CA" and A.dtype == B.dtype
            and A.dtype in (types.float64, types.float32))


@intrinsic
def _block8(typingctx, A, i, j, B, b):
    """B[j:j+8, i:i+8] = A[i:i+8, j:j+8]^T (+ b[i:i+8] on each row unless b is
    None); rows of A and B contiguous."""
    if not (_matrices(A, B) and (isinstance(b, types.NoneType) or (
            isinstance(b, types.Array) and b.ndim == 1 and b.dtype == A.dtype))):
        return None  # a typing error
    return types.void(A, i, j, B, b), _block8_codegen


@jit()
def _plus(x, b, i):
    """x + b[i], or x itself when b is None (the branch is compiled away)."""
    if b is None:
        return x
    return x + b[i]


# Column blocks outer, row blocks inner: of the two orders this was as fast
# or faster on most tile shapes (32 x 64 to 32 x 248, 128 x 32: 0.59-0.91
# against 0.88-1.38 us at 32 x 128 and 128 x 32), apart from some (192 x 32).
@jit()
def transpose(A, B, b):
    """B[:C, :R] = A^T for A of shape (R, C), plus b (R entries) on each row
    of B unless b is None: 8 x 8 blocks, then the edges."""
    R, C = A.shape
    R8, C8 = R - R % 8, C - C % 8
    for j in range(0, C8, 8):
        for i in range(0, R8, 8):
            _block8(A, i, j, B, b)
    for j in range(C8, C):
        for i in range(R8):
            B[j, i] = _plus(A[i, j], b, i)
    for j in range(C):
        for i in range(R8, R):
            B[j, i] = _plus(A[i, j], b, i)


if DISABLED:  # pure-Python run: no intrinsics there
    def transpose(A, B, b):  # noqa: F811
        B[:A.shape[1], :A.shape[0]] = A.T if b is None else A.T + b
