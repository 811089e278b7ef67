#!/usr/bin/python3
"""Weight-sharing training of an snc supernet (the embedded default `shapes-tiny`) on sets
written by `snc data synth`. docs/training.md explains the choices; in short:

- every step trains a subnet drawn uniformly from the grid, plus the largest (highest
  resolution, smallest patch, global attention, most queries) and the smallest on alternate
  steps of every 3 (a thinned sandwich rule, BigNAS); gradients are summed before one optimiser
  step. The first share of the steps (--coarse-phase) draws only the coarsest patch. Patch
  sizes share one kernel through FlexiViT's PI-resize, resolutions one position table through
  bicubic resizing, query counts the first Q content queries, window counts all weights;
- decoder depth is not drawn: every subnet runs all layers and every layer's output (and the
  two-stage proposals of every token) gets its loss, so every prefix of layers is a
  detector (decoder layers are what RF-DETR drops at inference);
- RF-DETR's decoder losses: Hungarian matching, IoU-aware BCE, L1 and GIoU; the two-stage
  proposals learn from a fixed centre-cell assignment (snc_train/loss.py);
- seeded and resumable: batch and subnet draws depend only on (seed, step), a checkpoint is
  written atomically every few minutes and at the end of a run, and a re-run continues from it.

- optional (docs/training.md): Group DETR (--groups N, extra query groups in training only),
  EMA weights (--ema 0.993), and every architecture option of the family in --spec (C2f
  projector, box reparametrisation, fixed reference points with sine query_pos, learned
  reference boxes, final decoder norm, CLS tokens).

usage: /usr/bin/python3 train/train_supernet.py --data TRAIN --val VAL --spec supernet.json \
          --work out/train --out models/shapes-tiny [--steps N] [--minutes M] [--seed S]
          [--groups N] [--ema DECAY]
"""
import argparse
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import snc_train.allocator  # noqa: E402,F401  (first: restarts the process under jemalloc, 4x faster steps)
import snc_train.threads  # noqa: E402,F401  (before torch: one OpenBLAS thread per caller)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from snc_ref.model import Supernet  # noqa: E402
from snc_ref.supernet_dir import save_supernet_dir  # noqa: E402
from snc_train.data import DetectionSet  # noqa: E402
from snc_train.evaluate import evaluate_config  # noqa: E402
from snc_train.ema import ModelEma  # noqa: E402
from snc_train.forward import GroupQueries, train_forward  # noqa: E402
from snc_train.heatmap import AuxHeatmap  # noqa: E402
from snc_train.loss import dense_loss, set_loss  # noqa: E402


def valid(config, arch):
    g = config['resolution'] // config['patch']
    return config['resolution'] % config['patch'] == 0 and g % config['windows'] == 0 and config['queries'] <= g * g


def grid_configs(spec):
    k = spec['knobs']
    out = []
    for r in k['resolution']:
        for p in k['patch']:
            for w in k['windows']:
                for q in k['queries']:
                    c = {'resolution': r, 'patch': p, 'windows': w, 'layers': max(k['layers']), 'queries': q}
                    if valid(c, spec['architecture']):
                        out.append(c)
    return out


def extremes(spec):
    k = spec['knobs']
    largest = {'resolution': max(k['resolution']), 'patch': min(k['patch']), 'windows': min(k['windows']), 'layers': max(k['layers']), 'queries': max(k['queries'])}
    smallest = {'resolution': min(k['resolution']), 'patch': max(k['patch']), 'windows': max(k['windows']), 'layers': max(k['layers']), 'queries': min(k['queries'])}
    return largest, smallest


def config_key(c):
    return f"res={c['resolution']},patch={c['patch']},windows={c['windows']},layers={c['layers']},queries={c['queries']}"


def init_weights(net, arch):
    """ViT-style init for the backbone, Deformable-DETR init for the decoder, heads that start
    at the anchors / reference boxes with a 1% foreground prior."""
    def trunc(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
    net.apply(trunc)
    nn.init.trunc_normal_(net.backbone.pos_embed, std=0.02)
    prior = -math.log((1 - 0.01) / 0.01)
    for head in (net.two_stage.class_head, net.decoder.class_head):
        nn.init.constant_(head.bias, prior)
    for mlp in (net.two_stage.bbox_head, net.decoder.bbox_head):
        nn.init.zeros_(mlp.layers[-1].weight)
        nn.init.zeros_(mlp.layers[-1].bias)
    if hasattr(net, 'refpoint_embed'):
        nn.init.zeros_(net.refpoint_embed.weight)  # a zero delta on the proposals (RF-DETR)
    dec = arch['decoder']
    h, p = dec['heads'], dec['points']
    for layer in net.decoder.layers:
        ca = layer.cross_attn
        nn.init.zeros_(ca.sampling_offsets.weight)
        theta = torch.arange(h, dtype=torch.float32) * (2 * math.pi / h)
        g = torch.stack([theta.cos(), theta.sin()], -1)
        g = (g / g.abs().max(-1, keepdim=True).values).view(h, 1, 2).repeat(1, p, 1)
        for i in range(p):
            g[:, i, :] *= i + 1
        with torch.no_grad():
            ca.sampling_offsets.bias.copy_(g.reshape(-1))
        nn.init.zeros_(ca.attention_weights.weight)
        nn.init.zeros_(ca.attention_weights.bias)


def lr_at(step, total, base, warmup, progress=None):
    """Linear warm-up over `warmup` steps, then cosine decay to 5% of `base` over the rest of
    the schedule: of the steps, or with `progress` (0..1, --schedule-minutes) of the time."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = progress if progress is not None else (step - warmup) / max(1, total - warmup)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def save_atomic(obj, path):
    tmp = path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def log_line(path, entry):
    with open(path, 'a', encoding='utf-8') as f:
        f.write(json.dumps(entry) + '\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help='training set (snc data synth)')
    ap.add_argument('--val', required=True, help='validation set for the periodic AP in the log')
    ap.add_argument('--val-images', type=int, default=100, help='validation images (0: no validation, for timing probes)')
    ap.add_argument('--spec', required=True, help='supernet.json of the family to train')
    ap.add_argument('--work', required=True, help='folder for checkpoint.pt and train-log.jsonl')
    ap.add_argument('--out', required=True, help='supernet folder written at the end')
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--lr', type=float, default=3e-4)
    ap.add_argument('--warmup', type=int, default=200)
    ap.add_argument('--weight-decay', type=float, default=1e-4)
    ap.add_argument('--clip', type=float, default=1.0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--coarse-phase', type=float, default=0.4, help='share of the steps that train only the coarsest patch size')
    ap.add_argument('--sandwich-every', type=int, default=3, help='the largest subnet on step 0 and the smallest on step 1 of every N')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--stop-at', type=int, default=0, help='end training at this step of the --steps schedule and write the supernet (0: at --steps)')
    ap.add_argument('--minutes', type=float, default=0, help='stop this run after M minutes (checkpointed); 0: no limit')
    ap.add_argument('--ckpt-minutes', type=float, default=5)
    ap.add_argument('--val-every', type=int, default=500)
    ap.add_argument('--schedule-minutes', type=float, default=0,
                    help='a schedule of training time instead of steps (for A/B runs of equal time): the learning rate and the coarse phase follow elapsed / M minutes, '
                         'training ends after M minutes of training (resumable) and writes the supernet; not bit-reproducible (the step count depends on speed). 0: off')
    ap.add_argument('--groups', type=int, default=1, help='Group DETR: query groups in training (group 0 is the model\'s; 1: off)')
    ap.add_argument('--ema', type=float, default=0.0, help='EMA decay of the weights (e.g. 0.993 as RF-DETR; 0: off); validation and the written supernet use the EMA weights')
    ap.add_argument('--ema-tau', type=float, default=100, help='EMA warm-up: decay x (1 - exp(-updates / tau))')
    ap.add_argument('--init', help="another run's checkpoint.pt to start from (its weights, query groups and EMA weights; a fresh optimiser and "
                                   'schedule of --steps): a second phase of training. Same --groups and --ema as that run')
    ap.add_argument('--init-stem', help="the conv stem's weights from train/stem_probe.py --save-stem (dense class heatmaps on whole images, a "
                                        'pretraining of the stem at a CNN\'s speed); the rest starts fresh, or from --init')
    ap.add_argument('--aux-heatmap', type=float, default=0.0,
                    help='weight of the training-only dense class heatmap loss (snc_train/heatmap.py: CenterNet focal loss on the conv stem\'s output and on the memory; 0: off)')
    args = ap.parse_args()
    if args.groups < 1:
        sys.exit(f'--groups {args.groups}: must be >= 1')

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    with open(args.spec, encoding='utf-8') as f:
        spec = json.load(f)
    arch = spec['architecture']
    pre = spec['preprocess']
    mean, std = pre['mean'], pre['std']
    os.makedirs(args.work, exist_ok=True)
    ckpt_path = os.path.join(args.work, 'checkpoint.pt')
    log_path = os.path.join(args.work, 'train-log.jsonl')

    t_load = time.time()
    train = DetectionSet(args.data, spec['classes'])
    val = DetectionSet(args.val, spec['classes'], limit=args.val_images) if args.val_images else []
    print(f'data: {len(train)} training images, {len(val)} validation images ({time.time() - t_load:.1f} s); allocator {snc_train.allocator.allocator()}', file=sys.stderr)

    net = Supernet(arch)
    init_weights(net, arch)
    groups = GroupQueries(net, args.groups) if args.groups > 1 else None
    aux = AuxHeatmap(net) if args.aux_heatmap > 0 else None
    named = list(net.named_parameters()) + ([('groups.' + n, p) for n, p in groups.named_parameters()] if groups else []) \
        + ([('aux.' + n, p) for n, p in aux.named_parameters()] if aux else [])
    no_wd = ('pos_embed', 'query_feat', 'refpoint_embed', 'cls_token')
    decay = [p for n, p in named if p.ndim >= 2 and not any(k in n for k in no_wd)]
    no_decay = [p for n, p in named if not (p.ndim >= 2 and not any(k in n for k in no_wd))]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': args.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}], lr=args.lr)
    step, elapsed = 0, 0.0
    init = None
    # the patch sizes any step of this run or of the runs it starts from trained; the others are
    # written as untrained (a patch-16-only phase must not offer patch 8 to the search). A
    # checkpoint without the field trained every patch size (the runs before it drew the grid).
    every_patch = sorted(spec['knobs']['patch'])
    trained_patches = set()
    defaults = {'groups': 1, 'ema': 0.0, 'init': None, 'aux_heatmap': 0.0, 'init_stem': None}

    def require_same(saved, keys, what, hint=''):
        for k in keys:
            if saved['args'].get(k, defaults[k]) != getattr(args, k):
                sys.exit(f'{what}: written with --{k} {saved["args"].get(k)}; this run asks for {getattr(args, k)}{hint}')

    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        if ck['args']['seed'] != args.seed or ck['args']['steps'] != args.steps:
            sys.exit(f'{ckpt_path}: written with seed {ck["args"]["seed"]}, steps {ck["args"]["steps"]}; this run asks for seed {args.seed}, steps {args.steps} (delete the checkpoint to start over)')
        require_same(ck, ('groups', 'ema', 'init', 'aux_heatmap', 'init_stem'), ckpt_path, ' (delete the checkpoint to start over)')
        net.load_state_dict(ck['model'])
        if groups:
            groups.load_state_dict(ck['groups'])
        if aux:
            aux.load_state_dict(ck['aux'])
        opt.load_state_dict(ck['opt'])
        step, elapsed = ck['step'], ck['elapsed']
        trained_patches = set(ck.get('trained_patches', every_patch))
        print(f'resumed at step {step} ({elapsed / 60:.1f} min trained)', file=sys.stderr)
        log_line(log_path, {'event': 'resume', 'step': step, 'minutes': round(elapsed / 60, 2), 'allocator': snc_train.allocator.allocator()})
    else:
        if args.init:
            init = torch.load(args.init)
            trained_patches = set(init.get('trained_patches', every_patch))
            require_same(init, ('groups', 'ema'), f'--init {args.init}')
            net.load_state_dict(init['model'] if 'model' in init else init['ema']['module'])  # slim_checkpoint.py keeps only the EMA weights
            if groups:
                groups.load_state_dict(init['groups'])
            if aux and 'aux' in init:
                aux.load_state_dict(init['aux'])
            print(f"starting from {args.init} (step {init['step']} of its run, {init['elapsed'] / 60:.1f} min trained)", file=sys.stderr)
        if args.init_stem:
            if 'stem' not in arch['backbone']:
                sys.exit(f'--init-stem {args.init_stem}: the family has no conv stem (backbone.stem)')
            pre_stem = torch.load(args.init_stem)
            net.backbone.stem.load_state_dict(pre_stem['stem'])
            if aux:  # the probe's heatmap head is the auxiliary loss's stem head (the same layers)
                aux.stem_head.load_state_dict(pre_stem['head'])
            print(f"stem from {args.init_stem} ({pre_stem['figures']['steps']} steps, {pre_stem['figures']['minutes']} min)", file=sys.stderr)
        log_line(log_path, {'event': 'start', 'args': vars(args), 'params': sum(p.numel() for p in net.parameters()), 'allocator': snc_train.allocator.allocator(),
                            **({'init': {'step': init['step'], 'minutes': round(init['elapsed'] / 60, 2)}} if init else {})})

    ema = ModelEma(net, args.ema, args.ema_tau) if args.ema > 0 else None
    if ema and os.path.exists(ckpt_path):
        ema.load_state_dict(ck['ema'])
    elif ema and init:
        ema.load_state_dict(init['ema'])
    configs = grid_configs(spec)
    largest, smallest = extremes(spec)
    coarse = [c for c in configs if c['patch'] == max(spec['knobs']['patch'])]
    coarse_largest = max(coarse, key=lambda c: (c['resolution'], -c['windows'], c['queries']))

    def pick_subnets(rng, step):
        """A random subnet every step; the largest and the smallest (the sandwich rule) on
        alternate steps of every --sandwich-every. During the coarse phase (--coarse-phase of
        the steps) only the coarsest patch size is drawn, and its largest subnet stands for the
        largest (the finest patch costs 4x the tokens, and shares every weight through the
        PI-resized kernel)."""
        coarse_phase = (progress() if args.schedule_minutes else step / args.steps) < args.coarse_phase
        out = [rng.choice(coarse if coarse_phase else configs)]
        if step % args.sandwich_every == 0:
            out.append(coarse_largest if coarse_phase else largest)
        elif step % args.sandwich_every == 1:
            out.append(smallest)
        return out

    def checkpoint():
        extra = {'groups': groups.state_dict()} if groups else {}
        if aux:
            extra['aux'] = aux.state_dict()
        if ema:
            extra['ema'] = ema.state_dict()
        save_atomic({'model': net.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed, 'args': vars(args),
                     'trained_patches': sorted(trained_patches), **extra}, ckpt_path)

    def validate():
        if not args.val_images:
            return
        net.eval()
        entry = {'event': 'val', 'step': step, 'minutes': round(elapsed / 60, 2), 'weights': 'ema' if ema else 'model'}
        for name, c in (('largest', largest), ('smallest', smallest)):
            stats = evaluate_config(ema.module if ema else net, val, c, mean, std, exits=True)
            entry[name] = {f'layers={i + 1}': {'AP': round(s[0], 4), 'AP50': round(s[1], 4)} for i, s in enumerate(stats)}
        log_line(log_path, entry)
        print(f"step {step}: val AP largest {entry['largest']} smallest {entry['smallest']}", file=sys.stderr)
        net.train()

    run_start = time.time()
    last_ckpt = time.time()
    net.train()
    last = min(args.steps, args.stop_at) if args.stop_at else args.steps

    def progress():
        return min(1.0, elapsed / (args.schedule_minutes * 60))

    def finished():
        return progress() >= 1.0 if args.schedule_minutes else step >= last

    while not finished():
        if args.minutes and time.time() - run_start > args.minutes * 60:
            break
        t0 = time.time()
        rng = random.Random(args.seed * 1_000_003 + step)
        idx = [rng.randrange(len(train)) for _ in range(args.batch)]
        flip = [rng.random() < 0.5 for _ in idx]
        subnets = pick_subnets(rng, step)
        trained_patches.update(c['patch'] for c in subnets)
        lr = lr_at(step, args.steps, args.lr, args.warmup, progress() if args.schedule_minutes else None)
        for g in opt.param_groups:
            g['lr'] = lr
        opt.zero_grad(set_to_none=True)
        parts, aux_parts = {}, {}
        for c in subnets:
            x, targets = train.batch(idx, c['resolution'], mean, std, flip)
            num_boxes = max(1.0, float(sum(len(l) for _, l in targets)))
            kept = {}
            (props, enc_logits), layers = train_forward(net, x, c, groups, kept)
            loss = dense_loss(props, enc_logits, c['resolution'] // c['patch'], targets)
            if aux:
                la = aux.loss(kept['memory'], kept['grid'], targets, arch['numClasses'])
                loss = loss + args.aux_heatmap * la
                aux_parts[config_key(c)] = round(float(la), 4)
            # Group DETR: every group matched on its own, the loss averaged over the groups
            for b, l in layers:
                lb, _ = set_loss(b, l, targets * args.groups, num_boxes * args.groups)
                loss = loss + lb
            (loss / len(subnets)).backward()
            parts[config_key(c)] = round(float(loss), 4)
        torch.nn.utils.clip_grad_norm_([p for _, p in named], args.clip)
        opt.step()
        if ema:
            ema.update(net)
        step += 1
        elapsed += time.time() - t0
        if step % 20 == 0 or step == 1:
            log_line(log_path, {'event': 'step', 'step': step, 'lr': lr, 'minutes': round(elapsed / 60, 2), 'loss': parts, **({'aux': aux_parts} if aux else {})})
            print(f'step {step}/{args.steps} lr {lr:.2e} {elapsed / step:.2f} s/step loss ' + ' '.join(f'{v:.2f}' for v in parts.values()), file=sys.stderr)
        if step % args.val_every == 0 or finished():
            validate()
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            checkpoint()
            last_ckpt = time.time()
    checkpoint()
    if finished():
        # what is untrained is a property of these weights, not of the family the spec names
        out_spec = {k: v for k, v in spec.items() if k != 'untrained'}
        never = [p for p in every_patch if p not in trained_patches]
        if never:
            out_spec['untrained'] = {'patch': never}
        save_supernet_dir(args.out, out_spec, ema.module if ema else net)
        log_line(log_path, {'event': 'done', 'step': step, 'minutes': round(elapsed / 60, 2), 'out': args.out})
        print(f'done: {step} steps of {args.steps} in {elapsed / 60:.1f} min; wrote {args.out}', file=sys.stderr)
    else:
        print(f'stopped at step {step}/{args.steps} ({elapsed / 60:.1f} min trained); run again to continue', file=sys.stderr)


if __name__ == '__main__':
    main()
