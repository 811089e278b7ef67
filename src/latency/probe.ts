import { GraphBuilder } from '../onnx/builder.js';
import * as op from '../onnx/ops.js';
import { encodeModel } from '../onnx/writer.js';
import { OPSET } from '../detr/model.js';

/**
 * The per-run overhead model of a resolution: it takes the image like a subnet does and
 * returns one element, so timing it measures feeding the input and the session's fixed cost.
 */
export function buildOverheadProbe(res = 8): Uint8Array {
  const g = new GraphBuilder(`overhead:res=${res}`);
  const image = g.input('image', 'float32', [1, 3, res, res]);
  let x = op.slice(g, image, 1, 0, 1);
  x = op.slice(g, x, 2, 0, 1);
  x = op.slice(g, x, 3, 0, 1);
  g.output(x, 'out');
  return encodeModel({ graph: g.build(), opset: OPSET, metadata: {} });
}
