// The one place train imports TensorFlow.js from (with ./index.ts and the wasm kernels beside it).
// Everything else in train takes `tf` and `tfl` from here, so the backend choice is made in one module.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

// The cpu backend's first use prints advice to install tfjs-node; the backend chooser already reports
// which backend runs and why the others do not.
tf.removeBackend('cpu');
tf.registerBackend('cpu', () => Object.assign(new MathBackendCPU(), { firstUse: false }), 1);

export { tf, tfl };
export type { Tensor, Tensor1D, Tensor2D, Tensor4D, Scalar, Rank, NamedTensorMap, io, Optimizer, Variable } from '@tensorflow/tfjs-core';
export type { LayersModel, Sequential, SymbolicTensor } from '@tensorflow/tfjs-layers';
export type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
