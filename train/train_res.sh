#!/bin/bash
# Trains issue #16's supernet with a residual conv stem (backbone.stem: channels 32,64,128,
# residual blocks 0,1,1) from scratch, as docs/training.md (step 6) describes:
#
#   0. the stem alone learns the shapes from dense class heatmaps (train/stem_probe.py: 1,200
#      steps of 16 whole images, a CNN's speed; the probe that picked this stem);
#   1. the detector from that stem (train_supernet.py --init-stem), patch-16 subnets only;
#   2. a second phase over the whole grid (patch 8 too) from phase 1's EMA weights (the slim
#      checkpoint train/checkpoints/res-1.pt is phase 1's, committed between sessions);
#   3. a third, shorter phase over the whole grid from phase 2's EMA weights (committed as
#      train/checkpoints/res-2.pt): a fresh schedule at half the peak rate, otherwise as phase 2.
#
# Every part is step-scheduled and deterministic on one machine, and skipped when its output
# exists, so an interrupted run continues (phase 1 resumes from WORK/1/checkpoint.pt).
# INIT1=train/checkpoints/res-1.pt skips the stem and phase 1: phase 2 starts from the committed
# phase-1 checkpoint (what the 2026-12-02 run did, in a session without phase 1's out/);
# INIT2=train/checkpoints/res-2.pt skips phase 2 as well (the 2026-12-02 evening session's run).
#
#   npm ci && npm run build && bash train/train_res.sh [OUT_MODEL_DIR]   (default out/model-res)
#
# WORK (default out/train-res) holds the stem, checkpoints and logs.
# Needs /usr/bin/python3 with Debian's python3-torch, python3-scipy, python3-pil and
# libopenblas0-pthread (see train/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/model-res}
WORK=${WORK:-out/train-res}
DATA=out/train-data
SNC="node bin/snc.js"
PY=/usr/bin/python3
[ -f $DATA/train/annotations.json ] || $SNC data synth --out $DATA/train --images 16000 --seed 1001 --json >/dev/null
[ -f $DATA/val/annotations.json ] || $SNC data synth --out $DATA/val --images 200 --seed 2001 --json >/dev/null
[ -f out/heldout/annotations.json ] || $SNC data synth --out out/heldout --images 500 --seed 9001 --json >/dev/null
mkdir -p $DATA "$WORK"
node --input-type=module -e "import { PRESETS } from './dist/src/detr/presets.js'; process.stdout.write(JSON.stringify(PRESETS['shapes-tiny'].spec, null, 2) + '\n')" > $DATA/spec.json
$PY train/spec_variant.py $DATA/spec.json $DATA/spec-res.json --stem 32,64,128 --stem-blocks 0,1,1
# 0: the stem (scored on the held-out set's object centres; the figures go to WORK/stem.jsonl)
[ -f "$WORK/stem.pt" ] || [ -n "${INIT1:-}${INIT2:-}" ] || $PY train/stem_probe.py --data $DATA/train --val out/heldout --stem res:0,1,1 --steps 1200 \
  --val-images 200 --out "$WORK/stem.jsonl" --save-stem "$WORK/stem.pt"
COMMON=(--data $DATA/train --val $DATA/val --val-images 100 --spec $DATA/spec-res.json --batch 8 --lr 3e-4
        --sandwich-every 3 --groups 3 --ema 0.993)
# 1: the detector, patch 16 only
[ -f "$WORK/1/slim.pt" ] || [ -n "${INIT1:-}${INIT2:-}" ] || {
  [ -f "$WORK/model-1/weights.safetensors" ] || $PY train/train_supernet.py "${COMMON[@]}" --work "$WORK/1" --out "$WORK/model-1" \
    --init-stem "$WORK/stem.pt" --steps 4500 --warmup 300 --coarse-phase 1 --val-every 1500 --seed 0
  $PY train/slim_checkpoint.py "$WORK/1/checkpoint.pt" "$WORK/1/slim.pt"
}
# 2: the whole grid from phase 1's EMA weights (a random subnet every step, the largest, patch 8 at
# 288 px, or the smallest beside it on two steps of three)
[ -f "$WORK/2/slim.pt" ] || [ -n "${INIT2:-}" ] || {
  [ -f "$WORK/model-2/weights.safetensors" ] || $PY train/train_supernet.py "${COMMON[@]}" --work "$WORK/2" --out "$WORK/model-2" \
    --init "${INIT1:-$WORK/1/slim.pt}" --steps 1500 --warmup 100 --coarse-phase 0 --val-every 750 --seed 1
  $PY train/slim_checkpoint.py "$WORK/2/checkpoint.pt" "$WORK/2/slim.pt"
}
# 3: the whole grid again from phase 2's EMA weights at half the peak rate (lr 1.5e-4)
exec $PY train/train_supernet.py "${COMMON[@]}" --lr 1.5e-4 --work "$WORK/3" --out "$OUT" \
  --init "${INIT2:-$WORK/2/slim.pt}" --steps 1300 --warmup 50 --coarse-phase 0 --val-every 650 --seed 2
