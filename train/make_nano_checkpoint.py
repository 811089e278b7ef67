#!/usr/bin/env python3
"""Writes an RF-DETR-Nano-sized checkpoint with random weights, for `bench/import-rfdetr.ts`.

The key list and shapes are those of RF-DETR 1.4.1's LWDETR state dict (read from
`rfdetr/models/lwdetr.py`, `transformer.py`, `backbone/projector.py` and
`backbone/dinov2_with_windowed_attn.py`), generated here from the architecture's dimensions.
`--check-tiny KEYS` first regenerates the list at the dimensions of the fixture in
../shared/fixtures/rfdetr-tiny/ and compares it, name by name and shape by shape, with that
fixture's keys.txt (made by RF-DETR's own build_model), so the layout is RF-DETR's own.

The file is what RF-DETR's `strip_checkpoint` leaves: torch.save({'model': state_dict,
'args': argparse.Namespace(...)}); the state dict is an OrderedDict carrying `_metadata` as
`nn.Module.state_dict()` returns it. With `--ema` an `ema_model` copy is added (a training
checkpoint's layout). Not committed: generate it into out/.

    /usr/bin/python3 train/make_nano_checkpoint.py out/rf-detr-nano-random.pth \
        --check-tiny ../shared/fixtures/rfdetr-tiny/keys.txt
"""
import argparse
import collections
import sys

NANO = dict(width=384, depth=12, mlp=4, in_ch=3, patch=16, pos_grid=24, taps=4, D=256, dec_layers=2,
            queries=300, groups=13, classes=91, ca_heads=16, points=2, levels=1, ffn=2048, bottlenecks=3)
TINY = dict(width=96, depth=4, mlp=4, in_ch=3, patch=16, pos_grid=8, taps=2, D=64, dec_layers=2,
            queries=100, groups=3, classes=91, ca_heads=4, points=2, levels=1, ffn=128, bottlenecks=3)


def state_dict_shapes(a):
    """(name, shape) in the order of RF-DETR's state dict."""
    out = []
    D, C = a['D'], a['width']

    def lin(name, o, i, bias=True):
        out.append((f'{name}.weight', [o, i]))
        if bias:
            out.append((f'{name}.bias', [o]))

    def norm(name, w):
        out.append((f'{name}.weight', [w]))
        out.append((f'{name}.bias', [w]))

    def mlp(name, dims):
        for i in range(len(dims) - 1):
            lin(f'{name}.layers.{i}', dims[i + 1], dims[i])

    for l in range(a['dec_layers']):
        p = f'transformer.decoder.layers.{l}'
        out.append((f'{p}.self_attn.in_proj_weight', [3 * D, D]))
        out.append((f'{p}.self_attn.in_proj_bias', [3 * D]))
        lin(f'{p}.self_attn.out_proj', D, D)
        norm(f'{p}.norm1', D)
        hp = a['ca_heads'] * a['levels'] * a['points']
        lin(f'{p}.cross_attn.sampling_offsets', hp * 2, D)
        lin(f'{p}.cross_attn.attention_weights', hp, D)
        lin(f'{p}.cross_attn.value_proj', D, D)
        lin(f'{p}.cross_attn.output_proj', D, D)
        lin(f'{p}.linear1', a['ffn'], D)
        lin(f'{p}.linear2', D, a['ffn'])
        norm(f'{p}.norm2', D)
        norm(f'{p}.norm3', D)
    norm('transformer.decoder.norm', D)
    mlp('transformer.decoder.ref_point_head', [2 * D, D, D])
    g = a['groups']
    for i in range(g):
        lin(f'transformer.enc_output.{i}', D, D)
    for i in range(g):
        norm(f'transformer.enc_output_norm.{i}', D)
    for i in range(g):
        mlp(f'transformer.enc_out_bbox_embed.{i}', [D, D, D, 4])
    for i in range(g):
        lin(f'transformer.enc_out_class_embed.{i}', a['classes'], D)
    lin('class_embed', a['classes'], D)
    mlp('bbox_embed', [D, D, D, 4])
    out.append(('refpoint_embed.weight', [a['queries'] * g, 4]))
    out.append(('query_feat.weight', [a['queries'] * g, D]))
    e = 'backbone.0.encoder.encoder'
    out.append((f'{e}.embeddings.cls_token', [1, 1, C]))
    out.append((f'{e}.embeddings.mask_token', [1, C]))
    out.append((f'{e}.embeddings.position_embeddings', [1, 1 + a['pos_grid'] ** 2, C]))
    out.append((f'{e}.embeddings.patch_embeddings.projection.weight', [C, a['in_ch'], a['patch'], a['patch']]))
    out.append((f'{e}.embeddings.patch_embeddings.projection.bias', [C]))
    for i in range(a['depth']):
        b = f'{e}.encoder.layer.{i}'
        norm(f'{b}.norm1', C)
        for q in ('query', 'key', 'value'):
            lin(f'{b}.attention.attention.{q}', C, C)
        lin(f'{b}.attention.output.dense', C, C)
        out.append((f'{b}.layer_scale1.lambda1', [C]))
        norm(f'{b}.norm2', C)
        lin(f'{b}.mlp.fc1', C * a['mlp'], C)
        lin(f'{b}.mlp.fc2', C, C * a['mlp'])
        out.append((f'{b}.layer_scale2.lambda1', [C]))
    norm(f'{e}.layernorm', C)
    # C2f projector on the concatenated taps: cv1 1x1 -> 2c, bottlenecks on c, cv2 1x1 from (2+n)c
    s = 'backbone.0.projector.stages.0'
    c = D // 2
    n = a['bottlenecks']

    def conv(name, o, i, k):
        out.append((f'{name}.conv.weight', [o, i, k, k]))
        norm(f'{name}.bn', o)

    conv(f'{s}.0.cv1', 2 * c, C * a['taps'], 1)
    conv(f'{s}.0.cv2', D, (2 + n) * c, 1)
    for j in range(n):
        conv(f'{s}.0.m.{j}.cv1', c, c, 3)
        conv(f'{s}.0.m.{j}.cv2', c, c, 3)
    norm(f'{s}.1', D)
    return out


def check_tiny(path):
    want = []
    with open(path) as f:
        for line in f:
            name, shape = line.rstrip('\n').split('\t')
            want.append((name, [int(x) for x in shape.strip('[]').split(',') if x.strip()]))
    got = state_dict_shapes(TINY)
    if got != want:
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                sys.exit(f'key {i}: generated {g}, fixture has {w}')
        sys.exit(f'generated {len(got)} keys, fixture has {len(want)}')
    print(f'layout check: {len(got)} keys match {path}', file=sys.stderr)


def nano_args():
    return argparse.Namespace(
        num_classes=90, device='cpu', encoder='dinov2_windowed_small', vit_encoder_num_layers=12,
        pretrained_encoder=None, window_block_indexes=None, drop_path=0.0, hidden_dim=256,
        out_feature_indexes=[3, 6, 9, 12], projector_scale=['P4'], use_cls_token=False,
        position_embedding='sine', freeze_encoder=False, layer_norm=True, rms_norm=False,
        backbone_lora=False, force_no_pretrain=False, gradient_checkpointing=False,
        pretrain_weights='rf-detr-nano.pth', resolution=384, patch_size=16, num_windows=2,
        positional_encoding_size=24, encoder_only=False, backbone_only=False, dec_layers=2,
        sa_nheads=8, ca_nheads=16, dec_n_points=2, dim_feedforward=2048, dropout=0.0,
        num_queries=300, group_detr=13, two_stage=True, lite_refpoint_refine=True,
        decoder_norm='LN', bbox_reparam=True, segmentation_head=False, mask_downsample_ratio=4,
        aux_loss=True, num_feature_levels=1, lr=1e-4, epochs=100, amp=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('out')
    p.add_argument('--check-tiny', metavar='KEYS', help="compare the generator with the fixture's keys.txt first")
    p.add_argument('--ema', action='store_true', help='add an ema_model copy (training checkpoint layout)')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    if a.check_tiny:
        check_tiny(a.check_tiny)
    import torch
    torch.manual_seed(a.seed)
    sd = collections.OrderedDict()
    for name, shape in state_dict_shapes(NANO):
        sd[name] = torch.randn(*shape) * 0.02
    sd._metadata = collections.OrderedDict([('', {'version': 1})])
    ckpt = {'model': sd, 'args': nano_args()}
    if a.ema:
        ema = collections.OrderedDict((k, v + 1e-3) for k, v in sd.items())
        ema._metadata = sd._metadata
        ckpt['ema_model'] = ema
    torch.save(ckpt, a.out)
    params = sum(v.numel() for v in sd.values())
    print(f'wrote {a.out}: {len(sd)} tensors, {params / 1e6:.2f} M parameters', file=sys.stderr)


if __name__ == '__main__':
    main()
