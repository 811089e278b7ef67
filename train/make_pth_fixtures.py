#!/usr/bin/env python3
"""Writes the small torch.save fixtures of test/onnx/pth.test.ts into test/fixtures/pth/.

views.pth holds tensors whose layout the reader must get right: strided and offset views,
shared storages, float16 / bfloat16 / float64 (read as float32), int64, int32, bool, an
nn.Parameter, a zero-element tensor, a scalar, an OrderedDict state dict with `_metadata`
and an argparse.Namespace. views.json holds the expected values (row-major, as lists).
plain-p2.pkl / plain-p4.pkl are pickles of plain containers (no globals but set, bytes,
OrderedDict). train-layout.pth has the layout of an RF-DETR training checkpoint: model,
ema_model (= 2 x model), optimizer and lr_scheduler state dicts, epoch, args.

    /usr/bin/python3 train/make_pth_fixtures.py test/fixtures/pth
"""
import argparse
import collections
import json
import os
import pickle
import sys

import torch


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 8 - 1
    sd = collections.OrderedDict()
    sd['contiguous'] = base.clone()
    sd['transposed'] = base[0].t()  # stride (1, 4)
    sd['sliced'] = base[:, 1:, ::2]  # offset 4, stride (12, 4, 2)
    sd['row_of_shared'] = base[1, 2]  # shares base's storage, offset 20
    sd['expanded'] = torch.tensor([1.5, -2.0]).reshape(2, 1).expand(2, 3)  # stride (1, 0)
    sd['half'] = (base[0] * 3.3).half()
    sd['half_transposed'] = (base[0] * 3.3).half().t()
    sd['bfloat16'] = (base[1] * 7.7).bfloat16()
    sd['double'] = base[0].double() / 3
    sd['int64'] = torch.tensor([[0, -1, 2 ** 40], [7, -2 ** 40, 5]], dtype=torch.int64)
    sd['int32'] = torch.tensor([3, -4, 5], dtype=torch.int32)
    sd['bool'] = torch.tensor([True, False, True])
    sd['parameter'] = torch.nn.Parameter(torch.tensor([0.25, -0.5]))
    sd['empty'] = torch.zeros(0, 3)
    sd['scalar'] = torch.tensor(2.5)
    sd._metadata = collections.OrderedDict([('', {'version': 1})])
    args = argparse.Namespace(resolution=128, class_names=['cat', 'dog'], lr=1e-4, flag=True, nothing=None,
                              scales=('P4',), nested={'a': [1, 2]}, big=2 ** 70)
    torch.save({'model': sd, 'args': args, 'epoch': 3}, os.path.join(out, 'views.pth'))

    def values(t):
        return {'dims': list(t.shape), 'values': t.detach().float().reshape(-1).tolist() if t.is_floating_point()
                else [int(x) for x in t.reshape(-1).tolist()]}

    with open(os.path.join(out, 'views.json'), 'w') as f:
        json.dump({k: values(v) for k, v in sd.items()}, f, indent=0)

    plain = {'ints': [0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31, 2 ** 62, -2 ** 70],
             'floats': [0.5, -1e300, float('inf')], 'str': 'héllo ✓', 'bytes': b'\x00\xff',
             'tuple': (1, (2, 3), ()), 'set': {1, 2}, 'frozen': frozenset(['a']), 'none': None,
             'bools': [True, False], 'od': collections.OrderedDict([('x', 1)]), 'shared': None}
    shared = [1, 2]
    plain['shared'] = [shared, shared]
    for proto in (2, 4):
        with open(os.path.join(out, f'plain-p{proto}.pkl'), 'wb') as f:
            pickle.dump(plain, f, protocol=proto)
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    m(torch.randn(4, 3)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10)
    sched.step()
    ema = collections.OrderedDict((k, v.clone() * 2) for k, v in m.state_dict().items())
    torch.save({'model': m.state_dict(), 'ema_model': ema, 'optimizer': opt.state_dict(),
                'lr_scheduler': sched.state_dict(), 'epoch': 5, 'args': argparse.Namespace(resolution=64)},
               os.path.join(out, 'train-layout.pth'))
    print(f'wrote {out}/views.pth, views.json, plain-p2.pkl, plain-p4.pkl, train-layout.pth', file=sys.stderr)


if __name__ == '__main__':
    main()
