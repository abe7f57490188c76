#!/usr/bin/env python3
"""libforget's CUDA backend against PyTorch eager on the same GPU: training and inference images/s.

    python3 bench/compare_pytorch_cuda.py --build build-gpu/carry [--archs resnet18,convnet]
        [--shapes 32x32x3,28x28x1] [--modes train,infer] [--batch 256] [--repeats 3]
        [--time-budget S] [--ld-library-path DIRS] [--json out.json]

The GPU twin of bench/compare_pytorch.py (same models, imported from it; same FLOP count), for
the lent GPU machine: scripts/gpu-check runs it there. --build is a folder with bench/bench_train
(a meson build folder, or the staged copy scripts/gpu-check carries). The PyTorch side runs in
this process, under the python3 that runs the script (the device image's torch 2.x); libforget
runs as bench/bench_train --backend cuda, one fresh process per measurement. The rules
(spec/BENCHMARKING.md, point 6 for GPUs):

* Same work. convnet and resnet18 exactly as src/core/nn/convnet.c and resnet18.c define them
  (compare_pytorch.torch_models), H×W×C inputs (--shapes, e.g. 32x32x3 and 28x28x1), 10 classes,
  float32, batch 256. A training step on both sides is: gather a shuffled batch from host
  memory, copy it to the GPU, forward, mean cross-entropy, backward, SGD (momentum 0.9, weight
  decay 5e-4), read the loss on the host (lf_model_train does; PyTorch: loss.item()).
  Inference is one eval-mode forward of one batch from host memory with the logits copied back
  (lf_model_forward's contract; PyTorch: model(x.to(gpu)).cpu() under torch.no_grad()). So both
  sides move the batch over PCIe every step; --torch-data device keeps PyTorch's data on the GPU
  instead (a PyTorch-favouring variant, printed as such).
* Same precision: TF32 off on both sides. libforget's cuBLAS handle uses CUBLAS_DEFAULT_MATH;
  PyTorch gets torch.backends.cuda.matmul.allow_tf32 = False and torch.backends.cudnn.allow_tf32
  = False (torch < 2.9), or their successors, every fp32_precision flag = 'ieee' (torch >= 2.9,
  which raises when the two APIs are mixed); NVIDIA_TF32_OVERRIDE=0 is also set for both
  processes, which forbids TF32 in cuBLAS and cuDNN whatever a program asks.
* PyTorch at its best in eager mode: torch.backends.cudnn.benchmark = True (it picks the fastest
  cuDNN algorithm per shape during the warm-up steps; --no-cudnn-benchmark turns it off);
  zero_grad(set_to_none=True); no torch.compile, no CUDA graphs, no channels-last, no AMP.
* Same environment: MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ = 4 GiB for both (the
  script re-executes itself to set them); --threads for bench_train and torch.set_num_threads.
* Measurement. Warm-up steps (cuDNN's autotuning, cuBLAS handles, module loading and lazy
  kernel loading stay out), then the median step time of the timed steps. PyTorch: CUDA events
  around each step, after torch.cuda.synchronize() (the host clock is recorded too, as a check).
  libforget: bench_train's host clock between lf_model_train's progress callbacks (each step
  downloads its loss, so a step's GPU work has drained before the next step's callback) or
  around each lf_model_forward (synchronous). The two sides alternate (the order flips every
  repeat), --repeats times; the table gives the median over repeats with the range, and the
  median of the per-repeat ratios libforget/PyTorch. After the first repeat a configuration's
  step count is cut so one run takes about --run-seconds (both sides get the same counts).
* TFLOP/s: forward FLOPs per image as compare_pytorch.forward_flops counts them (2 × the
  multiply-adds of every conv and linear layer), × 3 for training, × images/s; read against
  the sgemm ceiling measured in the same run: torch.mm of two --sgemm-n² float32 matrices with
  TF32 off (cuBLAS), median of CUDA-event-timed products, measured before and after the runs.

Targets (issue #8): resnet18 training ≥ 1.0× PyTorch eager, inference ≥ 1.2×; convnet has none.
--device cpu runs the PyTorch side on the CPU (a debugging aid on a machine without a GPU, with
--backend cpu for bench_train, or --torch-only); its figures mean nothing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True   # no bench/__pycache__ in the working tree
import compare_pytorch as cpt   # noqa: E402  (the models and the FLOP count, shared)

TARGETS = {("resnet18", "train"): 1.0, ("resnet18", "infer"): 1.2}
# timed steps, warm-up steps of a configuration's first run
STEPS = {
    ("convnet", "train"): (50, 10), ("convnet", "infer"): (100, 10),
    ("resnet18", "train"): (30, 5), ("resnet18", "infer"): (50, 5),
}
BIG = "4294967296"
FIXED_ENV = {"MALLOC_MMAP_THRESHOLD_": BIG, "MALLOC_TRIM_THRESHOLD_": BIG, "NVIDIA_TF32_OVERRIDE": "0"}


def parse_shape(s):
    """'32x32x3' → (H, W, C)."""
    try:
        h, w, c = (int(v) for v in s.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("shape '%s' is not HxWxC" % s)
    if h != w or h < 4 or c < 1:
        raise argparse.ArgumentTypeError("shape '%s': square images of at least 4x4 (convnet's fc needs H = W)" % s)
    return (h, w, c)


def shape_name(shape):
    return "%dx%dx%d" % shape


# ---------------------------------------------------------------- the PyTorch side (in-process)

def tf32_off(torch):
    """TF32 off for matmuls and cuDNN; returns what was set. torch >= 2.9 has the fp32_precision
    flags and raises when they and the legacy allow_tf32 flags are mixed, so each version gets
    only its own API."""
    def has(obj, name):   # torch.backends.cuda.matmul raises AssertionError for unknown names
        try:
            getattr(obj, name)
            return True
        except (AttributeError, AssertionError):
            return False

    b = torch.backends
    if has(b.cuda.matmul, "fp32_precision"):
        done = {}
        for name, obj in (("backends", b), ("cuda.matmul", b.cuda.matmul), ("cudnn", b.cudnn),
                          ("cudnn.conv", getattr(b.cudnn, "conv", None)),
                          ("cudnn.rnn", getattr(b.cudnn, "rnn", None))):
            if obj is not None and has(obj, "fp32_precision"):
                obj.fp32_precision = "ieee"
                done[name + ".fp32_precision"] = obj.fp32_precision
        return done
    b.cuda.matmul.allow_tf32 = False
    b.cudnn.allow_tf32 = False
    return {"cuda.matmul.allow_tf32": b.cuda.matmul.allow_tf32, "cudnn.allow_tf32": b.cudnn.allow_tf32}


class TorchSide:
    def __init__(self, a):
        import torch
        self.torch, self.a = torch, a
        self.dev = torch.device(a.device)
        self.cuda = self.dev.type == "cuda"
        if self.cuda and not torch.cuda.is_available():
            sys.exit("compare_pytorch_cuda: torch %s sees no CUDA device" % torch.__version__)
        self.tf32 = tf32_off(torch)
        torch.backends.cudnn.benchmark = not a.no_cudnn_benchmark
        torch.set_num_threads(a.threads)
        self.models = cpt.torch_models(torch)
        self.flops = {}

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def info(self):
        t = self.torch
        d = {"torch": t.__version__, "device": str(self.dev), "threads": t.get_num_threads(),
             "cudnn_benchmark": t.backends.cudnn.benchmark, "tf32": self.tf32}
        if self.cuda:
            p = t.cuda.get_device_properties(self.dev)
            d.update({"gpu": t.cuda.get_device_name(self.dev), "cuda": t.version.cuda,
                      "cudnn": t.backends.cudnn.version(), "sms": p.multi_processor_count,
                      "gpu_memory_gib": round(p.total_memory / 2 ** 30, 1)})
        return d

    def model(self, arch, shape):
        h, _, c = shape
        if arch == "convnet":
            return self.models[arch](channels=c, size=h, classes=10)
        if arch == "resnet18":
            return self.models[arch](channels=c, classes=10)
        return self.models[arch](inputs=h * h * c, classes=10)

    def fwd_flops(self, arch, shape):
        key = (arch, shape)
        if key not in self.flops:
            h, w, c = shape
            self.flops[key] = cpt.forward_flops(self.torch, self.model(arch, shape), self.torch.rand(1, c, h, w))
        return self.flops[key]

    def sgemm(self, n, reps=10):
        """Median TFLOP/s of torch.mm on n×n float32 (TF32 off): the ceiling the figures are read against."""
        t = self.torch
        g = t.Generator(device=self.dev).manual_seed(2)
        x = t.randn(n, n, device=self.dev, generator=g)   # random data: zeros run faster
        y = t.randn(n, n, device=self.dev, generator=g)
        z = t.empty(n, n, device=self.dev)
        for _ in range(3):
            t.mm(x, y, out=z)
        self.sync()
        tf = []
        for _ in range(reps):
            dt = self.timed(lambda: t.mm(x, y, out=z))[0]
            tf.append(2 * n ** 3 / dt / 1e12)
        return {"n": n, "median_tflops": statistics.median(tf), "min_tflops": min(tf), "max_tflops": max(tf)}

    def timed(self, fn):
        """(seconds by CUDA events, or the host clock on the CPU; seconds by the host clock)."""
        t = self.torch
        self.sync()
        if self.cuda:
            e0, e1 = t.cuda.Event(enable_timing=True), t.cuda.Event(enable_timing=True)
            h0 = time.perf_counter()
            e0.record()
            fn()
            e1.record()
            e1.synchronize()
            h1 = time.perf_counter()
            return e0.elapsed_time(e1) / 1e3, h1 - h0
        h0 = time.perf_counter()
        fn()
        h1 = time.perf_counter()
        return h1 - h0, h1 - h0

    def run(self, arch, mode, shape, steps, warmup):
        r = self._measure(arch, mode, shape, steps, warmup)
        if self.cuda:   # the run's tensors are gone: hand their memory back before bench_train runs
            self.torch.cuda.empty_cache()
        return r

    def _measure(self, arch, mode, shape, steps, warmup):
        t, a = self.torch, self.a
        F = t.nn.functional
        t.manual_seed(1)
        B, (h, w, c) = a.batch, shape
        train = mode == "train"
        n = B * (warmup + steps) if train else B
        X = t.rand(n, c, h, w)              # host memory, like libforget's in-memory data set
        Y = t.arange(n) % 10
        if a.torch_data == "device":
            X, Y = X.to(self.dev), Y.to(self.dev)
        model = self.model(arch, shape).to(self.dev)
        ev, host = [], []
        if train:
            model.train()
            opt = t.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
            perm = t.randperm(n).to(X.device)

            def step(i):
                idx = perm[i * B:(i + 1) * B]
                x, y = X[idx].to(self.dev), Y[idx].to(self.dev)
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                loss.item()

            for i in range(warmup + steps):
                e, hs = self.timed(lambda: step(i))
                ev.append(e)
                host.append(hs)
        else:
            model.eval()
            with t.no_grad():
                for i in range(warmup + steps):
                    e, hs = self.timed(lambda: model(X.to(self.dev)).cpu())
                    ev.append(e)
                    host.append(hs)
        ev, host = ev[warmup:], host[warmup:]
        med = statistics.median(ev)
        return {"median_step_s": med, "min_step_s": min(ev), "max_step_s": max(ev),
                "host_median_step_s": statistics.median(host), "images_per_second": B / med,
                "steps": steps, "warmup": warmup, "fwd_flops_per_image": self.fwd_flops(arch, shape)}


# ---------------------------------------------------------------- the libforget side (bench_train)

def lf_run(a, bench, env, arch, mode, shape, steps, warmup):
    h, w, c = shape
    cmd = [bench, "--backend", a.backend, "--arch", arch, "--mode", mode, "--batch", str(a.batch),
           "--steps", str(steps), "--warmup", str(warmup), "--channels", str(c), "--height", str(h),
           "--width", str(w), "--threads", str(a.threads), "--json"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=a.run_timeout)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr[-4000:]))
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["command"] = " ".join(cmd)
    return r


# ---------------------------------------------------------------- the driver

def fmt_range(vals, f=None):
    if not vals:
        return "-"
    if f is None:
        f = "%.0f" if statistics.median(vals) >= 100 else "%.1f"
    return (f + " (" + f + "–" + f + ")") % (statistics.median(vals), min(vals), max(vals))


def num(x):
    """NaN (not measured) as JSON null."""
    return None if x != x else x


def save(path, record):
    if path:
        with open(path + ".tmp", "w") as f:
            json.dump(record, f, indent=1)
        os.replace(path + ".tmp", path)


def gpu_smi():
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.sm,clocks.mem,"
                               "temperature.gpu,power.draw", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "nvidia-smi not available"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--build", default="build-gpu", help="folder with bench/bench_train (default build-gpu)")
    ap.add_argument("--backend", default="cuda", help="bench_train's --backend (default cuda)")
    ap.add_argument("--device", default="cuda", help="PyTorch's device (default cuda; cpu = debugging only)")
    ap.add_argument("--archs", default="resnet18,convnet", help="in order of importance")
    ap.add_argument("--shapes", default="32x32x3,28x28x1", help="HxWxC, comma-separated")
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="timed steps per run (0 = per-configuration default)")
    ap.add_argument("--warmup", type=int, default=-1, help="warm-up steps per run (-1 = default)")
    ap.add_argument("--run-seconds", type=float, default=3.0,
                    help="after the first repeat, cut the steps so one run's steps take about this long")
    ap.add_argument("--time-budget", type=float, default=0, metavar="S",
                    help="start no new measurement after S seconds (0 = no limit); the table shows what ran")
    ap.add_argument("--run-timeout", type=float, default=300, help="seconds one bench_train run may take")
    ap.add_argument("--threads", type=int, default=min(os.cpu_count() or 1, 8),
                    help="bench_train --threads and torch.set_num_threads (host-side work)")
    ap.add_argument("--sgemm-n", type=int, default=8192, help="size of the sgemm ceiling's square matrices")
    ap.add_argument("--no-cudnn-benchmark", action="store_true", help="PyTorch without cudnn.benchmark")
    ap.add_argument("--torch-data", choices=("host", "device"), default="host",
                    help="where PyTorch's data set lives (host = the same work as libforget)")
    ap.add_argument("--torch-only", action="store_true", help="skip the libforget side (debugging)")
    ap.add_argument("--ld-library-path", default="",
                    help="folders put first on bench_train's LD_LIBRARY_PATH only (carried libraries must not reach PyTorch)")
    ap.add_argument("--json", help="write every measurement to this file")
    a = ap.parse_args()

    # glibc reads the malloc thresholds at start-up: re-execute once with them (and TF32 off)
    if any(os.environ.get(k) != v for k, v in FIXED_ENV.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, **FIXED_ENV))

    shapes = [parse_shape(s) for s in a.shapes.split(",")]
    bench = os.path.join(a.build, "bench", "bench_train")
    if not a.torch_only and not os.access(bench, os.X_OK):
        sys.exit("compare_pytorch_cuda: %s not found (ninja -C <build> bench/bench_train, or "
                 "scripts/gpu-check pack)" % bench)
    env = dict(os.environ)
    if a.ld_library_path:
        env["LD_LIBRARY_PATH"] = a.ld_library_path + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")

    t_start = time.time()
    ts = TorchSide(a)
    info = ts.info()
    print("PyTorch: %s" % ", ".join("%s %s" % kv for kv in info.items()))
    smi = gpu_smi()
    print("nvidia-smi: %s" % smi)
    print("libforget: %s --backend %s; batch %d; threads %d; TF32 off both sides "
          "(NVIDIA_TF32_OVERRIDE=0); PyTorch data on the %s" % (bench, a.backend, a.batch, a.threads, a.torch_data),
          flush=True)
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "torch": info, "batch": a.batch,
              "backend": a.backend, "torch_data": a.torch_data, "env": FIXED_ENV, "nvidia_smi": smi, "runs": [],
              "errors": []}

    try:
        record["sgemm_before"] = ts.sgemm(a.sgemm_n)
        print("sgemm ceiling (torch.mm %d³ float32, TF32 off): %.1f TFLOP/s" % (
            a.sgemm_n, record["sgemm_before"]["median_tflops"]), flush=True)
    except Exception:   # noqa: BLE001  (a broken ceiling must not cost the device run)
        record["errors"].append(traceback.format_exc())
        print(traceback.format_exc(), file=sys.stderr)

    configs = [(ar, sh, mo) for ar in a.archs.split(",") for sh in shapes for mo in a.modes.split(",")]
    results = {cfg: {"lf": [], "torch": [], "ratio": [], "flops": 0} for cfg in configs}
    counts = {}
    for cfg in configs:
        steps, warm = STEPS.get((cfg[0], cfg[2]), (20, 3))
        counts[cfg] = [a.steps or steps, warm if a.warmup < 0 else a.warmup]
    stopped = None
    for rep in range(a.repeats):
        for cfg in configs:
            if a.time_budget and time.time() - t_start > a.time_budget:
                stopped = "time budget of %.0f s reached in repeat %d" % (a.time_budget, rep + 1)
                break
            ar, sh, mo = cfg
            steps, warm = counts[cfg]
            sides = ["lf", "torch"] if rep % 2 == 0 else ["torch", "lf"]
            if a.torch_only:
                sides = ["torch"]
            got = {}
            for side in sides:
                try:
                    if side == "lf":
                        ts.sync()
                        r = lf_run(a, bench, env, ar, mo, sh, steps, warm)
                    else:
                        r = ts.run(ar, mo, sh, steps, warm)
                        results[cfg]["flops"] = r["fwd_flops_per_image"]
                except Exception as e:   # noqa: BLE001  (one failing configuration must not stop the rest)
                    msg = "%s %s %s %s: %s" % (side, ar, shape_name(sh), mo,
                                               e if isinstance(e, RuntimeError) else traceback.format_exc())
                    record["errors"].append(msg)
                    print("  ERROR " + msg, flush=True)
                    continue
                got[side] = r
                results[cfg][side].append(r["images_per_second"])
                record["runs"].append(dict(r, side=side, repeat=rep, arch=ar, shape=shape_name(sh), mode=mo))
                save(a.json, record)   # a run killed from outside keeps what was measured
                print("  repeat %d  %-8s %-8s %-5s %-5s %10.1f images/s  (median step %.2f ms, %d steps)" % (
                    rep + 1, ar, shape_name(sh), mo, side, r["images_per_second"], 1e3 * r["median_step_s"],
                    steps), flush=True)
            if "lf" in got and "torch" in got:
                results[cfg]["ratio"].append(got["lf"]["images_per_second"] / got["torch"]["images_per_second"])
            if rep == 0 and got and a.steps == 0:   # later repeats: about --run-seconds per run
                slowest = max(r["median_step_s"] for r in got.values())
                counts[cfg][0] = max(5, min(steps, int(a.run_seconds / max(slowest, 1e-6))))
        if stopped:
            break

    try:
        record["sgemm_after"] = ts.sgemm(a.sgemm_n)
    except Exception:   # noqa: BLE001
        record["errors"].append(traceback.format_exc())
    ceil = [record[k]["median_tflops"] for k in ("sgemm_before", "sgemm_after") if k in record]
    ceiling = max(ceil) if ceil else float("nan")

    print()
    if stopped:
        print("NOTE: %s; later measurements were not taken" % stopped)
    if ceil:
        print("sgemm ceiling, torch.mm %d³ float32 TF32 off: %s TFLOP/s (before and after the runs)" % (
            a.sgemm_n, " / ".join("%.1f" % c for c in ceil)))
    print("TFLOP/s = forward FLOPs/image (× 3 for training) × images/s; %% = of the sgemm ceiling%s" % (
          "" if a.torch_data == "host" else "; PyTorch's data on the GPU (favours PyTorch)"))
    hdr = "%-9s %-8s %-6s %-24s %-24s %-19s %-14s %-14s %s" % (
        "arch", "shape", "mode", "libforget %s img/s" % a.backend, "PyTorch img/s", "ratio lf/torch",
        "lf TFLOP/s", "torch TFLOP/s", "target")
    print(hdr)
    print("-" * len(hdr))
    met_all, any_target = True, False
    for cfg in configs:
        ar, sh, mo = cfg
        r = results[cfg]
        mult = r["flops"] * (3 if mo == "train" else 1) / 1e12
        tf_lf = statistics.median(r["lf"]) * mult if r["lf"] and r["flops"] else float("nan")
        tf_t = statistics.median(r["torch"]) * mult if r["torch"] and r["flops"] else float("nan")
        tgt = TARGETS.get((ar, mo))
        ratio = statistics.median(r["ratio"]) if r["ratio"] else None
        any_target = any_target or tgt is not None
        if tgt is None:
            verdict = "-"
        elif ratio is None:
            verdict = "≥%.1f: not measured" % tgt
            met_all = False
        else:
            verdict = "≥%.1f: %s" % (tgt, "met" if ratio >= tgt else "NOT met")
            met_all = met_all and ratio >= tgt
        print("%-9s %-8s %-6s %-24s %-24s %-19s %-14s %-14s %s" % (
            ar, shape_name(sh), mo, fmt_range(r["lf"]), fmt_range(r["torch"]), fmt_range(r["ratio"], "%.2f"),
            "%.2f (%.0f%%)" % (tf_lf, 100 * tf_lf / ceiling), "%.2f (%.0f%%)" % (tf_t, 100 * tf_t / ceiling),
            verdict))
        record.setdefault("table", []).append({
            "arch": ar, "shape": shape_name(sh), "mode": mo, "lf": r["lf"], "torch": r["torch"],
            "ratios": r["ratio"], "fwd_flops_per_image": r["flops"], "lf_tflops": num(tf_lf),
            "torch_tflops": num(tf_t), "target": tgt})
    record["sgemm_ceiling_tflops"] = num(ceiling)
    record["targets_met"] = met_all if any_target else None
    record["stopped"] = stopped
    record["seconds"] = time.time() - t_start
    if record["errors"]:
        print("\n%d error(s); the first:\n%s" % (len(record["errors"]), record["errors"][0]))
    print("resnet18 targets (train ≥1.0, infer ≥1.2): %s; %.0f s" % (
        "none measured" if not any_target else "met" if met_all else "NOT all met", record["seconds"]))
    save(a.json, record)
    sys.exit(1 if record["errors"] else 0)


if __name__ == "__main__":
    main()
