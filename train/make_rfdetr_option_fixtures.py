#!/usr/bin/python3
"""Parity fixtures for the family's RF-DETR options off RF-DETR's own trained configuration:
test/fixtures/rfdetr-options/ holds, for subnets RF-DETR's fixture does not cover (position
table shrunk, 1 and 4 windows, other patch sizes, decoder depth 0, more queries than tokens),
train/snc_ref's outputs at every decoder depth (float64, stored as float32).

NET_DIR is the supernet snc imports from test/fixtures/rfdetr-tiny (test/detr/rfdetr/ builds
the same in memory); snc_ref reproduces RF-DETR 1.4.1 on that fixture (check_rfdetr_parity.py).

    cd train && /usr/bin/python3 make_rfdetr_option_fixtures.py NET_DIR [--out ../test/fixtures/rfdetr-options]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snc_ref import load_supernet_dir, write_safetensors  # noqa: E402

SEED = 20251201
MIN_GAP = 5e-4
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

# (res, patch, windows, layers, queries); the net stores patch 16 and an 8 x 8 position table
CONFIGS = [
    (96, 16, 2, 2, 25),    # G=6: position table shrunk 8 -> 6 (antialiased), windows of 3x3
    (112, 16, 1, 0, 30),   # G=7 (odd), shrunk 8 -> 7, one window (one CLS token), depth 0 only
    (128, 16, 1, 1, 50),   # G=8 = the table, global attention everywhere
    (128, 16, 4, 2, 100),  # 16 windows of 2x2 (16 CLS tokens), 100 queries > 64 tokens
    (160, 20, 2, 2, 50),   # patch 20: kernel PI-resized up, G=8
    (144, 12, 2, 1, 40),   # patch 12: kernel PI-resized down, G=12: table grown 8 -> 12
]


def key(c):
    return 'res={},patch={},windows={},layers={},queries={}'.format(*c)


def as_config(c):
    return dict(zip(('resolution', 'patch', 'windows', 'layers', 'queries'), c))


def score_gap(net, image, c):
    """Smallest gap between consecutive sorted two-stage scores among the top min(Q, N) + 1."""
    seen = {}
    h = net.two_stage.class_head.register_forward_hook(lambda _m, _i, o: seen.__setitem__('logits', o))
    with torch.no_grad():
        net(image, c)
    h.remove()
    scores = seen['logits'].max(-1).values[0]
    s = torch.sort(scores, descending=True).values[: c['queries'] + 1]
    return float((s[:-1] - s[1:]).min()) if len(s) > 1 else float('inf')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('net')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'rfdetr-options'))
    args = ap.parse_args()
    torch.set_num_threads(1)
    _, net = load_supernet_dir(args.net, dtype=torch.float64)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    mean = torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1)
    index = {'images': 'images.safetensors', 'configs': []}
    images = {}
    for i, c in enumerate(CONFIGS):
        cfg = as_config(c)
        r = cfg['resolution']
        # the first image seed whose top-k selection is well separated (no near-ties)
        for seed in range(SEED + 100 * i, SEED + 100 * i + 100):
            gen = torch.Generator().manual_seed(seed)
            img = ((torch.rand((1, 3, r, r), generator=gen, dtype=torch.float64) - mean) / std).float()
            gap = score_gap(net, img.double(), cfg)
            if gap >= MIN_GAP:
                break
        else:
            raise SystemExit(f'{key(c)}: no image seed gives well-separated top-k scores')
        name = f'image.{i}'
        images[name] = img
        with torch.no_grad():
            boxes, logits, bl, ll = net(img.double(), cfg, exits=True)
        tensors = {'boxes': boxes.float(), 'logits': logits.float()}
        for d, (b, lg) in enumerate(zip(bl, ll)):
            tensors[f'boxes_{d}'] = b.float()
            tensors[f'logits_{d}'] = lg.float()
        fname = f'{key(c)}.safetensors'
        write_safetensors(os.path.join(out, fname), tensors)
        index['configs'].append({'config': cfg, 'key': key(c), 'file': fname, 'image': name, 'minScoreGap': round(gap, 6)})
        print(f'{key(c):50s} image seed {seed}, top-k score gap {gap:.4f}, boxes [{float(boxes.min()):.3f}, {float(boxes.max()):.3f}]')
    write_safetensors(os.path.join(out, 'images.safetensors'), images)
    with open(os.path.join(out, 'index.json'), 'w', encoding='utf-8') as f:
        f.write(json.dumps(index, indent=2) + '\n')
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f'wrote {len(CONFIGS)} configs to {out} ({total / 1024:.0f} KiB)')


if __name__ == '__main__':
    main()
