#!/usr/bin/env python3
"""k8s_requests.py - API requests per trial of the kubernetes backend.

    k8s_requests.py KATIBFS [--trials 300] [--parallel 1,10,100]
                    [--max-per-trial X] [--max-shared Y] [--timeout S]

For each parallelTrialCount: a fresh fake API server (tests/k8s/
fake_apiserver.py, with its kubelet), a private katibfs mount with
--backend kubernetes, one experiment of --trials batch/v1 Job trials run
to the end, then the server's request counts (GET /fake/stats). Prints
one line per parallelism: the per-trial requests (create, log, delete and
anything else that names one trial) divided by the trials, and the shared
ones (discovery, list and watch of a whole collection) as a count.

With --max-per-trial / --max-shared it is a test: exit 1 when a figure is
above its bound, or when some trial's object was created more or less
than once. Exit 77 when python3's needs (openssl) are missing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "..", "tests", "k8s", "fake.sh")
SHARED = ("discovery", "list", "watch")



def spec(name, parallel, trials):
    """The experiment: tests/k8s/fake.sh's fake_job_spec (the tests' Job
    experiment), `trials` trials of `echo loss=...`, which may all fail
    without ending it (maxFailedTrialCount)."""
    return subprocess.check_output(
        ["sh", FAKE, "job-spec", name, str(parallel), str(trials),
         "echo loss=${trialParameters.learningRate}", str(trials)],
        universal_newlines=True)


def wait_for(pred, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise SystemExit("timed out waiting for " + what)


class Fake:
    """The fake API server, started, queried and stopped by
    tests/k8s/fake.sh as every test does."""

    def __init__(self, work, extra):
        self.dir = os.path.join(work, "k8s")
        if subprocess.call(["sh", FAKE, "start", self.dir] + extra) != 0:
            raise SystemExit("the fake API server did not start")

    def get(self, path):
        return json.loads(subprocess.check_output(
            ["sh", FAKE, "api", self.dir, "GET", path]))

    def stop(self):
        subprocess.call(["sh", FAKE, "stop", self.dir])


def run_one(katibfs, trials, parallel, timeout, extra):
    work = tempfile.mkdtemp(prefix="katibfs-k8sbench.")
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt)
    fake = Fake(work, extra)
    log = open(os.path.join(work, "daemon.log"), "w")
    daemon = subprocess.Popen(
        [katibfs, "-f", "--state", os.path.join(work, "state"), "--backend",
         "kubernetes", "--kubeconfig", os.path.join(fake.dir, "kubeconfig"),
         mnt], stdout=log, stderr=log)
    try:
        wait_for(lambda: os.path.ismount(mnt), 20, "the mount")
        name = "bench%d" % parallel
        os.mkdir(os.path.join(mnt, name))
        with open(os.path.join(mnt, name, "spec.yaml"), "w") as f:
            f.write(spec(name, parallel, trials))
        started = time.time()
        status = os.path.join(mnt, name, "status")

        def done():
            s = open(status).read()
            return "state=Succeeded" in s or "state=Failed" in s
        wait_for(done, timeout, "%d trials at parallelTrialCount %d" %
                 (trials, parallel))
        elapsed = time.time() - started
        st = open(status).read()
    finally:
        subprocess.call(["fusermount3", "-u", mnt])
        try:
            daemon.wait(60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    stats = fake.get("/fake/stats")
    fake.stop()
    shutil.rmtree(work, ignore_errors=True)
    return st, elapsed, stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("katibfs")
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--parallel", default="1,10,100")
    ap.add_argument("--max-per-trial", type=float)
    ap.add_argument("--max-shared", type=int)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--server-arg", action="append", default=None,
                    help="passed to fake_apiserver.py (default: pods "
                    "appear 0.5 s after their Job and stay Pending 1 s, "
                    "as on a cluster)")
    a = ap.parse_args()
    if not shutil.which("openssl"):
        print("skip: no openssl")
        return 77
    bad = 0
    for par in (int(x) for x in a.parallel.split(",")):
        st, secs, stats = run_one(a.katibfs, a.trials, par, a.timeout,
                                  a.server_arg if a.server_arg is not None
                                  else ["--pod-delay=0.5",
                                        "--kubelet-delay=1"])
        counts, creates = stats["counts"], stats["creates"]
        shared = sum(counts.get(k, 0) for k in SHARED)
        per = sum(v for k, v in counts.items() if k not in SHARED)
        jobs = {k: v for k, v in creates.items() if k.startswith("jobs/")}
        print("parallelTrialCount %3d: %d trials in %.0f s, %.2f requests "
              "per trial + %d shared, %d TCP connections  %s" % (
                  par, len(jobs), secs, per / max(len(jobs), 1), shared,
                  stats.get("connections", 0),
                  json.dumps(counts, sort_keys=True)), flush=True)
        if "state=Succeeded" not in st:
            print("  FAIL: the experiment did not succeed:\n" + st)
            bad = 1
        twice = [k for k, v in jobs.items() if v != 1]
        if len(jobs) != a.trials or twice:
            print("  FAIL: %d trial objects for %d trials; created more "
                  "than once: %s" % (len(jobs), a.trials, twice))
            bad = 1
        if a.max_per_trial is not None and \
                per / max(len(jobs), 1) > a.max_per_trial:
            print("  FAIL: more than %g requests per trial" %
                  a.max_per_trial)
            bad = 1
        if a.max_shared is not None and shared > a.max_shared:
            print("  FAIL: more than %d shared requests" % a.max_shared)
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
