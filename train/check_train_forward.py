#!/usr/bin/python3
"""Self-check of snc_train/forward.py (seconds, no data): for the plain family and for a small
architecture with every RF-DETR option on (C2f projector, CLS tokens, antialiased position
resize, box reparametrisation, fixed reference points + sine query_pos, learned reference boxes,
final decoder norm), and for one with a conv stem:
- train_forward's boxes and logits at every decoder layer equal Supernet.forward's (what snc
  exports), to the bit in float64;
- Group DETR: with N groups, group 0's outputs are the model's, and every group's outputs depend
  on its own queries only (group-wise self-attention: changing group 2's queries leaves groups 0
  and 1 unchanged).

    cd train && /usr/bin/python3 check_train_forward.py
"""
import copy
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from snc_ref.model import Supernet  # noqa: E402
from snc_train.forward import GroupQueries, train_forward  # noqa: E402


def rf_arch(base):
    a = copy.deepcopy(base)
    a['backbone'].update(clsToken=True, posResize='bicubic-antialias', width=32, depth=2, globalBlocks=[1], tapBlocks=[0, 1], posGrid=8)
    a['decoder'].update(width=32, ffn=64, finalNorm=True, refPoints='fixed', queryPos='sine', refpointEmbed=True, maxLayers=2)
    a['projector'] = {'type': 'c2f', 'bottlenecks': 1, 'eps': 1e-6}
    a['boxEncoding'] = 'reparam'
    return a


def stem_arch(base):
    a = copy.deepcopy(base)
    a['backbone'].update(width=32, depth=2, globalBlocks=[1], tapBlocks=[0, 1], posGrid=8, stem={'type': 'conv', 'channels': [8, 16, 24], 'eps': 1e-6})
    a['decoder'].update(width=32, ffn=64, maxLayers=2)
    return a


def main():
    with open(os.path.join(HERE, '..', 'models', 'shapes-tiny', 'supernet.json'), encoding='utf-8') as f:
        base = json.load(f)['architecture']
    worst = 0.0
    for name, arch, configs in [
        ('shapes-tiny', base, [dict(resolution=96, patch=16, windows=2, layers=3, queries=30), dict(resolution=64, patch=8, windows=1, layers=2, queries=60)]),
        ('all RF-DETR options', rf_arch(base), [dict(resolution=96, patch=16, windows=2, layers=2, queries=30), dict(resolution=96, patch=16, windows=1, layers=2, queries=60)]),
        ('conv stem', stem_arch(base), [dict(resolution=96, patch=16, windows=2, layers=2, queries=30), dict(resolution=64, patch=8, windows=1, layers=2, queries=60)]),
    ]:
        torch.manual_seed(0)
        net = Supernet(arch).double()
        if hasattr(net, 'refpoint_embed'):
            torch.nn.init.normal_(net.refpoint_embed.weight, std=0.1)
        x = torch.randn(2, 3, configs[0]['resolution'], configs[0]['resolution'], dtype=torch.float64)
        for c in configs:
            x = torch.randn(2, 3, c['resolution'], c['resolution'], dtype=torch.float64)
            _, _, bl, ll = net(x, c, exits=True)
            _, layers = train_forward(net, x, c)
            d = max(max((b - ib).abs().max().item(), (l - il).abs().max().item()) for (b, l), ib, il in zip(layers, bl[1:], ll[1:]))
            assert d == 0.0, f'{name} {c}: train_forward differs from forward by {d}'
            groups = GroupQueries(net, 3).double()
            if hasattr(groups, 'refpoint_embed'):
                torch.nn.init.normal_(groups.refpoint_embed, std=0.1)
            _, g1 = train_forward(net, x, c, groups)
            with torch.no_grad():
                groups.query_feat[1].add_(1.0)
            _, g2 = train_forward(net, x, c, groups)
            B = x.shape[0]
            for (b, l), (b1, l1), (b2, l2) in zip(layers, g1, g2):
                worst = max(worst, (b1[:B] - b).abs().max().item(), (l1[:B] - l).abs().max().item())
                assert torch.allclose(b1[:B], b, atol=1e-12) and torch.allclose(l1[:B], l, atol=1e-12), f'{name} {c}: group 0 is not the model'
                assert torch.equal(b2[:2 * B], b1[:2 * B]) and torch.equal(l2[:2 * B], l1[:2 * B]), f'{name} {c}: groups see each other'
                assert not torch.equal(l2[2 * B:], l1[2 * B:]), f'{name} {c}: group 2 ignores its queries'
            print(f'{name} {c}: train_forward = forward at every layer; Group DETR groups isolated (group 0 within {worst:.1e})')
    print('ok')


if __name__ == '__main__':
    main()
