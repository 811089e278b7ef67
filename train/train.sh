#!/bin/bash
# Trains the embedded default supernet (models/shapes-tiny) from scratch, as docs/training.md
# describes: the residual-stem recipe of train/train_res.sh (the stem pretrained on heatmaps,
# phase 1 on patch-16 subnets, phase 2 on the whole grid), resumable: run this script again after
# an interruption and it continues from the checkpoints under WORK (default out/train-res).
#
#   npm ci && npm run build && bash train/train.sh [OUT_MODEL_DIR]   (default models/shapes-tiny)
#
# The first default (the linear patch embedding, AP 0.033) came from this script's earlier
# version (git log train/train.sh); the conv-stem family's from train/train16.sh.
#
# Needs /usr/bin/python3 with Debian's python3-torch, python3-scipy, python3-pil and
# libopenblas0-pthread (see train/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash train/train_res.sh "${1:-models/shapes-tiny}"
