#!/usr/bin/env python3
"""Katib's pytorch-mnist example, adapted to run anywhere with nothing but
Python's standard library.

This is NOT MNIST and NOT PyTorch. Katib's example trains a small network on
the MNIST digits in a container image; here, so that it runs on any machine
with python3 and no download, a softmax-regression model (one linear layer,
written in plain Python) is trained by SGD with momentum on a synthetic
"digits" data set: ten fixed random 8x8 prototypes, one per class, with
Gaussian pixel noise. It takes the same command-line flags as Katib's
mnist.py (--epochs, --batch-size, --lr, --momentum, --seed, ...) and prints
its metrics the same way, in the name=value form that Katib's StdOut metrics
collector (and katibfs's) reads:

    Train Epoch: 1 [320/2000 (16%)]	Train-loss=1.8243
    ...
    Validation-accuracy=0.6160 Validation-loss=1.1435

A run takes about a second per epoch.
"""
import argparse
import math
import random
import time

CLASSES = 10
SIDE = 8
PIXELS = SIDE * SIDE


def make_data(n, noise, rng, prototypes):
    """n (image, label) pairs: a class prototype plus Gaussian noise."""
    data = []
    for _ in range(n):
        label = rng.randrange(CLASSES)
        image = [p + rng.gauss(0.0, noise) for p in prototypes[label]]
        data.append((image, label))
    return data


def softmax(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


class SoftmaxRegression:
    """y = softmax(W x + b), trained with cross-entropy, SGD and momentum."""

    def __init__(self, rng):
        self.w = [[rng.gauss(0.0, 0.01) for _ in range(PIXELS)] for _ in range(CLASSES)]
        self.b = [0.0] * CLASSES
        self.vw = [[0.0] * PIXELS for _ in range(CLASSES)]
        self.vb = [0.0] * CLASSES

    def forward(self, x):
        return softmax([sum(wi * xi for wi, xi in zip(row, x)) + b
                        for row, b in zip(self.w, self.b)])

    def step(self, batch, lr, momentum):
        """One SGD step on a batch; returns the mean loss."""
        gw = [[0.0] * PIXELS for _ in range(CLASSES)]
        gb = [0.0] * CLASSES
        loss = 0.0
        for x, label in batch:
            p = self.forward(x)
            loss -= math.log(max(p[label], 1e-12))
            for k in range(CLASSES):
                d = p[k] - (1.0 if k == label else 0.0)
                gb[k] += d
                row = gw[k]
                for i in range(PIXELS):
                    row[i] += d * x[i]
        n = float(len(batch))
        for k in range(CLASSES):
            self.vb[k] = momentum * self.vb[k] - lr * gb[k] / n
            self.b[k] += self.vb[k]
            vrow, wrow, grow = self.vw[k], self.w[k], gw[k]
            for i in range(PIXELS):
                vrow[i] = momentum * vrow[i] - lr * grow[i] / n
                wrow[i] += vrow[i]
        return loss / n

    def evaluate(self, data):
        correct, loss = 0, 0.0
        for x, label in data:
            p = self.forward(x)
            loss -= math.log(max(p[label], 1e-12))
            correct += max(range(CLASSES), key=p.__getitem__) == label
        return correct / len(data), loss / len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--test-batch-size", type=int, default=1000)  # accepted, as Katib's
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log-interval", type=int, default=20, help="batches between train logs")
    ap.add_argument("--train-size", type=int, default=2000)
    ap.add_argument("--noise", type=float, default=1.2, help="pixel noise; higher is harder")
    args = ap.parse_args()

    data_rng = random.Random(42)  # the same data set for every trial
    prototypes = [[data_rng.random() for _ in range(PIXELS)] for _ in range(CLASSES)]
    train = make_data(args.train_size, args.noise, data_rng, prototypes)
    test = make_data(500, args.noise, data_rng, prototypes)
    rng = random.Random(args.seed)
    model = SoftmaxRegression(rng)

    start = time.time()
    for epoch in range(1, args.epochs + 1):
        rng.shuffle(train)
        for n, i in enumerate(range(0, len(train), args.batch_size)):
            loss = model.step(train[i:i + args.batch_size], args.lr, args.momentum)
            if not math.isfinite(loss):
                raise SystemExit("loss diverged (lr %g too large?)" % args.lr)
            if n % args.log_interval == 0:
                seen = min(i + args.batch_size, len(train))
                print("Train Epoch: %d [%d/%d (%.0f%%)]\tTrain-loss=%.4f"
                      % (epoch, seen, len(train), 100.0 * seen / len(train), loss), flush=True)
        accuracy, loss = model.evaluate(test)
        print("Validation-accuracy=%.4f Validation-loss=%.4f" % (accuracy, loss), flush=True)
    print("done in %.1fs" % (time.time() - start), flush=True)


if __name__ == "__main__":
    main()
