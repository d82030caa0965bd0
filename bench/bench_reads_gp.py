#!/usr/bin/env python3
"""Reads while the GP suggests (issue 11), through a mounted katibfs.

Usage: bench_reads_gp.py MOUNTPOINT DAEMON_PID [--history H] [--trials N]
                         [--name EXPERIMENT]

A suggestion of bayesianoptimization refits a Gaussian process on every
trial so far: tens of ms at 1,000 trials. First H trials (default 1000) of
random search on a 2-parameter bowl are run in EXPERIMENT-history; then
EXPERIMENT runs N trials (default 400) of bayesianoptimization at
parallelTrialCount 8 with those as history (katibfs/warm-start), so every
suggestion fits H+ points. Meanwhile a second process loops
open+read+close of status, best, trials.csv and trials/1/params
(bench_scale.py's reader); printed: p50/p99/max of each while the GP
experiment runs, then the same reads idle. Target: p99 <= 5 ms, max <= 50
ms while it runs.
"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_slice import TRIAL_JOB  # noqa: E402
from bench_scale import (FILES, IDLE_SECONDS, cpu_seconds,  # noqa: E402
                         finished_trials, pct)

SPEC = """apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  annotations: {{{annotations}}}
spec:
  objective: {{type: minimize, objectiveMetricName: objective}}
  algorithm: {{algorithmName: {algorithm}, algorithmSettings: [{{name: random_state, value: "7"}}]}}
  parallelTrialCount: 8
  maxTrialCount: {trials}
  parameters:
    - name: x
      parameterType: double
      feasibleSpace: {{min: "0", max: "1"}}
    - name: y
      parameterType: double
      feasibleSpace: {{min: "0", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters: [{{name: x, reference: x}}, {{name: y, reference: y}}]
""" + TRIAL_JOB + """                command:
                  - sh
                  - -c
                  - >-
                    awk -v x=${{trialParameters.x}} -v y=${{trialParameters.y}}
                    'BEGIN {{ print "objective=" (x - 0.3) ^ 2 + (y - 0.6) ^ 2 }}'
"""
ENDED = ("Succeeded", "Failed", "Stopped")


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


def run(exp, text):
    os.mkdir(exp)
    with open(os.path.join(exp, "spec.yaml"), "w") as f:
        f.write(text)


def wait_ended(exp, timeout=3600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, state = finished_trials(exp)
        if state in ENDED:
            return done, state
        time.sleep(0.05)
    sys.exit("reads-gp: %s did not end within %d s" % (exp, timeout))


def succeeded(exp):
    with open(os.path.join(exp, "status")) as f:
        st = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
    return int(st.get("succeeded", 0))


def figures(window):
    return "  ".join("%s %.2f/%.2f/%.1f" % (
        FILES[i].split("/")[-1], pct(w, 50), pct(w, 99),
        max(w) if w else float("nan")) for i, w in enumerate(window))


def main():
    mnt, pid = sys.argv[1], int(sys.argv[2])
    history = int(arg("--history", "1000"))
    trials = int(arg("--trials", "400"))
    name = arg("--name", "readsgp")
    exp = os.path.join(mnt, name)
    hist = exp + "-history"

    t0 = time.monotonic()
    run(hist, SPEC.format(annotations="", algorithm="random",
                          trials=history))
    done, state = wait_ended(hist)
    if succeeded(hist) != history:
        sys.exit("reads-gp: the history ended %s with %d of %d trials "
                 "succeeded (see %s/events)" %
                 (state, succeeded(hist), history, hist))
    print("reads-gp: %d trials of history (random) in %.1fs" %
          (history, time.monotonic() - t0), flush=True)

    os.mkdir(exp)
    lat = [[] for _ in FILES]
    lock = threading.Lock()
    rd = subprocess.Popen([sys.executable, os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "bench_scale.py"),
        "--reader", exp], stdout=subprocess.PIPE, text=True)

    def collect():
        for line in rd.stdout:
            i, ms = line.split()
            with lock:
                lat[int(i)].append(float(ms))
    threading.Thread(target=collect, daemon=True).start()
    try:
        t0, cpu0 = time.monotonic(), cpu_seconds(pid)
        with open(os.path.join(exp, "spec.yaml"), "w") as f:
            f.write(SPEC.format(
                annotations='katibfs/warm-start: "%s"' %
                os.path.basename(hist),
                algorithm="bayesianoptimization", trials=trials))
        done, state = wait_ended(exp)
        secs, cpu = time.monotonic() - t0, cpu_seconds(pid) - cpu0
        with lock:
            window = [l[:] for l in lat]
            for l in lat:
                l.clear()
        print("reads-gp: %d bayesianoptimization trials on %d of history, "
              "parallelTrialCount 8, in %.1fs (daemon CPU %.0f ms/trial); "
              "reads (p50/p99/max ms): %s" % (
                  done, history, secs, cpu * 1000 / max(done, 1),
                  figures(window)), flush=True)
        time.sleep(IDLE_SECONDS)
        with lock:
            window = [l[:] for l in lat]
        print("  idle (%gs, nothing running): %s" %
              (IDLE_SECONDS, figures(window)), flush=True)
    finally:
        rd.kill()
        rd.wait()
    if succeeded(exp) != trials:
        sys.exit("reads-gp: %s ended %s with %d of %d trials; the figures "
                 "above are not a measurement (see %s/events)" %
                 (name, state, done, trials, exp))


if __name__ == "__main__":
    main()
