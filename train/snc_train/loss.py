"""DETR set loss as RF-DETR (LW-DETR) trains: Hungarian matching (focal class cost 2, L1 5,
GIoU 2), IoU-aware BCE class loss (positives aim at s^0.25 u^0.75, negatives weighted by s^2),
L1 and GIoU box losses, all normalised by the number of objects in the batch."""
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

COST_CLASS, COST_L1, COST_GIOU = 2.0, 5.0, 2.0
W_CLASS, W_L1, W_GIOU = 1.0, 5.0, 2.0
IA_ALPHA = 0.25


def cxcywh_to_xyxy(b):
    cx, cy, w, h = b.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def box_iou_pairs(a, b):
    """IoU and GIoU of matched pairs, xyxy [n, 4] each."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.max(a[:, :2], b[:, :2])
    rb = torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area_a + area_b - inter
    iou = inter / union.clamp(min=1e-9)
    lt_c = torch.min(a[:, :2], b[:, :2])
    rb_c = torch.max(a[:, 2:], b[:, 2:])
    hull = (rb_c - lt_c).clamp(min=0).prod(-1)
    giou = iou - (hull - union) / hull.clamp(min=1e-9)
    return iou, giou


def generalized_iou_matrix(a, b):
    """GIoU of every pair, xyxy [n, 4] x [m, 4] -> [n, m]."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    iou = inter / union.clamp(min=1e-9)
    lt_c = torch.min(a[:, None, :2], b[None, :, :2])
    rb_c = torch.max(a[:, None, 2:], b[None, :, 2:])
    hull = (rb_c - lt_c).clamp(min=0).prod(-1)
    return iou - (hull - union) / hull.clamp(min=1e-9)


@torch.no_grad()
def hungarian(boxes, logits, targets):
    """Per image (pred indices, target indices) of the minimum-cost matching."""
    out = []
    prob = logits.sigmoid()
    for b, (tb, tl) in enumerate(targets):
        if tl.numel() == 0:
            out.append((torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)))
            continue
        p = prob[b][:, tl]  # [M, T]
        neg = (1 - 0.25) * p.pow(2) * -(1 - p + 1e-8).log()
        pos = 0.25 * (1 - p).pow(2) * -(p + 1e-8).log()
        c = COST_CLASS * (pos - neg) + COST_L1 * torch.cdist(boxes[b], tb, p=1) \
            - COST_GIOU * generalized_iou_matrix(cxcywh_to_xyxy(boxes[b]), cxcywh_to_xyxy(tb))
        i, j = linear_sum_assignment(c.numpy())
        out.append((torch.as_tensor(i, dtype=torch.long), torch.as_tensor(j, dtype=torch.long)))
    return out


def pair_losses(boxes, logits, bi, pi, tgt, cls, num):
    """L1 and GIoU of the predictions (bi, pi) against their paired targets (tgt boxes, cls
    classes), and the IoU-aware BCE of every (prediction, class): a paired one aims at
    s^0.25 u^0.75 (s its score, u its IoU), every other one at 0 with weight s^2. Each is
    normalised by `num`. Returns (total, parts dict)."""
    src = boxes[bi, pi]
    l1 = F.l1_loss(src, tgt, reduction='sum') / num
    iou, giou = box_iou_pairs(cxcywh_to_xyxy(src), cxcywh_to_xyxy(tgt))
    l_giou = (1 - giou).sum() / num
    prob = logits.detach().sigmoid()
    target = torch.zeros_like(logits)
    weight = prob.pow(2)
    target[bi, pi, cls] = prob[bi, pi, cls].pow(IA_ALPHA) * iou.detach().clamp(min=0.01).pow(1 - IA_ALPHA)
    weight[bi, pi, cls] = 1.0
    l_cls = (F.binary_cross_entropy_with_logits(logits, target, reduction='none') * weight).sum() / num
    total = W_CLASS * l_cls + W_L1 * l1 + W_GIOU * l_giou
    return total, {'cls': float(l_cls), 'l1': float(l1), 'giou': float(l_giou)}


def set_loss(boxes, logits, targets, num_boxes):
    """One-to-one loss: boxes [B, M, 4] (cx, cy, w, h in 0..1), logits [B, M, K], each image's
    predictions paired with its objects by `hungarian`. Returns (total, parts dict)."""
    match = hungarian(boxes.detach(), logits.detach(), targets)
    bi = torch.cat([torch.full_like(i, b) for b, (i, _) in enumerate(match)])
    pi = torch.cat([i for i, _ in match])
    tgt = torch.cat([targets[b][0][j] for b, (_, j) in enumerate(match)])
    cls = torch.cat([targets[b][1][j] for b, (_, j) in enumerate(match)])
    return pair_losses(boxes, logits, bi, pi, tgt, cls, num_boxes)


def dense_loss(boxes, logits, grid, targets, radius=0.0):
    """Loss of the two-stage proposals with a fixed geometric assignment (every token of the
    G x G grid predicts a box and class scores): the token whose cell holds an object's centre
    is its positive (the smallest object wins a cell claimed twice), as CenterNet assigns; with
    radius > 0 also the tokens whose cell centre lies inside the box within `radius` cells of
    its centre (FCOS's centre sampling). Positives learn the IoU-aware class target, L1 and
    GIoU; every token is a negative of the classes it does not hold.

    A fixed assignment needs no matching and gives every object a positive from the first step,
    where one-to-one matching on proposals learns nothing measurable in this budget. radius 0
    keeps one positive per object, so the top-Q proposals the decoder starts from spread over
    the objects instead of piling up on the most salient ones (with radius 1.5 the decoder's
    matched IoU stalled at half the proposals')."""
    b_, n, k = logits.shape
    c = (torch.arange(grid, dtype=boxes.dtype) + 0.5) / grid
    cy, cx = torch.meshgrid(c, c, indexing='ij')
    cx, cy = cx.reshape(-1), cy.reshape(-1)  # row-major tokens
    bi, ti, gi = [], [], []
    for b, (tb, tl) in enumerate(targets):
        if tl.numel() == 0:
            continue
        dx = (cx[:, None] - tb[None, :, 0]).abs()
        dy = (cy[:, None] - tb[None, :, 1]).abs()
        r = radius / grid
        inside = (radius > 0) & (dx <= tb[None, :, 2] / 2) & (dy <= tb[None, :, 3] / 2) & (dx <= r) & (dy <= r)
        home = (dx <= 0.5 / grid) & (dy <= 0.5 / grid)  # the cell that holds the centre
        pos = inside | home
        area = (tb[:, 2] * tb[:, 3])[None, :].expand(n, -1)
        area = torch.where(pos, area, torch.full_like(area, float('inf')))
        best, which = area.min(dim=1)
        tok = torch.nonzero(torch.isfinite(best)).flatten()
        bi.append(torch.full_like(tok, b))
        ti.append(tok)
        gi.append((b, which[tok]))
    num = max(1.0, float(sum(len(t) for t in ti)))
    empty = torch.empty(0, dtype=torch.long)
    bi = torch.cat(bi) if bi else empty
    pi = torch.cat(ti) if ti else empty
    tgt = torch.cat([targets[b][0][w] for b, w in gi]) if gi else boxes.new_zeros(0, 4)
    cls = torch.cat([targets[b][1][w] for b, w in gi]) if gi else empty
    return pair_losses(boxes, logits, bi, pi, tgt, cls, num)[0]
