"""Detection sets written by `snc data synth` (COCO json + images), held in memory as uint8.

Images are decoded once with PIL and cached as one uint8 array [N, S, S, 3] next to the set
(`.snc-cache-<S>.npy`), so a resumed run starts in seconds. Batches are resized on the fly to
the subnet's resolution with torch's antialiased bilinear resize (PIL's filter, as sharp's
`linear` kernel in snc's pre-processing: square, no letterbox) and normalised.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


class DetectionSet:
    def __init__(self, root, classes, limit=None):
        with open(os.path.join(root, 'annotations.json'), encoding='utf-8') as f:
            coco = json.load(f)
        self.root = root
        self.coco = coco
        self.images = sorted(coco['images'], key=lambda im: im['id'])
        if limit is not None:
            self.images = self.images[:limit]
            keep = {im['id'] for im in self.images}
            self.coco = dict(coco, images=self.images, annotations=[a for a in coco['annotations'] if a['image_id'] in keep])
        by_name = {c['name']: c['id'] for c in coco['categories']}
        missing = [n for n in classes if n not in by_name]
        if missing:
            raise ValueError(f'{root}: categories {missing} missing (the set has {sorted(by_name)})')
        self.cat_to_cls = {by_name[n]: i for i, n in enumerate(classes)}
        self.cls_to_cat = [by_name[n] for n in classes]
        anns = {im['id']: [] for im in self.images}
        for a in self.coco['annotations']:
            if a['image_id'] in anns and not a.get('iscrowd', 0):
                anns[a['image_id']].append(a)
        # targets: normalised cx, cy, w, h and class index per image
        self.targets = []
        for im in self.images:
            w, h = im['width'], im['height']
            boxes = [[(x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h] for x, y, bw, bh in (a['bbox'] for a in anns[im['id']])]
            labels = [self.cat_to_cls[a['category_id']] for a in anns[im['id']]]
            self.targets.append((torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(labels, dtype=torch.long)))
        self.pixels = self._load_pixels()

    def __len__(self):
        return len(self.images)

    def _load_pixels(self):
        sizes = {(im['width'], im['height']) for im in self.images}
        if len(sizes) != 1 or len({*next(iter(sizes))}) != 1:
            raise ValueError(f'{self.root}: training needs square images of one size, found {sorted(sizes)[:4]}')
        s = next(iter(sizes))[0]
        cache = os.path.join(self.root, f'.snc-cache-{s}-{len(self.images)}.npy')
        if os.path.exists(cache):
            return np.load(cache, mmap_mode='r')
        arr = np.empty((len(self.images), s, s, 3), dtype=np.uint8)
        for i, im in enumerate(self.images):
            with Image.open(os.path.join(self.root, 'images', im['file_name'])) as img:
                arr[i] = np.asarray(img.convert('RGB'))
        tmp = cache + '.tmp.npy'
        np.save(tmp, arr)
        os.replace(tmp, cache)
        return arr

    def batch(self, indices, resolution, mean, std, flip=None):
        """Images [B, 3, R, R] normalised, and targets (boxes, labels) per image; `flip` is a
        boolean per image (horizontal flip, boxes mirrored)."""
        x = torch.from_numpy(np.stack([self.pixels[i] for i in indices])).permute(0, 3, 1, 2).float()
        targets = [self.targets[i] for i in indices]
        if flip is not None:
            for j, f in enumerate(flip):
                if f:
                    x[j] = x[j].flip(-1)
            targets = [(torch.cat([1 - b[:, :1], b[:, 1:]], dim=1), l) if f else (b, l) for (b, l), f in zip(targets, flip)]
        x = resize(x, resolution)
        return normalise(x, mean, std), targets


def resize(x, resolution):
    """uint8-valued float [B, 3, S, S] -> [B, 3, R, R], bilinear, antialiased when shrinking,
    rounded back to 8 bits as an image decoder would."""
    if x.shape[-1] != resolution:
        x = F.interpolate(x, size=(resolution, resolution), mode='bilinear', align_corners=False, antialias=True)
        x = x.round().clamp(0, 255)
    return x


def normalise(x, mean, std):
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x / 255 - m) / s
