#!/usr/bin/env python3
"""A training stand-in for hyperband: loss falls with epochs, best near lr=0.05."""
import argparse

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--num-epochs", type=int, required=True)
a = p.parse_args()
print("lr=%s num-epochs=%d" % (a.lr, a.num_epochs), flush=True)
for epoch in range(1, a.num_epochs + 1):
    loss = (a.lr - 0.05) ** 2 * 100 + 1.0 / epoch
    print("epoch=%d loss=%.6f" % (epoch, loss), flush=True)
