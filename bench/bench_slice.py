#!/usr/bin/env python3
"""Benchmarks of the vertical slice, driven through a mounted katibfs.

Usage: bench_slice.py MOUNTPOINT DAEMON_PID [--trials N] [--big N]

1. Per-trial overhead: N trials of /bin/echo (random search,
   parallelTrialCount 1) against a shell loop running the same command N
   times, measured side by side in this run. Target (issue 11): ratio <= 1.3.
2. Reads on an experiment with BIG trials: median of `cat status` and
   `cat trials/K/params`, time of `ls trials`, daemon RSS.
"""
import os
import statistics
import subprocess
import sys
import time

# A trialTemplate's trialSpec, a Job up to its container main's image: the
# benchmarks' experiments (here, bench_reads_gp.py, load.py) add the
# container's command. It holds no brace, so it joins a str.format template.
TRIAL_JOB = """    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: none
"""

SPEC = """apiVersion: kubeflow.org/v1beta1
kind: Experiment
spec:
  objective: {{type: minimize, objectiveMetricName: objective}}
  algorithm: {{algorithmName: random}}
  parallelTrialCount: {parallel}
  maxTrialCount: {trials}
  parameters:
    - name: x
      parameterType: double
      feasibleSpace: {{min: "0", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters: [{{name: x, reference: x}}]
""" + TRIAL_JOB + """                command: [/bin/echo, objective=1, "x=${{trialParameters.x}}"]
"""


def wait_state(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(os.path.join(path, "status")) as f:
            st = f.read()
        if "state=Succeeded" in st or "state=Failed" in st:
            return st
        time.sleep(0.02)
    raise SystemExit("timeout waiting for %s" % path)


def run_experiment(mnt, name, trials, parallel):
    path = os.path.join(mnt, name)
    os.mkdir(path)
    t0 = time.monotonic()
    with open(os.path.join(path, "spec.yaml"), "w") as f:
        f.write(SPEC.format(trials=trials, parallel=parallel))
    st = wait_state(path, 3600)
    return time.monotonic() - t0, st


def shell_loop(n):
    out = "/tmp/katibfs-bench-loop.log"
    t0 = time.monotonic()
    subprocess.run(["sh", "-c",
                    'i=0; while [ $i -lt %d ]; do /bin/echo objective=1 '
                    'x=0.5 >> %s; i=$((i+1)); done' % (n, out)], check=True)
    dt = time.monotonic() - t0
    os.unlink(out)
    return dt


def median_ms(fn, reps=50):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def cat(path):
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


def main():
    mnt, pid = sys.argv[1], int(sys.argv[2])
    n = int(sys.argv[sys.argv.index("--trials") + 1]) \
        if "--trials" in sys.argv else 500
    big = int(sys.argv[sys.argv.index("--big") + 1]) \
        if "--big" in sys.argv else 10000

    loop = shell_loop(n)
    kfs, st = run_experiment(mnt, "overhead", n, 1)
    assert "trials=%d" % n in st, st
    print("overhead: %d trials: katibfs %.3fs, shell loop %.3fs, "
          "ratio %.2f (target <= 1.3)" % (n, kfs, loop, kfs / loop))

    dt, st = run_experiment(mnt, "big", big, 8)
    assert "trials=%d" % big in st, st
    exp = os.path.join(mnt, "big")
    print("big: %d trials created and run in %.1fs" % (big, dt))
    s = median_ms(lambda: cat(os.path.join(exp, "status")))
    p = median_ms(lambda: cat(os.path.join(exp, "trials", str(big // 2),
                                           "params")))
    c = median_ms(lambda: cat(os.path.join(exp, "trials.csv")), 10)
    t0 = time.perf_counter()
    entries = os.listdir(os.path.join(exp, "trials"))
    ls = (time.perf_counter() - t0) * 1000
    assert len(entries) == big
    lsproc = median_ms(lambda: subprocess.run(
        ["ls", os.path.join(exp, "trials")], stdout=subprocess.DEVNULL),
        5)
    base = median_ms(lambda: cat("/etc/hostname"))
    print("reads: cat status median %.2f ms, cat trials/N/params median "
          "%.2f ms, cat trials.csv median %.1f ms (cat of a local file: "
          "%.2f ms; the difference is katibfs's)" % (s, p, c, base))
    print("ls trials: listdir %.1f ms, ls process %.1f ms (target < 200 ms)"
          % (ls, lsproc))
    print("daemon RSS: %.1f MB (target < 100 MB)" % rss_mb(pid))

    def read_status():
        with open(os.path.join(exp, "status")) as f:
            f.read()

    def read_params():
        with open(os.path.join(exp, "trials", str(big // 2), "params")) as f:
            f.read()
    print("in-process open+read: status median %.3f ms, params median "
          "%.3f ms" % (median_ms(read_status, 200),
                       median_ms(read_params, 200)))


if __name__ == "__main__":
    main()
