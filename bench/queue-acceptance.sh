#!/bin/bash
# Acceptance run of the job queue (issue #20, docs/scale-out.md) on shapes-tiny's grid, on this
# machine, with a redis-server of its own on a free loopback port, after `npm run build`:
#   1. the in-process search (--workers 3), timed;
#   2. the same search with --queue and 3 `snc worker` processes (--workers 3: 3 jobs in flight),
#      timed; fronts and the metrics of every subnet compared with 1;
#   3. faults: the queued search again (fresh cache, empty Redis) with one worker killed with
#      SIGKILL during a job and, once that job runs again elsewhere, Redis killed and restarted
#      (its data lost);
#      fronts compared with 1, retried / stalled / re-added jobs counted;
#   4. queue overhead per group job: one worker, one job in flight (--workers 1): time from
#      submit to result seen by the coordinator minus the worker's time on the job, median and
#      quartiles, by job kind.
#
#   bash bench/queue-acceptance.sh [VAL_DIR] [SUBSET] [IMAGES]
# VAL_DIR defaults to out/train-data/heldout (made here if missing: IMAGES images, default 500,
# seed 9001); SUBSET is the screening subset (default 100). A quick check:
#   bash bench/queue-acceptance.sh out/queue-bench/val20 5 20
# Everything goes to out/queue-acceptance/ (log: out/queue-acceptance/log.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
VAL=${1:-out/train-data/heldout}
SUBSET=${2:-100}
IMAGES=${3:-500}
OUT=out/queue-acceptance
SNC="node bin/snc.js"
mkdir -p $OUT
[ -f "$VAL/annotations.json" ] || $SNC data synth --out "$VAL" --images $IMAGES --seed 9001 --json >/dev/null
LUTS="--lut lut/ort-cpu-1t/shapes-tiny.json --lut lut/ort-cpu-2t/shapes-tiny.json --lut lut/ort-wasm-1t/shapes-tiny.json"
log() { echo "$*" >> $OUT/log.txt; echo "$*" >&2; }
: > $OUT/log.txt
rm -rf $OUT/cache-* $OUT/w*.log

PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
URL=redis://127.0.0.1:$PORT/0
REDIS_PID=
start_redis() {
  redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no --dir $OUT > $OUT/redis.log 2>&1 &
  REDIS_PID=$!
  until redis-cli -p $PORT ping >/dev/null 2>&1; do sleep 0.1; done
}
WORKER_PIDS=()
start_worker() { # start_worker N: worker N logs to $OUT/wN.log
  $SNC worker --queue $URL --supernet shapes-tiny --data "$VAL" --lock-ms 5000 --stalled-ms 2000 2> $OUT/w$1.log &
  WORKER_PIDS[$1]=$!
  until grep -q "ready on" $OUT/w$1.log; do sleep 0.2; done
}
stop_workers() {
  [ ${#WORKER_PIDS[@]} -gt 0 ] || return 0
  for p in "${WORKER_PIDS[@]}"; do kill $p 2>/dev/null || true; done
  wait "${WORKER_PIDS[@]}" 2>/dev/null || true
  WORKER_PIDS=()
}
# the redis-server of this run goes, whatever happened
cleanup() {
  redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true
  [ -z "$REDIS_PID" ] || kill -9 $REDIS_PID 2>/dev/null || true
  stop_workers
}
trap cleanup EXIT

# t OUTFILE CMD...: runs CMD with stdout to OUTFILE and logs its wall time (exit code 3, a search
# with missing groups, is reported, not fatal)
t() { local f=$1; shift; local s=$(date +%s.%N); local rc=0; "$@" > "$f" 2> "$f.err" || rc=$?; local e=$(date +%s.%N); log "wall $(node -e "console.log(($e - $s).toFixed(2))") s (exit $rc): $*"; }
SEARCH="$SNC search --supernet shapes-tiny --data $VAL $LUTS --subset $SUBSET --json"

# 1. in-process
SNC_CACHE_DIR=$OUT/cache-inproc t $OUT/inproc.json $SEARCH --workers 3 --out $OUT/inproc

# 2. three workers
start_redis
for i in 1 2 3; do start_worker $i; done
SNC_CACHE_DIR=$OUT/cache-queued t $OUT/queued.json $SEARCH --workers 3 --queue $URL --out $OUT/queued

# 3. faults: kill -9 of worker 1 during a job, then a Redis restart
redis-cli -p $PORT flushall >/dev/null
base=$(grep -c " started: " $OUT/w1.log || true)
SNC_CACHE_DIR=$OUT/cache-faults $SEARCH --workers 3 --queue $URL --out $OUT/faults > $OUT/faults.json 2> $OUT/faults.json.err &
SEARCH_PID=$!
S0=$(date +%s.%N)
# a job of worker 1 started after the search did, not done yet: kill it
busy() { local st=$(grep -c " started: " $OUT/w1.log || true) dn=$(grep -c " done: \| failed: " $OUT/w1.log || true); [ "$st" -gt "$base" ] && [ "$st" -gt "$dn" ]; }
until busy; do sleep 0.1; done
sleep 0.5
until busy; do sleep 0.1; done
kill -9 ${WORKER_PIDS[1]}; unset 'WORKER_PIDS[1]'
log "killed worker 1 (SIGKILL) during: $(grep ' started: ' $OUT/w1.log | tail -1 | sed 's/.*started: //')"
# once the killed job has stalled and runs again elsewhere (attempt 2) and one more job is done,
# Redis goes down (its data with it) for 2 s
alive() { kill -0 $SEARCH_PID 2>/dev/null; }
until cat $OUT/w2.log $OUT/w3.log | grep -q "(attempt 2)" || ! alive; do sleep 0.1; done
log "the killed job runs again: $(cat $OUT/w2.log $OUT/w3.log | grep '(attempt 2)' | head -1 | sed 's/.*started: //')"
done0=$(cat $OUT/w2.log $OUT/w3.log | grep -c " done: " || true)
until [ "$(cat $OUT/w2.log $OUT/w3.log | grep -c ' done: ' || true)" -ge $((done0 + 1)) ] || ! alive; do sleep 0.1; done
if alive; then
  kill -9 $REDIS_PID; wait $REDIS_PID 2>/dev/null || true
  log "Redis killed (SIGKILL, no persistence) mid-search"
  sleep 2
  start_redis
  log "Redis restarted"
else
  log "the search ended before Redis could be restarted mid-search: use a larger VAL_DIR"
fi
rc=0; wait $SEARCH_PID || rc=$?
log "wall $(node -e "console.log(($(date +%s.%N) - $S0).toFixed(2))") s (exit $rc): faults run"
stop_workers

# 4. overhead: one worker, one job in flight
redis-cli -p $PORT flushall >/dev/null
start_worker 4
SNC_CACHE_DIR=$OUT/cache-overhead t $OUT/overhead.json $SEARCH --workers 1 --queue $URL --out $OUT/overhead
stop_workers

node --input-type=module - "$OUT" <<'EOF' | tee -a $OUT/log.txt
import { readFileSync } from 'node:fs';
const dir = process.argv[2];
const read = (n) => JSON.parse(readFileSync(`${dir}/${n}.json`, 'utf8'));
const a = read('inproc');
const same = (b) => {
  const fronts = a.devices.every((d, i) => JSON.stringify(d.front) === JSON.stringify(b.devices[i].front));
  const mb = new Map(b.subnets.map((s) => [s.key, s]));
  let both = 0, differ = 0, status = 0;
  for (const s of a.subnets) {
    const o = mb.get(s.key);
    if (s.status !== o.status) status++;
    if (s.metrics && o.metrics) { both++; if (JSON.stringify(s.metrics) !== JSON.stringify(o.metrics)) differ++; }
  }
  return `fronts ${fronts ? 'identical' : 'DIFFER'}; ${both} subnets evaluated by both, metrics differ on ${differ}; status differs on ${status}; missing ${b.missing.length}`;
};
const q = (b) => { const s = b.queue.stats; return `${s.submitted} jobs, ${s.completed} completed, ${s.failed} failed, ${s.retried} retried (${s.stalls} stalls), ${s.readded} re-added after Redis lost them`; };
console.log(`in-process: ${a.counts.fullRun} full + ${a.counts.subsetRun} subset evaluations, ${a.seconds.toFixed(1)} s`);
for (const n of ['queued', 'faults', 'overhead']) {
  const b = read(n);
  console.log(`${n}: ${same(b)}; ${q(b)}; ${b.seconds.toFixed(1)} s; by worker: ${[...b.queue.jobs.reduce((m, j) => m.set(j.worker, (m.get(j.worker) ?? 0) + 1), new Map())].map(([w, c]) => `${w} ${c}`).join(', ')}`);
}
const o = read('overhead').queue.jobs.filter((j) => !j.foundDone);
const stats = (xs) => { const s = [...xs].sort((x, y) => x - y); const p = (f) => s[Math.min(s.length - 1, Math.floor(f * (s.length - 1) + 0.5))]; return `median ${p(0.5).toFixed(1)} ms (q1 ${p(0.25).toFixed(1)}, q3 ${p(0.75).toFixed(1)}, min ${s[0].toFixed(1)}, max ${s[s.length - 1].toFixed(1)}; n=${s.length})`; };
for (const [name, f] of [['all jobs', () => true], ['subset jobs', (j) => j.images !== 'all'], ['full jobs', (j) => j.images === 'all']]) {
  const js = o.filter(f);
  if (js.length) console.log(`queue overhead per job (submit to result minus the worker's time on it), ${name}: ${stats(js.map((j) => j.elapsedMs - j.processMs))}; worker's time ${stats(js.map((j) => j.processMs))}`);
}
EOF
