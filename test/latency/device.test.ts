import test from 'ava';
import { SncError } from '../../src/errors.js';
import { checkAvailable, openSession } from '../../src/latency/runtime.js';
import { listDevices, loadDevice, checkDevice, type Device } from '../../src/latency/device.js';
import { buildOverheadProbe } from '../../src/latency/probe.js';

test('the shipped devices load', (t) => {
  const names = listDevices();
  for (const n of ['ort-cpu-1t', 'ort-cpu-2t', 'ort-wasm-1t', 'ort-cuda', 'ort-webgpu']) t.true(names.includes(n), n);
  for (const n of names) t.is(loadDevice(n).name, n);
  t.is(loadDevice('ort-cpu-2t').threads, 2);
  t.is(loadDevice('ort-wasm-1t').runtime, 'onnxruntime-web');
});

test('an unknown device lists the valid ones', (t) => {
  const e = t.throws(() => loadDevice('tpu-9000'), { instanceOf: SncError });
  t.regex(e!.message, /'tpu-9000' is not a known device; valid devices are .*ort-cpu-1t.*ort-wasm-1t/);
});

test('a bad descriptor names the field and the valid values', (t) => {
  const d = { ...loadDevice('ort-cpu-1t'), executionProvider: 'wasm' } as Device;
  t.regex(t.throws(() => checkDevice(d, 'x.json'))!.message, /^x\.json: executionProvider "wasm" is not one of onnxruntime-node's: cpu, cuda or webgpu/);
  t.regex(t.throws(() => checkDevice({ ...d, executionProvider: 'cpu', threads: 0 }, 'x.json'))!.message, /threads 0 is not a positive integer/);
});

test('CPU and WebAssembly devices run a model', async (t) => {
  for (const name of ['ort-cpu-1t', 'ort-wasm-1t']) {
    const device = loadDevice(name);
    await checkAvailable(device);
    const s = await openSession(device, buildOverheadProbe(16), [{ name: 'image', dims: [1, 3, 16, 16], dtype: 'float32' }]);
    await s.run();
    await s.release();
    t.pass();
  }
});

test('GPU devices fail with a message naming the missing provider when there is none', async (t) => {
  const device = loadDevice('ort-cuda');
  try {
    await checkAvailable(device);
    t.log('CUDA is available on this machine');
    t.pass();
  } catch (e) {
    t.true(e instanceof SncError);
    t.regex((e as Error).message, /device ort-cuda: .*'cuda'/);
  }
  const webgpu = loadDevice('ort-webgpu');
  try {
    await checkAvailable(webgpu);
    const s = await openSession(webgpu, buildOverheadProbe(16), [{ name: 'image', dims: [1, 3, 16, 16], dtype: 'float32' }]);
    await s.release();
    t.log('WebGPU is available on this machine');
  } catch (e) {
    t.true(e instanceof SncError, `not an SncError: ${(e as Error).message}`);
    t.regex((e as Error).message, /device ort-webgpu: .*'webgpu'/);
  }
});
