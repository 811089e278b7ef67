#!/bin/bash
# snc check's acceptance figures (issue #18): false alarms on an unchanged build while one core is
# loaded, and detections of a model about 20% slower; inconclusive counts and the time per check.
#
#   npm run build && bash bench/check-trials.sh [CONFIG] [TRIALS] [SLOWDOWN]
#
# CONFIG defaults to snc.config.json (the README's build; built first if needed, from the cache
# when it is). TRIALS defaults to 20, SLOWDOWN (the predicted slowdown of the "slower" model) to 1.2.
# PHASES="unchanged slower" (default) runs both sets of trials; PHASES=slower only the second (its
# log: out/check-trials/log-slower.txt). The summary gives the slower model's measured slowdown
# (its median at the LUT speed over the baseline's): a LUT's errors make it differ from SLOWDOWN.
# Steps:
#   1. snc build --config CONFIG; a baseline check on the quiet machine (out/check-trials/base.json);
#   2. TRIALS x `LOAD_PROCS=1 with-load snc check --baseline base.json` on the unchanged build:
#      every exit 1 is a false alarm;
#   3. a copy of the build whose every model is replaced by the subnet whose prediction is nearest
#      SLOWDOWN x the built one's (snc export of another config of the same supernet), with the
#      same report.json; TRIALS x `snc check --baseline base.json` on it, quiet: every exit 1 is a
#      detection (a budget broken or a regression over the tolerance).
# Log: out/check-trials/log.txt (one line per check: trial, exit code, verdict per device, seconds).
# Run it on a quiet machine (apart from the load it adds itself).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-snc.config.json}
TRIALS=${2:-20}
SLOWDOWN=${3:-1.2}
OUT=out/check-trials
WITH_LOAD=${WITH_LOAD:-/work/shared/tools/with-load}
SNC="node bin/snc.js"
mkdir -p $OUT
PHASES=${PHASES:-unchanged slower}
LOG=$OUT/log.txt
[[ $PHASES == slower ]] && LOG=$OUT/log-slower.txt
: > $LOG
log() { echo "$*" | tee -a $LOG; }

$SNC build --config "$CONFIG" > $OUT/build.txt
BUILD=$(node -e "import('./dist/src/export/config.js').then(m => console.log(m.loadConfig(process.argv[1]).out))" "$CONFIG")
$SNC check --config "$CONFIG" --json $OUT/base.json > $OUT/base.txt || true
log "baseline: $(tr '\n' ' ' < $OUT/base.txt)"

# one LABEL CONFIG BUILD_DIR [prefix...]: a check against the baseline; logs exit code, verdicts and time
one() {
  local label=$1 cfg=$2 dir=$3; shift 3
  local t0=$(date +%s.%N) rc=0
  "$@" $SNC check --config "$cfg" --baseline $OUT/base.json --json $OUT/last.json > $OUT/last.txt 2>/dev/null || rc=$?
  local t1=$(date +%s.%N)
  local verdicts=$(node -e "const r=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); console.log(r.devices.map(d => d.name+'='+d.verdict+'('+d.interval.median.toFixed(2)+' ms, '+d.values.length+' repeats)').join(' '))" "$dir/check.json")
  log "$label rc=$rc $verdicts $(echo "$t1 - $t0" | bc) s"
}

if [[ $PHASES == *unchanged* ]]; then
  for i in $(seq "$TRIALS"); do one "trial-unchanged-loaded $i" "$CONFIG" "$BUILD" env LOAD_PROCS=1 "$WITH_LOAD"; done
fi
if [[ $PHASES == *slower* ]]; then

# the slower build: same reports, each model replaced by a subnet predicted ~SLOWDOWN x slower
SLOW=$OUT/slow
rm -rf $SLOW && mkdir -p $SLOW && cp -r "$BUILD"/. $SLOW/build/
node -e "
const fs = require('fs');
const cfg = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
cfg.out = 'build';
if (typeof cfg.data.validation === 'string') cfg.data.validation = require('path').resolve(require('path').dirname(process.argv[1]), cfg.data.validation);
else cfg.data.validation.synth.dir = require('path').resolve(require('path').dirname(process.argv[1]), cfg.data.validation.synth.dir);
fs.writeFileSync(process.argv[2], JSON.stringify(cfg, null, 1));
" "$CONFIG" $SLOW/snc.config.json
for rep in $SLOW/build/*/report.json; do
  dev=$(dirname $rep)
  read -r supernet lut want <<< "$(node -e "const r=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); console.log(r.supernet.dir, r.lut.path, r.chosen.predictedMs * $SLOWDOWN)" $rep)"
  chosen=$(node -e "console.log(JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')).chosen.key)" $rep)
  # the subnet predicted nearest SLOWDOWN x, among those of the same patch and windows when one is
  # within 5% of the target (a similar structure errs alike in the LUT), else among all
  slower=$($SNC predict --lut "$lut" --supernet "$supernet" --all --json | node -e "
let s=''; process.stdin.on('data', d => s += d).on('end', () => {
  const rows = JSON.parse(s).predictions.filter(r => r.config !== '$chosen');
  const knob = (k, n) => k.split(',').find(p => p.startsWith(n + '=')).slice(n.length + 1);
  const near = (rs) => rs.reduce((a, b) => Math.abs(b.predictedMs - $want) < Math.abs(a.predictedMs - $want) ? b : a);
  const alike = rows.filter(r => knob(r.config, 'patch') === knob('$chosen', 'patch') && knob(r.config, 'windows') === knob('$chosen', 'windows'));
  const a = alike.length ? near(alike) : null;
  console.log(a && Math.abs(a.predictedMs / $want - 1) <= 0.05 ? a.config : near(rows).config);
});")
  $SNC export --supernet "$supernet" --config "$slower" --out $dev/model.onnx.tmp > /dev/null && mv $dev/model.onnx.tmp $dev/model.onnx
  log "slower model for $(basename $dev): $slower (wanted ~$want ms predicted)"
done
for i in $(seq "$TRIALS"); do one "trial-slower $i" $SLOW/snc.config.json $SLOW/build; done
fi

node -e "
const lines = require('fs').readFileSync('$LOG', 'utf8').split('\n');
const sum = (p) => { const ls = lines.filter(l => l.startsWith(p)); const rc = (c) => ls.filter(l => l.includes(' rc=' + c + ' ')).length;
  const secs = ls.map(l => +/ ([\d.]+) s$/.exec(l)[1]).sort((a, b) => a - b);
  return ls.length + ' checks: ' + rc(1) + ' failed (exit 1), ' + ls.filter(l => l.includes('=inconclusive')).length + ' with an inconclusive device, ' + rc(0) + ' exit 0; median ' + secs[secs.length >> 1] + ' s per check (' + secs[0] + '-' + secs[secs.length - 1] + ')'; };
console.log('unchanged build, one core loaded: ' + sum('trial-unchanged-loaded'));
console.log('model ~${SLOWDOWN}x slower (predicted): ' + sum('trial-slower'));
const base = {}; for (const m of (lines.find(l => l.startsWith('baseline:')) || '').matchAll(/([\w.-]+): ([\d.]+) ms at the LUT speed/g)) base[m[1]] = +m[2];
for (const dev of Object.keys(base)) {
  const v = lines.filter(l => l.startsWith('trial-slower')).map(l => l.split(' ').find(t => t.startsWith(dev + '='))).filter(Boolean).map(t => +t.slice(t.indexOf('(') + 1)).sort((a, b) => a - b);
  if (v.length) console.log('  ' + dev + ': the slower model measured ' + (v[v.length >> 1] / base[dev]).toFixed(3) + 'x the baseline (median ' + v[v.length >> 1] + ' ms at the LUT speed against ' + base[dev] + ' ms)');
}
" | tee -a $LOG
