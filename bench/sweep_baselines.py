#!/usr/bin/env python3
"""Sweeps the baselines' main knobs on one original model and one forget set (issue 5).

Retrain runs once (or is read back from OUT/retrain.json); every other configuration runs
`forget unlearn --json`, and its Avg. Disparity against that Retrain is computed here the way
`forget bench` does (mean |difference| of UA, MIA-Efficacy, RA and TA). Results are appended to
OUT/sweep.jsonl, one line per run, so an interrupted sweep resumes where it stopped.

    python3 bench/sweep_baselines.py --forget class:0 --model convnet.safetensors \\
        --out sweep_class0 [--forget-bin build/src/cli/forget] [--threads 2] [--only ga,ff]

Prints, per method, every configuration sorted by Avg. Disparity with its time against Retrain's.
"""
import argparse
import json
import os
import subprocess
import sys

# The grid: what each method's knobs are swept over (other parameters at their defaults).
GRID = {
    "ft": [{"epochs": e, "lr": lr} for e in (1, 3) for lr in (0.01, 0.04)]
          + [{"epochs": e, "lr": 0.08} for e in (2, 3)],
    "l1sparse": [{"epochs": e, "lr": 0.04, "gamma": 1e-3} for e in (1, 3)]
                + [{"epochs": 2, "lr": 0.04, "gamma": 1e-3}, {"epochs": 3, "lr": 0.04, "gamma": 3e-4},
                   {"epochs": 2, "lr": 0.04, "gamma": 3e-4}],
    "ga": [{"epochs": e, "lr": lr} for e in (1, 5) for lr in (1e-5, 1e-4, 1e-3)]
          + [{"epochs": 1, "lr": lr} for lr in (2e-4, 3e-4, 5e-4)]
          + [{"epochs": 5, "lr": lr} for lr in (2e-5, 5e-5)],
    "ff": [{"alpha": a} for a in (1e-7, 1e-6, 1e-5)],
    "iu": [{"solver": "cg", "lambda": lam} for lam in (0.1, 1.0, 10.0, 100.0)]
          + [{"solver": "woodfisher", "alpha": a} for a in (1.0, 0.3)],
    "remi": [{"lr": lr} for lr in (0.01, 0.002, 0.001)]
            + [{"lr": 0.002, "remi.kl_tol": 1e-3, "remi.gap_tol": 5e-3},
               {"lr": 0.001, "remi.lambda_kl": 0.1, "remi.kl_tol": 1e-3, "remi.gap_tol": 5e-3}],
    # DAU (issue 6): B' and the pre-training shrunk to fit 1/5 of Retrain's time; the rest swept.
    # Swept before the defaults moved: the base spells out the then-defaults (m = 10 copies; lr 0
    # then meant the spec's recipe: 0.02 class-wise, 0.01 random — now it means 0.04, so rerun
    # the base rows with those values to reproduce them).
    "dau": [dict({"dau.side_batch": 64, "dau.pretrain_steps": 200, "epochs": 1, "lr": 0,
                  "dau.sens_copies": 10}, **p) for p in (
        {}, {"lr": 0.01}, {"dau.lambda_adv": 0.1}, {"dau.sens_copies": 2},
        {"epochs": 2, "dau.sens_copies": 2}, {"epochs": 2, "class_only": 1},
        {"batch": 512, "epochs": 2, "class_only": 1}, {"dau.lr_after_stop": 0.04},
        {"dau.stop_iter": 15},
        {"dau.sens_copies": 2, "lr": 0.04}, {"dau.sens_copies": 2, "lr": 0.08},
        {"dau.sens_copies": 2, "lr": 0.03}, {"dau.sens_copies": 2, "lr": 0.04, "epochs": 2},
        {"dau.sens_copies": 2, "lr": 0.04, "dau.lr_after_stop": 0.01})],
}
METRICS = ("ua", "mia_efficacy", "ra", "ta")
# Configurations run for class-wise forgetting only: parameters that only act there, and the
# marker class_only (too slow for random forgetting, where every step is adversarial).
CLASS_ONLY = {"dau.stop_iter", "dau.lr_after_stop", "class_only"}


def run_unlearn(args, method, params, out_model):
    cmd = [args.forget_bin, "unlearn", "-m", args.model, "--forget", args.forget,
           "--method", method, "-o", out_model, "--threads", str(args.threads), "--json", "-q"]
    for k, v in params.items():
        if k != "class_only":
            cmd += ["--param", f"{k}={v}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"method": method, "params": params, "error": proc.stderr.strip()[-400:]}
    row = json.loads(proc.stdout)
    row["params"] = params
    return row


def key_of(method, params):
    return method + " " + json.dumps(params, sort_keys=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--forget", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--forget-bin", default="build/src/cli/forget")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated methods (default: all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    scratch = os.path.join(args.out, "model.safetensors")

    retrain_path = os.path.join(args.out, "retrain.json")
    if not os.path.exists(retrain_path):
        row = run_unlearn(args, "retrain", {}, os.path.join(args.out, "retrain.safetensors"))
        if "error" in row:
            sys.exit("retrain failed: " + row["error"])
        with open(retrain_path, "w") as f:
            json.dump(row, f)
    with open(retrain_path) as f:
        retrain = json.load(f)

    log_path = os.path.join(args.out, "sweep.jsonl")
    done = {}
    if os.path.exists(log_path):
        with open(log_path) as f:
            for line in f:
                r = json.loads(line)
                done[key_of(r["method"], r["params"])] = r
    listed = subprocess.run([args.forget_bin, "methods", "--json"], capture_output=True, text=True)
    available = {json.loads(line)["method"] for line in listed.stdout.splitlines() if line.strip()}
    methods = [m for m in GRID if (not args.only or m in args.only.split(",")) and m in available]
    skipped = [m for m in GRID if m not in available]
    if skipped:
        print("not in this build (skipped):", ", ".join(skipped), flush=True)
    class_wise = args.forget.startswith("class:")
    for method in methods:
        for params in GRID[method]:
            k = key_of(method, params)
            if k in done or (not class_wise and CLASS_ONLY & params.keys()):
                continue
            r = run_unlearn(args, method, params, scratch)
            if "error" not in r:
                r["avg_disparity"] = sum(abs(r[m] - retrain[m]) for m in METRICS) / len(METRICS)
                r["time_ratio"] = r["seconds"] / retrain["seconds"]
            done[k] = r
            with open(log_path, "a") as f:
                f.write(json.dumps(r) + "\n")
            print(k, "->", "error" if "error" in r else
                  f"Avg.D {r['avg_disparity']:.2f} time {r['time_ratio']:.3f}x", flush=True)

    print(f"\nretrain: UA {retrain['ua']:.2f} MIA {retrain['mia_efficacy']:.2f} "
          f"RA {retrain['ra']:.2f} TA {retrain['ta']:.2f} in {retrain['seconds']:.1f} s")
    print("| method | parameters | UA | MIA-Eff. | RA | TA | Avg. D | time s | time / Retrain |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for method in methods:
        rows = [done[key_of(method, p)] for p in GRID[method] if key_of(method, p) in done]
        rows.sort(key=lambda r: r.get("avg_disparity", float("inf")))
        for r in rows:
            ps = " ".join(f"{k}={v}" for k, v in r["params"].items())
            if "error" in r:
                print(f"| {method} | {ps} | error: {r['error'][:80]} |")
                continue
            print(f"| {method} | {ps} | {r['ua']:.2f} | {r['mia_efficacy']:.2f} | {r['ra']:.2f} | "
                  f"{r['ta']:.2f} | {r['avg_disparity']:.2f} | {r['seconds']:.1f} | "
                  f"{r['time_ratio']:.3f} |")


if __name__ == "__main__":
    main()
