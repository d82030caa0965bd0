#!/usr/bin/python3
"""Multi-objective quality (issue 13): katibfs against Optuna 3.1.

ZDT1 and ZDT2 with 5 variables in [0, 1], both objectives minimised,
N = 100 trials, 10 seeds. Measure: the hypervolume of the front of all N
trials, reference point (1.1, 11) - 10% beyond the worst value each
objective can take on these functions (f1 <= 1, f2 <= 10). The ideal front
gives 11.767 (ZDT1) and 11.433 (ZDT2). katibfs runs in process
(build/mo_harness, which writes every trial's objectives); Optuna runs
NSGAIISampler and TPESampler (multi-objective TPE) with default settings and
seed = the run's seed. Both are measured here by one hypervolume function.

  bench_multiobjective.py [--algorithms tpe,multivariate-tpe,...]
                          [--seeds 10] [--budget 100] [--out DIR]

Prints the table and writes DIR/multiobjective.md and .json (default
bench/results). Exit 1 if the first katibfs algorithm listed falls below
the better Optuna sampler's median on a function.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

REF = (1.1, 11.0)
NVARS = 5
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def zdt(kind, x):
    g = 1 + 9 * sum(x[1:]) / (NVARS - 1)
    r = x[0] / g
    return x[0], g * (1 - (r ** 0.5 if kind == 1 else r * r))


def hypervolume(points, ref=REF):
    pts = sorted(p for p in points if p[0] < ref[0] and p[1] < ref[1])
    area, ymin = 0.0, ref[1]
    for x, y in pts:
        if y < ymin:
            area += (ref[0] - x) * (ymin - y)
            ymin = y
    return area


def optuna_run(sampler_name, kind, seed, budget):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler_name == "NSGAIISampler":
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(directions=["minimize", "minimize"],
                                sampler=sampler)

    def objective(trial):
        x = [trial.suggest_float("x%d" % i, 0, 1) for i in range(NVARS)]
        return zdt(kind, x)

    study.optimize(objective, n_trials=budget)
    return [tuple(t.values) for t in study.trials if t.values]


def katibfs_runs(algorithm, seeds, budget):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run([os.path.join(TOP, "build", "mo_harness"), algorithm,
                        "--seeds", str(seeds), "--budget", str(budget),
                        "--out", f.name], check=True,
                       stdout=subprocess.DEVNULL)
        runs = json.load(open(f.name))["runs"]
    out = {}
    for r in runs:
        out.setdefault(r["function"], []).append(
            hypervolume([tuple(p) for p in r["points"]]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--algorithms",
                    default="tpe,bayesianoptimization,multivariate-tpe,random,sobol")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--out", default=os.path.join(TOP, "bench", "results"))
    a = ap.parse_args()
    import optuna

    rows = {}
    for alg in a.algorithms.split(","):
        for fn, hvs in katibfs_runs(alg, a.seeds, a.budget).items():
            rows[("katibfs " + alg, fn)] = hvs
    for s in ("NSGAIISampler", "TPESampler"):
        for kind in (1, 2):
            rows[("optuna %s %s" % (optuna.__version__, s), "zdt%d" % kind)] = [
                hypervolume(optuna_run(s, kind, seed, a.budget))
                for seed in range(1, a.seeds + 1)]
    names = list(dict.fromkeys(k[0] for k in rows))
    lines = ["Hypervolume of the front after N = %d trials, median [min, max] "
             "of %d seeds; reference point (%g, %g); ideal: zdt1 11.767, "
             "zdt2 11.433. Higher is better." % (a.budget, a.seeds, *REF), "",
             "| sampler | zdt1 | zdt2 |", "|---|---|---|"]
    for n in names:
        cells = []
        for fn in ("zdt1", "zdt2"):
            v = rows.get((n, fn), [])
            cells.append("%.4f [%.4f, %.4f]" % (statistics.median(v), min(v), max(v))
                         if v else "-")
        lines.append("| %s | %s |" % (n, " | ".join(cells)))
    text = "\n".join(lines)
    print(text)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "multiobjective.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.out, "multiobjective.json"), "w") as f:
        json.dump({"reference": REF, "budget": a.budget, "seeds": a.seeds,
                   "hypervolume": [{"sampler": k[0], "function": k[1], "values": v}
                                   for k, v in rows.items()]}, f, indent=1)
    first = "katibfs " + a.algorithms.split(",")[0]
    bad = 0
    for fn in ("zdt1", "zdt2"):
        ours = statistics.median(rows[(first, fn)])
        theirs = max(statistics.median(v) for k, v in rows.items()
                     if k[1] == fn and k[0].startswith("optuna"))
        if ours < theirs:
            print("%s on %s: %.4f below Optuna's best %.4f" % (first, fn, ours, theirs))
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
