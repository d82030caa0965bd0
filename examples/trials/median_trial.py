#!/usr/bin/env python3
"""Reports loss once per step; --bad makes a trial that does not learn."""
import argparse
import time

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--steps", type=int, default=8)
p.add_argument("--delay", type=float, default=0.2)
p.add_argument("--bad", default="false")
a = p.parse_args()
for step in range(1, a.steps + 1):
    loss = 5.0 if a.bad == "true" else 1.0 / step + a.lr
    print("loss=%.6f" % loss, flush=True)
    time.sleep(a.delay)
