#!/usr/bin/python3
"""Optuna 3.1 on the noisy function cvacc (bench/noisy_functions.py), and
the comparison with katibfs's in-process runs of it.

  optuna_noisy.py [--seeds 10] [--out-json bench/results/optuna_cvacc.json]
  optuna_noisy.py --compare CANDIDATE.json [...]   (algo_harness --out files)

The first form runs Optuna's TPESampler and RandomSampler (seeded 1..N,
define-and-run ask/tell with fixed distributions, as
../shared/bench/optuna_baseline.py drives them) for the function's 20-trial
budget and writes every run's observed and noiseless values.  The second
prints the median [Q1, Q3] regret at N/2 and N of each candidate next to
the baseline's samplers (regret: noiseless value of the best observed
trial, minus the optimum).  Debian's python3-optuna: /usr/bin/python3.
"""
import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import noisy_functions as nf  # noqa: E402

DEFAULT_JSON = os.path.join(HERE, "results", "optuna_cvacc.json")


def run_optuna(sampler, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dist = {}
    for name, typ, lo, hi, log in nf.PARAMS:
        if typ == "int":
            dist[name] = optuna.distributions.IntDistribution(lo, hi, log=log)
        else:
            dist[name] = optuna.distributions.FloatDistribution(lo, hi,
                                                                log=log)
    make = {"tpe": optuna.samplers.TPESampler,
            "random": optuna.samplers.RandomSampler}[sampler]
    study = optuna.create_study(direction="minimize", sampler=make(seed=seed))
    values, truth = [], []
    for k in range(nf.BUDGET):
        t = study.ask(fixed_distributions=dist)
        p = dict(t.params)
        truth.append(nf.cvacc(p))
        values.append(truth[-1] + nf.NOISE * nf.noise(seed, k))
        study.tell(t, values[-1])
    return {"function": nf.NAME, "sampler": sampler, "seed": seed,
            "values": values, "truth": truth}


def quart(xs):
    xs = sorted(xs)
    n = len(xs)

    def q(f):
        pos = f * (n - 1)
        i = int(pos)
        return xs[i] if i + 1 >= n else xs[i] + (xs[i + 1] - xs[i]) * (pos - i)
    return q(0.5), q(0.25), q(0.75)


def row(name, runs):
    cells = []
    for k in (nf.BUDGET // 2, nf.BUDGET):
        m, a, b = quart([nf.regret(r["values"], r["truth"], k) for r in runs])
        cells.append("%.3g [%.3g, %.3g]" % (m, a, b))
    return "| %s | %s | %s | %d |" % (name, cells[0], cells[1], len(runs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--out-json", default=DEFAULT_JSON)
    ap.add_argument("--baseline", default=DEFAULT_JSON)
    ap.add_argument("--compare", nargs="*")
    a = ap.parse_args()
    if a.compare is None:
        runs = [run_optuna(s, seed) for s in ("tpe", "random")
                for seed in range(1, a.seeds + 1)]
        with open(a.out_json, "w") as f:
            json.dump({"schema": "katibfs-bench/optuna-noisy/1",
                       "function": nf.NAME, "budget": nf.BUDGET,
                       "noise": nf.NOISE, "f_opt": nf.F_OPT,
                       "runs": runs}, f, indent=1)
        print("wrote", a.out_json)
        a.compare = []
    with open(a.baseline) as f:
        base = json.load(f)
    print("| %s (N=%d, noise sd %g) | regret @N/2 median [Q1, Q3] | "
          "regret @N median [Q1, Q3] | seeds |" % (nf.NAME, nf.BUDGET,
                                                    nf.NOISE))
    print("|---|---|---|---|")
    for path in a.compare:
        with open(path) as f:
            cand = json.load(f)
        runs = [r for r in cand["runs"] if r["function"] == nf.NAME]
        label = cand.get("label") or os.path.basename(path)
        print(row("katibfs " + label, runs))
    for s in ("tpe", "random"):
        print(row("Optuna " + s, [r for r in base["runs"]
                                  if r["sampler"] == s]))


if __name__ == "__main__":
    main()
