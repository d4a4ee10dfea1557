// Public API of @pets/export: the functions behind pets-export, and the ONNX schema to read models back.
export { exportModel } from './export-model.js';
export type { ExportModelOptions, ExportedModel } from './export-model.js';
export { exportRun, DEFAULT_VERIFY_IMAGES } from './export-run.js';
export type { ExportRunOptions, ExportRunResult, ExportEvent } from './export-run.js';
export { exportRuns } from './export-runs.js';
export type { ExportRunsOptions, ExportRunsResult } from './export-runs.js';
export { formatSummary } from './summary-table.js';
export { verifyExport, describeVerification, TOLERANCE } from './verify/verify.js';
export type { VerificationReport, VerifyArgs } from './verify/verify.js';
export { randomInputs, verificationInputs } from './verify/inputs.js';
export type { VerificationInputs, InputOptions } from './verify/inputs.js';
export { compareOutputs } from './verify/compare.js';
export type { ParityMetrics } from './verify/compare.js';
export { tfjsReference } from './verify/tfjs-reference.js';
export { checkExportable } from './check-exportable.js';
export { UnsupportedLayerError, ExportError, VerificationError } from './errors.js';
export { SUPPORTED_ACTIVATIONS, SUPPORTED_LAYER_CLASSES } from './onnx/layers/index.js';
/** @deprecated The same list as SUPPORTED_LAYER_CLASSES, under its former name. */
export { SUPPORTED_LAYER_CLASSES as SUPPORTED_LAYERS } from './onnx/layers/index.js';
export { MIN_OPSET, MAX_OPSET, DEFAULT_OPSET } from './onnx/opset.js';
export { OUTPUTS_MODES } from './onnx/model-head.js';
export type { OutputsMode } from './onnx/model-head.js';
export { decodeModel, encodeModel } from './onnx/schema.js';
export { DataType } from './onnx/types.js';
export type { ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto } from './onnx/types.js';
export { toFloat16Bits, fromFloat16Bits } from './onnx/fp16.js';
export { EXPORTER } from './version.js';
