#!/bin/bash
# Trains issue #16's supernet (the stem family: conv stem 32,64,128) from scratch in two phases,
# as docs/training.md (steps 2 and 5) describes; it becomes models/shapes-tiny once its LUTs
# validate (train.sh still reproduces the committed default). Synthetic sets from `snc data
# synth`, then train/train_supernet.py twice (resumable:
# run this script again after an interruption and it continues from the checkpoint in WORK/1 or
# WORK/2, the two phases).
#
#   npm ci && npm run build && bash train/train16.sh [OUT_MODEL_DIR]   (default out/model16b)
#
# WORK (default out/train16-from-scratch; the run itself used out/train16 and out/train16b) holds
# the checkpoints and logs: give another one to train again
# from scratch next to an earlier run.
#
# Needs /usr/bin/python3 with Debian's python3-torch, python3-scipy, python3-pil and
# libopenblas0-pthread (see train/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/model16b}
WORK=${WORK:-out/train16-from-scratch}
DATA=out/train-data
SNC="node bin/snc.js"
[ -f $DATA/train/annotations.json ] || $SNC data synth --out $DATA/train --images 16000 --seed 1001 --json >/dev/null
[ -f $DATA/val/annotations.json ] || $SNC data synth --out $DATA/val --images 200 --seed 2001 --json >/dev/null
# the family to train: the shapes-tiny preset's supernet.json with the conv stem (a hybrid ViT)
mkdir -p $DATA "$WORK"
PY=/usr/bin/python3
node --input-type=module -e "import { PRESETS } from './dist/src/detr/presets.js'; process.stdout.write(JSON.stringify(PRESETS['shapes-tiny'].spec, null, 2) + '\n')" > $DATA/spec.json
$PY train/spec_variant.py $DATA/spec.json $DATA/spec-16.json --stem 32,64,128
COMMON=(--data $DATA/train --val $DATA/val --val-images 100 --spec $DATA/spec-16.json --batch 8 --lr 3e-4
        --coarse-phase 0.8 --sandwich-every 3 --groups 3 --ema 0.993)
# phase 1: 4,300 steps from scratch (docs/training.md, step 2)
[ -f "$WORK/model-1/weights.safetensors" ] || $PY train/train_supernet.py "${COMMON[@]}" --work "$WORK/1" --out "$WORK/model-1" \
  --steps 4300 --warmup 300 --val-every 1000 --seed 0
# phase 2: 2,600 steps from phase 1's weights, a fresh schedule and other draws (step 5)
exec $PY train/train_supernet.py "${COMMON[@]}" --work "$WORK/2" --out "$OUT" \
  --steps 2600 --warmup 100 --val-every 1300 --seed 1 --init "$WORK/1/checkpoint.pt"
