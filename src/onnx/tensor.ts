/** Element types snc reads and writes, named as onnxruntime-common names them. */
export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool' | 'float64';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array;

/** A dense, row-major tensor held in memory. */
export interface Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TypedArray;
}

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export function dtypeFromOnnx(code: number): DType {
  for (const [name, c] of Object.entries(ONNX_DTYPE)) if (c === code) return name as DType;
  throw new Error(`unsupported ONNX tensor data type ${code}`);
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Allocates a zeroed array of the dtype's element type. */
export function allocate(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'float16':
      return new Uint16Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
  }
}

function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length); // Buffer#slice would be a view, not a copy
  out.set(b);
  return out;
}

/** Views raw little-endian bytes as the dtype's array (copying only when unaligned). */
export function fromBytes(dtype: DType, bytes: Uint8Array): TypedArray {
  const size = DTYPE_BYTES[dtype];
  const aligned = bytes.byteOffset % size === 0 ? bytes : copyBytes(bytes);
  const { buffer, byteOffset, byteLength } = aligned;
  const n = byteLength / size;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
    case 'float64':
      return new Float64Array(buffer, byteOffset, n);
    case 'float16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'int8':
      return new Int8Array(buffer, byteOffset, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, n);
  }
}

export function toBytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

export function tensor(dtype: DType, dims: readonly number[], data?: TypedArray | readonly number[]): Tensor {
  const n = numel(dims);
  let arr: TypedArray;
  if (data === undefined) arr = allocate(dtype, n);
  else if (Array.isArray(data)) {
    arr = allocate(dtype, n);
    if (arr instanceof BigInt64Array) (data as number[]).forEach((v, i) => ((arr as BigInt64Array)[i] = BigInt(v)));
    else (arr as Float32Array).set(data as number[]);
  } else arr = data as TypedArray;
  if (arr.length !== n) throw new Error(`tensor data has ${arr.length} elements, dims [${dims.join(', ')}] need ${n}`);
  return { dtype, dims: [...dims], data: arr };
}

export const f32 = (dims: readonly number[], data?: Float32Array | readonly number[]): Tensor =>
  tensor('float32', dims, data);
export const i64 = (dims: readonly number[], data: readonly number[]): Tensor => tensor('int64', dims, data);
