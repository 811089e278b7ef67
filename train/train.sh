#!/bin/bash
# Trains the embedded default supernet (models/shapes-tiny) from scratch, as docs/training.md
# describes: synthetic sets from `snc data synth`, then train/train_supernet.py (resumable:
# run this script again after an interruption and it continues from out/train/checkpoint.pt).
#
#   npm ci && npm run build && bash train/train.sh [OUT_MODEL_DIR]
#
# WORK (default out/train) holds the checkpoint and the log: give another one to train again
# from scratch next to an earlier run.
#
# Needs /usr/bin/python3 with Debian's python3-torch, python3-scipy, python3-pil and
# libopenblas0-pthread (see train/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-models/shapes-tiny}
WORK=${WORK:-out/train}
DATA=out/train-data
SNC="node bin/snc.js"
[ -f $DATA/train/annotations.json ] || $SNC data synth --out $DATA/train --images 16000 --seed 1001 --json >/dev/null
[ -f $DATA/val/annotations.json ] || $SNC data synth --out $DATA/val --images 200 --seed 2001 --json >/dev/null
# the family to train: the shapes-tiny preset's supernet.json
mkdir -p $DATA
node --input-type=module -e "import { PRESETS } from './dist/src/detr/presets.js'; process.stdout.write(JSON.stringify(PRESETS['shapes-tiny'].spec, null, 2) + '\n')" > $DATA/spec.json
exec /usr/bin/python3 train/train_supernet.py --data $DATA/train --val $DATA/val --val-images 100 \
  --spec $DATA/spec.json --work "$WORK" --out "$OUT" \
  --steps 6000 --batch 8 --lr 3e-4 --warmup 300 --coarse-phase 0.9 --sandwich-every 3 --val-every 1000 --seed 0
