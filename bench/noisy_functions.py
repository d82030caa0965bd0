#!/usr/bin/python3
"""The noisy, plateaued benchmark function of bench/bench_functions.h in
Python (same space, budget, optimum, formula and noise, to the bit), for
the Optuna runs of bench/optuna_noisy.py.  Stdlib only.

cvacc: a cross-validated error rate (1 - accuracy), minimised.  lr and l2
are log-uniform, layers an int, dropout a double, batch_size a log-uniform
int.  The accuracy is smooth with a maximum of 0.95; the best lr grows
with the batch size, an lr 10^1.2 above it diverges to chance (0.10), and
nothing scores below chance (flat plateaus); it is the accuracy of a
100-sample validation fold, so quantised to 0.01, and the fold's draw adds
Gaussian noise of sd 0.015: evaluation k (0, 1, ...) of the run with seed
s adds 0.015 * noise(s, k).  Regret is the noiseless value of the trial
with the best observed value, minus the optimum.
"""
import math

MASK = (1 << 64) - 1

NAME = "cvacc"
BUDGET = 20
NOISE = 0.015
F_OPT = 1.0 - 0.95
# name, type, low, high, log
PARAMS = [("lr", "double", 1e-5, 1.0, True),
          ("l2", "double", 1e-7, 1e-1, True),
          ("layers", "int", 1, 12, False),
          ("dropout", "double", 0.0, 0.9, False),
          ("batch_size", "int", 16, 512, True)]


def cvacc(p):
    """The noiseless error at the assignment dict p."""
    a, b = math.log10(p["lr"]), math.log10(p["l2"])
    best = -3.0 + 0.8 * math.log10(p["batch_size"] / 64.0)
    if a > best + 1.2:
        acc = 0.10
    else:
        acc = (0.95 - 0.12 * (a - best) * (a - best)
               - 0.02 * (b + 4) * (b + 4)
               - 0.004 * (p["layers"] - 6) * (p["layers"] - 6)
               - 0.2 * (p["dropout"] - 0.35) * (p["dropout"] - 0.35))
    if acc < 0.10:
        acc = 0.10
    return 1.0 - math.floor(acc * 100 + 1e-9) / 100


def mix64(z):
    z = (z + 0x9e3779b97f4a7c15) & MASK
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
    return z ^ (z >> 31)


def noise(seed, k):
    """Standard normal noise of evaluation k of run `seed` (bf_noise)."""
    st = (seed * 1000003 + k) & MASK
    u1 = ((mix64((2 * st + 1) & MASK) >> 11) + 0.5) / 9007199254740992.0
    u2 = (mix64((2 * st + 2) & MASK) >> 11) / 9007199254740992.0
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def observe(p, seed, k):
    """What trial k of run `seed` reports at p."""
    return cvacc(p) + NOISE * noise(seed, k)


def regret(observed, truth, k):
    """Regret after k trials: truth of the best observed, minus F_OPT."""
    i = min(range(min(k, len(observed))), key=lambda j: observed[j])
    return truth[i] - F_OPT
