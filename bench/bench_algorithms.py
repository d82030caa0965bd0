#!/usr/bin/env python3
"""Optimisation benchmark of katibfs's search algorithms through a MOUNTED
katibfs, exactly as a user drives it: one experiment per function,
algorithm and seed (spec from ../shared/bench/functions.py
--katib-experiment, trial program ../shared/bench/objective.py,
parallelTrialCount 1, random_state=seed when the algorithm takes it),
wait for state=Succeeded, read trials.csv, write the candidate JSON and
compare it with Optuna's baseline (compare.py).

  bench_algorithms.py MOUNTPOINT [--out-dir bench/results]

Environment: BENCH_ALGOS (default tpe,multivariate-tpe,sobol,random),
BENCH_SEEDS (10), BENCH_FUNCTIONS (all), BENCH_JOBS (experiments at once,
default 4), BENCH_SHARED (default: the repo's ../shared/bench), BENCH_TIMEOUT
(seconds per experiment, default 900).
"""
import csv
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("BENCH_SHARED",
                        os.path.join(os.path.dirname(TOP), "shared", "bench"))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
BASELINE_SAMPLER = {"tpe": "tpe", "multivariate-tpe": "tpe_mv",
                    "cmaes": "cmaes", "sobol": "qmc_sobol",
                    "random": "random", "bayesianoptimization": "tpe_mv"}


def functions():
    out = subprocess.run([PY, os.path.join(SHARED, "functions.py")],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def spec_text(fn, alg, seed, with_seed):
    text = subprocess.run(
        [PY, os.path.join(SHARED, "functions.py"), "--katib-experiment", fn,
         "--algorithm", alg], check=True, capture_output=True, text=True).stdout
    text = text.replace("/bench/objective.py",
                        os.path.join(SHARED, "objective.py"))
    if with_seed:
        text = text.replace(
            "    algorithmName: %s\n" % alg,
            "    algorithmName: %s\n    algorithmSettings:\n"
            "      - name: random_state\n        value: \"%d\"\n" % (alg, seed))
    return text


def status(mnt, name):
    d = {}
    try:
        with open(os.path.join(mnt, name, "status")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                d[k] = v
    except OSError:
        pass
    return d


def run_experiment(mnt, fn, alg, seed, timeout):
    name = "b-%s-%s-%d" % (fn, alg, seed)
    path = os.path.join(mnt, name)
    if not os.path.isdir(path):
        os.mkdir(path)
    ok = False
    for with_seed in (True, False):
        try:
            with open(os.path.join(path, "spec.yaml"), "w") as f:
                f.write(spec_text(fn, alg, seed, with_seed))
            ok = True
            break
        except OSError:
            continue  # e.g. sobol takes no random_state
    if not ok:
        raise RuntimeError("%s: spec rejected" % name)
    end = time.time() + timeout
    while True:
        st = status(mnt, name).get("state")
        if st == "Succeeded":
            break
        if st in ("Failed", "Stopped") or time.time() > end:
            raise RuntimeError("%s: state %s" % (name, st))
        time.sleep(0.2)
    with open(os.path.join(path, "trials.csv")) as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: int(r["trial"]))
    values = [float(r["objective"]) for r in rows if r.get("objective")]
    return {"function": fn, "seed": seed, "values": values}


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    mnt = argv[1]
    out_dir = os.path.join(TOP, "bench", "results")
    if "--out-dir" in argv:
        out_dir = argv[argv.index("--out-dir") + 1]
    os.makedirs(out_dir, exist_ok=True)
    algos = os.environ.get("BENCH_ALGOS",
                           "tpe,multivariate-tpe,sobol,random").split(",")
    seeds = int(os.environ.get("BENCH_SEEDS", "10"))
    jobs = int(os.environ.get("BENCH_JOBS", "4"))
    timeout = float(os.environ.get("BENCH_TIMEOUT", "900"))
    fns = list(functions())
    if os.environ.get("BENCH_FUNCTIONS"):
        fns = [f for f in fns if f in os.environ["BENCH_FUNCTIONS"].split(",")]
    baseline = os.path.join(SHARED, "optuna_baseline.json")
    status_code = 0
    for alg in algos:
        t0 = time.time()
        work = [(fn, s) for fn in fns for s in range(1, seeds + 1)]
        with ThreadPoolExecutor(max_workers=jobs) as ex:
            futs = [ex.submit(run_experiment, mnt, fn, alg, s, timeout)
                    for fn, s in work]
            runs = []
            for f in futs:
                try:
                    runs.append(f.result())
                except Exception as e:  # report and go on
                    print("bench_algorithms: %s" % e, file=sys.stderr)
                    status_code = 1
        cand = {"schema": "katibfs-bench/candidate/1", "tool": "katibfs",
                "version": "mounted", "algorithm": alg, "runs": runs}
        cpath = os.path.join(out_dir, "katibfs_%s.json" % alg)
        with open(cpath, "w") as f:
            json.dump(cand, f)
        lat = os.path.join(TOP, "build", "latency")
        if os.access(lat, os.X_OK):
            subprocess.run([lat, alg, "--into", cpath,
                            "--fill", "self" if "tpe" in alg or alg in
                            ("random", "sobol") else "random"], check=False,
                           stdout=subprocess.DEVNULL)
        print("%s: %d experiments in %.0f s" % (alg, len(runs),
                                               time.time() - t0))
        md = os.path.join(out_dir, "katibfs_%s_vs_optuna.md" % alg)
        base = BASELINE_SAMPLER.get(alg, "tpe")
        samplers = ",".join(dict.fromkeys([base, "tpe", "tpe_mv", "random"]))
        if os.path.exists(baseline):
            r = subprocess.run(
                [PY, os.path.join(SHARED, "compare.py"), baseline, cpath,
                 "--label", "katibfs-" + alg, "--baseline-samplers", samplers,
                 "--out-md", md], capture_output=True, text=True)
            sys.stdout.write(r.stdout[-4000:])
            if r.returncode:
                sys.stderr.write(r.stderr)
                status_code = 1
    return status_code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
