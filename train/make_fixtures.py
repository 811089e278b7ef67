#!/usr/bin/python3
"""Golden parity fixtures for test/detr/parity.test.ts.

Writes test/fixtures/parity/: a small supernet (supernet.json + weights.safetensors, seeded
random weights in the documented naming), images.safetensors (one fixed normalised image per
resolution), one `<configkey>.safetensors` per config with the reference outputs of
train/snc_ref (boxes, logits, boxes_<l>, logits_<l> for l = 0..L), and index.json.

The reference runs in float64 (the outputs are stored as float32), so the fixtures hold the
exact values up to float32 storage; snc's float32 ONNX must land within the test tolerances.

--stem writes test/fixtures/parity-stem/ instead: the same supernet with a hybrid-ViT conv stem
(backbone.stem: two stride-2 conv layers of 8 and 16 channels, stride 4; the patch embedding
then runs on the stem's output with kernel patch / 4: 1, 2 (stored) and 4). --stem-blocks B1,B2
writes test/fixtures/parity-stem-res/: that stem with B_i residual blocks after layer i.

    cd /work/main/train && /usr/bin/python3 make_fixtures.py [--stem | --stem-blocks 1,2] [--out ../test/fixtures/parity]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snc_ref import Supernet, save_supernet_dir, write_safetensors  # noqa: E402

SEED = 20240611
MIN_GAP = 2e-3

ARCH = {
    'backbone': {'width': 32, 'depth': 3, 'heads': 2, 'mlpRatio': 2, 'inChannels': 3, 'storedPatch': 8, 'posGrid': 6,
                 'globalBlocks': [2], 'tapBlocks': [1, 2], 'eps': 1e-6},
    'decoder': {'width': 32, 'heads': 4, 'points': 2, 'ffn': 64, 'maxLayers': 3, 'maxQueries': 20, 'eps': 1e-5},
    'numClasses': 4,
    'anchorSize': 0.05,
}
KNOBS = {'resolution': [64, 80, 96], 'patch': [4, 8, 16], 'windows': [1, 2, 4], 'layers': [0, 1, 2, 3], 'queries': [4, 10, 16]}
STEM = {'type': 'conv', 'channels': [8, 16], 'eps': 1e-6}
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
SPEC = {
    'format': 'snc-supernet',
    'version': 1,
    'name': 'parity-fixture',
    'architecture': ARCH,
    'knobs': KNOBS,
    'default': {'resolution': 64, 'patch': 8, 'windows': 2, 'layers': 2, 'queries': 10},
    'preprocess': {'mean': MEAN, 'std': STD, 'resize': 'square'},
    'classes': ['a', 'b', 'c', 'd'],
}

# (res, patch, windows, layers, queries). posGrid*storedPatch = 48, so every resolution
# resizes the position table except patch 16 at res 96 (G = 6 = posGrid); patch 4 and 16
# PI-resize the stored 8x8 kernel down and up.
CONFIGS = [
    (64, 16, 1, 0, 16),  # G=4 (pos table downsampled), L=0: proposals only, Q = N
    (64, 4, 4, 3, 10),  # G=16, 4x4 windows of 4x4, kernel 8->4
    (80, 8, 2, 2, 16),  # G=10, stored patch, 2x2 windows of 5x5
    (96, 16, 2, 1, 4),  # G=6=posGrid (no pos resize), kernel 8->16, windows of 3x3
    (80, 4, 1, 3, 10),  # G=20, N=400, global attention everywhere
    (96, 8, 4, 3, 16),  # G=12, 4x4 windows of 3x3
    (80, 16, 1, 2, 4),  # G=5, odd grid
    (64, 8, 2, 1, 10),  # G=8
    (96, 4, 2, 3, 16),  # G=24, N=576, windows of 12x12
]


def config_key(c):
    return f"res={c['resolution']},patch={c['patch']},windows={c['windows']},layers={c['layers']},queries={c['queries']}"


def init_weights(net, gen):
    """Seeded random weights, large enough that every part of the graph moves the outputs."""
    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=gen, dtype=torch.float64) * std + mean

    sd = net.state_dict()
    out = {}
    for name, t in sd.items():
        shape = tuple(t.shape)
        leaf = name.rsplit('.', 1)[-1]
        parent = name.rsplit('.', 1)[0]
        if leaf == 'gamma':
            v = normal(shape, 0.3, 0.5)
        elif parent.endswith('norm') or parent.split('.')[-1].startswith('norm'):
            v = normal(shape, 0.2, 1.0 if leaf == 'weight' else 0.0)
        elif name == 'backbone.pos_embed':
            v = normal(shape, 0.5)
        elif name == 'query_feat.weight':
            v = normal(shape, 1.0)
        elif name.startswith('backbone.patch_embed'):
            v = normal(shape, 1.0 / (3 * 8 * 8) ** 0.5 * 2 if leaf == 'weight' else 0.2)
        elif name in ('two_stage.class_head.weight', 'decoder.class_head.weight'):
            v = normal(shape, 0.4)
        elif name.endswith('sampling_offsets.weight'):
            v = normal(shape, 0.3)
        elif name.endswith('sampling_offsets.bias'):
            v = normal(shape, 1.5)
        elif name.startswith('two_stage.bbox_head.layers.2') or name.startswith('decoder.bbox_head.layers.2'):
            v = normal(shape, 0.1 if leaf == 'weight' else 0.2)
        elif leaf == 'weight':
            v = normal(shape, 1.2 / shape[1] ** 0.5)
        else:  # other biases
            v = normal(shape, 0.1)
        out[name] = v.to(t.dtype)
    net.load_state_dict(out)


def score_gap(net, image, c):
    """Smallest gap between consecutive sorted two-stage scores among the top Q+1 (ties would
    let float rounding change the selection)."""
    from snc_ref.model import to_row_major
    with torch.no_grad():
        feats = {}

        def hook(_m, _i, o):
            feats['memory'] = o
        h = net.projector.register_forward_hook(hook)
        net(image, c)
        h.remove()
        G = c['resolution'] // c['patch']
        mem = to_row_major(feats['memory'], c['windows'], G)
        ts = net.two_stage
        scores = ts.class_head(ts.enc_output_norm(ts.enc_output(mem))).max(-1).values[0]
        s = torch.sort(scores, descending=True).values[: c['queries'] + 1]
        return float((s[:-1] - s[1:]).min()) if len(s) > 1 else float('inf')


def as_config(t):
    return dict(zip(('resolution', 'patch', 'windows', 'layers', 'queries'), t))


def make_net_and_images(seed):
    """The supernet (weights rounded to float32, held in float64) and one image per resolution."""
    gen = torch.Generator().manual_seed(seed)
    net = Supernet(ARCH)
    init_weights(net, gen)
    net = net.float().double().eval()
    images = {}
    mean = torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1)
    for r in KNOBS['resolution']:
        rgb = torch.rand((1, 3, r, r), generator=gen, dtype=torch.float64)
        images[r] = ((rgb - mean) / std).float()
    return net, images


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out')
    ap.add_argument('--stem', action='store_true', help='the conv-stem variant (test/fixtures/parity-stem)')
    ap.add_argument('--stem-blocks', help='B1,B2: the conv stem with residual blocks after its layers (test/fixtures/parity-stem-res)')
    args = ap.parse_args()
    name = 'parity-stem-res' if args.stem_blocks else 'parity-stem' if args.stem else 'parity'
    if args.out is None:
        args.out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', name)
    if args.stem or args.stem_blocks:
        ARCH['backbone']['stem'] = dict(STEM, **({'blocks': [int(b) for b in args.stem_blocks.split(',')]} if args.stem_blocks else {}))
        SPEC['name'] = 'parity-fixture-' + name[len('parity-'):]
    torch.set_num_threads(1)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    # The first seed from SEED on whose top-k selections are well separated in every config
    # (a near-tie would let float rounding pick different proposals in the two implementations).
    for seed in range(SEED, SEED + 50):
        net, images = make_net_and_images(seed)
        gaps = [score_gap(net, images[c['resolution']].double(), c) for c in map(as_config, CONFIGS)]
        if min(gaps) >= MIN_GAP:
            break
        print(f'seed {seed}: smallest top-k score gap {min(gaps):.2e} < {MIN_GAP}, trying the next seed')
    else:
        raise SystemExit('no seed gives well-separated top-k scores')
    save_supernet_dir(out, SPEC, net.float())  # float32 on disk
    net = net.double().eval()  # the reference computes from exactly the stored float32 values, in float64
    net32 = Supernet(ARCH)
    net32.load_state_dict({k: v.float() for k, v in net.state_dict().items()})
    net32.eval()
    write_safetensors(os.path.join(out, 'images.safetensors'), {f'image.{r}': images[r] for r in images})

    index = {'supernet': '.', 'images': 'images.safetensors', 'seed': seed, 'configs': []}
    for c in map(as_config, CONFIGS):
        res, queries = c['resolution'], c['queries']
        key = config_key(c)
        img64 = images[res].double()
        with torch.no_grad():
            boxes, logits, bl, ll = net(img64, c, exits=True)
            b32, l32, _, _ = net32(images[res], c, exits=True)
        gap = score_gap(net, img64, c)
        tensors = {'boxes': boxes.float(), 'logits': logits.float()}
        for i, (b, lg) in enumerate(zip(bl, ll)):
            tensors[f'boxes_{i}'] = b.float()
            tensors[f'logits_{i}'] = lg.float()
        fname = f'{key}.safetensors'
        write_safetensors(os.path.join(out, fname), tensors)
        e32 = (float((b32.double() - boxes).abs().max()), float((l32.double() - logits).abs().max()))
        index['configs'].append({'config': c, 'key': key, 'file': fname, 'image': f'image.{res}', 'minScoreGap': round(gap, 6)})
        print(f'{key:50s} boxes [{float(boxes.min()):.3f}, {float(boxes.max()):.3f}] std {float(boxes.std()):.3f}  '
              f'logits std {float(logits.std()):.2f}  top-{queries} score gap {gap:.4f}  '
              f'float32 ref err boxes {e32[0]:.1e} logits {e32[1]:.1e}')
    with open(os.path.join(out, 'index.json'), 'w', encoding='utf-8') as f:
        f.write(json.dumps(index, indent=2) + '\n')
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f'wrote {len(CONFIGS)} configs to {out} ({total / 1024:.0f} KiB)')


if __name__ == '__main__':
    main()
