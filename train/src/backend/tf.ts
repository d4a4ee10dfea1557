// The one place train imports TensorFlow.js from (with ./index.ts and the wasm kernels beside it).
// Everything else in train takes `tf` and `tfl` from here, so the backend choice is made in one module.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';

export { tf, tfl };
export type { Tensor, Tensor1D, Tensor2D, Tensor4D, Scalar, Rank, NamedTensorMap, io, Optimizer, Variable } from '@tensorflow/tfjs-core';
export type { LayersModel, Sequential, SymbolicTensor } from '@tensorflow/tfjs-layers';
export type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
