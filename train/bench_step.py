#!/usr/bin/python3
"""Times training steps of the shapes-tiny supernet (forward, the losses, backward, AdamW) on
random images and random targets (12 objects an image), for a few configs, and prints one JSON
line: ms per step for each config (median of the timed steps). bench/train-step.sh runs it
under both OpenBLAS settings, interleaved.

usage: /usr/bin/python3 train/bench_step.py --spec supernet.json [--steps 5] [--batch 8] [--threads 2]
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch  # noqa: E402  (deliberately without snc_train.threads: the caller sets the environment)

from snc_ref.model import Supernet  # noqa: E402
from snc_train.forward import train_forward  # noqa: E402
from snc_train.loss import dense_loss, set_loss  # noqa: E402
from train_supernet import init_weights  # noqa: E402

CONFIGS = [(160, 16), (288, 16), (288, 8)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--spec', required=True)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open(args.spec, encoding='utf-8') as f:
        spec = json.load(f)
    arch = spec['architecture']
    net = Supernet(arch)
    init_weights(net, arch)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    out = {'OPENBLAS_NUM_THREADS': os.environ.get('OPENBLAS_NUM_THREADS'), 'threads': args.threads, 'batch': args.batch, 'ms_per_step': {}}
    for r, p in CONFIGS:
        c = {'resolution': r, 'patch': p, 'windows': 1, 'layers': arch['decoder']['maxLayers'], 'queries': arch['decoder']['maxQueries']}
        times = []
        for step in range(args.steps + 1):  # the first step warms up
            g = torch.Generator().manual_seed(step)
            x = torch.randn(args.batch, 3, r, r, generator=g)
            targets = []
            for _ in range(args.batch):
                centre = torch.rand(12, 2, generator=g) * 0.8 + 0.1
                size = torch.rand(12, 2, generator=g) * 0.15 + 0.03
                targets.append((torch.cat([centre, size], 1), torch.randint(0, arch['numClasses'], (12,), generator=g)))
            t0 = time.perf_counter()
            (props, enc), layers = train_forward(net, x, c)
            loss = dense_loss(props, enc, r // p, targets)
            for b, lg in layers:
                loss = loss + set_loss(b, lg, targets, 12.0 * args.batch)[0]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step:
                times.append((time.perf_counter() - t0) * 1000)
        out['ms_per_step'][f'res={r},patch={p}'] = round(statistics.median(times), 1)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
