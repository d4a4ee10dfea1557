// tfjs graph models (tfjs-converter format): loading, translation to ONNX and the tfjs reference.
export { exportGraphModel } from './export-graph-model.js';
export type { ExportGraphModelOptions } from './export-graph-model.js';
export { graphHead } from './graph-head.js';
export type { GraphHead, GraphOutputs } from './graph-head.js';
export { graphModelReference } from './graph-reference.js';
export { SUPPORTED_GRAPH_OPS, FOLDED_ONLY_OPS } from './op-table.js';
export { loadGraphModel, graphDefOf, type GraphModel } from './tfjs-converter.js';
