import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvalCache, EVAL_CACHE_VERSION, parseCachedEval, type EvalKey } from '../../src/eval/cache.js';
import { METRIC_NAMES, type CocoMetrics } from '../../src/eval/coco-eval.js';

const tmp = mkdtempSync(join(tmpdir(), 'snc-cache-test-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));
const key: EvalKey = { weights: 'a'.repeat(64), data: 'b'.repeat(32), config: 'res=224,patch=16,windows=2,layers=3,queries=60', topK: 100, images: 'all', evaluator: 'onnxruntime-node 1.30.0' };
const metrics = Object.fromEntries(METRIC_NAMES.map((n, i) => [n, i === 3 ? -1 : 0.2 + i / 50])) as CocoMetrics;

test('cache entries are data from disk: an impossible or edited entry is a miss (evaluated again), never shown', (t) => {
  const cache = new EvalCache(join(tmp, 'c'));
  cache.put(key, { metrics, images: 200, seconds: 2 });
  const file = cache.fileOf(key);
  const good = readFileSync(file, 'utf8');
  t.deepEqual(cache.get(key)?.metrics, metrics);
  const edit = (f: (e: any) => void) => {
    const e = JSON.parse(good);
    f(e);
    writeFileSync(file, JSON.stringify(e));
    return cache.get(key);
  };
  t.is(edit((e) => (e.metrics.AP = 5.0)), undefined, 'AP 5.0 is not a COCO metric');
  t.is(edit((e) => (e.metrics.AP = 0.9)), undefined, 'a plausible AP that is not what was stored');
  t.is(edit((e) => (e.metrics.AP50 = 'x')), undefined);
  t.is(edit((e) => delete e.metrics.ARl), undefined);
  t.is(edit((e) => (e.images = -1)), undefined);
  t.is(edit((e) => (e.version = EVAL_CACHE_VERSION - 1)), undefined, 'an entry of the older format');
  t.is(edit((e) => (e.key.topK = 50)), undefined, 'another key');
  t.is(edit((e) => delete e.check), undefined);
  writeFileSync(file, good.slice(0, 40));
  t.is(cache.get(key), undefined, 'a truncated file');
  writeFileSync(file, good);
  t.deepEqual(cache.get(key)?.metrics, metrics);
  t.is(parseCachedEval('null', key), undefined);
  t.is(parseCachedEval('[]', key), undefined);
});

test('a bootstrap spread with its resamples is kept and comes back whole; resamples that do not match the count are a miss', (t) => {
  const cache = new EvalCache(join(tmp, 'spread'));
  const s = { samples: 3, seed: 1, AP: { std: 0.01, lo90: 0.19, hi90: 0.21 }, AP50: { std: 0.02, lo90: 0.3, hi90: 0.34 }, resamples: { images: 200, AP: [0.19, 0.2, 0.21], AP50: [0.3, 0.32, 0.34] } };
  cache.put(key, { metrics, images: 200, seconds: 2, spread: s });
  t.deepEqual(cache.get(key)?.spread, s);
  const e = JSON.parse(readFileSync(cache.fileOf(key), 'utf8'));
  e.spread.resamples.AP.pop();
  writeFileSync(cache.fileOf(key), JSON.stringify(e));
  t.is(cache.get(key), undefined, '2 resample values for 3 resamples');
});
