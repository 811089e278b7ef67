// The architecture in one list: each folder of src/ may import only the folders before it.
// `npm test` runs this check (npm run lint:layers); an upward import fails CI.
const LAYERS = [
  'util', //    files, random numbers, prefetching; with src/errors.ts
  'report', //  plots and the HTML report, drawn from plain data
  'onnx', //    the ONNX format layer: graph builder, ops, reader, writer, tensors, safetensors
  'data', //    data sets: synthetic scenes, COCO reading, decoding, pre-processing
  'detr', //    the supernet family: knobs, weights, blocks, a subnet's graph, post-processing
  'eval', //    COCO evaluation of subnets: evaluator, multi-exit runs, cache, worker pool
  'quant', //   post-training quantization
  'latency', // devices, measurement, profiler, LUTs, predictors
  'search', //  accuracy/latency Pareto search
  'export', //  the per-device build: config, LUT choice, steps and their cache, reports
  'gate', //    the CI latency gate (snc check): decisions on ratios, JUnit/markdown/benchmark outputs
  'cli', //     the snc command
];

module.exports = {
  forbidden: [
    ...LAYERS.slice(0, -1).map((layer, i) => ({
      name: `${layer}-imports-down`,
      comment: `src/${layer}/ may import only ${['errors.ts', ...LAYERS.slice(0, i)].join(', ')}`,
      severity: 'error',
      from: { path: `^src/${layer}/` },
      to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
    })),
    {
      name: 'errors-imports-nothing',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'src-not-tests',
      comment: 'the library never imports tests or benchmarks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-unknown-folder',
      comment: 'a new folder of src/ takes its place in LAYERS first',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: `^src/(?!(${LAYERS.join('|')})/|errors\\.ts$|index\\.ts$)` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
