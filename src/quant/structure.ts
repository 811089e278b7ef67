/**
 * The int8 QDQ form of any graph without calibration: the same selection and rewrite as
 * `snc quantize` (default float layers, per-channel weights, the device's format), with one
 * nominal range for every activation. For latency work (blocks and subnets of an int8 device's
 * LUT): integer kernels cost the same whatever the scales are, so the timed graph is the graph
 * that ships; its outputs are not meant to be accurate.
 */
import type { Model } from '../onnx/graph.js';
import { rewriteQdq, type QdqFormat } from './qdq.js';
import { calibrationValues, selectTargets } from './select.js';

export const NOMINAL_RANGE = { lo: -4, hi: 4 };

export function quantizeStructure(model: Model, format: QdqFormat): Model {
  const sel = selectTargets(model.graph);
  const ranges = new Map(calibrationValues(sel).map((v) => [v, NOMINAL_RANGE]));
  const r = rewriteQdq(model.graph, sel, { format, perChannel: true, weightClipping: 'max', ranges });
  return { ...model, graph: r.graph, metadata: { ...model.metadata, 'snc.quant': JSON.stringify({ weights: 'int8', format, ranges: 'nominal (latency only)' }) } };
}
