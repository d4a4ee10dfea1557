// The geometry both depthwise-convolution gradient kernels for wasm work from, with the checks they share:
// NHWC float32 tensors, dilation 1 (tfjs' gradient of DepthwiseConv2dNative refuses others too).
import type { DepthwiseConv2dNativeBackpropFilterAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';

type Shape4 = [number, number, number, number];

/** The attributes both gradient kernels take, less the shape that differs (filterShape or inputShape). */
export type DepthwiseGradAttrs = Omit<DepthwiseConv2dNativeBackpropFilterAttrs, 'filterShape'>;

/**
 * computeConv2DInfo for x [B,H,W,C] and filter [KH,KW,C,M] (dy is [B,OH,OW,C*M]), after checking what the
 * kernels support and that dy has the output's shape.
 */
export function depthwiseGradInfo(
  kernelName: string,
  xShape: Shape4,
  filterShape: Shape4,
  dy: TensorInfo,
  attrs: DepthwiseGradAttrs,
): tf.backend_util.Conv2DInfo {
  const dilations = attrs.dilations ?? 1;
  if (!tf.backend_util.tupleValuesAreOne(dilations)) {
    throw new RangeError(`${kernelName} on wasm: unsupported dilations ${JSON.stringify(dilations)}. Expected 1 (or [1, 1]).`);
  }
  if (dy.dtype !== 'float32') throw new TypeError(`${kernelName} on wasm: dy must be float32, got ${dy.dtype}.`);
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, true);
  const expected = info.outShape;
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new RangeError(`${kernelName}: dy has shape [${dy.shape.join(',')}], expected [${expected.join(',')}].`);
  }
  return info;
}
