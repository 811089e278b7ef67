#!/usr/bin/env python3
"""Backbone pretraining on object crops (issue #16), a stand-in for the DINOv2 pretraining
RF-DETR starts from: the supernet's backbone and projector classify crops centred on the
training set's objects, so its features learn to tell the shapes apart, which the detection
losses alone did not teach in 180 minutes (class accuracy of matched boxes at chance).

Each sample is a square window centred on one object (a little jitter), as the detector sees it
at one of the family's resolutions (the window is 64 px at that resolution's scale), or the whole
object shrunk into the window when it is larger; random horizontal flips. The window runs through
the stem, the ViT and the projector at 64 px (patch 16, or patch 8 for a share of the steps), and
a linear head (dropped afterwards) classifies the mean of the central tokens; cross-entropy with
label smoothing 0.1. AdamW, warm-up then cosine, deterministic in (seed, step) like the trainer.

It starts from a detection checkpoint (--init: the weights; query groups and EMA are carried
over) and writes a checkpoint that `train_supernet.py --init` takes: the detection training then
continues from the pretrained backbone. Class accuracy on crops of --val's objects, by object
size, is printed and logged at the end.

    /usr/bin/python3 train/pretrain_crops.py --data out/train-data/train --val out/train-data/val \
        --spec out/train-data/spec-16.json --init out/train16/checkpoint.pt --out out/pre/checkpoint.pt \
        --steps 600 --batch 128
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
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from snc_ref.model import Supernet  # noqa: E402
from snc_train.data import DetectionSet, normalise  # noqa: E402

WINDOW = 64
SIZE_BINS = ((0, 12, '<12'), (12, 24, '12-24'), (24, 48, '24-48'), (48, 1e9, '>=48'))


def objects(ds):
    """(image index, cx, cy, size, class) of every object, in source pixels (size: sqrt(w h))."""
    out = []
    s = ds.pixels.shape[1]
    for i, (tb, tl) in enumerate(ds.targets):
        for b, c in zip(tb.tolist(), tl.tolist()):
            out.append((i, b[0] * s, b[1] * s, math.sqrt(b[2] * b[3]) * s, max(b[2], b[3]) * s, c))
    return out


def crops(ds, objs, resolution, rng, mean, std, jitter=True, tight=False):
    """[B, 3, 64, 64] normalised windows centred on objs (bilinear sampling of the source image:
    64 px at `resolution`'s scale, or the object's larger side x 1.2 when that is more)."""
    s = ds.pixels.shape[1]
    x = torch.from_numpy(np.stack([ds.pixels[o[0]] for o in objs])).permute(0, 3, 1, 2).float()
    x = normalise(x, mean, std)
    theta = torch.zeros(len(objs), 2, 3)
    for j, (_, cx, cy, _, side, _) in enumerate(objs):
        w = side * 1.5 if tight else max(WINDOW * s / resolution, side * 1.2)
        if jitter:
            cx += rng.uniform(-w / 16, w / 16)
            cy += rng.uniform(-w / 16, w / 16)
        flip = -1.0 if (jitter and rng.random() < 0.5) else 1.0
        theta[j, 0, 0] = flip * w / s
        theta[j, 1, 1] = w / s
        theta[j, 0, 2] = 2 * cx / s - 1
        theta[j, 1, 2] = 2 * cy / s - 1
    grid = F.affine_grid(theta, [len(objs), 3, WINDOW, WINDOW], align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)


def centre_mean(memory, g, tight=False):
    """Mean of the central g/2 x g/2 tokens of a row-major [B, g*g, D] memory (tight: of all)."""
    b, _, d = memory.shape
    m = memory.reshape(b, g, g, d)
    a = 0 if tight else g // 4
    return m[:, a:g - a, a:g - a].reshape(b, -1, d).mean(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--val', required=True, help='a set never trained on, for the class accuracy by size')
    ap.add_argument('--val-objects', type=int, default=3000)
    ap.add_argument('--spec', required=True)
    ap.add_argument('--init', required=True, help="a train_supernet.py checkpoint.pt, or 'fresh' (the trainer's initialisation; a diagnosis)")
    ap.add_argument('--out', required=True, help='checkpoint.pt for train_supernet.py --init')
    ap.add_argument('--steps', type=int, default=600)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=5e-4)
    ap.add_argument('--warmup', type=int, default=50)
    ap.add_argument('--patch8', type=float, default=0.25, help='share of the steps at patch 8')
    ap.add_argument('--probe', choices=('memory', 'stem', 'cnn'), default='memory',
                    help="what the head classifies: the projector's memory (the pretraining), the conv stem's output alone, or "
                         "size_ambiguity.py's small CNN as a control (diagnoses; the control writes nothing)")
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--minutes', type=float, default=0, help='stop after M minutes (an A/B arm; the step schedule stays)')
    ap.add_argument('--tight', action='store_true', help='windows of 1.5x the object, every object scaled to fill them, all tokens pooled (a diagnosis)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    spec = json.load(open(args.spec, encoding='utf-8'))
    arch, pre = spec['architecture'], spec['preprocess']
    mean, std = pre['mean'], pre['std']
    train = DetectionSet(args.data, spec['classes'])
    val = DetectionSet(args.val, spec['classes'])
    objs = objects(train)
    vobjs = objects(val)
    vobjs = random.Random(1).sample(vobjs, min(args.val_objects, len(vobjs)))
    resolutions = spec['knobs']['resolution']
    print(f'{len(objs)} training objects, {len(vobjs)} held-out objects; allocator {snc_train.allocator.allocator()}', file=sys.stderr)

    net = Supernet(arch)
    if args.init == 'fresh':
        from train_supernet import init_weights
        init_weights(net, arch)
        init = {'args': {}, 'step': 0, 'elapsed': 0.0}
    else:
        init = torch.load(args.init)
        net.load_state_dict(init['model'])
    stem_only = args.probe == 'stem'
    head = nn.Linear(arch['backbone']['stem']['channels'][-1] if stem_only else arch['decoder']['width'], arch['numClasses'])

    if args.probe == 'cnn':
        from size_ambiguity import Net
        cnn = Net(arch['numClasses'])
        head = cnn.head
        net = cnn  # only its parameters train; nothing is written

    def features(x, patch):
        if args.probe == 'cnn':
            return cnn.f(x).flatten(1)
        if stem_only:
            f = net.backbone.stem(x)  # [B, C, g, g]
            return centre_mean(f.flatten(2).transpose(1, 2), f.shape[-1], args.tight)
        mem, g = net.memory(x, dict(resolution=WINDOW, patch=patch, windows=1))
        return centre_mean(mem, g, args.tight)

    params = list({id(p): p for p in [*net.parameters(), *head.parameters()]}.values())
    opt = torch.optim.AdamW([{'params': [p for p in params if p.ndim >= 2], 'weight_decay': 1e-4},
                             {'params': [p for p in params if p.ndim < 2], 'weight_decay': 0.0}], lr=args.lr)
    net.train()
    t_start = time.time()
    step = 0
    log = []
    while step < args.steps:
        if args.minutes and time.time() - t_start > args.minutes * 60:
            break
        rng = random.Random(args.seed * 1_000_003 + step)
        batch = [objs[rng.randrange(len(objs))] for _ in range(args.batch)]
        res = rng.choice(resolutions)
        patch = 8 if rng.random() < args.patch8 else 16
        x = crops(train, batch, res, rng, mean, std, tight=args.tight)
        y = torch.tensor([o[5] for o in batch])
        lr = args.lr * (step + 1) / args.warmup if step < args.warmup else \
            args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - args.warmup) / max(1, args.steps - args.warmup))))
        for g in opt.param_groups:
            g['lr'] = lr
        logits = head(features(x, patch))
        loss = F.cross_entropy(logits, y, label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        acc = float((logits.argmax(1) == y).float().mean())
        log.append((loss.item(), acc))
        if step % 20 == 0 or step == 1:
            l20 = log[-20:]
            print(f'step {step}/{args.steps} lr {lr:.2e} {(time.time() - t_start) / step:.2f} s/step loss {sum(a for a, _ in l20) / len(l20):.3f} '
                  f'acc {sum(b for _, b in l20) / len(l20):.3f}', file=sys.stderr)
    elapsed = time.time() - t_start

    # class accuracy on held-out crops, by object size (at the middle resolution, patch 16)
    net.eval()
    right = {k: [0, 0] for *_, k in SIZE_BINS}
    with torch.no_grad():
        for i in range(0, len(vobjs), 256):
            part = vobjs[i:i + 256]
            x = crops(val, part, resolutions[len(resolutions) // 2], None, mean, std, jitter=False, tight=args.tight)
            pred = head(features(x, 16)).argmax(1).tolist()
            for o, p in zip(part, pred):
                k = next(k for lo, hi, k in SIZE_BINS if lo <= o[3] < hi)
                right[k][0] += int(p == o[5])
                right[k][1] += 1
    total = sum(a for a, _ in right.values()) / max(1, sum(b for _, b in right.values()))
    by = {k: round(a / b, 3) if b else None for k, (a, b) in right.items()}
    print(f'pretrained {step} steps in {elapsed / 60:.1f} min; held-out crops: class right {total:.3f}, by size {by}', file=sys.stderr)

    if args.probe == 'cnn':
        return  # the control trains a separate CNN: nothing for --init to take
    ck = dict(init)
    ck['model'] = net.state_dict()
    if 'ema' in init:
        ck['ema'] = dict(init['ema'], module={k: v.clone() for k, v in net.state_dict().items()})
    ck['pretrain'] = {'args': vars(args), 'steps': step, 'minutes': round(elapsed / 60, 2), 'heldout': {'classRight': round(total, 4), 'bySize': by}}
    ck.pop('opt', None)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    torch.save(ck, tmp)
    os.replace(tmp, args.out)
    print(f'wrote {args.out}', file=sys.stderr)


if __name__ == '__main__':
    main()
