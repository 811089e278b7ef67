#!/usr/bin/python3
"""PyTorch evaluation of subnets of a supernet folder on a COCO-format set, for comparison with
`snc eval` (bench/ap-table.ts): the same pre-processing (square bilinear resize, antialiased),
post-processing (src/detr/postprocess.ts) and COCO scoring (coco_reference.py, a transcription
of pycocotools). Configs sharing resolution, patch, windows and queries share one run: every
decoder depth comes from the exits of the deepest.

usage: /usr/bin/python3 train/eval_configs.py --supernet models/shapes-tiny --data DIR \
          --configs configs.txt --out torch.json [--threads 2]
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import snc_train.threads  # noqa: E402,F401  (before torch: one OpenBLAS thread per caller)
import torch  # noqa: E402

from snc_ref.supernet_dir import load_supernet_dir  # noqa: E402
from snc_train.data import DetectionSet  # noqa: E402
from snc_train.evaluate import evaluate_config  # noqa: E402

NAMES = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']


def parse(text):
    short = {'res': 'resolution'}
    c = {}
    for part in text.split(','):
        k, v = part.split('=')
        c[short.get(k, k)] = int(v)
    return c


def key(c):
    return f"res={c['resolution']},patch={c['patch']},windows={c['windows']},layers={c['layers']},queries={c['queries']}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--supernet', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--configs', required=True, help='one config per line, as snc prints them')
    ap.add_argument('--out', required=True)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    spec, net = load_supernet_dir(args.supernet)
    ds = DetectionSet(args.data, spec['classes'])
    pre = spec['preprocess']
    with open(args.configs, encoding='utf-8') as f:
        configs = [parse(l.strip()) for l in f if l.strip()]
    groups = {}
    for c in configs:
        g = (c['resolution'], c['patch'], c['windows'], c['queries'])
        groups[g] = max(groups.get(g, 0), c['layers'])
    wanted = {key(c) for c in configs}
    out = {}
    for (r, p, w, q), depth in groups.items():
        t0 = time.time()
        c = {'resolution': r, 'patch': p, 'windows': w, 'layers': depth, 'queries': q}
        stats = evaluate_config(net, ds, c, pre['mean'], pre['std'], exits=True)
        for layers, s in enumerate(stats, start=1):
            k = key(dict(c, layers=layers))
            if k in wanted:
                out[k] = dict(zip(NAMES, s))
                print(f"{k}: AP {s[0]:.4f} AP50 {s[1]:.4f}", file=sys.stderr)
        print(f'  ({time.time() - t0:.0f} s)', file=sys.stderr)
    tmp = args.out + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump({'supernet': args.supernet, 'data': args.data, 'images': len(ds), 'configs': out}, f, indent=1)
    os.replace(tmp, args.out)


if __name__ == '__main__':
    main()
