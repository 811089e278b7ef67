import test from 'ava';
import { exportSubnet } from '../../src/detr/export-subnet.js';
import { buildSubnet } from '../../src/detr/model.js';
import { parseConfig, validateConfig } from '../../src/detr/spec.js';
import { loadSupernet } from '../../src/detr/supernet.js';
import { loadDevice } from '../../src/latency/device.js';
import { deviceModelBytes } from '../../src/latency/precision.js';
import { distinctBlocks } from '../../src/latency/profiler.js';
import { openSession } from '../../src/latency/runtime.js';
import { decodeModel } from '../../src/onnx/reader.js';

const net = loadSupernet('shapes-tiny');
const config = validateConfig(net.spec.knobs, parseConfig('res=160,windows=1,layers=1,queries=30', net.spec.default));

test('int8 devices: cpu 1 and 2 threads and wasm, all u8s8; fp32 devices get the exported bytes unchanged', (t) => {
  for (const [name, threads, zp] of [['ort-cpu-1t-int8', 1, 'uint8'], ['ort-cpu-2t-int8', 2, 'uint8'], ['ort-wasm-1t-int8', 1, 'uint8']] as const) {
    const d = loadDevice(name);
    t.is(d.precision, 'int8');
    t.is(d.threads, threads);
    const m = decodeModel(deviceModelBytes(d, buildSubnet(net, config)));
    t.true(m.graph.nodes.some((n) => n.opType === 'QuantizeLinear'));
    const zpt = [...m.graph.initializers].find(([k]) => k.endsWith('/quant.zero_point') && !k.includes('.weight'))![1];
    t.is(zpt.dtype, zp, name);
  }
  t.deepEqual(deviceModelBytes(loadDevice('ort-cpu-2t'), buildSubnet(net, config)), exportSubnet(net, config));
});

test('an int8 device profiles its blocks quantized, and they run in its runtime', async (t) => {
  for (const name of ['ort-cpu-1t-int8', 'ort-wasm-1t-int8']) {
    const d = loadDevice(name);
    const items = distinctBlocks(net, d).filter((i) => i.kind === 'vit_block' || i.kind === 'decoder_layer').slice(0, 2);
    for (const item of items) {
      const bytes = item.build();
      t.true(decodeModel(bytes).graph.nodes.some((n) => n.opType === 'DequantizeLinear'), item.key);
      const s = await openSession(d, bytes, item.inputs);
      await s.run();
      await s.release();
    }
    const fp = distinctBlocks(net, loadDevice(name.replace('-int8', ''))).find((i) => i.kind === 'vit_block')!;
    t.false(decodeModel(fp.build()).graph.nodes.some((n) => n.opType === 'DequantizeLinear'));
  }
});
