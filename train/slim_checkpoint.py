#!/usr/bin/env python3
"""A checkpoint another phase starts from (`train_supernet.py --init`), small enough to commit:
the weights, query groups, EMA weights, step and arguments of a training checkpoint, without the
optimiser's state (a second phase starts a fresh optimiser anyway). `out/` does not outlive a
session; a run that spans sessions commits this between them.

    /usr/bin/python3 train/slim_checkpoint.py out/train-res/1/checkpoint.pt train/checkpoints/res-1.pt
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    src, dst = sys.argv[1:]
    ck = torch.load(src)
    missing = [k for k in ('model', 'step', 'elapsed', 'args') if k not in ck]
    if missing:
        sys.exit(f'{src}: not a train_supernet.py checkpoint (no {", ".join(missing)})')
    slim = {k: v for k, v in ck.items() if k != 'opt'}
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    tmp = dst + '.tmp'
    torch.save(slim, tmp)
    os.replace(tmp, dst)
    digest = hashlib.sha256(open(dst, 'rb').read()).hexdigest()
    print(f"{dst}: step {ck['step']}, {ck['elapsed'] / 60:.1f} min trained, {os.path.getsize(dst) / 1e6:.1f} MB, sha256 {digest[:16]}")


if __name__ == '__main__':
    main()
