#!/bin/bash
# The memory allocator's share of a training step (docs/training.md, "The allocator"): the same
# steps of a checkpoint, resumed once per allocator, without validation, timed from the log; the
# weights written at the end are compared (the allocator must not change a bit).
# (train_supernet.py runs under jemalloc-retain by default, snc_train/allocator.py; the glibc
# variants opt out with SNC_TRAIN_ALLOCATOR=system.)
#
#   bash bench/train-alloc.sh CHECKPOINT_DIR [STEPS] [variants...]
#
# CHECKPOINT_DIR holds a checkpoint.pt of #16's 300-minute run (out/train16); it is copied, never
# written. STEPS (default 20) logged steps are timed after the first logged step. Variants:
# glibc (the default allocator), glibc-fixed (MALLOC_MMAP_THRESHOLD_=32 MiB and
# MALLOC_TRIM_THRESHOLD_=64 GiB: no dynamic threshold, no trim), jemalloc (Debian's libjemalloc2
# preloaded), jemalloc-retain (jemalloc never returning freed pages to the kernel:
# dirty_decay_ms and muzzy_decay_ms -1); default all four. Needs both cores to itself.
# Outputs under out/alloc-probe/.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: bash bench/train-alloc.sh CHECKPOINT_DIR [STEPS] [variants...]}
n=${2:-20}
shift $(( $# > 1 ? 2 : 1 ))
variants=("${@:-glibc glibc-fixed jemalloc jemalloc-retain}")
read -r -a variants <<<"${variants[*]}"
D=out/train-data
O=out/alloc-probe
start=$(/usr/bin/python3 -c "import sys, torch; print(torch.load(sys.argv[1])['step'])" "$src/checkpoint.pt")
first=$(( (start / 20 + 1) * 20 ))
stop=$(( first + n ))
echo "checkpoint at step $start: timing steps $((first + 1))-$stop"
for v in "${variants[@]}"; do
  case $v in
    glibc) env=(SNC_TRAIN_ALLOCATOR=system) ;;
    glibc-fixed) env=(SNC_TRAIN_ALLOCATOR=system MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=68719476736) ;;
    jemalloc) env=(LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2) ;;
    jemalloc-retain) env=(LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1) ;;
    *) echo "unknown variant '$v'; valid: glibc, glibc-fixed, jemalloc, jemalloc-retain" >&2; exit 2 ;;
  esac
  rm -rf "$O/$v" && mkdir -p "$O/$v"
  cp "$src/checkpoint.pt" "$O/$v/checkpoint.pt"
  t0=$(date +%s)
  env "${env[@]}" /usr/bin/python3 train/train_supernet.py --data $D/train --val $D/val --val-images 0 \
    --spec $D/spec-16.json --work "$O/$v" --out "$O/$v-model" --steps 4300 --stop-at $stop --batch 8 --lr 3e-4 \
    --warmup 300 --coarse-phase 0.8 --sandwich-every 3 --val-every 1000 --groups 3 --ema 0.993 --seed 0 2> "$O/$v.log"
  /usr/bin/python3 - "$O/$v/train-log.jsonl" "$v" $first $stop $(( $(date +%s) - t0 )) <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
m = {r['step']: r['minutes'] for r in rows if r['event'] == 'step'}
a, b = int(sys.argv[3]), int(sys.argv[4])
print(f"{sys.argv[2]:12s} {(m[b] - m[a]) * 60 / (b - a):.2f} s/step over steps {a + 1}-{b} (process wall {sys.argv[5]} s)")
EOF
done
sha256sum "$O"/*-model/weights.safetensors
