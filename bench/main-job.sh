#!/bin/bash
# The README's main command, `npm ci && npm start` (snc build on the embedded default), from a
# fresh clone of this branch, timed (issue #18: at most 15 min with profiling, at most 2 min when
# the LUTs exist), each with an empty snc cache (no evaluations, no LUTs):
#   bash bench/main-job.sh [WORK_DIR]
#   1. with the committed LUTs (they fit this host kind: "AMD EPYC", 2 cores, onnxruntime 1.30.0);
#   2. without them (lut/*/shapes-tiny.json removed from the clone, as on a host kind they do
#      not fit): both devices are profiled first;
#   3. npm start again in clone 1, nothing changed (the build part: every step cached).
# Log: WORK_DIR/log.txt (default /tmp/snc-main-job). Run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BRANCH=$(git rev-parse --abbrev-ref HEAD)
WORK=${1:-/tmp/snc-main-job}
rm -rf "$WORK" && mkdir -p "$WORK"
log() { echo "$*" | tee -a "$WORK/log.txt"; }

# run NAME CLONE: npm ci && npm start in CLONE with its own empty cache; logs the wall time
run() {
  local name=$1 dir=$2
  local t0=$(date +%s.%N)
  (cd "$dir" && SNC_CACHE_DIR="$dir/.snc-cache" bash -c 'npm ci --no-audit --no-fund > npm-ci.log 2>&1 && npm start > start.log 2> start.err')
  local t1=$(date +%s.%N)
  log "$name: $(echo "$t1 - $t0" | bc) s  (npm ci + npm start; output $dir/start.log)"
  tail -n 14 "$dir/start.log" | sed 's/^/    /' | tee -a "$WORK/log.txt"
}

git clone -q --branch "$BRANCH" "$REPO" "$WORK/with-luts"
run "fresh clone, committed LUTs" "$WORK/with-luts"

git clone -q --branch "$BRANCH" "$REPO" "$WORK/profiling"
rm "$WORK"/profiling/lut/*/shapes-tiny.json
run "fresh clone, no LUTs (profiling both devices)" "$WORK/profiling"

t0=$(date +%s.%N)
(cd "$WORK/with-luts" && SNC_CACHE_DIR="$WORK/with-luts/.snc-cache" node bin/snc.js build > rebuild.log 2>&1)
log "second snc build in the first clone, nothing changed: $(echo "$(date +%s.%N) - $t0" | bc) s"
