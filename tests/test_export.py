"""Exports (C, Fortran, ONNX) against `predict`: compiled with gcc/gfortran, run with onnxruntime.

Each compiled program reads raw float64 inputs from a file and writes raw
outputs and the out-of-box flags, so no number passes through text.
"""
import shutil
import subprocess

import numpy as np
import pytest

from surrogate import MLP, Surrogate
from surrogate.export import FORMATS

GRID = np.linspace(0.0, 1.0, 20)
ACTIVATIONS = ["identity", "relu", "sigmoid", "tanh", "softplus", "silu", "step"]
TOL = 1e-12  # max |y_export - y_predict| per profile, relative to max |y_predict|

C_DRIVER = r"""
#include <stdio.h>
int surrogate_predict(const double *x, double *y);
int main(int argc, char **argv) {
    double x[N_IN], y[N_OUT];
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    (void)argc;
    while (fread(x, sizeof(double), N_IN, in) == N_IN) {
        double flag = surrogate_predict(x, y);
        fwrite(y, sizeof(double), N_OUT, out);
        fwrite(&flag, sizeof(double), 1, out);
    }
    fclose(in); fclose(out);
    return 0;
}
"""

F_DRIVER = """
program driver
  use, intrinsic :: iso_fortran_env, only: real64
  use surrogate_model, only: N_IN, N_OUT, surrogate_predict
  implicit none
  real(real64) :: x(N_IN), y(N_OUT), flag
  logical :: outside
  integer :: n, i, u_in, u_out
  character(len=256) :: path_in, path_out
  call get_command_argument(1, path_in)
  call get_command_argument(2, path_out)
  open(newunit=u_in, file=trim(path_in), access='stream', form='unformatted', status='old')
  open(newunit=u_out, file=trim(path_out), access='stream', form='unformatted', status='replace')
  read(u_in) n
  do i = 1, n
    read(u_in) x
    call surrogate_predict(x, y, outside)
    flag = merge(1.0_real64, 0.0_real64, outside)
    write(u_out) y, flag
  end do
  close(u_in)
  close(u_out)
end program driver
"""


def smooth_field(X):
    return np.sin(3 * X[:, :1] * GRID) + X[:, 1:2] * GRID ** 2 + np.exp(X[:, 2:3] * GRID)


@pytest.fixture(scope="module")
def models():
    """One small fitted float64 surrogate per activation ('step' cannot be trained: its
    network is the tanh model's parameters under step units)."""
    rng = np.random.default_rng(5)
    X = rng.random((120, 3))
    out = {}
    for act in ACTIVATIONS:
        model = Surrogate(hidden=(8, 8), activation="tanh" if act == "step" else act, epochs=10,
                          lbfgs_iter=10, seed=1)
        model.fit(X, smooth_field(X), progress=False,
                  metadata={"problem": "toy", "param_names": ["a", "b", "c"], "param_units": ["m", "s", None]})
        if act == "step":
            net = MLP(model.net_.sizes, activation="step")
            net.params[:] = model.net_.params
            model.members_ = [net]
            model.net_ = net
        out[act] = model
    return out


def inputs(model, n=200, seed=0):
    """n points: most inside the box, some just inside or outside its slack, some far out."""
    rng = np.random.default_rng(seed)
    lo, hi = model.guard_.lower, model.guard_.upper
    X = lo + (hi - lo) * rng.random((n, lo.size))
    X[:20, 1] = hi[1] + (hi[1] - lo[1]) * np.array([0.5, 1e-3, 1e-8, 1e-10, 0.0] * 4)  # out, out, out, in (slack), edge
    X[20:30, 0] = lo[0] - (hi[0] - lo[0]) * 0.2
    return X


def check_against_predict(model, X, Y, flags=None):
    want = model.predict(X, domain="ignore")
    scale = np.abs(want).max(axis=1)
    err = np.abs(Y - want).max(axis=1)
    assert np.all(err <= TOL * scale), f"worst relative error {np.max(err / scale):.3g}"
    if flags is not None:
        np.testing.assert_array_equal(flags.astype(bool), model.outside(X))


def run_program(tmp_path, exe, X, m, header):
    x_file, y_file = tmp_path / "x.bin", tmp_path / "y.bin"
    x_file.write_bytes(header + np.ascontiguousarray(X, np.float64).tobytes())
    subprocess.run([str(exe), str(x_file), str(y_file)], check=True, timeout=60)
    out = np.fromfile(y_file, np.float64).reshape(X.shape[0], m + 1)
    return out[:, :m], out[:, m]


needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
needs_gfortran = pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not installed")


@needs_gcc
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_c_export_matches_predict_and_domain_guard(models, act, tmp_path):
    model = models[act]
    src = model.export(tmp_path / "model.c")
    (tmp_path / "driver.c").write_text(f"#define N_IN {model.n_inputs}\n#define N_OUT {model.n_outputs}\n" + C_DRIVER)
    text = src.read_text()
    assert f"#define SURROGATE_N_IN {model.n_inputs}" in text and "#include <math.h>" in text
    assert [ln for ln in text.splitlines() if ln.startswith("#include")] == ["#include <math.h>"]
    subprocess.run(["gcc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2", "-o",
                    str(tmp_path / "prog"), str(src), str(tmp_path / "driver.c"), "-lm"], check=True)
    X = inputs(model)
    Y, flags = run_program(tmp_path, tmp_path / "prog", X, model.n_outputs, b"")
    check_against_predict(model, X, Y, flags)


@needs_gfortran
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_fortran_export_matches_predict_and_domain_guard(models, act, tmp_path):
    model = models[act]
    src = model.export(tmp_path / "model.f90")
    lines = src.read_text().splitlines()
    assert max(len(ln) for ln in lines) <= 132
    (tmp_path / "driver.f90").write_text(F_DRIVER)
    subprocess.run(["gfortran", "-std=f2008", "-Wall", "-Werror", "-O2", "-o", str(tmp_path / "prog"),
                    str(src), str(tmp_path / "driver.f90")], check=True, cwd=tmp_path)
    X = inputs(model)
    Y, flags = run_program(tmp_path, tmp_path / "prog", X, model.n_outputs, np.int32(len(X)).tobytes())
    check_against_predict(model, X, Y, flags)


@needs_gfortran
def test_fortran_export_of_a_wide_network_keeps_the_line_limits(tmp_path):
    """4160 weights in one layer: DATA statements split within 255 continuation lines."""
    rng = np.random.default_rng(2)
    X = rng.random((300, 3))
    model = Surrogate(hidden=(64, 64), epochs=2, lbfgs_iter=0).fit(X, smooth_field(X), progress=False)
    src = model.export(tmp_path / "wide.f90")
    subprocess.run(["gfortran", "-std=f2008", "-Wall", "-Werror", "-c", str(src)], check=True, cwd=tmp_path)
    (tmp_path / "driver.f90").write_text(F_DRIVER)
    subprocess.run(["gfortran", "-std=f2008", "-O2", "-o", str(tmp_path / "prog"), str(src),
                    str(tmp_path / "driver.f90")], check=True, cwd=tmp_path)
    Xt = inputs(model, 50)
    Y, flags = run_program(tmp_path, tmp_path / "prog", Xt, model.n_outputs, np.int32(len(Xt)).tobytes())
    check_against_predict(model, Xt, Y, flags)


@needs_gcc
def test_two_prefixed_c_exports_link_into_one_program(models, tmp_path):
    a, b = models["tanh"], models["softplus"]
    a.export(tmp_path / "a.c", prefix="heat")
    b.export(tmp_path / "b.c", prefix="edge")
    (tmp_path / "main.c").write_text(r"""
#include <stdio.h>
int heat_predict(const double *x, double *y);
int edge_predict(const double *x, double *y);
int main(void) {
    double x[3] = {0.5, 0.5, 0.5}, y[40];
    int i;
    heat_predict(x, y);
    edge_predict(x, y + 20);
    for (i = 0; i < 40; ++i) printf("%a\n", y[i]);
    return 0;
}
""")
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", "-o", str(tmp_path / "prog"), str(tmp_path / "a.c"),
                    str(tmp_path / "b.c"), str(tmp_path / "main.c"), "-lm"], check=True)
    out = subprocess.run([str(tmp_path / "prog")], check=True, capture_output=True, text=True).stdout
    Y = np.array([float.fromhex(s) for s in out.split()]).reshape(2, 20)
    x = np.full((1, 3), 0.5)
    check_against_predict(a, x, Y[:1])
    check_against_predict(b, x, Y[1:])
    assert "#define HEAT_N_IN 3" in (tmp_path / "a.c").read_text()


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_onnx_export_matches_predict(models, act, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = models[act]
    path = model.export(tmp_path / "model.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["x"] and [o.name for o in session.get_outputs()] == ["y"]
    X = inputs(model)
    (Y,) = session.run(["y"], {"x": X})
    assert Y.dtype == np.float64 and Y.shape == (200, model.n_outputs)
    check_against_predict(model, X, Y)
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["problem"] == "toy" and '"unit": "m"' in meta["provenance"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_export_is_reproducible_and_carries_provenance(models, suffix, tmp_path):
    if suffix == ".onnx":
        pytest.importorskip("onnx")
    model = models["silu"]
    first = model.export(tmp_path / f"a{suffix}").read_bytes()
    assert model.export(tmp_path / f"b{suffix}").read_bytes() == first  # no timestamps
    for fact in (b"toy", b'"name": "b"', b'"unit": "s"', b"package_version"):
        assert fact in first
    lower = repr(float(model.guard_.lower[0])).encode()
    assert lower in first


def test_export_refuses_bad_arguments(models, tmp_path):
    model = models["tanh"]
    with pytest.raises(ValueError, match=r"`path` must end in one of .*model\.h"):
        model.export(tmp_path / "model.h")
    with pytest.raises(ValueError, match=r"`prefix` .*'2x'"):
        model.export(tmp_path / "model.c", prefix="2x")
    with pytest.raises(RuntimeError, match="unfitted"):
        Surrogate().export(tmp_path / "model.c")


@pytest.fixture(scope="module")
def ensemble():
    rng = np.random.default_rng(6)
    X = rng.random((120, 3))
    return Surrogate(hidden=(6, 5), activation="silu", epochs=10, lbfgs_iter=5, seed=2,
                     ensemble=3).fit(X, smooth_field(X), progress=False)


@needs_gcc
def test_an_ensemble_exports_its_mean(ensemble, tmp_path):
    """The members side by side as one network: the C program predicts the ensemble mean."""
    from surrogate.export import one_network
    merged = one_network(ensemble.members_)
    assert merged.sizes == [3, 18, 15, ensemble.members_[0].sizes[-1]]
    src = ensemble.export(tmp_path / "model.c")
    (tmp_path / "driver.c").write_text(f"#define N_IN 3\n#define N_OUT {ensemble.n_outputs}\n" + C_DRIVER)
    subprocess.run(["gcc", "-std=c99", "-O2", "-o", str(tmp_path / "prog"), str(src),
                    str(tmp_path / "driver.c"), "-lm"], check=True)
    X = inputs(ensemble)
    Y, flags = run_program(tmp_path, tmp_path / "prog", X, ensemble.n_outputs, b"")
    members = ensemble.predict_members(X, domain="ignore")
    assert np.abs(members[0] - members[1]).max() > 1e-3  # the members differ: a mean, not a copy
    check_against_predict(ensemble, X, Y, flags)
