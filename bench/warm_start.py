#!/usr/bin/env python3
"""Warm-start benchmark through a MOUNTED katibfs (issue 14): for each
seed, tpe runs SOURCE_TRIALS trials of a function (from
../shared/bench/functions.py); then tpe runs WARM_TRIALS trials of the same
function warm-started from that run (katibfs/warm-start), and, for
comparison, WARM_TRIALS trials cold. Prints, per seed and as medians over
the seeds, the best value of each run and its regret (best - f*).

The claim it measures: warm-started, tpe reaches within WARM_TRIALS trials
a best close to the earlier run's best, where a cold run of that length is
far from it.

  warm_start.py MOUNTPOINT [--out bench/results/warm_start.md]

Environment: BENCH_WARM_FUNCTION (default hartmann6), BENCH_SEEDS (10),
BENCH_WARM_SOURCE (50), BENCH_WARM_TRIALS (10), BENCH_JOBS (4).
"""
import os
import re
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_algorithms as ba  # noqa: E402


def run(mnt, name, text, timeout=900):
    path = os.path.join(mnt, name)
    if not os.path.isdir(path):
        os.mkdir(path)
    with open(os.path.join(path, "spec.yaml"), "w") as f:
        f.write(text)
    end = time.time() + timeout
    while True:
        st = ba.status(mnt, name).get("state")
        if st == "Succeeded":
            break
        if st in ("Failed", "Stopped") or time.time() > end:
            raise RuntimeError("%s: state %s" % (name, st))
        time.sleep(0.2)
    with open(os.path.join(path, "trials.csv")) as f:
        rows = list(ba.csv.DictReader(f))
    return min(float(r["objective"]) for r in rows if r.get("objective"))


def spec(fn, seed, trials, warm_from=None):
    text = ba.spec_text(fn, "tpe", seed, True)
    text = re.sub(r"maxTrialCount: \d+", "maxTrialCount: %d" % trials, text)
    if warm_from:
        text = text.replace(
            "metadata:\n",
            "metadata:\n  annotations:\n    katibfs/warm-start: %s\n"
            % warm_from, 1)
    return text


def one_seed(mnt, fn, seed, n_source, n_warm):
    src = "w-%s-src-%d" % (fn, seed)
    best_src = run(mnt, src, spec(fn, seed, n_source))
    # the later runs use another seed: a new search, not a replay
    best_warm = run(mnt, "w-%s-warm-%d" % (fn, seed),
                    spec(fn, seed + 1000, n_warm, src))
    best_cold = run(mnt, "w-%s-cold-%d" % (fn, seed),
                    spec(fn, seed + 1000, n_warm))
    return seed, best_src, best_warm, best_cold


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    mnt = argv[1]
    out = os.path.join(ba.TOP, "bench", "results", "warm_start.md")
    if "--out" in argv:
        out = argv[argv.index("--out") + 1]
    fn = os.environ.get("BENCH_WARM_FUNCTION", "hartmann6")
    seeds = int(os.environ.get("BENCH_SEEDS", "10"))
    n_source = int(os.environ.get("BENCH_WARM_SOURCE", "50"))
    n_warm = int(os.environ.get("BENCH_WARM_TRIALS", "10"))
    jobs = int(os.environ.get("BENCH_JOBS", "4"))
    f_opt = ba.functions()[fn]["f_opt"]
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        res = sorted(ex.map(lambda s: one_seed(mnt, fn, s, n_source, n_warm),
                            range(1, seeds + 1)))
    lines = ["# Warm start (tpe, %s, f* = %.6g)" % (fn, f_opt), "",
             "Best value per run and its regret (best - f*); %d seeds, "
             "%.0f s." % (seeds, time.time() - t0), "",
             "| seed | source (%d trials) | warm-started (%d) | cold (%d) |"
             % (n_source, n_warm, n_warm),
             "|---:|---:|---:|---:|"]
    for seed, s, w, c in res:
        lines.append("| %d | %.4f | %.4f | %.4f |" % (seed, s, w, c))
    med = [statistics.median(r[i] for r in res) for i in (1, 2, 3)]
    lines.append("| median | %.4f | %.4f | %.4f |" % tuple(med))
    lines.append("| median regret | %.4f | %.4f | %.4f |"
                 % tuple(statistics.median(r[i] - f_opt for r in res)
                         for i in (1, 2, 3)))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
