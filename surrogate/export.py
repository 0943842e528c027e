"""A fitted surrogate written out for use outside Python: C99, Fortran 2008 or ONNX.

Each file computes exactly what `Surrogate.predict` computes, in float64:

    z   = (x - x_mean) / x_scale                       the input scaling
    a^l = sigma_l(w^l a^{l-1} + b^l),  a^0 = z         the network (docs/maths.md, Eqs. 5, 7)
    y   = (a^L decoder) + y_mean                       the output basis, decoder = y_scale basis

and the C and Fortran versions also flag x outside the training box, as the
domain guard does: outside when some x_i < lower_i - slack_i or
x_i > upper_i + slack_i, slack_i = SLACK (upper_i - lower_i) (a NaN input
counts as outside). The weights are written so they read back exactly:
hexadecimal floats in C, 17 significant digits in Fortran, raw doubles in
ONNX; a float32 network's weights are widened exactly to float64, so its
exports agree with its float32 `predict` to float32 round-off only.

The activations use the library's elementary functions (libm in C and
Fortran, ONNX operators) instead of the kernels' rational approximations of
exp and tanh, which agree with them to a few ulp:

    tanh      tanh(z)
    sigmoid   1/(1 + e) for z >= 0, e/(1 + e) below, e = exp(-|z|)   (no overflow)
    softplus  max(z, 0) + log1p(exp(-|z|))
    silu      z sigmoid(z)
    relu      max(z, 0);   step: 1 if z >= 0 else 0;   identity: z

Every file carries the model's provenance (problem, parameter names, units
and box, package version) and nothing that changes from run to run, so the
same model always gives the same bytes.
"""
import json
import pathlib
import re

import numpy as np

from ._files import write_atomic, write_text_atomic
from .domain import SLACK

__all__ = ["export", "provenance", "FORMATS"]

FORMATS = (".c", ".f90", ".onnx")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")  # a C and a Fortran name, with room for suffixes


def provenance(metadata, guard, version):
    """What an export records about its model: a JSON-serialisable dict."""
    metadata = metadata or {}
    units = metadata.get("param_units") or [None] * len(guard.names)
    return {
        "problem": metadata.get("problem"),
        "parameters": [{"name": n, "unit": u, "lower": float(lo), "upper": float(hi)}
                       for n, u, lo, hi in zip(guard.names, units, guard.lower, guard.upper)],
        "output": {"name": metadata.get("output_name"), "unit": metadata.get("output_unit")},
        "package": "surrogate-toolkit", "package_version": version,
    }


def one_network(members):
    """The mean of K networks of one architecture as one network, exactly.

    Hidden layers of the members side by side: the first layer's weights
    stacked, the later hidden layers block-diagonal, and the output layer
    (identity) the members' output weights side by side times 1/K with the
    mean bias, so its output is (1/K) sum_k a^L_k, what an ensemble predicts
    (the output basis is linear). K = 1 returns the member itself.
    """
    from .network import MLP
    if len(members) == 1:
        return members[0]
    K, first = len(members), members[0]
    if first.activations[-1] != "identity":
        raise ValueError("an ensemble exports as one network only with an identity output layer")
    sizes = [first.sizes[0]] + [K * s for s in first.sizes[1:-1]] + [first.sizes[-1]]
    merged = MLP(sizes, activation=first.activations[:-1], output_activation="identity",
                 dtype=np.float64)
    L = len(first.weights)
    for l in range(L):
        w, b = merged.weights[l], merged.biases[l]
        w[:] = 0.0
        for k, net in enumerate(members):
            wk, bk = np.asarray(net.weights[l], np.float64), np.asarray(net.biases[l], np.float64)
            J, Kin = wk.shape
            if l == L - 1:  # output layer: side by side, averaged
                w[:, k * Kin:(k + 1) * Kin] = wk / K
            elif l == 0:  # first layer: every member reads the same input
                w[k * J:(k + 1) * J, :] = wk
                b[k * J:(k + 1) * J] = bk
            else:
                w[k * J:(k + 1) * J, k * Kin:(k + 1) * Kin] = wk
                b[k * J:(k + 1) * J] = bk
        if l == L - 1:
            b[:] = np.mean([np.asarray(net.biases[l], np.float64) for net in members], axis=0)
    return merged


def _layers(net):
    """[(w (J, K), b (J,), activation name)] in float64."""
    return [(np.asarray(w, np.float64), np.asarray(b, np.float64), act)
            for w, b, act in zip(net.weights, net.biases, net.activations)]


def _trusted_bounds(guard):
    """(lo, hi): x is inside when lo <= x <= hi, the domain guard's test with its slack."""
    width = guard.upper - guard.lower
    slack = SLACK * np.where(width > 0, width, 1.0)
    return guard.lower - slack, guard.upper + slack


def export(path, net, scaling, guard, info, prefix=None):
    """Write the model to `path` in the format its extension names; returns the path."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"`path` must end in one of {', '.join(FORMATS)}, got {str(path)!r}")
    name = "surrogate" if prefix is None else prefix
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"`prefix` must be a letter followed by up to 30 letters, digits or "
                         f"underscores (a C and Fortran name), got {prefix!r}")
    if suffix == ".onnx":
        data = onnx_model(net, scaling, info, name).SerializeToString()
        return write_atomic(path, lambda f: f.write(data))
    write = c_source if suffix == ".c" else fortran_source
    return write_text_atomic(path, write(net, scaling, guard, info, name))


def _comment_lines(info, lead):
    text = json.dumps(info, indent=1, sort_keys=True).replace("*/", "* /")  # never ends a C comment
    return [lead + line for line in ("Provenance of this surrogate:\n" + text).splitlines()]


# -- C99 -------------------------------------------------------------------------

_C_ACT = {
    "identity": "z",
    "relu": "(z > 0.0 ? z : 0.0)",
    "step": "(z >= 0.0 ? 1.0 : 0.0)",
    "tanh": "tanh(z)",
    "sigmoid": "{p}_sigmoid(z)",
    "softplus": "((z > 0.0 ? z : 0.0) + log1p(exp(-fabs(z))))",
    "silu": "(z * {p}_sigmoid(z))",
}


def _c_array(name, values):
    values = np.asarray(values, np.float64).ravel()
    body = ",\n".join("    " + ", ".join(float(v).hex() for v in values[i:i + 4])
                      for i in range(0, values.size, 4))
    return f"static const double {name}[{values.size}] = {{\n{body}\n}};"


def c_source(net, scaling, guard, info, p):
    """One C99 file: `int {p}_predict(const double *x, double *y)`, only <math.h>."""
    layers, (lo, hi) = _layers(net), _trusted_bounds(guard)
    P = p.upper()
    d, m = scaling.x_mean.size, scaling.y_mean.size
    width = max(net.sizes)
    out = ["/*"] + _comment_lines(info, " * ") + [
        " *",
        f" * int {p}_predict(const double *x, double *y): y[{P}_N_OUT] at x[{P}_N_IN];",
        " * returns 1 when x lies outside the training box (the domain guard's test), else 0.",
        " * Generated by surrogate.Surrogate.export; C99, needs only <math.h> (link with -lm).",
        " */",
        "#include <math.h>", "",
        f"#define {P}_N_IN {d}", f"#define {P}_N_OUT {m}", "",
        f"int {p}_predict(const double *x, double *y);", "",
        _c_array(f"{p}_lo", lo), _c_array(f"{p}_hi", hi),
        _c_array(f"{p}_x_mean", scaling.x_mean), _c_array(f"{p}_x_scale", scaling.x_scale)]
    for l, (w, b, _) in enumerate(layers):
        out += [_c_array(f"{p}_w{l}", w), _c_array(f"{p}_b{l}", b)]
    out += [_c_array(f"{p}_decoder", scaling.decoder), _c_array(f"{p}_y_mean", scaling.y_mean), ""]
    if {"sigmoid", "silu"} & {act for _, _, act in layers}:  # C warns of unused static functions
        out += [f"static double {p}_sigmoid(double z)", "{",
                "    double e = exp(-fabs(z));  /* never overflows */",
                "    return z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);", "}", ""]
    out += [f"int {p}_predict(const double *x, double *y)", "{",
            f"    double h[2][{width}];", "    int i, j, k, outside = 0;",
            f"    for (i = 0; i < {d}; ++i) {{",
            f"        if (!(x[i] >= {p}_lo[i] && x[i] <= {p}_hi[i])) outside = 1;",
            f"        h[0][i] = (x[i] - {p}_x_mean[i]) / {p}_x_scale[i];", "    }"]
    for l, (w, _, act) in enumerate(layers):
        J, K = w.shape
        src, dst = l % 2, (l + 1) % 2
        out += [f"    for (j = 0; j < {J}; ++j) {{  /* layer {l + 1}: {act} */",
                f"        double z = {p}_b{l}[j];",
                f"        for (k = 0; k < {K}; ++k) z += {p}_w{l}[j * {K} + k] * h[{src}][k];",
                f"        h[{dst}][j] = {_C_ACT[act].format(p=p)};", "    }"]
    k_modes, last = scaling.n_modes, len(layers) % 2
    out += [f"    for (j = 0; j < {m}; ++j) {{  /* the output basis */",
            "        double s = 0.0;",
            f"        for (k = 0; k < {k_modes}; ++k) s += h[{last}][k] * {p}_decoder[k * {m} + j];",
            f"        y[j] = s + {p}_y_mean[j];", "    }",
            "    return outside;", "}", ""]
    return "\n".join(out)


# -- Fortran 2008 ----------------------------------------------------------------

_F_ACT = {
    "identity": "z",
    "relu": "max(z, 0.0_dp)",
    "step": "merge(1.0_dp, 0.0_dp, z >= 0.0_dp)",
    "tanh": "tanh(z)",
    "sigmoid": "sigmoid(z)",
    "softplus": "max(z, 0.0_dp) + log1p_exp_neg(abs(z))",
    "silu": "z * sigmoid(z)",
}
_F_PER_LINE, _F_LINES = 4, 100  # values per line, lines per DATA statement (limit: 255 continuations)


def _f_real(v):
    return f"{float(v):.16e}".replace("e", "d")  # 17 significant digits: reads back exactly


def _f_data(name, values):
    values = np.asarray(values, np.float64).ravel()
    out, chunk = [], _F_PER_LINE * _F_LINES
    for s in range(0, values.size, chunk):
        part = values[s:s + chunk]
        rows = [", ".join(_f_real(v) for v in part[i:i + _F_PER_LINE]) for i in range(0, part.size, _F_PER_LINE)]
        out.append(f"  data {name}({s + 1}:{s + part.size}) / &")
        out += [f"    {r}, &" for r in rows[:-1]] + [f"    {rows[-1]} /"]
    return out


def fortran_source(net, scaling, guard, info, p):
    """One Fortran 2008 module `{p}_model`: `subroutine {p}_predict(x, y, outside)`."""
    layers, (lo, hi) = _layers(net), _trusted_bounds(guard)
    d, m = scaling.x_mean.size, scaling.y_mean.size
    width, k_modes = max(net.sizes), scaling.n_modes
    arrays = [("lo", lo), ("hi", hi), ("x_mean", scaling.x_mean), ("x_scale", scaling.x_scale)]
    for l, (w, b, _) in enumerate(layers):
        arrays += [(f"w{l + 1}", w), (f"b{l + 1}", b)]  # w row-major: w(j*K + k + 1) is w[j, k]
    arrays += [("decoder", scaling.decoder), ("y_mean", scaling.y_mean)]
    out = _comment_lines(info, "! ") + [
        "!",
        f"! call {p}_predict(x, y, outside): y(N_OUT) at x(N_IN); outside is .true. when x lies",
        "! outside the training box (the domain guard's test). Generated by surrogate.Surrogate.export;",
        "! standard Fortran 2008.",
        f"module {p}_model",
        "  use, intrinsic :: iso_fortran_env, only: dp => real64",
        "  implicit none",
        "  private",
        f"  public :: N_IN, N_OUT, {p}_predict",
        f"  integer, parameter :: N_IN = {d}, N_OUT = {m}"]
    out += [f"  real(dp), save :: {name}({np.size(v)})" for name, v in arrays]
    for name, v in arrays:
        out += _f_data(name, v)
    out += [
        "contains",
        f"  subroutine {p}_predict(x, y, outside)",
        "    real(dp), intent(in) :: x(N_IN)",
        "    real(dp), intent(out) :: y(N_OUT)",
        "    logical, intent(out) :: outside",
        f"    real(dp) :: h0({width}), h1({width}), z",
        "    integer :: j, k",
        "    outside = .not. all(x >= lo .and. x <= hi)  ! a NaN is outside",
        "    h0(1:N_IN) = (x - x_mean) / x_scale"]
    for l, (w, _, act) in enumerate(layers):
        J, K = w.shape
        src, dst = ("h0", "h1") if l % 2 == 0 else ("h1", "h0")
        out += [f"    do j = 1, {J}  ! layer {l + 1}: {act}",
                f"      z = b{l + 1}(j)",
                f"      do k = 1, {K}",
                f"        z = z + w{l + 1}((j - 1) * {K} + k) * {src}(k)",
                "      end do",
                f"      {dst}(j) = {_F_ACT[act]}",
                "    end do"]
    last = "h1" if len(layers) % 2 else "h0"
    out += [f"    do j = 1, N_OUT  ! the output basis",
            "      z = 0.0_dp",
            f"      do k = 1, {k_modes}",
            f"        z = z + {last}(k) * decoder((k - 1) * N_OUT + j)",
            "      end do",
            "      y(j) = z + y_mean(j)",
            "    end do",
            f"  end subroutine {p}_predict"]
    used = {act for _, _, act in layers}
    if {"sigmoid", "silu"} & used:
        out += _F_SIGMOID
    if "softplus" in used:
        out += _F_LOG1P_EXP_NEG
    return "\n".join(out + [f"end module {p}_model", ""])


_F_SIGMOID = ["",
    "  elemental function sigmoid(z) result(s)",
    "    real(dp), intent(in) :: z",
    "    real(dp) :: s, e",
    "    e = exp(-abs(z))  ! never overflows",
    "    s = merge(1.0_dp / (1.0_dp + e), e / (1.0_dp + e), z >= 0.0_dp)",
    "  end function sigmoid"]
_F_LOG1P_EXP_NEG = ["",
    "  elemental function log1p_exp_neg(t) result(r)",
    "    ! log(1 + exp(-t)) for t >= 0, accurate when exp(-t) is tiny: Fortran has no log1p,",
    "    ! and log(u) e / (u - 1), u = 1 + e, cancels the rounding of u",
    "    real(dp), intent(in) :: t",
    "    real(dp) :: r, e, u",
    "    e = exp(-t)",
    "    u = 1.0_dp + e",
    "    if (u == 1.0_dp) then",
    "      r = e",
    "    else",
    "      r = log(u) * e / (u - 1.0_dp)",
    "    end if",
    "  end function log1p_exp_neg"]


# -- ONNX ------------------------------------------------------------------------

ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # what onnxruntime releases of the last years all read


def onnx_model(net, scaling, info, name):
    """An ONNX ModelProto: input x (float64 [n, N_IN]) -> output y (float64 [n, N_OUT])."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError("exporting to .onnx needs the `onnx` package: pip install 'surrogate-toolkit[export]'") from None
    d, m = scaling.x_mean.size, scaling.y_mean.size
    inits, nodes = [], []

    def const(key, value):
        inits.append(numpy_helper.from_array(np.asarray(value, np.float64), key))
        return key

    def node(op, inputs, key):
        nodes.append(helper.make_node(op, inputs, [key], name=key))
        return key

    h = node("Div", [node("Sub", ["x", const("x_mean", scaling.x_mean)], "x_centred"),
                     const("x_scale", scaling.x_scale)], "x_scaled")
    one, zero = const("one", 1.0), const("zero", 0.0)
    for l, (w, b, act) in enumerate(_layers(net)):
        z = node("Add", [node("MatMul", [h, const(f"w{l}T", w.T)], f"wa{l}"), const(f"b{l}", b)], f"z{l}")
        if act == "identity":
            h = z
        elif act in ("tanh", "relu"):
            h = node({"tanh": "Tanh", "relu": "Relu"}[act], [z], f"a{l}")
        elif act in ("sigmoid", "silu"):
            h = node("Sigmoid", [z], f"sig{l}")
            if act == "silu":
                h = node("Mul", [z, h], f"a{l}")
        elif act == "softplus":  # max(z, 0) + log(1 + exp(-|z|)); ORT's Softplus is float-only
            e = node("Exp", [node("Neg", [node("Abs", [z], f"abs{l}")], f"neg{l}")], f"exp{l}")
            h = node("Add", [node("Relu", [z], f"relu{l}"),
                             node("Log", [node("Add", [one, e], f"onep{l}")], f"log{l}")], f"a{l}")
        elif act == "step":
            h = node("Cast", [node("GreaterOrEqual", [z, zero], f"ge{l}")], f"a{l}")
            nodes[-1].attribute.append(helper.make_attribute("to", TensorProto.DOUBLE))
        else:
            raise ValueError(f"no ONNX form for activation {act!r}")
    coeff_y = node("MatMul", [h, const("decoder", scaling.decoder)], "decoded")
    nodes.append(helper.make_node("Add", [coeff_y, const("y_mean", scaling.y_mean)], ["y"], name="y"))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["n", d])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["n", m])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
                              producer_name=info["package"], producer_version=str(info["package_version"]),
                              doc_string="A surrogate.Surrogate: y = decoder^T MLP((x - x_mean) / x_scale) + y_mean")
    model.ir_version = ONNX_IR_VERSION
    helper.set_model_props(model, {"provenance": json.dumps(info, sort_keys=True),
                                   "problem": str(info["problem"]),
                                   "parameters": json.dumps(info["parameters"], sort_keys=True)})
    onnx.checker.check_model(model)
    return model
