import { SncError } from '../errors.js';
import type { SubnetConfig } from '../detr/spec.js';
import type { Graph } from '../onnx/graph.js';
import type { ModelInput } from './runtime.js';

/** The inputs a model needs to run, with static shapes (symbolic dims are set to `dynamic`). */
export function modelInputs(graph: Graph, source: string, dynamic = 1): ModelInput[] {
  return graph.inputs.map((i) => {
    if (i.dtype !== 'float32' && i.dtype !== 'int64') throw new SncError(`${source}: input '${i.name}' is ${i.dtype}; snc times models with float32 or int64 inputs`);
    return { name: i.name, dtype: i.dtype, dims: i.shape.map((d) => (typeof d === 'number' && d > 0 ? d : dynamic)) };
  });
}

/** The one input of a subnet snc builds: a batch of one image at its resolution. */
export function subnetInputs(c: SubnetConfig): ModelInput[] {
  return [{ name: 'image', dims: [1, 3, c.resolution, c.resolution], dtype: 'float32' }];
}
