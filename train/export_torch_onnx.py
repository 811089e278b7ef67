#!/usr/bin/python3
"""Exports one subnet of a supernet folder with torch.onnx.export from the PyTorch reference
(train/snc_ref), for bench/torch-vs-snc.ts. No folding beyond what the exporter's constant
folding does: this is what a PyTorch user gets from the same weights.

    SUPERNET=$(node bin/snc.js info --supernet nano --json | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).dir))')
    /usr/bin/python3 train/export_torch_onnx.py --supernet "$SUPERNET" --out out/nano-torch.onnx
    # optional: --config "res=384,patch=16,windows=2,layers=2,queries=300" --opset 17 --exits

The kernel resize (pinv) and position-table resize run once in Python and enter the graph as
constants, as in snc's export; everything else is the reference's forward pass, traced.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snc_ref import load_supernet_dir, subnet_module  # noqa: E402

KNOBS = {'res': 'resolution', 'resolution': 'resolution', 'patch': 'patch', 'windows': 'windows', 'layers': 'layers', 'queries': 'queries'}


def parse_config(text, default):
    c = dict(default)
    for part in filter(None, (p.strip() for p in text.split(','))):
        k, v = part.split('=')
        c[KNOBS[k.strip()]] = int(v)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--supernet', required=True, help='supernet folder (supernet.json + weights.safetensors)')
    ap.add_argument('--config', default='', help='knob=value pairs; omitted knobs take the supernet default')
    ap.add_argument('--out', required=True)
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--exits', action='store_true', help='also output boxes_<l>/logits_<l> for l = 0..L')
    args = ap.parse_args()
    torch.set_num_threads(1)

    spec, net = load_supernet_dir(args.supernet)
    config = parse_config(args.config, spec['default'])
    model = subnet_module(net, config, exits=args.exits)
    r = config['resolution']
    image = torch.randn(1, spec['architecture']['backbone']['inChannels'], r, r, generator=torch.Generator().manual_seed(0))
    names = ['boxes', 'logits']
    if args.exits:
        for l in range(config['layers'] + 1):
            names += [f'boxes_{l}', f'logits_{l}']
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    t0 = time.time()
    with torch.no_grad():
        torch.onnx.export(model, (image,), args.out, input_names=['image'], output_names=names,
                          opset_version=args.opset, do_constant_folding=True)
    key = ','.join(f"{s}={config[k]}" for s, k in [('res', 'resolution'), ('patch', 'patch'), ('windows', 'windows'), ('layers', 'layers'), ('queries', 'queries')])
    print(f'wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB, {spec["name"]} {key}, opset {args.opset}, torch {torch.__version__}) in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
