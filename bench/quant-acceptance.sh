#!/bin/bash
# Issue #17's acceptance figures on the retrained shapes-tiny (after train/after16.sh), in order;
# each part is skipped when its output exists, so an interrupted run continues.
#
#   npm run build && [CONFIG="res=...,..."] [LIMIT=250] bash bench/quant-acceptance.sh [ap|lut]   (default: both)
#
#   ap    the AP table (bench/quant-ap.ts): fp32, int8 for every range method x {per-tensor,
#         per-channel}, uniform and NUPES weights at 8/4/3 bits; 128 calibration images
#         (seed 101), AP on the 500 held-out images (seed 9001), or their first LIMIT; CONFIG
#         is the best config of the 24-config table (default: the retrained default's best;
#         docs/quant.md's table is LIMIT=250, about 50 minutes alone at patch 8).
#   lut   the int8 LUTs of shapes-tiny: `snc profile` + `snc lut validate --samples 50` on
#         ort-cpu-1t-int8, ort-cpu-2t-int8 and ort-wasm-1t-int8 into out/lut17/<device>/.
#
# The LUTs need both cores to themselves; the AP table does not time anything.
set -euo pipefail
cd "$(dirname "$0")/.."
SNC="node bin/snc.js"
O=out/quant-acceptance
CONFIG=${CONFIG:-res=288,patch=8,windows=2,layers=3,queries=100}
what=${1:-all}
say() { echo "== $(date -u +%T) $*"; }
mkdir -p $O

if [[ $what == all || $what == ap ]]; then
  [ -f out/calib128/annotations.json ] || { say "data: 128 calibration images (seed 101)"; $SNC data synth --out out/calib128 --images 128 --seed 101 --json > /dev/null; }
  [ -f out/heldout/annotations.json ] || { say "data: 500 held-out images (seed 9001)"; $SNC data synth --out out/heldout --images 500 --seed 9001 --json > /dev/null; }
  if [ ! -f $O/quant-ap.json ]; then
    say "ap: $CONFIG, every range method and weight format"
    node dist/bench/quant-ap.js --calib out/calib128 --data out/heldout --images 128 ${LIMIT:+--limit $LIMIT} --config "$CONFIG" --threads 2 --out $O/quant-ap.json | tee $O/quant-ap.md
  fi
fi

if [[ $what == all || $what == lut ]]; then
  say "lut: profile and validate shapes-tiny on the int8 devices"
  LUT_DIR=out/lut17 SUPERNETS=shapes-tiny bash bench/latency-acceptance.sh ort-cpu-1t-int8 ort-cpu-2t-int8 ort-wasm-1t-int8
fi
say done
