#!/usr/bin/env bash
# The latency issue's acceptance runs, one after the other on a quiet machine:
# for each device and supernet, build the LUT under lut/<device>/ and validate it on 50
# sampled subnets. Logs and reports land next to the LUTs; progress in out/latency-acceptance.log.
#   npm run build && bash bench/latency-acceptance.sh [devices...]
# LUT_DIR=DIR writes DIR/<device>/<supernet>.json instead (lut/ stays as it is); SUPERNETS and
# SAMPLES override the supernets and the validation's sample count. A LUT whose validation
# exists is skipped; an interrupted profile resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=("${@:-ort-cpu-1t ort-cpu-2t ort-wasm-1t}")
read -r -a devices <<<"${devices[*]}"
mkdir -p out
log=out/latency-acceptance.log
for sn in ${SUPERNETS:-shapes-tiny nano}; do
  for dev in "${devices[@]}"; do
    lut="${LUT_DIR:-lut}/$dev/$sn.json"
    if [ -f "${lut%.json}.validation.json" ]; then echo "== $lut: validated already, skipped" | tee -a "$log"; continue; fi
    mkdir -p "$(dirname "$lut")"
    extra=()
    vextra=()
    # whole nano subnets take 0.6-5 s a run in WebAssembly: calibrate on 4 of the cheaper 75%,
    # validate with 10 runs per pass (3 passes) instead of 30, and 15 on one CPU thread (0.1-0.6 s
    # a run): about 25 and 10 minutes instead of 62 and 20
    if [[ $sn == nano && $dev == ort-wasm-1t ]]; then extra=(--calibration 4 --calibration-span 0.75); vextra=(--runs 10); fi
    if [[ $sn == nano && $dev == ort-cpu-1t ]]; then vextra=(--runs 15); fi
    echo "== $(date -u +%T) profile $sn on $dev" | tee -a "$log"
    /usr/bin/time -f "wall %e s, peak RSS %M KiB" node bin/snc.js profile --device "$dev" --supernet "$sn" --out "$lut" --resume "${extra[@]}" 2>&1 | tee -a "$log"
    echo "== $(date -u +%T) validate $sn on $dev" | tee -a "$log"
    node bin/snc.js lut validate --lut "$lut" --supernet "$sn" --samples "${SAMPLES:-50}" --seed 1 --warmup 3 "${vextra[@]}" 2>&1 | tee -a "$log"
  done
done
echo "== $(date -u +%T) done" | tee -a "$log"
