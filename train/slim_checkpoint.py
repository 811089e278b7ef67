#!/usr/bin/env python3
"""A checkpoint another phase starts from (`train_supernet.py --init`), small enough to commit:
the query groups, EMA weights, step and arguments of a training checkpoint, without the
optimiser's state (a second phase starts a fresh optimiser anyway) and, when the run kept EMA
weights, without the raw weights: the next phase starts from the EMA weights (the ones the run
validated and wrote), which keeps the file near 10 MB. `out/` does not outlive a
session; a run that spans sessions commits this between them.

    /usr/bin/python3 train/slim_checkpoint.py IN OUT [--trained-patches 16]

--trained-patches records the patch sizes a checkpoint written before train_supernet.py kept them
trained (without it such a checkpoint counts as having trained every patch size).
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402


def main():
    args = sys.argv[1:]
    patches = None
    if len(args) == 4 and args[2] == '--trained-patches':
        patches = sorted(int(p) for p in args[3].split(','))
        args = args[:2]
    if len(args) != 2:
        sys.exit('usage: slim_checkpoint.py IN OUT [--trained-patches 16]')
    src, dst = args
    ck = torch.load(src)
    missing = [k for k in ('model', 'step', 'elapsed', 'args') if k not in ck]
    if missing:
        sys.exit(f'{src}: not a train_supernet.py checkpoint (no {", ".join(missing)})')
    slim = {k: v for k, v in ck.items() if k != 'opt' and not (k == 'model' and 'ema' in ck)}
    if patches is not None:
        if 'trained_patches' in ck and ck['trained_patches'] != patches:
            sys.exit(f"{src}: it records trained patch sizes {ck['trained_patches']}, not {patches}")
        slim['trained_patches'] = patches
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    tmp = dst + '.tmp'
    torch.save(slim, tmp)
    os.replace(tmp, dst)
    digest = hashlib.sha256(open(dst, 'rb').read()).hexdigest()
    print(f"{dst}: step {ck['step']}, {ck['elapsed'] / 60:.1f} min trained, patches {slim.get('trained_patches', 'all')}, {os.path.getsize(dst) / 1e6:.1f} MB, sha256 {digest[:16]}")


if __name__ == '__main__':
    main()
