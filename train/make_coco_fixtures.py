#!/usr/bin/python3
"""Golden fixtures for snc's COCO evaluator: small random ground truths and detections, scored by
the pycocotools transcription in coco_reference.py.

    /usr/bin/python3 train/make_coco_fixtures.py test/fixtures/coco

Each case stresses the rules that decide COCOeval's numbers: crowds, ties (within an image and
across images), several categories with non-contiguous ids, a category with no ground truth and
one with no detections, `area` different from w*h and on the small/medium/large boundaries, more
than 100 detections in one image and category, images with no ground truth or no detections,
image ids out of order. Numbers are rounded so that the files stay small.
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coco_reference import evaluate  # noqa: E402


def r2(x):
    return round(x, 2)


def box_of_area(rng, area, W, H):
    ar = rng.uniform(0.4, 2.5)
    w = min((area * ar) ** 0.5, W - 1)
    h = min(area / w, H - 1)
    x = rng.uniform(0, W - w)
    y = rng.uniform(0, H - h)
    return [r2(x), r2(y), r2(w), r2(h)]


def jitter(rng, b, amount):
    x, y, w, h = b
    dx, dy = rng.gauss(0, amount) * w, rng.gauss(0, amount) * h
    sw, sh = max(0.3, 1 + rng.gauss(0, amount)), max(0.3, 1 + rng.gauss(0, amount))
    return [r2(x + dx), r2(y + dy), r2(w * sw), r2(h * sh)]


def make_case(seed, n_images, cat_ids, gt_cats, det_cats, max_gt, crowd_p, score_decimals,
              fp_per_image, big_image=False, W=640, H=480):
    rng = random.Random(seed)
    image_ids = rng.sample(range(1, 5000), n_images)  # out of order, not contiguous
    images = [{'id': i, 'file_name': '%012d.jpg' % i, 'width': W, 'height': H} for i in image_ids]
    categories = [{'id': c, 'name': 'c%d' % c, 'supercategory': 'x'} for c in cat_ids]
    anns, results = [], []
    ann_id = 1
    for n, img in enumerate(images):
        n_gt = 0 if n == 0 else rng.randint(0, max_gt)  # the first image has no ground truth
        for _ in range(n_gt):
            c = rng.choice(gt_cats)
            kind = rng.random()
            if kind < 0.04:
                area = 32 ** 2  # on the small/medium boundary
            elif kind < 0.08:
                area = 96 ** 2  # on the medium/large boundary
            else:
                area = rng.choice([rng.uniform(16, 1024), rng.uniform(1024, 9216), rng.uniform(9216, 60000)])
            crowd = rng.random() < crowd_p
            b = box_of_area(rng, area * (3 if crowd else 1), W, H)
            seg_area = area if kind < 0.08 else r2(b[2] * b[3] * rng.uniform(0.5, 1.0))
            anns.append({'id': ann_id, 'image_id': img['id'], 'category_id': c, 'bbox': b,
                         'area': seg_area, 'iscrowd': 1 if crowd else 0})
            ann_id += 1
            if n == 1:
                continue  # the second image gets no detections
            for _ in range(rng.choice([0, 1, 1, 1, 2, 3]) if not crowd else rng.randint(0, 4)):
                dc = c if rng.random() < 0.85 else rng.choice(det_cats)
                if dc not in det_cats:
                    continue
                if crowd:
                    cx, cy, cw, ch = b
                    w, h = cw * rng.uniform(0.1, 0.6), ch * rng.uniform(0.1, 0.6)
                    db = [r2(cx + rng.uniform(0, cw - w)), r2(cy + rng.uniform(0, ch - h)), r2(w), r2(h)]
                else:
                    db = jitter(rng, b, rng.choice([0.02, 0.05, 0.1, 0.2]))
                results.append({'image_id': img['id'], 'category_id': dc, 'bbox': db,
                                'score': round(rng.random(), score_decimals)})
        if n != 1:
            for _ in range(rng.randint(0, fp_per_image)):
                area = rng.choice([rng.uniform(16, 1024), rng.uniform(1024, 9216), rng.uniform(9216, 60000)])
                results.append({'image_id': img['id'], 'category_id': rng.choice(det_cats),
                                'bbox': box_of_area(rng, area, W, H), 'score': round(rng.random(), score_decimals)})
    if big_image:
        # one image and category with more than 100 detections (maxDets cuts), several ties
        img = images[2]
        c = gt_cats[0]
        for _ in range(8):
            anns.append({'id': ann_id, 'image_id': img['id'], 'category_id': c,
                         'bbox': box_of_area(rng, rng.uniform(200, 20000), W, H), 'area': 0, 'iscrowd': 0})
            anns[-1]['area'] = r2(anns[-1]['bbox'][2] * anns[-1]['bbox'][3])
            ann_id += 1
        gts = [a for a in anns if a['image_id'] == img['id'] and a['category_id'] == c and not a['iscrowd']]
        for _ in range(140):
            if rng.random() < 0.3:
                db = jitter(rng, rng.choice(gts)['bbox'], 0.08)
            else:
                db = box_of_area(rng, rng.uniform(100, 20000), W, H)
            results.append({'image_id': img['id'], 'category_id': c, 'bbox': db, 'score': round(rng.random(), 2)})
    rng.shuffle(results)  # file order decides ties; make it arbitrary
    gt = {'images': images, 'annotations': anns, 'categories': categories}
    return gt, results


CASES = {
    # crowds, ties, >100 detections, a category without gt (9) and one without detections (7)
    'mixed': dict(seed=1, n_images=14, cat_ids=[1, 2, 5, 7, 9], gt_cats=[1, 2, 5, 7], det_cats=[1, 2, 5, 9],
                  max_gt=10, crowd_p=0.1, score_decimals=2, fp_per_image=6, big_image=True),
    # scores from a handful of values: ties everywhere, across and within images
    'ties': dict(seed=2, n_images=10, cat_ids=[3, 4], gt_cats=[3, 4], det_cats=[3, 4],
                 max_gt=8, crowd_p=0.05, score_decimals=1, fp_per_image=4),
    # many crowd regions with several detections inside each
    'crowds': dict(seed=3, n_images=8, cat_ids=[1, 2, 3], gt_cats=[1, 2, 3], det_cats=[1, 2, 3],
                   max_gt=8, crowd_p=0.4, score_decimals=3, fp_per_image=3),
    # many objects per image, one category, full-precision scores
    'dense': dict(seed=4, n_images=4, cat_ids=[1], gt_cats=[1], det_cats=[1],
                  max_gt=40, crowd_p=0.05, score_decimals=6, fp_per_image=30, big_image=True),
}


def main(argv):
    out = argv[1] if len(argv) > 1 else 'test/fixtures/coco'
    os.makedirs(out, exist_ok=True)
    from coco_reference import Params
    p = Params()
    with open(os.path.join(out, 'thresholds.json'), 'w') as f:
        json.dump({'iouThrs': [float(x) for x in p.iouThrs], 'recThrs': [float(x) for x in p.recThrs]}, f)
        f.write('\n')
    for name, kw in CASES.items():
        gt, results = make_case(**kw)
        stats = evaluate(gt, results)
        doc = {'case': name, 'generator': 'train/make_coco_fixtures.py', 'reference': 'train/coco_reference.py',
               'stats': stats, 'gt': gt, 'results': results}
        path = os.path.join(out, name + '.json')
        with open(path, 'w') as f:
            json.dump(doc, f, separators=(',', ':'))
            f.write('\n')
        print('%s: %d gt, %d dets, stats %s' % (path, len(gt['annotations']), len(results),
                                                 ' '.join('%.4f' % s for s in stats)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
