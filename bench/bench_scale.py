#!/usr/bin/env python3
"""Cost per trial as an experiment grows (issue 11), through a mounted katibfs.

Usage: bench_scale.py MOUNTPOINT DAEMON_PID [--trials N] [--every K]
                      [--name EXPERIMENT]

One experiment of N trivial trials (/bin/echo objective=1, random search,
parallelTrialCount 8; N defaults to $BENCH_SCALE_TRIALS or 100000). A
second process loops open+read+close of status, best, trials.csv and
trials/1/params. Every K trials (default 10000) it prints: throughput over
the last window, the daemon's CPU per trial (utime+stime from
/proc/PID/stat) over the window, its resident memory per trial, and
p50/p99/max of each read in the window.

Targets: throughput at the end within 1.5x of the first window; CPU per
trial flat; reads p99 <= 5 ms (max <= 50 ms) while trials run; RSS <= 1 KB
per trial. After the run, the same reads for a few seconds with nothing
running give the idle figures to compare with.
"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_slice import SPEC  # noqa: E402  (the same trivial experiment)

ENDED = ("Succeeded", "Failed", "Stopped")
FILES = ["status", "best", "trials.csv", "trials/1/params"]
IDLE_SECONDS = 2


def reader(exp):
    """The other process: print 'INDEX MS' for every open+read+close."""
    out = sys.stdout
    while True:
        for i, name in enumerate(FILES):
            path = os.path.join(exp, name)
            t0 = time.perf_counter()
            try:
                with open(path, "rb") as f:
                    while f.read(1 << 16):
                        pass
            except FileNotFoundError:
                continue  # trials/1 before the first trial exists
            out.write("%d %.3f\n" % (i, (time.perf_counter() - t0) * 1000))
        out.flush()
        time.sleep(0.01)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime, stime are fields 14, 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def finished_trials(exp):
    with open(os.path.join(exp, "status")) as f:
        st = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
    n = int(st.get("trials", 0)) - int(st.get("pending", 0)) - \
        int(st.get("running", 0))
    return n, st.get("state", "")


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def main():
    if sys.argv[1] == "--reader":
        reader(sys.argv[2])
        return
    mnt, pid = sys.argv[1], int(sys.argv[2])
    n = int(os.environ.get("BENCH_SCALE_TRIALS", "100000"))
    every = 10000
    if "--trials" in sys.argv:
        n = int(sys.argv[sys.argv.index("--trials") + 1])
    if "--every" in sys.argv:
        every = int(sys.argv[sys.argv.index("--every") + 1])
    every = min(every, n)
    name = "scale"
    if "--name" in sys.argv:
        name = sys.argv[sys.argv.index("--name") + 1]
    exp = os.path.join(mnt, name)
    os.mkdir(exp)

    lat = [[] for _ in FILES]
    lock = threading.Lock()
    rd = subprocess.Popen([sys.executable, __file__, "--reader", exp],
                          stdout=subprocess.PIPE, text=True)

    def collect():
        for line in rd.stdout:
            i, ms = line.split()
            with lock:
                lat[int(i)].append(float(ms))
    threading.Thread(target=collect, daemon=True).start()

    print("scale: %d trials of /bin/echo, random, parallelTrialCount 8; "
          "reads from another process (p50/p99/max ms)" % n)
    t0 = time.monotonic()
    cpu0 = cpu_seconds(pid)
    with open(os.path.join(exp, "spec.yaml"), "w") as f:
        f.write(SPEC.format(trials=n, parallel=8))
    mark, last_t, last_cpu, first_rate = every, t0, cpu0, None
    last_done = 0
    rates = []
    try:
        while True:
            done, state = finished_trials(exp)
            if done >= mark or (state in ENDED and done < mark):
                now, cpu = time.monotonic(), cpu_seconds(pid)
                win = max(done - last_done, 1)
                rate = win / (now - last_t)
                if first_rate is None:
                    first_rate = rate
                rates.append(rate)
                with lock:
                    window = [l[:] for l in lat]
                    for l in lat:
                        l.clear()
                reads = "  ".join(
                    "%s %.2f/%.2f/%.1f" % (FILES[i].split("/")[-1],
                                           pct(w, 50), pct(w, 99),
                                           max(w) if w else float("nan"))
                    for i, w in enumerate(window))
                print("%6d trials: %6.0f trials/s, daemon CPU %.3f ms/trial,"
                      " RSS %.2f KB/trial | %s" % (
                          done, rate, (cpu - last_cpu) * 1000 / win,
                          rss_kb(pid) / max(done, 1), reads), flush=True)
                mark += every
                last_t, last_cpu, last_done = now, cpu, done
                if mark > n or state in ENDED:
                    break
            time.sleep(0.05)
        # the same reads with nothing running, for comparison
        while finished_trials(exp)[1] not in ENDED:
            time.sleep(0.05)
        with lock:
            for l in lat:
                l.clear()
        time.sleep(IDLE_SECONDS)
        with lock:
            window = [l[:] for l in lat]
        print("  idle (%gs, nothing running): %s" % (IDLE_SECONDS, "  ".join(
            "%s %.2f/%.2f/%.1f" % (FILES[i].split("/")[-1], pct(w, 50),
                                   pct(w, 99), max(w) if w else float("nan"))
            for i, w in enumerate(window))), flush=True)
    finally:
        rd.kill()
        rd.wait()
    print("scale: %d trials in %.1fs; throughput last/first window %.2f "
          "(target >= 0.67)" % (done, time.monotonic() - t0,
                                rates[-1] / first_rate))
    # a run whose trials did not succeed (no katibfs-shim beside the
    # binary, say) measures nothing: say so, and fail
    with open(os.path.join(exp, "status")) as f:
        st = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
    if int(st.get("succeeded", 0)) != done:
        sys.exit("scale: only %s of %d trials succeeded; the figures above "
                 "are not a measurement (see %s/events)"
                 % (st.get("succeeded", 0), done, exp))


if __name__ == "__main__":
    main()
