// Flattening an NCHW image as it is: ONNX Flatten, elements in C,H,W order (see Tensor.chw). A MatMul that
// reads it permutes its weight rows to match, so Conv -> Flatten -> Dense needs no Transpose back to NHWC.
import { attr } from '../../onnx/graph-builder.js';
import type { OpContext, Tensor } from '../context.js';

export function flattenChw(ctx: OpContext, image: Tensor): Tensor {
  const [, h, w, c] = image.shape;
  const name = ctx.graph.node('Flatten', [ctx.graph.nchw(image).name], ctx.base('/flatten'), { axis: attr.int(1) });
  return { kind: 'tensor', name, shape: [image.shape[0], h * w * c], perm: [0, 1], chw: image };
}
