// The exporter's tests check every file they write with the ONNX checker rules of src/onnx/checker.ts.
export { checkModel, opCounts } from '../src/onnx/checker.js';
