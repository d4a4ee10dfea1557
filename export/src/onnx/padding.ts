// TensorFlow's padding rules as explicit ONNX pads. With 'same', TF pads so that out = ceil(in / stride)
// and puts the odd pixel at the bottom/right; ONNX's auto_pad SAME_UPPER means the same, but explicit pads
// leave nothing to a runtime's interpretation (and work for pooling the same way).

export type PaddingMode = 'same' | 'valid';

export interface Window {
  /** Input height and width. */
  input: [number, number];
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

/** ONNX `pads` ([top, left, bottom, right]) reproducing TensorFlow's padding. */
export function tfPads(mode: PaddingMode, window: Window): number[] {
  if (mode === 'valid') return [0, 0, 0, 0];
  const before: number[] = [];
  const after: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const size = window.input[axis];
    const stride = window.strides[axis];
    const extent = (window.kernel[axis] - 1) * window.dilations[axis] + 1;
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + extent - size, 0);
    before.push(Math.floor(total / 2));
    after.push(total - Math.floor(total / 2));
  }
  return [...before, ...after];
}

/** Output side of a window with TF's rules, to check the ONNX result against tfjs' own shapes. */
export function tfOutputSize(mode: PaddingMode, size: number, kernel: number, stride: number, dilation: number): number {
  const extent = (kernel - 1) * dilation + 1;
  return mode === 'same' ? Math.ceil(size / stride) : Math.ceil((size - extent + 1) / stride);
}
