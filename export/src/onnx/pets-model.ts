// The part every pets ONNX file shares, whichever translator built its graph: the image input, the
// probabilities and logits outputs, the contract and provenance metadata, the doc string, and the counts
// ExportedModel reports.
import { ONNX_METADATA_KEYS, ONNX_NAMES, serializeContract, type ModelContract } from '@pets/runtime/contract';
import { EXPORTER } from '../version.js';
import type { GraphBuilder } from './graph-builder.js';
import { encodeModel } from './schema.js';
import { batchedFloat, toModelProto } from './serialize.js';

/** What exportModel() and exportGraphModel() return. */
export interface ExportedModel {
  /** The serialized ModelProto. */
  bytes: Uint8Array;
  /** How many nodes of each op type the graph has. */
  opCounts: Record<string, number>;
  /** BatchNormalization layers folded into a Conv. */
  foldedBatchNorms: number;
  /** Weights written (elements of float initializers). */
  parameters: number;
}

export interface PetsModelArgs {
  /** The finished graph: its nodes end in the ONNX_NAMES outputs. */
  builder: GraphBuilder;
  graphName: string;
  contract: ModelContract;
  opset: number;
  fp16: boolean;
  /** What the model was translated from, for the doc string, e.g. "exported" or "translated from a TensorFlow.js graph model". */
  origin: string;
  provenance?: Record<string, unknown>;
  foldedBatchNorms: number;
}

function docString(contract: ModelContract, origin: string): string {
  const { height, width } = contract.imageSize;
  return [
    `Image classifier over ${contract.labels.length} classes, ${origin} by ${EXPORTER.name} ${EXPORTER.version}.`,
    `Input "${ONNX_NAMES.input}": float32 [N, ${height}, ${width}, 3], NHWC, RGB, x = (p * scale - mean) / std for 8-bit p.`,
    `Outputs "${ONNX_NAMES.probabilities}" (softmax) and "${ONNX_NAMES.logits}" (before the softmax): float32 [N, ${contract.labels.length}].`,
    `Labels, preprocessing (size, crop, normalization, resize) and provenance: metadata_props "${ONNX_METADATA_KEYS.contract}" and "${ONNX_METADATA_KEYS.provenance}" (JSON).`,
  ].join('\n');
}

/** Serializes a finished pets graph with its input, outputs and metadata. */
export function petsModelBytes(args: PetsModelArgs): ExportedModel {
  const { builder: b, contract } = args;
  const { height, width } = contract.imageSize;
  const classes = contract.labels.length;
  const metadata: Record<string, string> = { [ONNX_METADATA_KEYS.contract]: serializeContract(contract) };
  if (args.provenance) metadata[ONNX_METADATA_KEYS.provenance] = JSON.stringify(args.provenance);
  const proto = toModelProto({
    builder: b,
    graphName: args.graphName,
    inputs: [batchedFloat(ONNX_NAMES.input, [height, width, 3], 'NHWC RGB image batch, normalized as the contract says')],
    outputs: [
      batchedFloat(ONNX_NAMES.probabilities, [classes], 'class probabilities (softmax over the logits), in contract label order'),
      batchedFloat(ONNX_NAMES.logits, [classes], 'pre-softmax logits'),
    ],
    opset: args.opset,
    fp16: args.fp16,
    producer: EXPORTER,
    docString: docString(contract, args.origin),
    metadata,
  });
  const opCounts: Record<string, number> = {};
  for (const node of b.nodes) opCounts[node.op_type] = (opCounts[node.op_type] ?? 0) + 1;
  const parameters = b.initializers.reduce((n, i) => n + (i.data instanceof Float32Array ? i.data.length : 0), 0);
  return { bytes: encodeModel(proto), opCounts, foldedBatchNorms: args.foldedBatchNorms, parameters };
}
