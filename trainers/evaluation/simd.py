"""A vector compress for the numba kernel: numba emits scalar code for "copy the values >= x",
far slower on the survivor scan than LLVM's own vector compress (one vcompressps on AVX-512;
a generic lowering elsewhere, still correct; bench/eval_bench.py measures the kernel)."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 16  # values per call; the destination needs LANES - 1 spare slots past the last survivor


@intrinsic
def compress_at_least(typingctx, src, start, floor, dst, kept):  # pragma: no cover - compiled
    """Copy the values of src[start : start + LANES] that are >= floor, in order, to dst[kept:];
    return kept plus their number. Writes LANES values at dst[kept:] whatever survives."""
    arrays = (src, dst)
    if not all(isinstance(a, types.Array) and a.dtype == types.float32 for a in arrays):
        return None  # numba reports the call as untyped
    if not all(a.ndim == 1 and a.layout == "C" for a in arrays):
        return None  # the vector load and store need contiguous values
    sig = types.intp(src, start, floor, dst, kept)

    def codegen(context, builder, signature, args):
        src_arr, start_i, floor_f, dst_arr, kept_i = args
        vec = ir.VectorType(ir.FloatType(), LANES)
        mask_t = ir.VectorType(ir.IntType(1), LANES)
        src_ptr = context.make_array(signature.args[0])(context, builder, src_arr).data
        dst_ptr = context.make_array(signature.args[3])(context, builder, dst_arr).data
        values = builder.load(
            builder.bitcast(builder.gep(src_ptr, [start_i]), vec.as_pointer()), align=4
        )
        one = builder.insert_element(ir.Constant(vec, ir.Undefined), floor_f, ir.IntType(32)(0))
        zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
        floors = builder.shuffle_vector(one, ir.Constant(vec, ir.Undefined), zeros)
        mask = builder.fcmp_ordered(">=", values, floors)
        compress = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(vec, [vec, mask_t, vec]),
            f"llvm.experimental.vector.compress.v{LANES}f32",
        )
        packed = builder.call(compress, [values, mask, ir.Constant(vec, ir.Undefined)])
        builder.store(packed, builder.bitcast(builder.gep(dst_ptr, [kept_i]), vec.as_pointer()), 4)
        bits_t = ir.IntType(LANES)
        popcount = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(bits_t, [bits_t]), f"llvm.ctpop.i{LANES}"
        )
        count = builder.call(popcount, [builder.bitcast(mask, bits_t)])
        return builder.add(kept_i, builder.zext(count, kept_i.type))

    return sig, codegen
