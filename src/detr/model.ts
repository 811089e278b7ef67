/**
 * A subnet as a plan of blocks. Each block names the values it reads and writes; the whole
 * model runs every block in order on one GraphBuilder, and any block can be emitted alone as
 * a model whose inputs are exactly the values it reads.
 */
import { GraphBuilder, type Value } from '../onnx/builder.js';
import type { Model } from '../onnx/graph.js';
import * as blocks from './blocks.js';
import { keyOf } from './keys.js';
import type { Supernet } from './supernet.js';
import { configKey, validateConfig, type SubnetConfig } from './spec.js';

export const OPSET = 17;
export const SNC_VERSION = '0.1.0';

export type BlockKind = 'patch_embed' | 'vit_block' | 'projector' | 'two_stage' | 'query_pos' | 'decoder_layer' | 'class_head';

export interface BlockIO {
  name: string;
  shape: number[];
}

export interface Block {
  /** Name in the model: 'backbone.blocks.3', 'decoder.layers.0', ... */
  name: string;
  kind: BlockKind;
  /**
   * Everything that decides the block's cost: the LUT key. Blocks with equal keys cost the
   * same (same op graph, same shapes, different weights).
   */
  key: string;
  inputs: BlockIO[];
  outputs: BlockIO[];
  /** Builds the block; returns its outputs in the order of `outputs`. */
  build(g: GraphBuilder, inputs: Value[]): Value[];
}

export interface BuildOptions {
  /** Add every decoder depth's boxes and logits as outputs boxes_<l>, logits_<l> (multi-exit evaluation). */
  exits?: boolean;
  /**
   * Query-count branches on one backbone (multi-exit evaluation across query counts): for every
   * count Q listed, the two-stage selection of the top Q proposals and the decoder run on the
   * shared backbone's memory, with outputs boxes_q<Q>_<l>, logits_q<Q>_<l> for every depth l.
   * Each branch computes what the subnet with `queries` = Q computes (the backbone does not read Q).
   */
  queries?: number[];
  /** Expose these intermediate values (block output names, see planSubnet) as extra outputs. */
  extraOutputs?: string[];
}

/** The blocks of one subnet, in execution order. */
export function planSubnet(net: Supernet, config: SubnetConfig): Block[] {
  validateConfig(net.spec.knobs, config, net.spec.architecture);
  const a = net.spec.architecture;
  const w = net.weights;
  const geo = blocks.geometry(config);
  const B = 1;
  const { width: C, depth, globalBlocks, tapBlocks } = a.backbone;
  const { width: D } = a.decoder;
  const K = a.numClasses;
  const { tokens: N, queries: Q, res: R } = geo;
  /** Backbone sequence length: N patch tokens, plus a CLS token per window when the family has them. */
  const T = blocks.sequenceLength(a, geo);
  const fixed = a.decoder.refPoints === 'fixed';
  const plan: Block[] = [];
  plan.push({
    name: 'backbone.patch_embed',
    kind: 'patch_embed',
    key: keyOf.patchEmbed(a, R, geo.patch, geo.windows),
    inputs: [{ name: 'image', shape: [B, a.backbone.inChannels, R, R] }],
    outputs: [{ name: 'tokens.0', shape: [B, T, C] }],
    build: (g, [image]) => [blocks.patchEmbed(g, a, w, geo, image)],
  });
  for (let i = 0; i < depth; i++) {
    const windowed = geo.windows > 1 && !globalBlocks.includes(i);
    plan.push({
      name: `backbone.blocks.${i}`,
      kind: 'vit_block',
      key: keyOf.vitBlock(a, N, windowed ? geo.windows : 1, T - N),
      inputs: [{ name: `tokens.${i}`, shape: [B, T, C] }],
      outputs: [{ name: `tokens.${i + 1}`, shape: [B, T, C] }],
      build: (g, [x]) => [blocks.vitBlock(g, a, w, geo, i, x)],
    });
  }
  plan.push({
    name: 'projector',
    kind: 'projector',
    key: keyOf.projector(a, N, geo.windows),
    inputs: tapBlocks.map((t) => ({ name: `tokens.${t + 1}`, shape: [B, T, C] })),
    outputs: [{ name: 'memory', shape: [B, N, D] }],
    build: (g, taps) => [blocks.projector(g, a, w, geo, taps)],
  });
  plan.push({
    name: 'two_stage',
    kind: 'two_stage',
    key: keyOf.twoStage(a, N, Q),
    inputs: [{ name: 'memory', shape: [B, N, D] }],
    outputs: [
      { name: 'ref.0', shape: [B, Q, 4] },
      // the selected proposals' logits and (when the decoder starts from other boxes) boxes: min(Q, N) of them
      { name: 'logits.0', shape: [B, Math.min(Q, N), K] },
      ...(a.decoder.refpointEmbed ? [{ name: 'boxes.0', shape: [B, Math.min(Q, N), 4] }] : []),
    ],
    build: (g, [memory]) => {
      const r = blocks.twoStage(g, a, w, geo, memory);
      return a.decoder.refpointEmbed ? [r.ref, r.logits, r.boxes] : [r.ref, r.logits];
    },
  });
  if (fixed && config.layers > 0)
    plan.push({
      name: 'decoder.query_pos',
      kind: 'query_pos',
      key: keyOf.queryPos(a, Q),
      inputs: [{ name: 'ref.0', shape: [B, Q, 4] }],
      outputs: [{ name: 'query_pos', shape: [B, Q, D] }],
      build: (g, [ref]) => [blocks.queryPosition(g, a, w, ref)],
    });
  for (let l = 0; l < config.layers; l++) {
    if (fixed) {
      // reference boxes and query position fixed across layers (RF-DETR's lite_refpoint_refine)
      plan.push({
        name: `decoder.layers.${l}`,
        kind: 'decoder_layer',
        key: keyOf.decoderLayer(a, N, Q),
        inputs: [
          { name: `tgt.${l}`, shape: [B, Q, D] },
          { name: 'ref.0', shape: [B, Q, 4] },
          { name: 'memory', shape: [B, N, D] },
          { name: 'query_pos', shape: [B, Q, D] },
        ],
        outputs: [{ name: `tgt.${l + 1}`, shape: [B, Q, D] }],
        build: (g, [tgt, ref, memory, pos]) => [blocks.decoderLayer(g, a, w, geo, l, tgt, ref, memory, pos).tgt],
      });
      continue;
    }
    plan.push({
      name: `decoder.layers.${l}`,
      kind: 'decoder_layer',
      key: keyOf.decoderLayer(a, N, Q),
      inputs: [
        { name: `tgt.${l}`, shape: [B, Q, D] },
        { name: `ref.${l}`, shape: [B, Q, 4] },
        { name: 'memory', shape: [B, N, D] },
      ],
      outputs: [
        { name: `tgt.${l + 1}`, shape: [B, Q, D] },
        { name: `ref.${l + 1}`, shape: [B, Q, 4] },
      ],
      build: (g, [tgt, ref, memory]) => {
        const r = blocks.decoderLayer(g, a, w, geo, l, tgt, ref, memory);
        return [r.tgt, r.ref];
      },
    });
  }
  return plan;
}

/** The class-head block for decoder depth l (l >= 1). */
function classHeadBlock(net: Supernet, config: SubnetConfig, l: number): Block {
  const a = net.spec.architecture;
  const { width: D } = a.decoder;
  const Q = config.queries;
  const K = a.numClasses;
  if (a.decoder.refPoints === 'fixed')
    return {
      name: `decoder.class_head.${l}`,
      kind: 'class_head',
      key: keyOf.classHead(a, Q),
      inputs: [
        { name: `tgt.${l}`, shape: [1, Q, D] },
        { name: 'ref.0', shape: [1, Q, 4] },
      ],
      outputs: [
        { name: `logits.${l}`, shape: [1, Q, K] },
        { name: `boxes.${l}`, shape: [1, Q, 4] },
      ],
      build: (g, [tgt, ref]) => {
        const r = blocks.exitHeads(g, a, net.weights, tgt, ref);
        return [r.logits, r.boxes!];
      },
    };
  return {
    name: `decoder.class_head.${l}`,
    kind: 'class_head',
    key: keyOf.classHead(a, Q),
    inputs: [{ name: `tgt.${l}`, shape: [1, Q, D] }],
    outputs: [{ name: `logits.${l}`, shape: [1, Q, K] }],
    build: (g, [tgt]) => [blocks.exitHeads(g, a, net.weights, tgt).logits],
  };
}

/** The plan with the class heads the outputs need (the final depth, or every depth with exits). */
export function fullPlan(net: Supernet, config: SubnetConfig, exits = false): Block[] {
  const plan = planSubnet(net, config);
  for (let l = 1; l <= config.layers; l++) if (exits || l === config.layers) plan.push(classHeadBlock(net, config, l));
  return plan;
}

function metadataFor(net: Supernet, config: SubnetConfig): Record<string, string> {
  return {
    'snc.version': SNC_VERSION,
    'snc.supernet': net.spec.name,
    'snc.config': configKey(config),
    'snc.weights_sha256': net.weights.hash,
    'snc.classes': JSON.stringify(net.spec.classes),
    'snc.preprocess': JSON.stringify(net.spec.preprocess),
  };
}

/** Builds the blocks in order, each in its own scope, reading and writing values of `env` by name. */
function runBlocks(g: GraphBuilder, env: Map<string, Value>, plan: readonly Block[]): void {
  for (const b of plan) {
    const ins = b.inputs.map((i) => {
      const v = env.get(i.name);
      if (!v) throw new Error(`block ${b.name} reads ${i.name}, which no earlier block writes`);
      return v;
    });
    const outs = g.scope(b.name, () => b.build(g, ins));
    b.outputs.forEach((o, k) => env.set(o.name, outs[k]));
  }
}

/** The boxes of decoder depth l: an exit head's, else the reference boxes after layer l. */
function boxesAt(env: ReadonlyMap<string, Value>, l: number): Value {
  const v = env.get(`boxes.${l}`) ?? env.get(`ref.${l}`);
  if (!v) throw new Error(`no boxes for decoder depth ${l}`);
  return v;
}

/** Builds the ONNX model of one subnet: input `image` [1,3,R,R], outputs `boxes` [1,Q,4] (cxcywh, normalised) and `logits` [1,Q,K]. */
export function buildSubnet(net: Supernet, config: SubnetConfig, opts: BuildOptions = {}): Model {
  const plan = fullPlan(net, config, opts.exits || !!opts.queries?.length);
  const g = new GraphBuilder(`${net.spec.name}:${configKey(config)}`);
  const env = new Map<string, Value>();
  const first = plan[0].inputs[0];
  env.set(first.name, g.input(first.name, 'float32', first.shape));
  if (config.layers > 0) env.set('tgt.0', blocks.queryContent(g, net.spec.architecture, net.weights, blocks.geometry(config)));
  runBlocks(g, env, plan);
  const L = config.layers;
  g.output(boxesAt(env, L), 'boxes');
  g.output(env.get(`logits.${L}`)!, 'logits');
  if (opts.exits)
    for (let l = 0; l <= L; l++) {
      g.output(boxesAt(env, l), `boxes_${l}`);
      g.output(env.get(`logits.${l}`)!, `logits_${l}`);
    }
  for (const Q of opts.queries ?? []) {
    const branch = Q === config.queries ? env : buildQueryBranch(net, g, env, { ...config, queries: Q });
    for (let l = 0; l <= L; l++) {
      g.output(boxesAt(branch, l), exitName('boxes', Q, l));
      g.output(branch.get(`logits.${l}`)!, exitName('logits', Q, l));
    }
  }
  for (const name of opts.extraOutputs ?? []) {
    const v = env.get(name);
    if (!v) throw new Error(`extra output '${name}' is not a block output; valid: ${[...env.keys()].join(', ')}`);
    g.output(v, `extra:${name}`);
  }
  return { graph: g.build(), opset: OPSET, producerName: 'snc', producerVersion: SNC_VERSION, metadata: metadataFor(net, config) };
}

/** Output name of a query branch's depth-l exit (BuildOptions.queries). */
export function exitName(kind: 'boxes' | 'logits', queries: number, layers: number): string {
  return `${kind}_q${queries}_${layers}`;
}

/** The blocks that read the query count, as the subnet `config` has them. */
const QUERY_KINDS: ReadonlySet<BlockKind> = new Set(['two_stage', 'query_pos', 'decoder_layer', 'class_head']);

/**
 * Builds config's query-dependent blocks (every depth's class head included) in a scope of their
 * own, reading the backbone values of `shared`; returns the branch's values.
 */
function buildQueryBranch(net: Supernet, g: GraphBuilder, shared: ReadonlyMap<string, Value>, config: SubnetConfig): Map<string, Value> {
  validateConfig(net.spec.knobs, config, net.spec.architecture);
  const env = new Map<string, Value>(shared);
  return g.scope(`q${config.queries}`, () => {
    if (config.layers > 0) env.set('tgt.0', blocks.queryContent(g, net.spec.architecture, net.weights, blocks.geometry(config)));
    runBlocks(g, env, fullPlan(net, config, true).filter((b) => QUERY_KINDS.has(b.kind)));
    return env;
  });
}

/** Emits one block alone: its inputs become graph inputs, its outputs graph outputs. */
export function buildBlock(net: Supernet, config: SubnetConfig, block: Block): Model {
  const g = new GraphBuilder(`${net.spec.name}:${block.key}`);
  const ins = block.inputs.map((i) => g.input(i.name, 'float32', i.shape));
  const outs = g.scope(block.name, () => block.build(g, ins));
  outs.forEach((o, k) => g.output(o, block.outputs[k].name));
  return {
    graph: g.build(),
    opset: OPSET,
    producerName: 'snc',
    producerVersion: SNC_VERSION,
    metadata: { ...metadataFor(net, config), 'snc.block': block.key },
  };
}
