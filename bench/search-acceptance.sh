#!/bin/bash
# Acceptance run of `snc search` on the embedded shapes-tiny supernet (issue #6), on a quiet
# machine after `npm run build`:
#   1. the pruned search (fresh evaluation cache), timed;
#   2. the same command again (every evaluation cached), timed;
#   3. the exhaustive search (every group on every image, no cache), timed;
#   4. the fronts of 1 and 3 compared device by device;
#   5. the subnet chosen under the budget on ort-cpu-2t exported and measured end to end, as
#      chosen at the LUT's speed (1) and as chosen by a cached re-run with --speed-check, whose
#      choice is measured at once (bench/budget-trials.sh repeats this step).
#
#   bash bench/search-acceptance.sh [VAL_DIR] [BUDGET_MS]
# VAL_DIR defaults to out/train-data/heldout (500 images, seed 9001, made here if missing).
# Everything goes to out/search-acceptance/ (log: out/search-acceptance/log.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
VAL=${1:-out/train-data/heldout}
BUDGET=${2:-15}
OUT=out/search-acceptance
SNC="node bin/snc.js"
mkdir -p $OUT
[ -f "$VAL/annotations.json" ] || $SNC data synth --out "$VAL" --images 500 --seed 9001 --json >/dev/null
LUTS="--lut lut/ort-cpu-1t/shapes-tiny.json --lut lut/ort-cpu-2t/shapes-tiny.json --lut lut/ort-wasm-1t/shapes-tiny.json"
log() { echo "$*" >> $OUT/log.txt; echo "$*" >&2; }
: > $OUT/log.txt
rm -rf $OUT/cache

# t OUTFILE CMD...: runs CMD with stdout to OUTFILE and logs its wall time
t() { local f=$1; shift; local s=$(date +%s.%N); "$@" > "$f"; local e=$(date +%s.%N); log "wall $(python3 -c "print(round($e - $s, 2))") s: $*"; }

export SNC_CACHE_DIR=$OUT/cache
t $OUT/pruned.json $SNC search --supernet shapes-tiny --data "$VAL" $LUTS --budget-ms $BUDGET --workers 2 --out $OUT/pruned --json
t $OUT/rerun.json $SNC search --supernet shapes-tiny --data "$VAL" $LUTS --budget-ms $BUDGET --workers 2 --out $OUT/rerun --json
t $OUT/exhaustive.json $SNC search --supernet shapes-tiny --data "$VAL" $LUTS --budget-ms $BUDGET --workers 2 --out $OUT/exhaustive --exhaustive --no-cache --json

node --input-type=module - "$OUT" <<'EOF' | tee -a $OUT/log.txt
import { readFileSync } from 'node:fs';
const dir = process.argv[2];
const read = (n) => JSON.parse(readFileSync(`${dir}/${n}/pareto.json`, 'utf8'));
const p = read('pruned'), r = read('rerun'), e = read('exhaustive');
for (const [name, x] of [['pruned', p], ['rerun', r], ['exhaustive', e]])
  console.log(`${name}: ${x.counts.fullEvaluations} full evaluations (${x.counts.fullRun} run, ${x.counts.fullCached} cached) of ${x.counts.groups} groups / ${x.counts.configs} configs, ${x.counts.subsetEvaluations} subset evaluations, ${x.counts.imagesReused ?? 0} images reused from screening, ${x.seconds.toFixed(1)} s in-process`);
let same = true;
for (let d = 0; d < p.devices.length; d++) {
  const a = p.devices[d].front.map((f) => f.key), b = e.devices[d].front.map((f) => f.key);
  const eq = JSON.stringify(a) === JSON.stringify(b);
  same &&= eq;
  console.log(`${p.devices[d].device}: front of ${a.length} (pruned) vs ${b.length} (exhaustive): ${eq ? 'identical' : 'DIFFERENT'}; chosen ${p.devices[d].chosen?.key ?? 'none'} (${p.devices[d].chosen?.predictedMs.toFixed(2)} ms predicted) vs ${e.devices[d].chosen?.key ?? 'none'}`);
  if (!eq) console.log(`  pruned: ${a.join(' ; ')}\n  exhaustive: ${b.join(' ; ')}`);
}
console.log(`fronts ${same ? 'equal' : 'differ'}; full evaluations ${p.counts.fullEvaluations} vs ${e.counts.fullEvaluations} groups (${(e.counts.fullEvaluations / p.counts.fullEvaluations).toFixed(2)}x fewer; ${e.counts.configs} configs without multi-exit: ${(e.counts.configs / p.counts.fullEvaluations).toFixed(2)}x)`);
const chosen = p.devices.find((d) => d.device === 'ort-cpu-2t')?.chosen;
if (chosen) console.log(`CHOSEN_2T ${chosen.key}`);
EOF

CHOSEN=$(grep '^CHOSEN_2T' $OUT/log.txt | tail -1 | cut -d' ' -f2)
if [ -n "$CHOSEN" ]; then
  $SNC export --supernet shapes-tiny --config "$CHOSEN" --out $OUT/chosen-2t.onnx
  $SNC measure --device ort-cpu-2t --model $OUT/chosen-2t.onnx --json > $OUT/chosen-2t-measure.json
  log "measured on ort-cpu-2t (chosen at the LUT's speed): $(head -c 600 $OUT/chosen-2t-measure.json)"
fi
t $OUT/checked.json $SNC search --supernet shapes-tiny --data "$VAL" --lut lut/ort-cpu-2t/shapes-tiny.json --budget-ms $BUDGET --workers 2 --out $OUT/checked --speed-check --json
CHECKED=$(node -e "const d=JSON.parse(require('fs').readFileSync('$OUT/checked.json','utf8')).devices[0]; if (d.chosen) console.log(d.chosen.key + ' ' + d.chosen.predictedMs.toFixed(2) + ' ' + d.speedCheck.factor.toFixed(3) + ' ' + (d.chosen.predictedMs * d.speedCheck.factor).toFixed(2))")
if [ -n "$CHECKED" ]; then
  read -r CHECKED PRED FACTOR EXPECTED <<< "$CHECKED"
  log "chosen with --speed-check: $CHECKED, predicted $PRED ms, speed factor $FACTOR, expected $EXPECTED ms"
  $SNC export --supernet shapes-tiny --config "$CHECKED" --out $OUT/checked-2t.onnx
  $SNC measure --device ort-cpu-2t --model $OUT/checked-2t.onnx --json > $OUT/checked-2t-measure.json
  log "measured on ort-cpu-2t (chosen with --speed-check): $(head -c 600 $OUT/checked-2t-measure.json)"
fi
