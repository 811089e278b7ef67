import ort from 'onnxruntime-node';

/** Runs ONNX bytes on onnxruntime-node's CPU provider with one thread. */
export async function runOnnx(bytes: Uint8Array, feeds: Record<string, { dims: number[]; data: Float32Array }>): Promise<Record<string, { dims: readonly number[]; data: Float32Array }>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', v.data, v.dims);
    const out = await session.run(inputs);
    const res: Record<string, { dims: readonly number[]; data: Float32Array }> = {};
    for (const [k, v] of Object.entries(out)) res[k] = { dims: v.dims, data: v.data as Float32Array };
    return res;
  } finally {
    await session.release();
  }
}

/** A deterministic pseudo-image. */
export function testImage(res: number, seed = 1): Float32Array {
  const x = new Float32Array(3 * res * res);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37 + seed) * 1.5;
  return x;
}
