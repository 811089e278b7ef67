#!/usr/bin/env node
// Runs ava on the built tests with the TAP reporter, passes its output through and ends with
// the one summary line CI reads: "N passed, N failed".
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// ava's package exports hide its CLI entry point from require.resolve; take it by path
const avaCli = fileURLToPath(new URL('../node_modules/ava/entrypoints/cli.mjs', import.meta.url));
const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let passed = 0;
let failed = 0;
let buffer = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffer += chunk.toString();
  let nl;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    if (/^ok \d+/.test(line)) passed++;
    else if (/^not ok \d+/.test(line) && !/# (TODO|SKIP)/.test(line)) failed++;
  }
});
child.on('close', (code) => {
  if (code !== 0 && failed === 0) failed = 1; // a crash outside any test still fails the run
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
