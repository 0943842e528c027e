"""Matrix views of a flat buffer, for the kernels' per-tile buffers.

`buf[off:off + rows * cols].reshape((rows, cols))` costs about 16 ns in
compiled code: Numba's reshape normalises the shape and calls an external C
helper to work out strides. The kernels take a dozen such views per tile of
32 samples, which on small networks was a tenth of the training time.
`matrix` builds the same C-contiguous view directly. It does not check bounds:
offsets come from `_layout.make_layout`, and the pure-Python run
(NUMBA_DISABLE_JIT=1, used by the tests) takes the checked path instead.
"""
from numba import types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from ._jit import DISABLED, jit


@intrinsic
def _matrix(typingctx, buf, off, rows, cols):
    """View of buf[off:off + rows*cols] as a C-contiguous (rows, cols) array."""
    if not (isinstance(buf, types.Array) and buf.ndim == 1 and buf.layout == "C"):
        return None  # a typing error: only flat contiguous buffers
    view = types.Array(buf.dtype, 2, "C")
    sig = view(buf, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        flat = make_array(signature.args[0])(context, builder, args[0])
        off, rows, cols = args[1:]
        out = make_array(view)(context, builder)
        populate_array(out, data=builder.gep(flat.data, [off]), shape=[rows, cols],
                       strides=[builder.mul(cols, flat.itemsize), flat.itemsize],
                       itemsize=flat.itemsize, meminfo=flat.meminfo, parent=flat.parent)
        return impl_ret_borrowed(context, builder, view, out._getvalue())

    return sig, codegen


if DISABLED:  # pure-Python run: no intrinsics there, and bounds are checked
    def matrix(buf, off, rows, cols):
        """buf[off:off + rows*cols] as a (rows, cols) matrix."""
        assert 0 <= off and off + rows * cols <= buf.size
        return buf[off:off + rows * cols].reshape((rows, cols))
else:
    @jit()
    def matrix(buf, off, rows, cols):
        """buf[off:off + rows*cols] as a (rows, cols) matrix, no checks."""
        return _matrix(buf, off, rows, cols)
