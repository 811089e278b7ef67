/**
 * Import time and peak memory of `snc import rfdetr` on one checkpoint: each run is a fresh
 * Node process (so its peak RSS is the import's own) that reads the checkpoint, maps it to snc
 * names and writes the supernet folder, timing each phase. Prints the median over the runs and
 * peak RSS over the file size (the acceptance: a Nano-sized checkpoint, ~30 M parameters,
 * under 5 s and under 3x the file size).
 *
 *   /usr/bin/python3 train/make_rfdetr_checkpoint.py --variant nano --out out/rf-detr-nano-random.pth
 *   npx tsc -p tsconfig.json && node dist/bench/import-rfdetr.js out/rf-detr-nano-random.pth [--runs 3] [--ema] [--variant nano] [--json]
 *
 * --safetensors VARIANT also writes the checkpoint's state dict as a .safetensors (in a
 * temporary folder) and measures importing that with --variant VARIANT.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readPth } from '../src/onnx/pth.js';
import { writeSafetensors } from '../src/onnx/safetensors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface RunFigures {
  readS: number;
  mapS: number;
  writeS: number;
  totalS: number;
  /** CPU time (user + system) of the import, which other jobs on the machine inflate less than wall time. */
  cpuS: number;
  /** RSS after Node started and the modules loaded, before the checkpoint is touched. */
  baseRss: number;
  peakRss: number;
  tensors: number;
}

async function child(ckpt: string, ema: boolean, variant: string | undefined): Promise<void> {
  const { readRfdetrCheckpoint } = await import('../src/detr/rfdetr/checkpoint.js');
  const { supernetFromRfdetr } = await import('../src/detr/rfdetr/import.js');
  const { writeSupernetDir } = await import('../src/detr/supernet.js');
  const baseRss = process.memoryUsage().rss;
  const out = join(mkdtempSync(join(tmpdir(), 'snc-import-bench-')), 'net');
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const c = readRfdetrCheckpoint(ckpt, { ema });
    const t1 = performance.now();
    const imp = supernetFromRfdetr(c, variant ? { variant: variant as 'nano' } : {});
    const t2 = performance.now();
    writeSupernetDir(out, imp.spec, imp.weights);
    const t3 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const figures: RunFigures = {
      readS: (t1 - t0) / 1000,
      mapS: (t2 - t1) / 1000,
      writeS: (t3 - t2) / 1000,
      totalS: (t3 - t0) / 1000,
      cpuS: (cpu.user + cpu.system) / 1e6,
      baseRss,
      peakRss: process.resourceUsage().maxRSS * 1024,
      tensors: imp.weights.size,
    };
    process.stdout.write(JSON.stringify(figures) + '\n');
  } finally {
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { runs: { type: 'string' }, ema: { type: 'boolean' }, variant: { type: 'string' }, safetensors: { type: 'string' }, json: { type: 'boolean' }, child: { type: 'boolean' } },
    allowPositionals: true,
  });
  const ckpt = positionals[0];
  if (!ckpt) throw new Error('usage: node dist/bench/import-rfdetr.js CHECKPOINT [--runs 3] [--ema] [--variant nano] [--json]');
  if (values.child) return child(ckpt, values.ema === true, values.variant);
  const runs = Number(values.runs ?? 3);
  const summaries = [measure(ckpt, runs, values.ema === true, values.variant, values.json === true)];
  if (values.safetensors) {
    const dir = mkdtempSync(join(tmpdir(), 'snc-import-bench-st-'));
    try {
      const st = join(dir, 'state.safetensors');
      writeSafetensors(st, readPth(ckpt, { parts: [values.ema ? 'ema' : 'model'] })[values.ema ? 'ema' : 'model']!);
      summaries.push(measure(st, runs, false, values.safetensors, values.json === true));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (values.json) process.stdout.write(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2) + '\n');
}

function measure(ckpt: string, runs: number, ema: boolean, variant: string | undefined, json: boolean) {
  const size = statSync(ckpt).size;
  const self = fileURLToPath(import.meta.url);
  const figures: RunFigures[] = [];
  for (let i = 0; i < runs; i++) {
    const args = [self, ckpt, '--child', ...(ema ? ['--ema'] : []), ...(variant ? ['--variant', variant] : [])];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`run ${i + 1} failed: ${r.stderr.trim()}`);
    figures.push(JSON.parse(r.stdout));
    if (!json) process.stderr.write(`run ${i + 1}/${runs}: ${figures[i].totalS.toFixed(2)} s, peak RSS ${(figures[i].peakRss / 1e6).toFixed(0)} MB\n`);
  }
  const peak = Math.max(...figures.map((f) => f.peakRss));
  const base = median(figures.map((f) => f.baseRss));
  const summary = {
    checkpoint: ckpt,
    fileBytes: size,
    runs,
    tensors: figures[0].tensors,
    medianS: { read: median(figures.map((f) => f.readS)), map: median(figures.map((f) => f.mapS)), write: median(figures.map((f) => f.writeS)), total: median(figures.map((f) => f.totalS)) },
    medianCpuS: median(figures.map((f) => f.cpuS)),
    rangeTotalS: [Math.min(...figures.map((f) => f.totalS)), Math.max(...figures.map((f) => f.totalS))],
    peakRssBytes: peak,
    baseRssBytes: base,
    peakOverFile: peak / size,
    peakAboveBaseOverFile: (peak - base) / size,
  };
  if (!json) {
    const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
    process.stdout.write(
      [
        `checkpoint ${ckpt}: ${mb(size)}, ${summary.tensors} snc tensors written`,
        `import time (median of ${runs}, fresh process each): ${summary.medianS.total.toFixed(2)} s [${summary.rangeTotalS.map((s) => s.toFixed(2)).join('-')}] = read ${summary.medianS.read.toFixed(2)} + map ${summary.medianS.map.toFixed(2)} + write ${summary.medianS.write.toFixed(2)} s; CPU time ${summary.medianCpuS.toFixed(2)} s`,
        `peak RSS ${mb(peak)} = ${summary.peakOverFile.toFixed(2)}x the file (Node with snc loaded: ${mb(base)}; above that ${summary.peakAboveBaseOverFile.toFixed(2)}x)`,
      ].join('\n') + '\n',
    );
  }
  return summary;
}

await main();
