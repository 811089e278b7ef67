#!/usr/bin/python3
"""An RF-DETR-shaped checkpoint at a released variant's sizes, random weights, for import tests
and timing (`snc import rfdetr`): the key layout of RF-DETR 1.4.1's detection models (the same as
shared/fixtures/rfdetr-tiny/keys.txt, at the variant's sizes), 13 group-DETR groups, written as
RF-DETR saves a stripped checkpoint: torch.save({"model": state_dict, "args": Namespace}).

Does not need rfdetr: the names and shapes are written out here from RF-DETR's module structure
(backbone.0.encoder = windowed DINOv2, backbone.0.projector = C2f, transformer.*, heads).

    /usr/bin/python3 train/make_rfdetr_checkpoint.py --variant nano --out out/rf-detr-nano-random.pth \
        [--safetensors out/rf-detr-nano-random.safetensors] [--seed 0]
"""
import argparse
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snc_ref import write_safetensors  # noqa: E402

VARIANTS = {  # rfdetr/config.py
    'nano': dict(resolution=384, patch_size=16, num_windows=2, positional_encoding_size=24, out_feature_indexes=[3, 6, 9, 12], dec_layers=2),
    'small': dict(resolution=512, patch_size=16, num_windows=2, positional_encoding_size=32, out_feature_indexes=[3, 6, 9, 12], dec_layers=3),
    'medium': dict(resolution=576, patch_size=16, num_windows=2, positional_encoding_size=36, out_feature_indexes=[3, 6, 9, 12], dec_layers=4),
    'base': dict(resolution=560, patch_size=14, num_windows=4, positional_encoding_size=37, out_feature_indexes=[2, 5, 8, 11], dec_layers=3),
    'large': dict(resolution=704, patch_size=16, num_windows=2, positional_encoding_size=44, out_feature_indexes=[3, 6, 9, 12], dec_layers=4),
}
COMMON = dict(encoder='dinov2_windowed_small', vit_encoder_num_layers=12, hidden_dim=256, sa_nheads=8, ca_nheads=16, dec_n_points=2,
              dim_feedforward=2048, num_queries=300, group_detr=13, num_classes=90, projector_scale=['P4'], two_stage=True,
              lite_refpoint_refine=True, bbox_reparam=True, decoder_norm='LN', layer_norm=True, rms_norm=False,
              segmentation_head=False, num_feature_levels=1, aux_loss=True, dropout=0.0)


def shapes(v):
    """(name, shape) of every tensor of the state dict, in RF-DETR's naming."""
    a = {**COMMON, **VARIANTS[v]}
    C, L, D, F, G, Q = 384, a['vit_encoder_num_layers'], a['hidden_dim'], a['dim_feedforward'], a['group_detr'], a['num_queries']
    K, p, S = a['num_classes'] + 1, a['patch_size'], a['positional_encoding_size']
    H, P, c, T, n = a['ca_nheads'], a['dec_n_points'], D // 2, len(a['out_feature_indexes']), 3
    out = []

    def lin(name, o, i):
        out.extend([(f'{name}.weight', [o, i]), (f'{name}.bias', [o])])

    def norm(name, w):
        out.extend([(f'{name}.weight', [w]), (f'{name}.bias', [w])])

    def mlp3(name):
        lin(f'{name}.layers.0', D, D)
        lin(f'{name}.layers.1', D, D)
        lin(f'{name}.layers.2', 4, D)

    for l in range(a['dec_layers']):
        d = f'transformer.decoder.layers.{l}'
        out.extend([(f'{d}.self_attn.in_proj_weight', [3 * D, D]), (f'{d}.self_attn.in_proj_bias', [3 * D])])
        lin(f'{d}.self_attn.out_proj', D, D)
        norm(f'{d}.norm1', D)
        lin(f'{d}.cross_attn.sampling_offsets', H * P * 2, D)
        lin(f'{d}.cross_attn.attention_weights', H * P, D)
        lin(f'{d}.cross_attn.value_proj', D, D)
        lin(f'{d}.cross_attn.output_proj', D, D)
        lin(f'{d}.linear1', F, D)
        lin(f'{d}.linear2', D, F)
        norm(f'{d}.norm2', D)
        norm(f'{d}.norm3', D)
    norm('transformer.decoder.norm', D)
    lin('transformer.decoder.ref_point_head.layers.0', D, 2 * D)
    lin('transformer.decoder.ref_point_head.layers.1', D, D)
    for g in range(G):
        lin(f'transformer.enc_output.{g}', D, D)
    for g in range(G):
        norm(f'transformer.enc_output_norm.{g}', D)
    for g in range(G):
        mlp3(f'transformer.enc_out_bbox_embed.{g}')
    for g in range(G):
        lin(f'transformer.enc_out_class_embed.{g}', K, D)
    lin('class_embed', K, D)
    mlp3('bbox_embed')
    out.extend([('refpoint_embed.weight', [Q * G, 4]), ('query_feat.weight', [Q * G, D])])
    e = 'backbone.0.encoder.encoder.'
    out.extend([(f'{e}embeddings.cls_token', [1, 1, C]), (f'{e}embeddings.mask_token', [1, C]),
                (f'{e}embeddings.position_embeddings', [1, 1 + S * S, C]),
                (f'{e}embeddings.patch_embeddings.projection.weight', [C, 3, p, p]), (f'{e}embeddings.patch_embeddings.projection.bias', [C])])
    for i in range(L):
        b = f'{e}encoder.layer.{i}'
        norm(f'{b}.norm1', C)
        for q in ('query', 'key', 'value'):
            lin(f'{b}.attention.attention.{q}', C, C)
        lin(f'{b}.attention.output.dense', C, C)
        out.append((f'{b}.layer_scale1.lambda1', [C]))
        norm(f'{b}.norm2', C)
        lin(f'{b}.mlp.fc1', 4 * C, C)
        lin(f'{b}.mlp.fc2', C, 4 * C)
        out.append((f'{b}.layer_scale2.lambda1', [C]))
    norm(f'{e}layernorm', C)
    pr = 'backbone.0.projector.stages.0.'

    def convx(name, o, i, k):
        out.append((f'{name}.conv.weight', [o, i, k, k]))
        norm(f'{name}.bn', o)

    convx(f'{pr}0.cv1', 2 * c, T * C, 1)
    convx(f'{pr}0.cv2', D, (2 + n) * c, 1)
    for j in range(n):
        convx(f'{pr}0.m.{j}.cv1', c, c, 3)
        convx(f'{pr}0.m.{j}.cv2', c, c, 3)
    norm(f'{pr}1', D)
    return out, a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--variant', choices=sorted(VARIANTS), default='nano')
    ap.add_argument('--out', required=True)
    ap.add_argument('--safetensors')
    ap.add_argument('--seed', type=int, default=0)
    o = ap.parse_args()
    gen = torch.Generator().manual_seed(o.seed)
    names, args = shapes(o.variant)
    sd = OrderedDict((k, torch.randn(s, generator=gen) * 0.02) for k, s in names)
    os.makedirs(os.path.dirname(os.path.abspath(o.out)), exist_ok=True)
    torch.save({'model': sd, 'args': argparse.Namespace(**args)}, o.out)
    params = sum(t.numel() for t in sd.values())
    print(f'wrote {o.out}: {len(sd)} tensors, {params / 1e6:.1f} M parameters, {os.path.getsize(o.out) / 1e6:.1f} MB')
    if o.safetensors:
        write_safetensors(o.safetensors, {k: v.contiguous() for k, v in sd.items()}, {'format': 'pt'})
        print(f'wrote {o.safetensors}')


if __name__ == '__main__':
    main()
