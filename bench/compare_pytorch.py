#!/usr/bin/python3
"""libforget against PyTorch on the same machine: training and inference images/s, side by side.

    python3 bench/compare_pytorch.py --build build-bench [--archs mlp,convnet,resnet18]
                                     [--modes train,infer] [--repeats 3] [--threads 2]
                                     [--batch 128] [--memory] [--reference] [--wait-quiet S]
                                     [--json out.json]

Needs the C programs (`ninja -C <build> bench/bench_train bench/bench_sgemm`) and Debian's
python3-torch (1.13): the PyTorch side runs under /usr/bin/python3 (--python), whatever runs the
script. A benchmark, not a test: run it by hand on a quiet machine and copy the table into
bench/RESULTS.md. Before each run it waits (up to --wait-quiet seconds) for the CPUs to be 90%
idle and prints how idle they were: on a shared 2-core machine another job halves a figure.
The rules it follows are spec/BENCHMARKING.md's:

* Same work. The same architectures (mlp 784-256-256-10; convnet and resnet18 exactly as
  src/core/nn/convnet.c and resnet18.c define them, biases included: no conv has a bias), 28×28×1
  inputs, 10 classes, float32, the same batch and thread count. A training step on both sides is
  batch gather from in-memory data + forward + mean cross-entropy + backward + SGD (momentum 0.9,
  weight decay 5e-4) with the model in train mode; inference is one eval-mode forward of one
  batch (PyTorch: model.eval() and torch.no_grad()). libforget's step is lf_model_train's own
  (bench/bench_train.c explains how it is timed); PyTorch's also reads the loss (loss.item())
  because lf_model_train does. PyTorch uses zero_grad(set_to_none=True), its faster variant.
* Same environment, set here for BOTH sides before either starts: OMP_NUM_THREADS and
  OPENBLAS_NUM_THREADS = --threads (and torch.set_num_threads), MALLOC_MMAP_THRESHOLD_ and
  MALLOC_TRIM_THRESHOLD_ = 4 GiB (glibc would otherwise unmap PyTorch's per-step buffers and
  fault them back in every step). Every measurement runs in a fresh process, C and Python alike.
* BLAS. Debian's torch takes GEMMs from the system libblas.so.3. The script prints where that
  alternative points; if it is not OpenBLAS, it puts OpenBLAS's folder first on LD_LIBRARY_PATH
  (of both sides) and says so. It also measures torch.mm at 1024³ next to bench_sgemm, so a slow
  BLAS under torch shows in the output.
* Measurement. Warm-up steps, then the median step time of many steps per run; the two sides
  alternate run by run (the order flips every repeat), --repeats times; the table gives the
  median over repeats and the range, and the ratio libforget/PyTorch of each repeat.
* Memory (--memory): one resnet18 training run of 1 warm-up + 2 steps per side, each in a fresh
  process: the peak resident set (ru_maxrss) at the end minus the resident set (VmRSS) once the
  model and the data exist, i.e. what the training steps added (activations, gradients, optimizer
  state, framework workspaces). The same measure on both sides; the interpreter and libtorch
  themselves are in the baseline and do not count.
* GFLOP/s: the forward FLOPs per image (2 × multiply-adds of every conv and linear layer, counted
  on the PyTorch model) × images/s; training counts 3 × forward (forward, input gradients, weight
  gradients), a slight overcount (the first layer needs no input gradient). Read against the
  sgemm ceiling measured in the same run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TARGETS = {  # (arch, mode): the minimum ratio libforget/PyTorch the issue asks of the cpu backend
    ("convnet", "train"): 1.5, ("resnet18", "train"): 1.0,
    ("convnet", "infer"): 1.5, ("resnet18", "infer"): 1.5,
}
# steps, warm-up per (arch, mode): enough for a stable median in a few seconds per run
STEPS = {
    ("mlp", "train"): (300, 20), ("mlp", "infer"): (300, 20),
    ("convnet", "train"): (30, 5), ("convnet", "infer"): (50, 5),
    ("resnet18", "train"): (4, 1), ("resnet18", "infer"): (6, 1),
}
BIG = "4294967296"


# ---------------------------------------------------------------- the PyTorch side (a worker)

def torch_models(torch):
    nn = torch.nn

    class MLP(nn.Module):
        def __init__(self, inputs=784, classes=10):
            super().__init__()
            self.fc1 = nn.Linear(inputs, 256)
            self.fc2 = nn.Linear(256, 256)
            self.fc3 = nn.Linear(256, classes)

        def forward(self, x):
            x = torch.flatten(x, 1)
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            return self.fc3(x)

    class ConvNet(nn.Module):  # src/core/nn/convnet.c
        def __init__(self, channels=1, size=28, classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, 32, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(32)
            self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(64)
            self.pool = nn.MaxPool2d(2)
            self.fc1 = nn.Linear(64 * (size // 4) * (size // 4), 128)
            self.fc2 = nn.Linear(128, classes)

        def forward(self, x):
            x = self.pool(torch.relu(self.bn1(self.conv1(x))))
            x = self.pool(torch.relu(self.bn2(self.conv2(x))))
            x = torch.relu(self.fc1(torch.flatten(x, 1)))
            return self.fc2(x)

    class BasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.downsample = None
            if stride != 1 or c_in != c_out:
                self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                                nn.BatchNorm2d(c_out))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    class ResNet18(nn.Module):  # torchvision resnet18 with the CIFAR stem (src/core/nn/resnet18.c)
        def __init__(self, channels=1, classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            widths, c_in, layers = (64, 128, 256, 512), 64, []
            for i, w in enumerate(widths):
                stride = 1 if i == 0 else 2
                layers.append(nn.Sequential(BasicBlock(c_in, w, stride), BasicBlock(w, w, 1)))
                c_in = w
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return {"mlp": MLP, "convnet": ConvNet, "resnet18": ResNet18}


def rss_now_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def forward_flops(torch, model, x1):
    """2 × the multiply-adds of every conv and linear layer for one image."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            total[0] += 2 * out.numel() * k
        elif isinstance(mod, torch.nn.Linear):
            total[0] += 2 * out.numel() * mod.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(x1)
    model.train(was)
    for h in hs:
        h.remove()
    return total[0]


def torch_worker(a):
    import resource
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.arch == "sgemm":
        n = 1024
        x, y = torch.rand(n, n), torch.rand(n, n)
        for _ in range(3):
            torch.mm(x, y)
        g = []
        for _ in range(30):
            t0 = time.perf_counter()
            torch.mm(x, y)
            g.append(2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
        print(json.dumps({"median_gflops": statistics.median(g), "min_gflops": min(g),
                          "max_gflops": max(g), "torch": torch.__version__,
                          "threads": torch.get_num_threads()}))
        return
    B, train = a.batch, a.mode == "train"
    n = B * (a.warmup + a.steps) if train else B
    X = torch.rand(n, 1, 28, 28)
    Y = torch.arange(n) % 10
    model = torch_models(torch)[a.arch]()
    flops = forward_flops(torch, model, X[:1])
    base = rss_now_kib()
    dts = []
    if train:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        perm = torch.randperm(n)
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            idx = perm[i * B:(i + 1) * B]
            x, y = X[idx], Y[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            loss.item()
            dts.append(time.perf_counter() - t0)
    else:
        model.eval()
        with torch.no_grad():
            for i in range(a.warmup + a.steps):
                t0 = time.perf_counter()
                model(X)
                dts.append(time.perf_counter() - t0)
    dts = dts[a.warmup:]
    med = statistics.median(dts)
    out = {"arch": a.arch, "mode": a.mode, "threads": torch.get_num_threads(), "batch": B,
           "steps": a.steps, "warmup": a.warmup, "median_step_s": med, "min_step_s": min(dts),
           "max_step_s": max(dts), "images_per_second": B / med, "fwd_flops_per_image": flops,
           "torch": torch.__version__}
    if a.memory:
        out["rss_baseline_kib"] = base
        out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out))


# ---------------------------------------------------------------- the driver

def blas_setup(env):
    """Reports what provides libblas.so.3 and makes it OpenBLAS for both sides if it is not."""
    disp = subprocess.run(["update-alternatives", "--display", "libblas.so.3-x86_64-linux-gnu"],
                          capture_output=True, text=True).stdout
    current = next((line.split("points to")[-1].strip() for line in disp.splitlines()
                    if "points to" in line), "unknown")
    note = "libblas.so.3 -> " + current
    if "openblas" not in current:
        for d in ("/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/x86_64-linux-gnu/openblas-openmp"):
            if os.path.exists(os.path.join(d, "libblas.so.3")):
                env["LD_LIBRARY_PATH"] = d + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
                note += "; not OpenBLAS, so LD_LIBRARY_PATH=" + d + " for both sides"
                break
        else:
            note += "; NOT OpenBLAS and no OpenBLAS folder found: PyTorch's GEMMs will be slow"
    return note


def idle_fraction(seconds=1.0):
    """The share of all CPUs' time spent idle over the next `seconds` (/proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)   # idle + iowait, total
    i0, t0 = sample()
    time.sleep(seconds)
    i1, t1 = sample()
    return (i1 - i0) / max(t1 - t0, 1)


def wait_quiet(limit_s, want=0.9):
    """Waits (at most limit_s) until the machine is at least `want` idle; returns the idle share
    last seen, so every measurement can say how busy the machine was just before it."""
    deadline = time.time() + limit_s
    idle = idle_fraction()
    while idle < want and time.time() < deadline:
        idle = idle_fraction(2.0)
    return idle


def run_json(cmd, env):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("compare_pytorch: %s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def fmt_range(vals, f="%.0f"):
    return (f + " (" + f + "–" + f + ")") % (statistics.median(vals), min(vals), max(vals))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-bench", help="meson build folder with bench/bench_train")
    ap.add_argument("--archs", default="mlp,convnet,resnet18")
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="timed steps per run (0 = per-architecture default)")
    ap.add_argument("--warmup", type=int, default=-1, help="warm-up steps per run (-1 = default)")
    ap.add_argument("--memory", action="store_true", help="peak memory of a resnet18 training step")
    ap.add_argument("--reference", action="store_true",
                    help="also time convnet training on the reference backend (cpu/reference speed-up)")
    ap.add_argument("--json", help="write every measurement to this file")
    ap.add_argument("--wait-quiet", type=float, default=120, metavar="S",
                    help="before each run wait up to S seconds for the CPUs to be 90%% idle (0 = no wait)")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="the interpreter with torch for the PyTorch side (default: Debian's)")
    # the worker (internal)
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--arch", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_worker:
        torch_worker(a)
        return

    bench = os.path.join(a.build, "bench", "bench_train")
    sgemm = os.path.join(a.build, "bench", "bench_sgemm")
    if not os.path.exists(bench):
        sys.exit("compare_pytorch: %s not found: ninja -C %s bench/bench_train bench/bench_sgemm" % (bench, a.build))
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads),
               MALLOC_MMAP_THRESHOLD_=BIG, MALLOC_TRIM_THRESHOLD_=BIG)
    blas_note = blas_setup(env)
    me = [a.python, os.path.abspath(__file__), "--torch-worker", "--threads", str(a.threads),
          "--batch", str(a.batch)]
    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True,
                text=True).stdout.splitlines() if l.startswith("Model name")), "unknown")
    print("machine: %s, %d online cores; %s threads; batch %d; %s" % (cpu, os.cpu_count(), a.threads,
                                                                     a.batch, blas_note))
    print("environment (both sides): OMP_NUM_THREADS=%s OPENBLAS_NUM_THREADS=%s MALLOC_MMAP_THRESHOLD_=%s "
          "MALLOC_TRIM_THRESHOLD_=%s" % (a.threads, a.threads, BIG, BIG))
    record = {"machine": cpu, "blas": blas_note, "threads": a.threads, "batch": a.batch,
              "date": time.strftime("%Y-%m-%d %H:%M"), "runs": []}

    ceil_lf, ceil_torch = [], []
    pairs = [(ar, mo) for ar in a.archs.split(",") for mo in a.modes.split(",")]
    results = {p: {"lf": [], "torch": [], "flops": 0} for p in pairs}
    for rep in range(a.repeats):
        wait_quiet(a.wait_quiet)
        if os.path.exists(sgemm):
            ceil_lf.append(run_json([sgemm, "--threads", str(a.threads), "--json"], env)["median_gflops"])
        ceil_torch.append(run_json(me + ["--arch", "sgemm"], env)["median_gflops"])
        for ar, mo in pairs:
            steps, warm = STEPS.get((ar, mo), (20, 3))
            steps = a.steps or steps
            warm = warm if a.warmup < 0 else a.warmup
            common = ["--arch", ar, "--mode", mo, "--steps", str(steps), "--warmup", str(warm)]
            c_cmd = [bench, "--backend", a.backend, "--threads", str(a.threads), "--batch",
                     str(a.batch), "--json"] + common
            t_cmd = me + common
            sides = [("lf", c_cmd), ("torch", t_cmd)]
            if rep % 2:
                sides.reverse()   # alternate who goes first
            for side, cmd in sides:
                idle = wait_quiet(a.wait_quiet)
                r = run_json(cmd, env)
                results[(ar, mo)][side].append(r["images_per_second"])
                if side == "torch":
                    results[(ar, mo)]["flops"] = r["fwd_flops_per_image"]
                record["runs"].append(dict(r, side=side, repeat=rep, idle_before=idle, command=" ".join(cmd)))
                print("  repeat %d  %-8s %-5s %-7s %9.1f images/s  (CPUs %.0f%% idle just before)" % (
                    rep + 1, ar, mo, side, r["images_per_second"], 100 * idle), flush=True)

    print()
    ceiling = statistics.median(ceil_lf) if ceil_lf else float("nan")
    if ceil_lf:
        print("sgemm 1024^3, %d threads: bench_sgemm %s GFLOP/s; torch.mm %s GFLOP/s" % (
            a.threads, fmt_range(ceil_lf, "%.1f"), fmt_range(ceil_torch, "%.1f")))
    print()
    hdr = "%-9s %-6s %-26s %-26s %-22s %-14s %s" % ("arch", "mode", "libforget %s img/s" % a.backend,
                                                    "PyTorch img/s", "ratio lf/torch", "lf GFLOP/s", "target")
    print(hdr)
    print("-" * len(hdr))
    for ar, mo in pairs:
        r = results[(ar, mo)]
        ratios = [x / y for x, y in zip(r["lf"], r["torch"])]
        gf = statistics.median(r["lf"]) * r["flops"] * (3 if mo == "train" else 1) / 1e9
        tgt = TARGETS.get((ar, mo)) if a.backend == "cpu" else None
        verdict = "-" if tgt is None else ("≥%.1f: %s" % (tgt, "met" if statistics.median(ratios) >= tgt else "NOT met"))
        print("%-9s %-6s %-26s %-26s %-22s %-14s %s" % (
            ar, mo, fmt_range(r["lf"]), fmt_range(r["torch"]), fmt_range(ratios, "%.2f"),
            "%.1f (%.0f%%)" % (gf, 100 * gf / ceiling), verdict))
        record.setdefault("table", []).append({"arch": ar, "mode": mo, "lf": r["lf"], "torch": r["torch"],
                                               "ratios": ratios, "lf_gflops": gf})

    if a.reference:
        print()
        steps = ["--steps", "3", "--warmup", "1"]
        wait_quiet(a.wait_quiet)
        ref = run_json([bench, "--backend", "reference", "--arch", "convnet", "--threads",
                        str(a.threads), "--batch", str(a.batch), "--json"] + steps, env)
        wait_quiet(a.wait_quiet)
        cpu_r = run_json([bench, "--backend", "cpu", "--arch", "convnet", "--threads",
                          str(a.threads), "--batch", str(a.batch), "--json", "--steps", "30", "--warmup", "5"], env)
        sp = cpu_r["images_per_second"] / ref["images_per_second"]
        print("convnet training, cpu vs reference: %.0f vs %.1f images/s = %.1fx (target ≥5x: %s)" % (
            cpu_r["images_per_second"], ref["images_per_second"], sp, "met" if sp >= 5 else "NOT met"))
        record["reference"] = {"cpu": cpu_r, "reference": ref, "speedup": sp}

    if a.memory:
        print()
        mem = {}
        common = ["--arch", "resnet18", "--mode", "train", "--steps", "2", "--warmup", "1", "--memory"]
        for side, cmd in (("lf", [bench, "--backend", a.backend, "--threads", str(a.threads), "--batch",
                                  str(a.batch), "--json"] + common), ("torch", me + common)):
            wait_quiet(a.wait_quiet)
            r = run_json(cmd, env)
            mem[side] = r
            print("resnet18 training, %-5s: RSS after setup %.0f MiB, peak %.0f MiB, added by the steps "
                  "%.0f MiB%s" % (side, r["rss_baseline_kib"] / 1024, r["maxrss_kib"] / 1024,
                                  (r["maxrss_kib"] - r["rss_baseline_kib"]) / 1024,
                                  "; libforget allocator hook peak %.0f MiB (host allocations only)" %
                                  (r["hook_peak_bytes"] / 2 ** 20) if "hook_peak_bytes" in r else ""))
        d = {s: mem[s]["maxrss_kib"] - mem[s]["rss_baseline_kib"] for s in mem}
        ratio = d["lf"] / d["torch"]
        print("peak memory of the steps, libforget/PyTorch: %.2f (target ≤1.5: %s)" % (
            ratio, "met" if ratio <= 1.5 else "NOT met"))
        record["memory"] = dict(mem, ratio=ratio)

    if a.json:
        with open(a.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
