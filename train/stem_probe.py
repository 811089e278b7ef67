#!/usr/bin/env python3
"""Can a conv stem learn the shapes? A diagnosis for issue #16 (the supernet finds objects but
names them barely above chance; its stem's heatmap head, trained with the detector, was right at
31% of object centres).

A stem alone, from scratch, trained as the learnability baseline of docs/training-evidence.md
trains its CNN (whose stride-4 features named 58-77% of objects >= 24 px after 25 minutes): a
head on the stem's stride-8 output predicts a heatmap per class, CenterNet's focal loss on
Gaussian targets (train/snc_train/heatmap.py), Adam, warm-up then cosine, random horizontal
flips, images at the family's resolutions; every batch depends only on (seed, step), so arms of
equal steps see the same images, and the minutes each took are reported. No ViT, no decoder:
if a stem cannot name the shapes here, the detector built on it cannot either.

Arms (--stem): `conv` is the family's stem today (3x3 stride-2 conv, LayerNorm over channels,
SiLU per stage); `res:B1,B2,B3` adds B_i residual blocks after stage i (two 3x3 convs with
LayerNorm, SiLU inside, the sum then SiLU), growing the receptive field from 15 px to 15 + 32 B3
+ 16 B2 + 8 B1 px.

Measured on --val's objects: the class whose heatmap is highest at the object's centre cell
(accuracy by object size, sqrt(w h) in source pixels), at 288 and 160 px.

    /usr/bin/python3 train/stem_probe.py --data out/train-data/train --val out/heldout \
        --stem res:0,1,1 --steps 2000
"""
import argparse
import json
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snc_train.allocator  # noqa: E402,F401
import snc_train.threads  # noqa: E402,F401
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from snc_ref.model import ConvStem  # noqa: E402
from snc_train.data import DetectionSet  # noqa: E402
from snc_train.heatmap import focal_heatmap, stem_heatmap_head  # noqa: E402

CLASSES = ['circle', 'square', 'triangle', 'star', 'hexagon', 'cross']
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
SIZE_BINS = ((0, 12, '<12'), (12, 24, '12-24'), (24, 48, '24-48'), (48, 1e9, '>=48'))


def parse_stem(s):
    if s == 'conv':
        return [0, 0, 0]
    if s.startswith('res:'):
        return [int(b) for b in s[4:].split(',')]
    raise SystemExit(f"--stem {s!r}: expected 'conv' or 'res:B1,B2,B3'")


def evaluate(net, val, resolution, limit):
    """Class accuracy at the centre cells of val's objects, by size."""
    right = {k: [0, 0] for *_, k in SIZE_BINS}
    s = val.pixels.shape[1]
    with torch.no_grad():
        for i in range(0, min(limit, len(val)), 16):
            idx = list(range(i, min(i + 16, limit, len(val))))
            x, targets = val.batch(idx, resolution, MEAN, STD)
            logits = net(x)
            g = logits.shape[-1]
            for j, (tb, tl) in enumerate(targets):
                for b, c in zip(tb.tolist(), tl.tolist()):
                    cx = min(g - 1, int(b[0] * g))
                    cy = min(g - 1, int(b[1] * g))
                    size = math.sqrt(b[2] * b[3]) * s
                    k = next(k for lo, hi, k in SIZE_BINS if lo <= size < hi)
                    right[k][0] += int(int(logits[j, :, cy, cx].argmax()) == c)
                    right[k][1] += 1
    total = sum(a for a, _ in right.values()) / max(1, sum(b for _, b in right.values()))
    return round(total, 3), {k: round(a / b, 3) if b else None for k, (a, b) in right.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--val', required=True)
    ap.add_argument('--val-images', type=int, default=200)
    ap.add_argument('--stem', default='conv', help="'conv' (the family's stem) or 'res:B1,B2,B3'")
    ap.add_argument('--channels', default='32,64,128')
    ap.add_argument('--minutes', type=float, default=0, help='stop earlier, after M minutes (0: run every step)')
    ap.add_argument('--stop-at', type=int, default=0, help='stop after this step of the --steps schedule (a reproducibility check of a prefix)')
    ap.add_argument('--steps', type=int, default=2000, help='the schedule: warm-up, then cosine to 0 at this step')
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=1.5e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', help='a JSON line with the figures is appended here')
    ap.add_argument('--save-stem', help="write the trained stem's weights here, for train_supernet.py --init-stem")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    channels = [int(c) for c in args.channels.split(',')]
    blocks = parse_stem(args.stem)
    train = DetectionSet(args.data, CLASSES)
    val = DetectionSet(args.val, CLASSES)
    stem = ConvStem(3, channels, 1e-6, blocks)
    head = stem_heatmap_head(channels[-1], len(CLASSES))
    net = nn.Sequential(stem, head)
    params = sum(p.numel() for p in stem.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    warmup = 100
    t0 = time.time()
    step = 0
    losses = []
    net.train()
    stop = args.stop_at or args.steps
    while step < stop and not (args.minutes and time.time() - t0 > args.minutes * 60):
        rng = random.Random(args.seed * 1_000_003 + step)
        idx = [rng.randrange(len(train)) for _ in range(args.batch)]
        res = rng.choice([160, 224, 288])
        x, targets = train.batch(idx, res, MEAN, STD, flip=[rng.random() < 0.5 for _ in idx])
        lr = args.lr * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g['lr'] = lr
        loss = focal_heatmap(net(x), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        losses.append(loss.item())
        if step % 50 == 0:
            print(f'step {step} {(time.time() - t0) / step:.2f} s/step loss {sum(losses[-50:]) / 50:.3f}', file=sys.stderr)
    minutes = (time.time() - t0) / 60
    net.eval()
    out = {'stem': args.stem, 'channels': channels, 'stemParams': params, 'steps': step, 'minutes': round(minutes, 1),
           'images': step * args.batch}
    for r in (288, 160):
        out[f'classRight@{r}'], out[f'bySize@{r}'] = evaluate(net, val, r, args.val_images)
    print(json.dumps(out))
    if args.out:
        with open(args.out, 'a', encoding='utf-8') as f:
            f.write(json.dumps(out) + '\n')
    if args.save_stem:
        tmp = args.save_stem + '.tmp'
        torch.save({'stem': stem.state_dict(), 'head': head.state_dict(), 'channels': channels, 'blocks': blocks, 'figures': out, 'args': vars(args)}, tmp)
        os.replace(tmp, args.save_stem)


if __name__ == '__main__':
    main()
