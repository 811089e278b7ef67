#!/usr/bin/python3
"""How small can the six shapes be and still be told apart? A check of the data generator
(issue #16, point 3), independent of any detector: a small CNN learns to classify crops of the
true boxes of a training set (snc data synth), and its class accuracy on another set's crops is
reported by object size. Where even this classifier, given the box, stays near chance (1/6),
the labels are ambiguous at that size and `snc data synth --min-size` should leave such objects
out; where it is high but the detector's class accuracy on matched boxes (`snc eval`, "by object
size") is low, the detector is the limit, not the data.

- sizes are sqrt(w x h) of the box in pixels of the image the model sees: with --resolution R
  the set's images are first resized to R x R (as snc's pre-processing does), so the figures
  hold for a subnet at that resolution;
- a crop is the box grown by --context (default 25%) on every side, made square, resized to
  --crop pixels (antialiased bilinear), with random flips and 90-degree turns in training;
- bins: < 8, 8-10, 10-12, 12-16, 16-24, 24-48, >= 48 px (the evaluation's < 12, 12-24, 24-48,
  >= 48 are sums of them); per bin: crops, accuracy, and the most common confusion.

    /usr/bin/python3 train/size_ambiguity.py --data out/data/train --val out/data/val \\
        [--resolution 320] [--minutes 4] [--threads 2] [--out size-ambiguity.json]

Seeded (--seed); about 4 minutes of training on 2 cores reach the plateau on 8,000 images
(docs/training-evidence: 70% under 12 px, 83-84% from 12 to 48 px at 320 px).
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import snc_train.threads  # noqa: E402,F401
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from snc_train.data import DetectionSet  # noqa: E402

BINS = [(0, 8), (8, 10), (10, 12), (12, 16), (16, 24), (24, 48), (48, float('inf'))]


def crops(ds, resolution, crop, context, limit=None):
    """Every true box of the set as a [3, crop, crop] float crop of the image resized to
    `resolution`; returns (crops uint8 [n, 3, crop, crop], labels, sizes in px at `resolution`)."""
    xs, ys, sizes = [], [], []
    for i in range(len(ds) if limit is None else min(limit, len(ds))):
        img = torch.from_numpy(ds.pixels[i].copy()).permute(2, 0, 1).float().unsqueeze(0)
        if img.shape[-1] != resolution:
            img = F.interpolate(img, size=(resolution, resolution), mode='bilinear', align_corners=False, antialias=True)
        boxes, labels = ds.targets[i]
        for (cx, cy, w, h), lab in zip(boxes.tolist(), labels.tolist()):
            side = max(w, h) * resolution * (1 + 2 * context)
            x0, y0 = cx * resolution - side / 2, cy * resolution - side / 2
            # the square window, by an affine grid (pads outside the image with zeros)
            theta = torch.tensor([[[side / resolution, 0, (x0 + side / 2) / resolution * 2 - 1],
                                   [0, side / resolution, (y0 + side / 2) / resolution * 2 - 1]]], dtype=torch.float32)
            grid = F.affine_grid(theta, (1, 3, crop, crop), align_corners=False)
            xs.append(F.grid_sample(img, grid, mode='bilinear', align_corners=False).squeeze(0).clamp(0, 255).to(torch.uint8))
            ys.append(lab)
            sizes.append((w * h) ** 0.5 * resolution)
    return torch.stack(xs), torch.tensor(ys), torch.tensor(sizes)


class Net(nn.Module):
    def __init__(self, k):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                                 nn.Conv2d(o, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))
        self.f = nn.Sequential(block(3, 32), nn.MaxPool2d(2), block(32, 64), nn.MaxPool2d(2), block(64, 128), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(128, k)

    def forward(self, x):
        return self.head(self.f(x).flatten(1))


def augment(x, g):
    if torch.rand(1, generator=g).item() < 0.5:
        x = x.flip(-1)
    if torch.rand(1, generator=g).item() < 0.5:
        x = x.flip(-2)
    return torch.rot90(x, int(torch.randint(0, 4, (1,), generator=g)), dims=(-2, -1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--val', required=True)
    ap.add_argument('--resolution', type=int, default=320)
    ap.add_argument('--crop', type=int, default=32)
    ap.add_argument('--context', type=float, default=0.25)
    ap.add_argument('--minutes', type=float, default=4)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--train-images', type=int, help='only the first N training images')
    ap.add_argument('--out', help='write the figures as JSON')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)

    with open(os.path.join(args.data, 'annotations.json'), encoding='utf-8') as f:
        classes = [c['name'] for c in sorted(json.load(f)['categories'], key=lambda c: c['id'])]
    t0 = time.time()
    xtr, ytr, _ = crops(DetectionSet(args.data, classes), args.resolution, args.crop, args.context, args.train_images)
    xva, yva, sva = crops(DetectionSet(args.val, classes), args.resolution, args.crop, args.context)
    print(f'{len(ytr)} training crops, {len(yva)} held-out crops at {args.resolution} px ({time.time() - t0:.0f} s)', file=sys.stderr)
    mean = xtr.float().mean((0, 2, 3), keepdim=True)
    std = xtr.float().std((0, 2, 3), keepdim=True)

    def prep(x):
        return (x.float() - mean) / std

    net = Net(len(classes))
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    start, steps = time.time(), 0
    budget = args.minutes * 60
    net.train()
    while time.time() - start < budget:
        idx = torch.randint(0, len(ytr), (args.batch,), generator=g)
        frac = (time.time() - start) / budget
        for grp in opt.param_groups:
            grp['lr'] = args.lr * 0.5 * (1 + torch.cos(torch.tensor(frac * 3.14159265)).item())
        loss = F.cross_entropy(net(augment(prep(xtr[idx]), g)), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if steps % 200 == 0:
            print(f'step {steps}: loss {loss.item():.3f} ({(time.time() - start) / 60:.1f} min)', file=sys.stderr)
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(prep(xva[i:i + 512])).argmax(1) for i in range(0, len(yva), 512)])
    rows = []
    for lo, hi in BINS:
        m = (sva >= lo) & (sva < hi)
        n = int(m.sum())
        row = {'bin': f'{lo}-{hi}' if hi != float('inf') else f'>={lo}', 'crops': n, 'accuracy': None, 'confusion': None}
        if n:
            row['accuracy'] = round(float((pred[m] == yva[m]).float().mean()), 4)
            wrong = [(classes[int(t)], classes[int(p)]) for t, p in zip(yva[m], pred[m]) if t != p]
            if wrong:
                pair = max(set(wrong), key=wrong.count)
                row['confusion'] = f'{pair[0]} called {pair[1]} ({wrong.count(pair)} of {n})'
        rows.append(row)
    print(f'| size (px at {args.resolution}) | crops | class right | most common confusion |')
    print('|---|---|---|---|')
    for r in rows:
        acc = f"{r['accuracy']:.2f}" if r['accuracy'] is not None else '-'
        print(f"| {r['bin']} | {r['crops']} | {acc} | {r['confusion'] or ''} |")
    overall = float((pred == yva).float().mean()) if len(yva) else float('nan')
    print(f'overall {overall:.3f} (chance {1 / len(classes):.3f}); {steps} steps in {(time.time() - start) / 60:.1f} min')
    if args.out:
        tmp = args.out + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump({'args': vars(args), 'steps': steps, 'overall': overall, 'bins': rows}, f, indent=1)
        os.replace(tmp, args.out)


if __name__ == '__main__':
    main()
