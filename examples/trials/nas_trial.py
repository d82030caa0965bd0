#!/usr/bin/env python3
"""Reads ENAS (--architecture, --nn_config) or DARTS (--algorithm-settings,
--search-space, --num-layers) values the way Katib's trial images do
(strip quotes, "'" -> '"', json.loads) and reports a made-up accuracy."""
import argparse
import json


def loads(s):
    return json.loads(s.strip('"').replace("'", '"'))


p = argparse.ArgumentParser()
p.add_argument("--architecture")
p.add_argument("--nn_config")
p.add_argument("--algorithm-settings")
p.add_argument("--search-space")
p.add_argument("--num-layers")
a = p.parse_args()
if a.architecture:
    arch, cfg = loads(a.architecture), loads(a.nn_config)
    assert len(arch) == cfg["num_layers"]
    ops = [cfg["embedding"][str(layer[0])]["opt_type"] for layer in arch]
    print("layers=%d ops=%s" % (len(arch), ",".join(ops)), flush=True)
    acc = sum(op == "convolution" for op in ops) / len(ops)
else:
    settings, space = loads(a.algorithm_settings), loads(a.search_space)
    layers = int(a.num_layers.strip('"'))
    print("num_epochs=%s search_space=%s layers=%d"
          % (settings["num_epochs"], ",".join(space), layers), flush=True)
    acc = 0.5
print("Validation-Accuracy=%.4f" % acc, flush=True)
