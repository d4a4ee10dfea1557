// Which ONNX opsets the exporter writes, and the IR version each one needs.
//
// 13 is the floor: from opset 13 on, Softmax works on one axis (before, it flattened everything from the
// axis on) and every operator we emit has its current semantics. 22 is the ceiling because the vendored
// onnx.proto is IR 10, the IR of ONNX 1.16-1.17 (opsets 21-22). onnxruntime-node 1.30 and onnxruntime-web
// 1.30 load and run all of 13-22 (checked by the tests on both ends of the range).

export const MIN_OPSET = 13;
export const MAX_OPSET = 22;
export const DEFAULT_OPSET = 17;

/** The IR version released together with each opset (ONNX docs/Versioning.md). */
const IR_FOR_OPSET: Record<number, number> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10 };

/** Throws RangeError unless `opset` is an integer in [MIN_OPSET, MAX_OPSET]. */
export function checkOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new RangeError(`Unsupported opset ${opset}. Expected one of: ${MIN_OPSET}-${MAX_OPSET} (default ${DEFAULT_OPSET}).`);
  }
}

export function irVersionFor(opset: number): number {
  checkOpset(opset);
  return IR_FOR_OPSET[opset];
}
