#!/usr/bin/python3
"""A variant of a supernet.json for training: the same family with options switched on, and
optionally a single config (every knob list cut to one value, for a fixed-config A/B run).

    /usr/bin/python3 train/spec_variant.py BASE.json OUT.json [--stem 32,64,128 [--stem-blocks 0,1,1]] [--rfdetr]
        [--config res=224,patch=16,windows=1,layers=3,queries=100] [--name NAME]

--stem C1,C2,..  a conv stem of len(C) stride-2 layers (docs/architecture.md, backbone.stem);
                 every patch value must be a multiple of 2^len(C)
--stem-blocks B1,B2,..  residual blocks after each stem layer (backbone.stem.blocks)
--rfdetr         RF-DETR's decoder and box options (fixed reference points + sine query_pos,
                 learned reference boxes, final decoder norm, box reparametrisation, C2f
                 projector with 1 bottleneck)
--config         train this one config only (knobs cut to its values, default set to it)
"""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('base')
    ap.add_argument('out')
    ap.add_argument('--stem')
    ap.add_argument('--stem-blocks')
    ap.add_argument('--rfdetr', action='store_true')
    ap.add_argument('--config')
    ap.add_argument('--name')
    args = ap.parse_args()
    with open(args.base, encoding='utf-8') as f:
        spec = json.load(f)
    a = spec['architecture']
    if args.stem:
        a['backbone']['stem'] = {'type': 'conv', 'channels': [int(c) for c in args.stem.split(',')], 'eps': 1e-6}
        if args.stem_blocks:
            a['backbone']['stem']['blocks'] = [int(b) for b in args.stem_blocks.split(',')]
    elif args.stem_blocks:
        raise SystemExit('--stem-blocks needs --stem')
    if args.rfdetr:
        a['decoder'].update(refPoints='fixed', queryPos='sine', refpointEmbed=True, finalNorm=True)
        a['boxEncoding'] = 'reparam'
        a['projector'] = {'type': 'c2f', 'bottlenecks': 1, 'eps': 1e-6}
    if args.config:
        names = {'res': 'resolution', 'resolution': 'resolution', 'patch': 'patch', 'windows': 'windows', 'layers': 'layers', 'queries': 'queries'}
        c = {names[k]: int(v) for k, v in (kv.split('=') for kv in args.config.split(','))}
        spec['knobs'] = {k: [v] for k, v in c.items()}
        spec['default'] = c
    spec.pop('untrained', None)  # a family to train: what its weights left untrained is the trainer's to say
    if args.name:
        spec['name'] = args.name
    tmp = args.out + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(json.dumps(spec, indent=2) + '\n')
    os.replace(tmp, args.out)


if __name__ == '__main__':
    main()
