#!/usr/bin/python3
"""bayesianoptimization's estimators against random search, in process
(make bench): build/algo_harness for base_estimator GP, RF, ET and GBRT
and for random, 10 seeds, on the seven functions of ../shared/bench and
the noisy cvacc (bench/noisy_functions.py), each at its own budget.

  bo_estimators.py [--seeds 10] [--out-dir bench/results] [--functions a,b]

Writes inprocess_bo_<EST>.json, inprocess_random_bo.json and
bo_estimators.md (median [Q1, Q3] regret at N: each estimator vs random,
and cvacc vs Optuna's TPE from results/optuna_cvacc.json); prints the
table. Exit status 1 when an estimator's median regret at N is not below
random's on some function.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import noisy_functions as nf  # noqa: E402
from optuna_noisy import quart  # noqa: E402

ESTIMATORS = ["GP", "RF", "ET", "GBRT"]
FUNCTIONS = ["branin", "hartmann6", "rosenbrock4", "ackley5", "levy4",
             "mixed", "lrbowl", "cvacc"]
F_OPT = {"branin": 0.397887357729738, "hartmann6": -3.3223680114155147,
         "rosenbrock4": 0.0, "ackley5": 0.0, "levy4": 0.0, "mixed": 0.0,
         "lrbowl": 0.2, "cvacc": nf.F_OPT}


def harness(alg, sets, seeds, functions, out):
    cmd = [os.path.join(TOP, "build", "algo_harness"), alg, "--seeds",
           str(seeds), "--functions", ",".join(functions), "--out", out]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["runs"]


def regret(run, k):
    v = run["values"][:k]
    truth = run.get("truth", run["values"])
    i = min(range(len(v)), key=lambda j: v[j])
    return truth[i] - F_OPT[run["function"]]


def cell(runs):
    m, a, b = quart([regret(r, len(r["values"])) for r in runs])
    return m, "%.3g [%.3g, %.3g]" % (m, a, b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--out-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--functions", default=",".join(FUNCTIONS))
    a = ap.parse_args()
    fns = a.functions.split(",")
    runs = {}
    for est in ESTIMATORS:
        runs[est] = harness("bayesianoptimization",
                            ["base_estimator=" + est], a.seeds, fns,
                            os.path.join(a.out_dir,
                                         "inprocess_bo_%s.json" % est))
    runs["random"] = harness("random", [], a.seeds, fns,
                             os.path.join(a.out_dir,
                                          "inprocess_random_bo.json"))
    tpe = []
    base = os.path.join(a.out_dir, "optuna_cvacc.json")
    if os.path.exists(base):
        with open(base) as f:
            tpe = [r for r in json.load(f)["runs"] if r["sampler"] == "tpe"]
    lines = ["| function | N | " + " | ".join(ESTIMATORS) +
             " | random | Optuna tpe |",
             "|---|---|" + "---|" * (len(ESTIMATORS) + 2)]
    worse = []
    for fn in fns:
        rnd_m, rnd = cell([r for r in runs["random"] if r["function"] == fn])
        cells = []
        for est in ESTIMATORS:
            rs = [r for r in runs[est] if r["function"] == fn]
            m, text = cell(rs)
            if not m < rnd_m:
                worse.append("%s on %s" % (est, fn))
            cells.append(text)
        n = len(runs["random"][[r["function"] for r in
                                runs["random"]].index(fn)]["values"])
        t = cell(tpe)[1] if fn == "cvacc" and tpe else "-"
        lines.append("| %s | %d | %s | %s | %s |" % (fn, n, " | ".join(cells),
                                                    rnd, t))
    text = ("Median [Q1, Q3] regret at N, %d seeds, in process "
            "(bench/bo_estimators.py).\n\n" % a.seeds) + "\n".join(lines) + "\n"
    with open(os.path.join(a.out_dir, "bo_estimators.md"), "w") as f:
        f.write(text)
    print(text)
    if worse:
        print("not better than random:", ", ".join(worse))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
