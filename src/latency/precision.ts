/**
 * The bytes a device runs for a model: the float model for fp32 devices; for int8 devices the
 * same model in int8 QDQ form in the format the device's runtime runs fastest (quant's
 * formatFor), built by the quantizer `snc quantize` uses (structure only: LUT blocks and the
 * subnets that calibrate and validate a LUT are timed as they would ship).
 */
import type { Model } from '../onnx/graph.js';
import { encodeModel } from '../onnx/writer.js';
import { formatFor } from '../quant/qdq.js';
import { quantizeStructure } from '../quant/structure.js';
import type { Device } from './device.js';

export function deviceModelBytes(device: Pick<Device, 'precision' | 'runtime'>, model: Model): Uint8Array {
  if (device.precision !== 'int8') return encodeModel(model);
  return encodeModel(quantizeStructure(model, formatFor(device.runtime).format));
}
