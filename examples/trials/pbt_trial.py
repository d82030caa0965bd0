#!/usr/bin/env python3
"""A PBT member: resumes from the checkpoint in --checkpoint-dir (copied from
its parent by katibfs), trains a little, saves, and reports accuracy."""
import argparse
import os

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--checkpoint-dir", required=True)
a = p.parse_args()
state = os.path.join(a.checkpoint_dir, "state.txt")
acc, history = 0.0, ""
if os.path.exists(state):
    with open(state) as f:
        history = f.read()
    print("restored: " + history.strip().splitlines()[-1], flush=True)
    acc = float(history.strip().splitlines()[-1].split()[1])
print("generation=%s parent=%s" % (os.environ.get("KATIB_PBT_GENERATION"),
                                   os.environ.get("KATIB_PBT_PARENT")), flush=True)
acc = acc + (1.0 - acc) * max(0.0, 0.5 - abs(a.lr - 0.05) * 5)
os.makedirs(a.checkpoint_dir, exist_ok=True)
with open(state, "w") as f:
    f.write(history + "written-by=%s %.6f\n" % (a.checkpoint_dir.rstrip("/"), acc))
print("Validation-accuracy=%.6f" % acc, flush=True)
