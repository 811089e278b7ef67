// The layering rule of .dependency-cruiser.cjs, checked by dependency-cruiser itself: on src/ as it
// is, and on a scratch tree with one upward import, which must be reported.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

function cruise(cwd: string) {
  return spawnSync(process.execPath, [cli, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd, encoding: 'utf8' });
}

test('src/ imports only point down the layers', (t) => {
  const r = cruise(root);
  t.is(r.status, 0, r.stdout + r.stderr);
});

test('an upward import is reported with the rule it breaks', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snc-layers-'));
  try {
    copyFileSync(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
    copyFileSync(join(root, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    mkdirSync(join(dir, 'src/onnx'), { recursive: true });
    mkdirSync(join(dir, 'src/search'), { recursive: true });
    writeFileSync(join(dir, 'src/search/search.ts'), 'export const front = 1;\n');
    writeFileSync(join(dir, 'src/onnx/graph.ts'), "import { front } from '../search/search.js';\nexport const g = front;\n");
    const r = cruise(dir);
    t.not(r.status, 0);
    t.regex(r.stdout + r.stderr, /onnx-imports-down: src\/onnx\/graph\.ts → src\/search\/search\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
