// onnx-proto is CommonJS: take its namespace once, here, for the ES-module code.
import pkg from 'onnx-proto';
export const onnx = pkg.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';
