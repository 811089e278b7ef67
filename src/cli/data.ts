import sharp from 'sharp';
import { SncError, choices } from '../errors.js';
import { synthesize } from '../data/synth.js';
import { intOption, numberOption, parseCommand, progress, progressDone, requireString } from './args.js';

const SUBCOMMANDS = ['synth'];

const SYNTH_USAGE = `usage: snc data synth --out DIR --images N --seed S [--size 320] [--min-size PX] [--force] [--json]
  writes a COCO-format set of synthetic shapes: DIR/images/*.jpg and DIR/annotations.json
  --size      image side in pixels (default 320)
  --min-size  smallest object in pixels, as the square root of its shape's area (default: about
              6.3, sqrt 40); larger leaves out objects too small to tell apart
  --force     replace a set already in DIR
  the same arguments always give byte-identical files
`;

async function synth(argv: string[]): Promise<number> {
  const cmd = parseCommand('data synth', argv, {
    out: { type: 'string', short: 'o' },
    images: { type: 'string' },
    seed: { type: 'string' },
    size: { type: 'string' },
    'min-size': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  }, SYNTH_USAGE);
  if (!cmd) return 0;
  const { values } = cmd;
  const out = requireString('data synth', values.out, 'out', 'the folder to write');
  const images = intOption('data synth', requireString('data synth', values.images, 'images', 'how many images'), 'images', 1)!;
  const seed = intOption('data synth', requireString('data synth', values.seed, 'seed', 'an integer; sets of different seeds share no image'), 'seed', 0)!;
  const size = intOption('data synth', values.size, 'size', 64) ?? 320;
  const minSize = numberOption('data synth', values['min-size'], 'min-size', (n) => n > 0, 'a number of pixels > 0');
  sharp.cache(false);
  const r = await synthesize({
    out,
    images,
    seed,
    size,
    minSize,
    force: values.force === true,
    onProgress: (done, total) => {
      if (done % 50 === 0 || done === total) progress(`synth ${done}/${total} images`);
    },
  });
  progressDone();
  if (values.json) process.stdout.write(JSON.stringify({ ...r, seed, size }) + '\n');
  else process.stdout.write(`wrote ${r.images} images and ${r.annotations} annotations to ${out} in ${r.seconds.toFixed(1)} s (${r.imagesPerSecond.toFixed(1)} images/s)\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(`usage: snc data <subcommand> [options]\n\nsubcommands:\n  synth  write a synthetic COCO-format detection set\n\n${SYNTH_USAGE}`);
    return sub ? 0 : 2;
  }
  if (sub === 'synth') return synth(rest);
  throw new SncError(`data: unknown subcommand '${sub}'; valid subcommands are ${choices(SUBCOMMANDS)}`);
}
