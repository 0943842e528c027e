"""The kernels' vector width: 512-bit against 256-bit vectors, on one thread.

Our kernels ask LLVM for 512-bit vectors (`surrogate/_jit.py`); setting
SURROGATE_VECTOR_BITS=256 gives LLVM's x86 default. This script runs two
worker processes, one of each width, each compiling the kernels into its own
fresh cache, and times the same training in them in turns (bench_train.py's
workloads: tanh, SGD lr 0.01, batch 32, 20 000 samples, 3 epochs, one
thread), so that drift in the machine's speed falls on both alike. It prints
medians and the ratio 512 / 256 in samples per second. On a CPU without
AVX-512 both widths give the same code and the ratio is 1 within noise.

    python benchmarks/bench_vectors.py                 # S, M and W, 5 rounds
    python benchmarks/bench_vectors.py --only S,M --repeats 9
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_train import BATCH, EPOCHS, LR, WORKLOADS

ROOT = Path(__file__).resolve().parents[1]
N = 20_000

# A worker trains workload `w` whenever it reads the line `w`, and answers
# with the wall seconds. Its first answer ("ready") comes once every workload
# has run once, i.e. after compilation.
WORKER = """
import sys, time
import numpy as np
import surrogate
workloads = {workloads!r}
data = {{}}
for w, sizes in workloads.items():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, ({n}, sizes[0]))
    P = rng.normal(0, 2 / np.sqrt(sizes[0]), (sizes[0], sizes[-1]))
    data[w] = (X, np.sin(X @ P + rng.uniform(0, np.pi, sizes[-1])))

def run(w, epochs):
    net = surrogate.MLP(workloads[w], activation="tanh", output_activation="identity", seed=0)
    start = time.perf_counter()
    surrogate.train(net, *data[w], surrogate.SGD(lr={lr}), batch_size={batch}, epochs=epochs,
                    seed=0, progress=False, threads=1)
    return time.perf_counter() - start

for w in workloads:
    run(w, 1)
print("ready", flush=True)
for line in sys.stdin:
    print(run(line.strip(), {epochs}), flush=True)
"""


def start_worker(bits, workloads, cache):
    env = dict(os.environ, SURROGATE_VECTOR_BITS=str(bits), NUMBA_CACHE_DIR=cache,
               NUMBA_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    code = WORKER.format(workloads=workloads, n=N, lr=LR, batch=BATCH, epochs=EPOCHS)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the {bits}-bit worker did not start (exit code {proc.wait()})")
    return proc


def ask(proc, w):
    proc.stdin.write(w + "\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="S,M,W", help="workloads, from S,M,W (default all)")
    p.add_argument("--repeats", type=int, default=5, help="rounds of turns (default 5)")
    args = p.parse_args()
    names = args.only.split(",")
    for w in names:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
    if args.repeats < 1:
        p.error(f"--repeats must be at least 1, got {args.repeats}")
    workloads = {w: WORKLOADS[w] for w in names}
    with tempfile.TemporaryDirectory() as wide_cache, tempfile.TemporaryDirectory() as narrow_cache:
        print("compiling the kernels twice (512-bit and 256-bit vectors), a minute or two ...",
              flush=True)
        workers = {512: start_worker(512, workloads, wide_cache),
                   256: start_worker(256, workloads, narrow_cache)}
        try:
            seconds = {(w, bits): [] for w in names for bits in workers}
            for _ in range(args.repeats):
                for w in names:
                    for bits, proc in workers.items():
                        seconds[w, bits].append(ask(proc, w))
        finally:
            for proc in workers.values():
                proc.stdin.close()
                proc.wait()
    print(f"\none thread, batch {BATCH}, {N} samples x {EPOCHS} epochs; samples/s = median of "
          f"{args.repeats}, the two widths taking turns")
    print(f"{'':4}{'512-bit':>14}{'256-bit':>14}{'512 / 256':>12}")
    for w in names:
        rate = {bits: N * EPOCHS / statistics.median(seconds[w, bits]) for bits in workers}
        print(f"{w:4}{rate[512]:>14,.0f}{rate[256]:>14,.0f}{rate[512] / rate[256]:>11.2f}x")


if __name__ == "__main__":
    main()
