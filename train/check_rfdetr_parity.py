#!/usr/bin/python3
"""Checks train/snc_ref's RF-DETR options against RF-DETR 1.4.1's own outputs.

Give the supernet folder snc imported from the fixture checkpoint (test/fixtures/rfdetr-tiny,
a copy of shared/fixtures/rfdetr-tiny) and the fixture folder; prints the max abs error of
boxes and logits on both fixture subnets (the reference runs in float64).

    cd train && /usr/bin/python3 check_rfdetr_parity.py NET_DIR ../test/fixtures/rfdetr-tiny
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snc_ref import load_supernet_dir, read_safetensors  # noqa: E402

SUBNETS = [
    ('io.safetensors', dict(resolution=128, patch=16, windows=2, layers=2, queries=100)),
    ('io_res160_l1_q50.safetensors', dict(resolution=160, patch=16, windows=2, layers=1, queries=50)),
]


def main(net_dir, fixtures):
    _, net = load_supernet_dir(net_dir, dtype=torch.float64)
    worst = 0.0
    for name, config in SUBNETS:
        io, _ = read_safetensors(os.path.join(fixtures, name))
        with torch.no_grad():
            boxes, logits = net(io['input'].double(), config)
        eb = (boxes.float() - io['boxes']).abs().max().item()
        el = (logits.float() - io['logits']).abs().max().item()
        worst = max(worst, eb, el)
        print(f'{name}: max abs error boxes {eb:.2e}, logits {el:.2e}')
    return 0 if worst <= 1e-4 else 1


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:3]))
