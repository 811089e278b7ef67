"""Dense class heatmaps, a training-only auxiliary loss (issue #16: the supernet found objects but
named them at chance). CenterNet's recipe, as the learnability baseline of
docs/training-evidence.md trained it (a small CNN reached 0.58-0.77 class accuracy in 25
minutes): every cell of a feature grid predicts one score per class; the target is 1 at the cell
holding an object's centre and a Gaussian around it (the maximum over the objects of the class),
so every object gives several graded positives instead of one; the loss is CenterNet's focal loss
(positives (1-p)^2 log p, the rest (1 - heat)^4 p^2 log(1 - p)), normalised by the object count.

Two heads, both dropped at export (the supernet's weights and graph do not change):
- on the conv stem's output (stride 8; a 3x3 conv, SiLU, a 1x1 conv to the classes), where
  convolutional features learn shape fastest;
- on the projector's output, the memory the decoder samples (a linear map per token), so the
  features the queries read carry the class.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PRIOR = 0.1  # CenterNet's initial heatmap score
PRIOR_LOGIT = -math.log((1 - PRIOR) / PRIOR)


def stem_heatmap_head(c, k):
    """The head on a conv stem's [B, c, g, g] output: a 3x3 conv, SiLU, a 1x1 conv to k class
    logits, starting at CenterNet's prior (the auxiliary loss's and train/stem_probe.py's)."""
    head = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.SiLU(), nn.Conv2d(c, k, 1))
    nn.init.constant_(head[-1].bias, PRIOR_LOGIT)
    return head


class AuxHeatmap(nn.Module):
    def __init__(self, net):
        super().__init__()
        a = net.arch
        k = a['numClasses']
        stem = a['backbone'].get('stem')
        if stem is None:
            raise SystemExit('--aux-heatmap needs a family with a conv stem (backbone.stem; train/spec_variant.py --stem)')
        c = stem['channels'][-1]
        self.stem_head = stem_heatmap_head(c, k)
        self.mem_head = nn.Linear(a['decoder']['width'], k)
        nn.init.constant_(self.mem_head.bias, PRIOR_LOGIT)
        nn.init.normal_(self.mem_head.weight, std=0.01)
        self.captured = None
        net.backbone.stem.register_forward_hook(self._capture)

    def _capture(self, module, inputs, output):
        self.captured = output

    def loss(self, memory, grid, targets, k):
        """memory [B, G*G, D] row-major; the stem's output of the same forward was captured."""
        stem = self.captured
        self.captured = None
        b = memory.shape[0]
        mem_logits = self.mem_head(memory).transpose(1, 2).reshape(b, k, grid, grid)
        stem_logits = self.stem_head(stem)
        return focal_heatmap(stem_logits, targets) + focal_heatmap(mem_logits, targets)


def heatmap_targets(targets, k, grid, dtype):
    """[B, K, grid, grid]: per class, the maximum over its objects of a Gaussian centred on the
    object's centre cell (exactly 1 there), sigma a sixth of the object's size in cells (at least
    half a cell)."""
    out = torch.zeros(len(targets), k, grid, grid, dtype=dtype)
    c = torch.arange(grid, dtype=dtype)
    for b, (tb, tl) in enumerate(targets):
        if tl.numel() == 0:
            continue
        cx = (tb[:, 0] * grid).floor().clamp(0, grid - 1)
        cy = (tb[:, 1] * grid).floor().clamp(0, grid - 1)
        sigma = ((tb[:, 2] * tb[:, 3]).sqrt() * grid / 6).clamp(min=0.5)
        g = torch.exp(-((c[None, None, :] - cx[:, None, None]) ** 2 + (c[None, :, None] - cy[:, None, None]) ** 2)
                      / (2 * sigma[:, None, None] ** 2))  # [T, y, x]
        for j in range(len(tl)):
            cls = int(tl[j])
            out[b, cls] = torch.maximum(out[b, cls], g[j])
    return out


def focal_heatmap(logits, targets):
    """CenterNet's focal loss of logits [B, K, g, g] against heatmap_targets, normalised by the
    number of objects."""
    b, k, g, _ = logits.shape
    heat = heatmap_targets(targets, k, g, logits.dtype)
    p = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    pos = heat.eq(1).to(logits.dtype)
    lp = -(F.logsigmoid(logits) * (1 - p) ** 2 * pos).sum()
    ln = -(F.logsigmoid(-logits) * p ** 2 * (1 - heat) ** 4 * (1 - pos)).sum()
    return (lp + ln) / max(1.0, float(pos.sum()))
