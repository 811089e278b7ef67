import { buildSubnet, type BuildOptions } from './model.js';
import { parseConfig, validateConfig, type SubnetConfig } from './spec.js';
import type { Supernet } from './supernet.js';
import { writeFileAtomic } from '../util/fs.js';
import { encodeModel } from '../onnx/writer.js';

/** Builds a subnet and serialises it to ONNX bytes. */
export function exportSubnet(net: Supernet, config: SubnetConfig | string, opts: BuildOptions = {}): Uint8Array {
  const c = typeof config === 'string' ? parseConfig(config, net.spec.default) : config;
  return encodeModel(buildSubnet(net, validateConfig(net.spec.knobs, c, net.spec.architecture), opts));
}

/** Builds a subnet and writes it atomically: on any error no file is left at `out`. */
export function exportSubnetToFile(net: Supernet, config: SubnetConfig | string, out: string, opts: BuildOptions = {}): Uint8Array {
  const bytes = exportSubnet(net, config, opts);
  writeFileAtomic(out, bytes);
  return bytes;
}
