#!/usr/bin/env python3
"""A stand-in for a training program: the standard library only.

Takes --lr and --momentum, "trains" for a few epochs and prints Katib's
default metric format (name=value), which katibfs's StdOut collector reads:

    epoch=3 loss=0.0412 accuracy=0.9588
"""
import argparse
import math
import random
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--momentum", type=float, required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--sleep", type=float, default=0.3)
    args = ap.parse_args()

    # A smooth bowl with its minimum at lr=0.03, momentum=0.8, plus noise
    # that shrinks with the epochs.
    rng = random.Random("%r %r" % (args.lr, args.momentum))
    base = (math.log10(args.lr) - math.log10(0.03)) ** 2 + (args.momentum - 0.8) ** 2
    for epoch in range(1, args.epochs + 1):
        time.sleep(args.sleep)
        loss = base + 0.5 / epoch + rng.uniform(0, 0.01)
        accuracy = max(0.0, 1.0 - loss)
        print("epoch=%d loss=%.4f accuracy=%.4f" % (epoch, loss, accuracy), flush=True)


if __name__ == "__main__":
    main()
