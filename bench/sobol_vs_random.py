#!/usr/bin/env python3
"""sobol (Owen-scrambled, random_state = seed) against random, in process.

Runs build/algo_harness for both algorithms on the same seeds and prints,
per function, the median regret at N/2 and N of each, and A12 =
P(sobol regret < random regret) over all seed pairs (ties 1/2; 0.5 = no
difference, > 0.5 = sobol better) with the two-sided Mann-Whitney U p when
scipy is installed (/usr/bin/python3 has it on Debian). f* and N come from
../shared/bench/optuna_baseline.json, as compare.py takes them.

For scale, the same table's last two columns give Optuna's own figures at
its 10 seeds from that file: QMCSampler(qmc_type="sobol", scramble=True)
and RandomSampler, median regret at k. At 10 seeds the difference between a
scrambled Sobol sequence and random search is within seed noise for Optuna
too (its sobol is behind its random on hartmann6 and mixed at N).

    python3 bench/sobol_vs_random.py [--seeds 10] [--seed-start 1]
                                     [--functions branin,hartmann6,ackley5]
                                     [--out-md FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(TOP, "..", "shared", "bench", "optuna_baseline.json")
if not os.path.exists(BASELINE):
    BASELINE = "/work/shared/bench/optuna_baseline.json"


def harness(alg, args, out):
    """The runs of seeds seed_start.. (the harness takes 256 at a time)."""
    runs, start, left = [], args.seed_start, args.seeds
    while left > 0:
        n = min(left, 200)
        cmd = [os.path.join(TOP, "build", "algo_harness"), alg,
               "--seeds", str(n), "--seed-start", str(start),
               "--functions", args.functions, "--out", out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            runs += json.load(f)["runs"]
        start, left = start + n, left - n
    return runs


def regrets(runs, fn, k, f_opt):
    return [min(r["values"][:k]) - f_opt for r in runs if r["function"] == fn]


def a12(a, b):
    wins = sum((x < y) + 0.5 * (x == y) for x in a for y in b)
    return wins / (len(a) * len(b))


def mwu_p(a, b):
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        return None
    return mannwhitneyu(a, b, alternative="two-sided").pvalue


def optuna_median(baseline, fn, sampler, k, n):
    """Optuna's median regret at k (its half or full budget), as text."""
    summary = baseline["summary"].get(fn, {}).get(sampler)
    if not summary:
        return "-"
    return "%.3g" % summary["full" if k == n else "half"]["median"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--seed-start", type=int, default=1)
    ap.add_argument("--functions", default="branin,hartmann6,ackley5")
    ap.add_argument("--out-md")
    args = ap.parse_args()
    with open(BASELINE) as f:
        baseline = json.load(f)
    functions = baseline["functions"]
    with tempfile.TemporaryDirectory() as tmp:
        sob = harness("sobol", args, os.path.join(tmp, "sobol.json"))
        rnd = harness("random", args, os.path.join(tmp, "random.json"))
    lines = ["sobol (random_state = seed) vs random, %d seeds from %d, "
             "in process (build/algo_harness)" % (args.seeds, args.seed_start),
             "",
             "| function | k | sobol median | random median | A12 | p "
             "| Optuna sobol | Optuna random |",
             "|---|---|---|---|---|---|---|---|"]
    for fn in args.functions.split(","):
        n, f_opt = functions[fn]["budget"], functions[fn]["f_opt"]
        for k in (n // 2, n):
            s, r = regrets(sob, fn, k, f_opt), regrets(rnd, fn, k, f_opt)
            p = mwu_p(s, r)
            opt = [optuna_median(baseline, fn, name, k, n)
                   for name in ("qmc_sobol", "random")]
            lines.append("| %s | %d | %.3g | %.3g | %.2f | %s | %s | %s |" % (
                fn, k, statistics.median(s), statistics.median(r), a12(s, r),
                "%.3g" % p if p is not None else "-", *opt))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out_md:
        with open(args.out_md, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
