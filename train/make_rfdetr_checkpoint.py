#!/usr/bin/python3
"""An RF-DETR-shaped checkpoint at a released variant's sizes with random weights, for import tests
and timing (`snc import rfdetr`, bench/import-rfdetr.ts). Not committed: generate it into out/.

The key list and shapes are those of RF-DETR 1.4.1's LWDETR state dict (read from
`rfdetr/models/lwdetr.py`, `transformer.py`, `backbone/projector.py` and
`backbone/dinov2_with_windowed_attn.py`), generated here from the architecture's dimensions;
`rfdetr` is not needed. `--check-tiny KEYS` first regenerates the list at the dimensions of the
fixture in ../shared/fixtures/rfdetr-tiny/ and compares it, name by name and shape by shape, with
that fixture's keys.txt (made by RF-DETR's own build_model), so the layout is RF-DETR's own.

The file is what RF-DETR's `strip_checkpoint` leaves: torch.save({'model': state_dict, 'args':
argparse.Namespace(...)}), the state dict an OrderedDict carrying `_metadata` as
`nn.Module.state_dict()` returns it; 13 group-DETR groups. `--ema` adds an `ema_model` copy (a
training checkpoint's layout); `--safetensors` also writes the state dict as safetensors.

    /usr/bin/python3 train/make_rfdetr_checkpoint.py --variant nano --out out/rf-detr-nano-random.pth \
        [--check-tiny ../shared/fixtures/rfdetr-tiny/keys.txt] [--ema] \
        [--safetensors out/rf-detr-nano-random.safetensors] [--seed 0]
"""
import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

VARIANTS = {  # rfdetr/config.py
    'nano': dict(resolution=384, patch_size=16, num_windows=2, positional_encoding_size=24, out_feature_indexes=[3, 6, 9, 12], dec_layers=2),
    'small': dict(resolution=512, patch_size=16, num_windows=2, positional_encoding_size=32, out_feature_indexes=[3, 6, 9, 12], dec_layers=3),
    'medium': dict(resolution=576, patch_size=16, num_windows=2, positional_encoding_size=36, out_feature_indexes=[3, 6, 9, 12], dec_layers=4),
    'base': dict(resolution=560, patch_size=14, num_windows=4, positional_encoding_size=37, out_feature_indexes=[2, 5, 8, 11], dec_layers=3),
    'large': dict(resolution=704, patch_size=16, num_windows=2, positional_encoding_size=44, out_feature_indexes=[3, 6, 9, 12], dec_layers=4),
}
COMMON = dict(num_classes=90, device='cpu', encoder='dinov2_windowed_small', vit_encoder_num_layers=12, pretrained_encoder=None,
              window_block_indexes=None, drop_path=0.0, hidden_dim=256, projector_scale=['P4'], use_cls_token=False,
              position_embedding='sine', freeze_encoder=False, layer_norm=True, rms_norm=False, backbone_lora=False,
              force_no_pretrain=False, gradient_checkpointing=False, encoder_only=False, backbone_only=False, sa_nheads=8,
              ca_nheads=16, dec_n_points=2, dim_feedforward=2048, dropout=0.0, num_queries=300, group_detr=13, two_stage=True,
              lite_refpoint_refine=True, decoder_norm='LN', bbox_reparam=True, segmentation_head=False, mask_downsample_ratio=4,
              aux_loss=True, num_feature_levels=1, lr=1e-4, epochs=100, amp=True)
# the dimensions of shared/fixtures/rfdetr-tiny (its README): what --check-tiny regenerates
TINY = dict(width=96, depth=4, mlp=4, in_ch=3, patch=16, pos_grid=8, taps=2, D=64, dec_layers=2,
            queries=100, groups=3, classes=91, ca_heads=4, points=2, levels=1, ffn=128, bottlenecks=3)


def variant_args(v):
    return {**COMMON, **VARIANTS[v], 'pretrain_weights': f'rf-detr-{v}.pth'}


def dims(a):
    """The dimensions state_dict_shapes reads, from a checkpoint's args (DINOv2-small: width 384)."""
    return dict(width=384, depth=a['vit_encoder_num_layers'], mlp=4, in_ch=3, patch=a['patch_size'], pos_grid=a['positional_encoding_size'],
                taps=len(a['out_feature_indexes']), D=a['hidden_dim'], dec_layers=a['dec_layers'], queries=a['num_queries'],
                groups=a['group_detr'], classes=a['num_classes'] + 1, ca_heads=a['ca_nheads'], points=a['dec_n_points'],
                levels=a['num_feature_levels'], ffn=a['dim_feedforward'], bottlenecks=3)


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--variant', choices=sorted(VARIANTS), default='nano')
    ap.add_argument('--out', required=True)
    ap.add_argument('--check-tiny', metavar='KEYS', help="compare the generator with the fixture's keys.txt first")
    ap.add_argument('--ema', action='store_true', help='add an ema_model copy (training checkpoint layout)')
    ap.add_argument('--safetensors')
    ap.add_argument('--seed', type=int, default=0)
    o = ap.parse_args()
    if o.check_tiny:
        check_tiny(o.check_tiny)
    import torch
    gen = torch.Generator().manual_seed(o.seed)
    args = variant_args(o.variant)
    sd = collections.OrderedDict((k, torch.randn(s, generator=gen) * 0.02) for k, s in state_dict_shapes(dims(args)))
    sd._metadata = collections.OrderedDict([('', {'version': 1})])
    ckpt = {'model': sd, 'args': argparse.Namespace(**args)}
    if o.ema:
        ema = collections.OrderedDict((k, v + 1e-3) for k, v in sd.items())
        ema._metadata = sd._metadata
        ckpt['ema_model'] = ema
    os.makedirs(os.path.dirname(os.path.abspath(o.out)), exist_ok=True)
    torch.save(ckpt, o.out)
    params = sum(t.numel() for t in sd.values())
    print(f'wrote {o.out}: {len(sd)} tensors, {params / 1e6:.1f} M parameters, {os.path.getsize(o.out) / 1e6:.1f} MB')
    if o.safetensors:
        from snc_ref import write_safetensors
        write_safetensors(o.safetensors, {k: v.contiguous() for k, v in sd.items()}, {'format': 'pt'})
        print(f'wrote {o.safetensors}')


if __name__ == '__main__':
    main()
