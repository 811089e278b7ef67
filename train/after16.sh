#!/bin/bash
# Issue #16 after the 300-minute run (docs/training.md, step 3), unattended and in order. Each
# part is skipped when its output exists, so an interrupted run continues where it stopped.
#
#   npm ci && npm run build && bash train/after16.sh [repro|repro-res|repro-res2|repro-res3|lut|table|search]   (default: all
#   but repro)
#
#   repro   the step schedule's reproducibility on a prefix: a fresh run to step 200 against a
#           run stopped at step 100 and resumed to 200 (phase 1's flags), and the same for phase 2
#           (from phase 1's checkpoint, steps 100 and 50); each pair of weights files must be equal
#           bit for bit (SHA-256 printed).
#   repro-res  the same for the residual-stem recipe (train_res.sh): two stem pretrainings to step
#           100 (of the 1,200-step schedule) must write the same stem, and phase 1 from the stem
#           fresh to step 100 against stopped at 50 and resumed.
#   repro-res2  phase 2 (the whole grid) from train/checkpoints/res-1.pt: fresh to step 60 against
#           stopped at 30 and resumed.
#   repro-res3  phase 3 the same way, from train/checkpoints/res-2.pt.
#   lut     the stem family's LUTs: `snc profile` + `snc lut validate --samples 50` on
#           ort-cpu-1t, ort-cpu-2t and ort-wasm-1t into out/lut16/<device>/shapes-tiny.json
#           (copied over lut/<device>/ by hand once they validate).
#   table   the 24-config AP table on the 500 held-out images: snc (onnxruntime) and PyTorch
#           (train/eval_configs.py) side by side.
#   search  `snc search --bootstrap 200` on the held-out images with the LUTs under LUTS (default
#           lut/, the committed ones; out/lut16 for freshly profiled ones; BUDGET=ms adds --budget-ms).
#
# Needs both cores to itself (timings and LUTs). Outputs under out/after16/ and out/lut16/.
set -euo pipefail
cd "$(dirname "$0")/.."
SNC="node bin/snc.js"
PY=/usr/bin/python3
D=out/train-data
O=out/after16
what=${1:-all}
say() { echo "== $(date -u +%T) $*"; }
mkdir -p $O
# lut, table and search measure the embedded default: the retrained supernet must be it
[[ $what == repro* ]] || grep -q '"stem"' models/shapes-tiny/supernet.json || { echo "models/shapes-tiny is not a stem family yet: copy the run's supernet there first (and its family into src/detr/presets.ts; docs/training.md, steps 5-6)" >&2; exit 2; }

# NAME STOP RUNNER: a fresh run to step STOP against one stopped at STOP/2 and resumed to STOP
prefix_check() {
  local n=$1 stop=$2 runner=$3 half=$(($2 / 2))
  [ -f $O/$n.txt ] && return
  say "$n: a fresh run to step $stop, and one to step $half resumed to $stop"
  [ -f $O/$n-fresh/weights.safetensors ] || $runner --work $O/$n-fresh-work --out $O/$n-fresh --stop-at $stop
  [ -f $O/$n-resumed-$half/weights.safetensors ] || $runner --work $O/$n-resumed-work --out $O/$n-resumed-$half --stop-at $half
  [ -f $O/$n-resumed/weights.safetensors ] || $runner --work $O/$n-resumed-work --out $O/$n-resumed --stop-at $stop
  sha256sum $O/$n-fresh/weights.safetensors $O/$n-resumed/weights.safetensors | tee $O/$n.txt.tmp
  if [ "$(cut -d' ' -f1 $O/$n.txt.tmp | sort -u | wc -l)" = 1 ]; then echo "equal bit for bit" | tee -a $O/$n.txt.tmp; else echo "DIFFERENT" | tee -a $O/$n.txt.tmp; fi
  mv $O/$n.txt.tmp $O/$n.txt
}

if [[ $what == repro ]]; then  # the conv-stem family's (train16.sh); not in `all` since the residual stem superseded it
  # the 300-minute run's flags (docs/training.md, step 2); --stop-at ends a run and writes the supernet
  run() { $PY train/train_supernet.py --data $D/train --val $D/val --val-images 100 --spec $D/spec-16.json \
    --steps 4300 --batch 8 --lr 3e-4 --warmup 300 --coarse-phase 0.8 --sandwich-every 3 --val-every 1000 \
    --groups 3 --ema 0.993 --seed 0 "$@" > /dev/null; }
  # phase 2's flags (step 5), from phase 1's checkpoint
  run2() { $PY train/train_supernet.py --data $D/train --val $D/val --val-images 100 --spec $D/spec-16.json \
    --steps 2600 --batch 8 --lr 3e-4 --warmup 100 --coarse-phase 0.8 --sandwich-every 3 --val-every 1300 \
    --groups 3 --ema 0.993 --seed 1 --init out/train16/checkpoint.pt "$@" > /dev/null; }
  prefix_check repro 200 run
  prefix_check repro2 100 run2
fi

if [[ $what == all || $what == repro-res ]]; then
  # train_res.sh's stem pretraining, twice to step 100, and its phase 1 (from out/train-res/stem.pt)
  if [ ! -f $O/repro-stem.txt ]; then
    say "repro-res: the stem pretraining twice to step 100"
    for k in a b; do
      [ -f $O/stem-$k.pt ] || $PY train/stem_probe.py --data $D/train --val out/heldout --stem res:0,1,1 --steps 1200 --stop-at 100 \
        --val-images 20 --save-stem $O/stem-$k.pt > /dev/null
    done
    $PY -c "import sys, torch; a, b = (torch.load(f)['stem'] for f in sys.argv[1:]); print('equal bit for bit' if all(torch.equal(a[k], b[k]) for k in a) else 'DIFFERENT')" \
      $O/stem-a.pt $O/stem-b.pt | tee $O/repro-stem.txt
  fi
  run_res() { $PY train/train_supernet.py --data $D/train --val $D/val --val-images 100 --spec $D/spec-res.json \
    --steps 4500 --batch 8 --lr 3e-4 --warmup 300 --coarse-phase 1 --sandwich-every 3 --val-every 1500 \
    --groups 3 --ema 0.993 --seed 0 --init-stem out/train-res/stem.pt "$@" > /dev/null; }
  prefix_check repro-res 100 run_res
fi

if [[ $what == all || $what == repro-res2 ]]; then
  # train_res.sh's phase 2 (the whole grid), from the committed phase-1 checkpoint
  run_res2() { $PY train/train_supernet.py --data $D/train --val $D/val --val-images 100 --spec $D/spec-res.json \
    --steps 1500 --batch 8 --lr 3e-4 --warmup 100 --coarse-phase 0 --sandwich-every 3 --val-every 750 \
    --groups 3 --ema 0.993 --seed 1 --init train/checkpoints/res-1.pt "$@" > /dev/null; }
  prefix_check repro-res2 60 run_res2
fi

if [[ $what == all || $what == repro-res3 ]]; then
  # train_res.sh's phase 3, from the committed phase-2 checkpoint
  run_res3() { $PY train/train_supernet.py --data $D/train --val $D/val --val-images 100 --spec $D/spec-res.json \
    --steps 1300 --batch 8 --lr 1.5e-4 --warmup 50 --coarse-phase 0 --sandwich-every 3 --val-every 650 \
    --groups 3 --ema 0.993 --seed 2 --init train/checkpoints/res-2.pt "$@" > /dev/null; }
  prefix_check repro-res3 60 run_res3
fi

if [[ $what == all || $what == lut ]]; then
  say "lut: profile and validate the stem family on ort-cpu-1t, ort-cpu-2t, ort-wasm-1t"
  LUT_DIR=out/lut16 SUPERNETS=shapes-tiny bash bench/latency-acceptance.sh ort-cpu-1t ort-cpu-2t ort-wasm-1t
fi

if [[ $what == all || $what == table ]]; then
  [ -f $O/configs.txt ] || node dist/bench/ap-table.js --list-configs > $O/configs.txt
  if [ ! -f $O/ap-table.json ]; then
    say "table: snc eval of 24 configs on the 500 held-out images"
    node dist/bench/ap-table.js --data out/heldout --threads 2 --out $O/ap-table.json > /dev/null
  fi
  if [ ! -f $O/torch.json ]; then
    say "table: PyTorch on the same configs and images"
    $PY train/eval_configs.py --supernet models/shapes-tiny --data out/heldout --configs $O/configs.txt --out $O/torch.json --threads 2
  fi
  node dist/bench/ap-table.js --data out/heldout --rows $O/ap-table.json --torch $O/torch.json > $O/ap-table.md
  cat $O/ap-table.md
fi

if [[ $what == all || $what == search ]]; then
  if [ ! -f $O/search/pareto.json ]; then
    say "search: the held-out images, the LUTs under ${LUTS:-lut}/, 200 bootstrap resamples"
    L=${LUTS:-lut}
    $SNC search --supernet shapes-tiny --data out/heldout --lut $L/ort-cpu-1t/shapes-tiny.json \
      --lut $L/ort-cpu-2t/shapes-tiny.json --lut $L/ort-wasm-1t/shapes-tiny.json \
      ${BUDGET:+--budget-ms $BUDGET} --bootstrap 200 --workers 2 --out $O/search
  fi
fi
say done
