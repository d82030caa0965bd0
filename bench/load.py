#!/usr/bin/env python3
"""bench/load.py - load test through a mounted katibfs.

   python3 bench/load.py MOUNTPOINT [--experiments 20] [--parallel 4]
                         [--trials 16] [--readers 8] [--timeout 300]

Starts EXPERIMENTS experiments at once (parallelTrialCount PARALLEL, short
trials) while READERS threads loop over status, trials.csv and the files of
random trials for the whole run. Passes when every experiment Succeeded with
all its trials, no read failed, and nothing hung (every read and the whole
run end within the timeout; a watchdog reports a reader stuck in one read).
Reports total reads and p50/p99/max read latency. Plain file operations only.
"""
import argparse
import os
import random
import sys
import threading
import time

from bench_slice import TRIAL_JOB

SPEC = """apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: {name}
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parallelTrialCount: {parallel}
  maxTrialCount: {trials}
  maxFailedTrialCount: {trials}
  parameters:
    - name: x
      parameterType: double
      feasibleSpace:
        min: "0.1"
        max: "0.5"
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - name: x
        reference: x
""" + TRIAL_JOB + """                command:
                  - sh
                  - -c
                  - 'sleep ${{trialParameters.x}}; echo loss=${{trialParameters.x}}'
"""

TRIAL_FILES = ("status", "params", "metrics", "observations", "log", "spec")
FINAL = ("Succeeded", "Failed", "Stopped")


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def status_of(mnt, exp):
    out = {}
    for line in read_file(os.path.join(mnt, exp, "status")).decode().splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


class Reader(threading.Thread):
    def __init__(self, mnt, exps, stop, seed):
        super().__init__(daemon=True)
        self.mnt, self.exps, self.stop = mnt, exps, stop
        self.rng = random.Random(seed)
        self.lat = []
        self.errors = []
        self.busy_since = None  # start of the read in progress

    def timed_read(self, path):
        t0 = time.monotonic()
        self.busy_since = t0
        try:
            read_file(path)
        except OSError as e:
            self.errors.append("%s: %s" % (path, e))
        finally:
            self.busy_since = None
        self.lat.append(time.monotonic() - t0)

    def run(self):
        while not self.stop.is_set():
            exp = self.rng.choice(self.exps)
            d = os.path.join(self.mnt, exp)
            self.timed_read(os.path.join(d, "status"))
            self.timed_read(os.path.join(d, "trials.csv"))
            try:
                trials = os.listdir(os.path.join(d, "trials"))
            except OSError as e:
                self.errors.append("%s/trials: %s" % (d, e))
                continue
            if trials:
                t = os.path.join(d, "trials", self.rng.choice(trials))
                for f in TRIAL_FILES:
                    self.timed_read(os.path.join(t, f))


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    i = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[i]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mountpoint")
    ap.add_argument("--experiments", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--readers", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--stuck", type=float, default=30,
                    help="a single read longer than this is a deadlock")
    ap.add_argument("--keep", action="store_true",
                    help="leave the experiments (default: rmdir them)")
    a = ap.parse_args()
    mnt = a.mountpoint
    tag = "load%d" % (os.getpid() % 100000)
    exps = ["%s-%02d" % (tag, i) for i in range(a.experiments)]

    stop = threading.Event()
    readers = []
    t_start = time.monotonic()
    for i, exp in enumerate(exps):
        os.mkdir(os.path.join(mnt, exp))
    # The readers start before the specs, so they see the whole run.
    for i in range(a.readers):
        r = Reader(mnt, exps, stop, i)
        r.start()
        readers.append(r)
    for exp in exps:
        with open(os.path.join(mnt, exp, "spec.yaml"), "w") as f:
            f.write(SPEC.format(name=exp, parallel=a.parallel, trials=a.trials))

    failures = []
    pending = set(exps)
    deadline = t_start + a.timeout
    while pending:
        now = time.monotonic()
        if now > deadline:
            failures.append("timeout: not finished after %.0fs: %s"
                            % (a.timeout, " ".join(sorted(pending))))
            break
        for r in readers:
            b = r.busy_since
            if b is not None and now - b > a.stuck:
                print("load: DEADLOCK? a reader is stuck in one read for %.0fs"
                      % (now - b), flush=True)
                os._exit(2)
        for exp in list(pending):
            st = status_of(mnt, exp)
            if st.get("state") in FINAL:
                pending.discard(exp)
                if st.get("state") != "Succeeded" or st.get("trials") != str(a.trials) \
                        or st.get("succeeded") != str(a.trials):
                    failures.append("%s: %s" % (exp, " ".join(
                        "%s=%s" % kv for kv in st.items())))
        time.sleep(0.2)
    run_secs = time.monotonic() - t_start
    stop.set()
    for r in readers:
        r.join(a.stuck)
        if r.is_alive():
            print("load: DEADLOCK? a reader did not finish its loop", flush=True)
            os._exit(2)

    # The tables are complete: one row per trial.
    for exp in exps:
        rows = read_file(os.path.join(mnt, exp, "trials.csv")).decode().splitlines()
        if len(rows) != a.trials + 1:
            failures.append("%s: trials.csv has %d rows" % (exp, len(rows) - 1))
    if not a.keep and not failures:
        for exp in exps:
            os.rmdir(os.path.join(mnt, exp))

    lat = sorted(x for r in readers for x in r.lat)
    errors = [e for r in readers for e in r.errors]
    print("load: %d experiments x %d trials (parallel %d), %d readers, %.1fs"
          % (a.experiments, a.trials, a.parallel, a.readers, run_secs))
    print("load: reads=%d errors=%d p50=%.2fms p99=%.2fms max=%.2fms (%.0f reads/s)"
          % (len(lat), len(errors), pct(lat, 50) * 1e3, pct(lat, 99) * 1e3,
             (lat[-1] if lat else 0) * 1e3, len(lat) / run_secs if run_secs else 0))
    for e in errors[:10]:
        print("load: read error: " + e)
    for f in failures[:10]:
        print("load: FAIL " + f)
    return 1 if errors or failures else 0


if __name__ == "__main__":
    sys.exit(main())
