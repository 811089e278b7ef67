#!/bin/bash
# Issue #16's first steps, unattended and in order (docs/training.md, "Next run"): the data sets,
# the size-ambiguity check, then the A/B (linear patch embedding against the conv stem, 20
# minutes of training each on one config, both with Group DETR and EMA) and each arm scored on
# the 500 held-out images. Each part is skipped when its output exists, so an interrupted run
# continues where it stopped (an arm's training resumes from its checkpoint).
#
#   npm ci && npm run build && bash train/ab16.sh [data|size|ab]   (default: all three)
#
# Needs both cores to itself (the arms are equal-time: anything else running makes them unequal).
# Outputs: out/train-data/{train,val}, out/heldout, out/size-ambiguity-224.json, out/ab/*.
set -euo pipefail
cd "$(dirname "$0")/.."
SNC="node bin/snc.js"
PY=/usr/bin/python3
D=out/train-data
C=res=224,patch=16,windows=1,layers=3,queries=100
what=${1:-all}
say() { echo "== $(date -u +%T) $*"; }

if [[ $what == all || $what == data ]]; then
  [ -f $D/train/annotations.json ] || { say "data: 16000 training images (seed 1001)"; $SNC data synth --out $D/train --images 16000 --seed 1001 --json > /dev/null; }
  [ -f $D/val/annotations.json ] || { say "data: 200 validation images (seed 2001)"; $SNC data synth --out $D/val --images 200 --seed 2001 --json > /dev/null; }
  [ -f out/heldout/annotations.json ] || { say "data: 500 held-out images (seed 9001, never seen in training)"; $SNC data synth --out out/heldout --images 500 --seed 9001 --json > /dev/null; }
  mkdir -p $D
  node --input-type=module -e "import { PRESETS } from './dist/src/detr/presets.js'; process.stdout.write(JSON.stringify(PRESETS['shapes-tiny'].spec, null, 2) + '\n')" > $D/spec.json
fi

if [[ $what == all || $what == size ]]; then
  if [ ! -f out/size-ambiguity-224.json ]; then
    say "size check: a crop classifier by object size at 224 px (4 minutes)"
    $PY train/size_ambiguity.py --data $D/train --val out/heldout --resolution 224 --minutes 4 --out out/size-ambiguity-224.json
  fi
fi

if [[ $what == all || $what == ab ]]; then
  mkdir -p out/ab
  [ -f out/ab/A.json ] || $PY train/spec_variant.py $D/spec.json out/ab/A.json --config $C --name ab-linear
  [ -f out/ab/B.json ] || $PY train/spec_variant.py $D/spec.json out/ab/B.json --config $C --name ab-stem --stem 32,64,128
  for arm in A B; do
    if [ ! -f out/ab/model-$arm/supernet.json ]; then
      say "A/B arm $arm: 20 minutes of training"
      $PY train/train_supernet.py --data $D/train --val $D/val --val-images 100 \
        --spec out/ab/$arm.json --work out/ab/work-$arm --out out/ab/model-$arm \
        --steps 100000 --schedule-minutes 20 --batch 8 --lr 3e-4 --warmup 100 --coarse-phase 0 \
        --groups 3 --ema 0.993 --val-every 500 --seed 0
    fi
    if [ ! -f out/ab/eval-$arm.json ]; then
      say "A/B arm $arm: snc eval on the 500 held-out images"
      $SNC eval --supernet out/ab/model-$arm --data out/heldout --bootstrap 200 --json > out/ab/eval-$arm.json.tmp
      mv out/ab/eval-$arm.json.tmp out/ab/eval-$arm.json
    fi
  done
  node -e "
const fs = require('fs');
for (const arm of ['A', 'B']) {
  const r = JSON.parse(fs.readFileSync('out/ab/eval-' + arm + '.json', 'utf8'));
  const acc = (r.bySize || []).map((b) => b.label + ' ' + (b.classAccuracy == null ? '-' : b.classAccuracy.toFixed(3))).join(', ');
  console.log(arm, 'AP', r.metrics.AP.toFixed(4), '+-', r.spread ? r.spread.AP.std.toFixed(4) : '?', 'agnostic AP', r.agnostic ? r.agnostic.AP.toFixed(4) : '?', 'AP50', r.agnostic ? r.agnostic.AP50.toFixed(4) : '?', '| class accuracy by size:', acc);
}"
fi
say done
