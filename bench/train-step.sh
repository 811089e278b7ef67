#!/bin/bash
# Training-step time of the shapes-tiny supernet with OpenBLAS's own thread pool (2 threads,
# the pthread build's default on 2 cores) against one OpenBLAS thread per caller (what
# train/snc_train/threads.py sets), torch's pool at 2 threads in both. Runs alternate, 3 rounds;
# prints each run's JSON line, then the median ms/step of each config and setting and their ratio.
#   npm run build && bash bench/train-step.sh
set -euo pipefail
cd "$(dirname "$0")/.."
spec=$(mktemp)
trap 'rm -f "$spec" "$spec.runs"' EXIT
node --input-type=module -e "import { PRESETS } from './dist/src/detr/presets.js'; process.stdout.write(JSON.stringify(PRESETS['shapes-tiny'].spec))" > "$spec"
for round in 1 2 3; do
  order=(2 1); (( round % 2 )) || order=(1 2)
  for n in "${order[@]}"; do OPENBLAS_NUM_THREADS=$n /usr/bin/python3 train/bench_step.py --spec "$spec" | tee -a "$spec.runs"; done
done
/usr/bin/python3 - "$spec.runs" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in runs:
    for k, v in r['ms_per_step'].items():
        by.setdefault(k, {}).setdefault(r['OPENBLAS_NUM_THREADS'], []).append(v)
print('config             OpenBLAS 2 threads   OpenBLAS 1 thread   ratio (ms/step, median of 3 runs)')
for k, d in by.items():
    a, b = statistics.median(d['2']), statistics.median(d['1'])
    print(f'{k:18} {a:12.0f} ms {min(d["2"]):.0f}-{max(d["2"]):.0f} {b:10.0f} ms {min(d["1"]):.0f}-{max(d["1"]):.0f} {a / b:8.2f}x')
PY
