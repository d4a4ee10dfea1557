// Training kernels the tfjs 4.22 wasm backend lacks (Conv2DBackpropFilter, and DepthwiseConv2dNative's
// gradients DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput) or runs slowly
// (Conv2DBackpropInput, MaxPoolGrad, Tile, Sum and Mean over leading axes, copying Identity and Cast),
// built on its own XNNPACK kernels and on passes over the wasm heap, plus BatchNormalization's whole
// training gradient as one kernel (wasm-batch-norm-grad.ts, used by wasm-training-layers.ts). Checked
// against the cpu backend in train/test/wasm-kernels.test.ts and train/test/wasm-depthwise.test.ts; timed by
// train/scripts/bench-wasm-kernels.ts.
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';
import { batchNormGradConfig } from './wasm-batch-norm-grad.js';
import { conv2DBackpropFilterConfig } from './wasm-conv-backprop-filter.js';
import { makeConv2DBackpropInputConfig } from './wasm-conv-backprop-input.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './wasm-depthwise-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './wasm-depthwise-backprop-input.js';
import { makeMaxPoolGradConfig } from './wasm-max-pool-grad.js';
import { makeMeanConfig, makeSumConfig } from './wasm-reduce.js';
import { makeCastConfig, makeIdentityConfig } from './wasm-share.js';
import { makeTileConfig } from './wasm-tile.js';
import { installWasmTrainingLayers } from './wasm-training-layers.js';

let registered: KernelConfig[] | undefined;

/**
 * Registers the kernels above for the 'wasm' backend, replacing the built-ins of the same name (kept as
 * fallbacks for the cases ours do not cover). Call it after importing '@tensorflow/tfjs-backend-wasm',
 * whose import registers the built-ins, and before the backend starts; calling it again is a no-op.
 */
export function registerWasmTrainingKernels(): void {
  registered ??= [
    conv2DBackpropFilterConfig,
    makeConv2DBackpropInputConfig(tf.getKernel('Conv2DBackpropInput', 'wasm')),
    depthwiseConv2dNativeBackpropFilterConfig,
    depthwiseConv2dNativeBackpropInputConfig,
    makeTileConfig(tf.getKernel('Tile', 'wasm')),
    makeSumConfig(tf.getKernel('Sum', 'wasm')),
    makeMeanConfig(tf.getKernel('Mean', 'wasm')),
    makeMaxPoolGradConfig(tf.getKernel('MaxPoolGrad', 'wasm')),
    makeIdentityConfig(tf.getKernel('Identity', 'wasm')),
    makeCastConfig(tf.getKernel('Cast', 'wasm')),
    batchNormGradConfig,
  ];
  // BatchNormalization's fused gradient and the stem's skipped input gradient act at the layer level.
  installWasmTrainingLayers();
  for (const config of registered) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current === config) continue;
    if (current !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
