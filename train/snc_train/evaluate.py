"""COCO bbox evaluation of subnets in PyTorch, post-processed as snc does
(src/detr/postprocess.ts: sigmoid, top 100 of all Q x K scores with ties to the lower index,
boxes scaled to the original image, no NMS) and scored by train/coco_reference.py."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from coco_reference import evaluate as coco_evaluate  # noqa: E402

TOP_K = 100


def detections(boxes, logits, width, height, cls_to_cat, k=TOP_K):
    """boxes [Q, 4], logits [Q, K] of one image -> COCO results (without image_id)."""
    q, kk = logits.shape
    flat = logits.reshape(-1)
    # stable sort: equal scores keep the lower index first, as snc's topK
    order = torch.sort(-flat, stable=True).indices[:k]
    out = []
    for idx in order.tolist():
        qi, label = divmod(idx, kk)
        cx, cy, w, h = boxes[qi].tolist()
        x0, y0 = (cx - 0.5 * w) * width, (cy - 0.5 * h) * height
        x1, y1 = (cx + 0.5 * w) * width, (cy + 0.5 * h) * height
        out.append({'category_id': cls_to_cat[label], 'bbox': [x0, y0, x1 - x0, y1 - y0], 'score': float(torch.sigmoid(flat[idx]))})
    return out


@torch.no_grad()
def evaluate_config(net, dataset, config, mean, std, batch=16, exits=False):
    """The twelve COCO stats of one config on `dataset`; with exits=True a list of them for
    every decoder depth 1..layers (one run of the deepest)."""
    net.eval()
    depth = config['layers']
    results = [[] for _ in range(depth + 1)]
    for start in range(0, len(dataset), batch):
        idx = list(range(start, min(start + batch, len(dataset))))
        x, _ = dataset.batch(idx, config['resolution'], mean, std)
        _, _, bl, ll = net(x, config, exits=True)
        for j, i in enumerate(idx):
            im = dataset.images[i]
            for layer in range(1, depth + 1) if exits else [depth]:
                for d in detections(bl[layer][j], ll[layer][j], im['width'], im['height'], dataset.cls_to_cat):
                    d['image_id'] = im['id']
                    results[layer].append(d)
    if exits:
        return [coco_evaluate(dataset.coco, results[layer]) for layer in range(1, depth + 1)]
    return coco_evaluate(dataset.coco, results[depth])
