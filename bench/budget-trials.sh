#!/bin/bash
# Does the subnet chosen under --budget-ms on ort-cpu-2t fit its budget when exported and
# measured end to end (issue #6), with and without --speed-check? Each trial runs both searches
# (evaluations from the cache of bench/search-acceptance.sh, so only the choice and the speed
# check run), in alternating order, each followed at once by exporting its choice and measuring
# it with snc measure for at least MEASURE_S seconds (default 3, snc measure's default). Run on a
# quiet machine after bench/search-acceptance.sh:
#   bash bench/budget-trials.sh [VAL_DIR] [BUDGET_MS] [TRIALS] [PAUSE_S] [MEASURE_S]
# Log: out/budget-trials/log.txt, one line per search and a summary per mode.
set -euo pipefail
cd "$(dirname "$0")/.."
VAL=${1:-out/train-data/heldout}
BUDGET=${2:-15}
TRIALS=${3:-10}
PAUSE=${4:-30}
MEASURE_S=${5:-3}
OUT=out/budget-trials
SNC="node bin/snc.js"
export SNC_CACHE_DIR=${SNC_CACHE_DIR:-out/search-acceptance/cache}
[ -d "$SNC_CACHE_DIR" ] || { echo "no evaluation cache at $SNC_CACHE_DIR: run bench/search-acceptance.sh first" >&2; exit 2; }
mkdir -p $OUT
: > $OUT/log.txt

# one MODE FLAGS...: search, export the ort-cpu-2t choice, measure it; one log line
one() {
  local mode=$1; shift
  $SNC search --supernet shapes-tiny --data "$VAL" --lut lut/ort-cpu-2t/shapes-tiny.json --budget-ms $BUDGET --workers 1 --out $OUT/$mode --json "$@" > $OUT/$mode.json 2>/dev/null
  local chosen=$(node -e "const d=JSON.parse(require('fs').readFileSync('$OUT/$mode.json','utf8')).devices[0]; console.log(d.chosen ? d.chosen.key : '')")
  [ -n "$chosen" ] || { echo "$(date +%T) $mode: nothing chosen" | tee -a $OUT/log.txt; return; }
  $SNC export --supernet shapes-tiny --config "$chosen" --out $OUT/$mode.onnx > /dev/null
  $SNC measure --device ort-cpu-2t --model $OUT/$mode.onnx --min-seconds $MEASURE_S --json > $OUT/$mode-measure.json
  node -e "
    const fs = require('fs');
    const d = JSON.parse(fs.readFileSync('$OUT/$mode.json', 'utf8')).devices[0];
    const m = JSON.parse(fs.readFileSync('$OUT/$mode-measure.json', 'utf8'))[0];
    const k = d.speedCheck ? d.speedCheck.factor : null;
    console.log(JSON.stringify({ at: new Date().toISOString().slice(11, 19), mode: '$mode', chosen: d.chosen.key, AP: d.chosen.metrics.AP, predictedMs: +d.chosen.predictedMs.toFixed(2), factor: k && +k.toFixed(3), expectedMs: k && +(d.chosen.predictedMs * k).toFixed(2), measuredMs: +m.medianMs.toFixed(2), runs: m.runs, iqr: [+m.q1Ms.toFixed(2), +m.q3Ms.toFixed(2)], fits: m.medianMs <= $BUDGET }));
  " | tee -a $OUT/log.txt
}

for ((i = 0; i < TRIALS; i++)); do
  [ $i -gt 0 ] && sleep $PAUSE
  if ((i % 2)); then one checked --speed-check; one plain; else one plain; one checked --speed-check; fi
done

node -e "
  const lines = require('fs').readFileSync('$OUT/log.txt', 'utf8').trim().split('\n').filter((l) => l.startsWith('{')).map(JSON.parse);
  for (const mode of ['plain', 'checked']) {
    const xs = lines.filter((l) => l.mode === mode);
    const ms = xs.map((l) => l.measuredMs).sort((a, b) => a - b);
    const chosen = [...new Set(xs.map((l) => l.chosen))];
    console.log(mode + ': ' + xs.filter((l) => l.fits).length + ' of ' + xs.length + ' measured medians within $BUDGET ms; measured ' + ms[0] + '-' + ms.at(-1) + ' ms (median ' + ms[Math.floor(ms.length / 2)] + '); chosen: ' + chosen.join(' | '));
  }
" | tee -a $OUT/log.txt
