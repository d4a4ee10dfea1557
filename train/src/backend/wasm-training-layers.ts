// Training-mode forms of two tfjs-layers layers for the wasm backend, installed on the layer classes
// (so models built, loaded from checkpoints and backbones all get them), each falling back to the
// layer's own call() on other backends, at inference and in configurations it does not cover:
// - BatchNormalization: the batch statistics and the normalization as one op with one gradient kernel
//   (wasm-batch-norm-grad.ts) instead of the chain of element-wise ops tfjs differentiates one by one.
//   The forward values and the moving-statistics updates are the layer's own ops, so they are unchanged.
// - Conv2D fed by the model's input: an unfused convolution plus bias. tfjs' fused convolution computes
//   its input's gradient even when nothing needs it (the image), a full Conv2DBackpropInput of the stem;
//   the unfused op's gradient is lazy, and the tape asks only for what leads to a trained weight.
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf, tfl } from './tf.js';
import { BATCH_NORM_GRAD } from './wasm-batch-norm-grad.js';

type Kwargs = { training?: boolean } & Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the layer classes' own `this`
type Call = (this: any, inputs: Tensor | Tensor[], kwargs: Kwargs) => Tensor | Tensor[];
interface WeightVariable {
  read(): Tensor;
  write(value: Tensor): void;
}
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: WeightVariable;
  beta?: WeightVariable;
  movingMean: WeightVariable;
  movingVariance: WeightVariable;
}
interface ConvLayer {
  rank: number;
  kernel: WeightVariable;
  bias?: WeightVariable | null;
  strides: [number, number];
  padding: string;
  dataFormat: string;
  dilationRate: [number, number];
  activation: { getClassName(): string };
  inboundNodes: { inboundLayers: { getClassName(): string }[] }[];
}

const oneTensor = (inputs: Tensor | Tensor[]): Tensor => (Array.isArray(inputs) ? inputs[0] : inputs);

function batchNormTraining(layer: BatchNormLayer, input: Tensor): Tensor {
  const { gamma, beta, epsilon } = layer;
  if (!gamma || !beta) throw new TypeError('batchNormTraining needs gamma and beta.');
  const axes = input.shape.slice(0, -1).map((_, i) => i);
  let stats: { mean: Tensor; variance: Tensor } | undefined;
  const normalize = tf.customGrad((...args: (Tensor | ((saved: Tensor[]) => void))[]) => {
    const [x, g, b, save] = args as [Tensor, Tensor, Tensor, (saved: Tensor[]) => void];
    stats = tf.moments(x, axes);
    const value = tf.batchNorm(x, stats.mean, stats.variance, b, g, epsilon);
    save([x, stats.mean, stats.variance, g]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => {
      const [sx, mean, variance, sg] = saved;
      return tf.engine().runKernel(BATCH_NORM_GRAD, { x: sx, dy, mean, variance, gamma: sg }, { epsilon }) as Tensor[];
    };
    return { value, gradFunc };
  });
  const y = normalize(input, gamma.read(), beta.read());
  if (!stats) throw new Error('batchNormTraining: the forward pass did not run.');
  // The layer's own moving-average update (tfjs-layers' BatchNormalization.call), op for op.
  for (const [variable, value] of [[layer.movingMean, stats.mean], [layer.movingVariance, stats.variance]] as const) {
    tf.tidy(() => {
      const current = variable.read();
      variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - layer.momentum)));
    });
  }
  return y;
}

function convFromInput(layer: ConvLayer, input: Tensor): Tensor {
  const pad = layer.padding === 'same' ? 'same' : 'valid';
  const y = tf.conv2d(input as tf.Tensor4D, layer.kernel.read() as tf.Tensor4D, layer.strides, pad, 'NHWC', layer.dilationRate);
  return layer.bias ? tf.add(y, layer.bias.read()) : y;
}

/** Which of the two forms act (both by default); train/scripts/bench-train.ts turns them off to measure each. */
export const wasmTrainingLayers = { batchNorm: true, inputConv: true };

let installed = false;

/** Installs both training forms (idempotent); they act only while the wasm backend runs. */
export function installWasmTrainingLayers(): void {
  if (installed) return;
  installed = true;
  // The classes are not exported by tfjs-layers; a named instance (no name counter used) leads to each.
  const batchNormClass = Object.getPrototypeOf(tfl.layers.batchNormalization({ name: 'pets_class_probe' })) as { call: Call };
  const convClass = Object.getPrototypeOf(tfl.layers.conv2d({ name: 'pets_class_probe', filters: 1, kernelSize: 1 })) as { call: Call };
  const batchNormCall = batchNormClass.call;
  const convCall = convClass.call;

  batchNormClass.call = function (this: BatchNormLayer, inputs, kwargs) {
    const input = oneTensor(inputs);
    const lastAxis = this.axis === -1 || this.axis === input.rank - 1;
    if (!wasmTrainingLayers.batchNorm || !kwargs?.training || tf.getBackend() !== 'wasm' || !lastAxis || !this.gamma || !this.beta || input.dtype !== 'float32') {
      return batchNormCall.call(this, inputs, kwargs);
    }
    return tf.tidy(() => batchNormTraining(this, input));
  };
  convClass.call = function (this: ConvLayer, inputs, kwargs) {
    const fedByInput = this.inboundNodes.length > 0 && this.inboundNodes.every((n) => n.inboundLayers.every((l) => l.getClassName() === 'InputLayer'));
    if (!wasmTrainingLayers.inputConv || !kwargs?.training || tf.getBackend() !== 'wasm' || !fedByInput || this.rank !== 2 || this.dataFormat !== 'channelsLast' || this.activation.getClassName() !== 'linear') {
      return convCall.call(this, inputs, kwargs);
    }
    return tf.tidy(() => convFromInput(this, oneTensor(inputs)));
  };
}
