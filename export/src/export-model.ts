// exportModel(): a tfjs Layers model (Sequential or functional) and its input contract -> ONNX bytes.
// Walks the layers in topological order (nested models flattened, onnx/model-graph.ts), converts each
// (onnx/layers/), folds BatchNormalization into the Conv before it, and ends with the graph outputs every
// pets model has: probabilities and logits (a model that outputs logits gets the softmax here).
import { checkOutputWidth, ModelContractError, ONNX_NAMES, type ModelContract } from '@pets/runtime/contract';
import type { Layer, LayersModel } from '@pets/train/tfjs';
import { checkLayerGraph } from './check-exportable.js';
import { ExportError } from './errors.js';
import { GraphBuilder, attr, type Value } from './onnx/graph-builder.js';
import { batchNormParams, convertLayer, normalizesChannels, type LayerContext, type LayerWeight } from './onnx/layers/index.js';
import { layerGraph, type LayerCall, type LayerGraph } from './onnx/model-graph.js';
import { findHead, type OutputsMode } from './onnx/model-head.js';
import { checkOpset, DEFAULT_OPSET } from './onnx/opset.js';
import { petsModelBytes, type ExportedModel } from './onnx/pets-model.js';
import { DataType } from './onnx/types.js';

export type { ExportedModel } from './onnx/pets-model.js';

/** Options of exportModel(). */
export interface ExportModelOptions {
  /** ONNX opset, MIN_OPSET..MAX_OPSET. Default DEFAULT_OPSET (17). */
  opset?: number;
  /** Weights and compute in float16; the input and outputs stay float32 (Cast nodes). Default false. */
  fp16?: boolean;
  /** Fold each BatchNormalization into the Conv2D or DepthwiseConv2D before it. Default true. */
  foldBatchNorm?: boolean;
  /** JSON-able provenance stored under ONNX_METADATA_KEYS.provenance. Default none. */
  provenance?: Record<string, unknown>;
  /**
   * What the model outputs: 'probabilities' (a softmax head, required), 'logits' (the export adds the
   * softmax) or 'auto' (a softmax head if found, else the output of a linear last layer as logits). Default 'auto'.
   */
  outputs?: OutputsMode;
}


function layerWeights(layer: Layer): Map<string, LayerWeight> {
  // getWeights() hands out the layer's own variables: read them, never dispose them.
  const tensors = layer.getWeights();
  return new Map(
    layer.weights.map((w, i) => [w.originalName.split('/').pop() as string, { data: tensors[i].dataSync() as Float32Array, shape: tensors[i].shape }]),
  );
}

/** Layers whose output is one ONNX Conv's, per output channel: a BatchNormalization after them folds in. */
const FOLDS_BATCH_NORM = new Set(['Conv2D', 'DepthwiseConv2D']);

/**
 * Convolution calls without a fused activation whose output feeds only a BatchNormalization over the
 * channels, which is then folded in (per call: each call of a shared Conv gets its own weights).
 */
function planBatchNormFolds(graph: LayerGraph): Map<LayerCall, LayerCall> {
  const consumers = new Map<number, number>();
  for (const call of graph.calls) for (const id of call.inputs) consumers.set(id, (consumers.get(id) ?? 0) + 1);
  const producers = new Map(graph.calls.map((call) => [call.output, call]));
  const folds = new Map<LayerCall, LayerCall>();
  for (const bn of graph.calls) {
    if (bn.layer.getClassName() !== 'BatchNormalization' || !normalizesChannels({ config: bn.layer.getConfig() }, 4)) continue;
    const conv = producers.get(bn.inputs[0]);
    if (!conv || !FOLDS_BATCH_NORM.has(conv.layer.getClassName())) continue;
    if (conv.layer.getConfig().activation === 'linear' && consumers.get(conv.output) === 1 && conv.output !== graph.output) folds.set(conv, bn);
  }
  return folds;
}

function checkInput(model: LayersModel, contract: ModelContract): void {
  if (model.inputs.length !== 1) throw new ExportError(`The model has ${model.inputs.length} inputs; a pets model has one image input.`);
  const [, h, w, c] = model.inputs[0].shape;
  const { height, width } = contract.imageSize;
  if (model.inputs[0].shape.length !== 4 || h !== height || w !== width || c !== 3) {
    throw new ModelContractError(`The model's input shape ${JSON.stringify(model.inputs[0].shape)} does not match its contract's [null, ${height}, ${width}, 3].`);
  }
}

export function exportModel(model: LayersModel, contract: ModelContract, options: ExportModelOptions = {}): ExportedModel {
  const opset = options.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const fp16 = options.fp16 ?? false;
  const graph = layerGraph(model);
  // Unsupported layers first: that is the most useful thing to hear about an unexportable model.
  checkLayerGraph(graph);
  checkInput(model, contract);
  const head = findHead(model, graph, options.outputs ?? 'auto');
  const outputShape = model.outputs[0].shape;
  if (outputShape.length !== 2) {
    throw new ExportError(`The model's output has shape ${JSON.stringify(outputShape)}; a classifier's is [batch, classes].`);
  }
  checkOutputWidth(contract, outputShape[1] as number);
  const folds = options.foldBatchNorm ?? true ? planBatchNormFolds(graph) : new Map<LayerCall, LayerCall>();
  const folded = new Set(folds.values());

  const b = new GraphBuilder(Object.values(ONNX_NAMES), opset);
  const { height, width } = contract.imageSize;
  let input: Value = { name: ONNX_NAMES.input, layout: 'nhwc', shape: [height, width, 3], elemType: DataType.FLOAT };
  if (fp16) input = b.cast(input, DataType.FLOAT16);
  const values = new Map<number, Value>([[graph.inputs[0], input]]);
  const weights = new Map<Layer, Map<string, LayerWeight>>();
  const context = (layer: Layer, inputs: Value[]): LayerContext => {
    if (!weights.has(layer)) weights.set(layer, layerWeights(layer));
    return { builder: b, layer, className: layer.getClassName(), config: layer.getConfig(), inputs, weights: weights.get(layer) as Map<string, LayerWeight> };
  };
  for (const call of graph.calls) {
    const { layer } = call;
    if (call === head.call && head.kind === 'layer') continue;
    const inputs = call.inputs.map((id) => {
      const value = values.get(id);
      if (!value) throw new Error(`Internal error: the input of layer ${layer.name} was not converted`);
      return value;
    });
    if (folded.has(call)) {
      values.set(call.output, inputs[0]); // already applied by the Conv before it
      continue;
    }
    const ctx = context(layer, inputs);
    const bn = folds.get(call);
    if (bn) ctx.foldBatchNorm = batchNormParams(context(bn.layer, [inputs[0]]));
    if (call === head.call && head.kind === 'fused') ctx.activation = 'linear';
    values.set(call.output, convertLayer(ctx));
  }

  const logits = b.tfjsOrder(values.get(head.kind === 'layer' ? head.call.inputs[0] : head.call.output) as Value);
  if (logits.layout !== 'flat') throw new ExportError(`The logits at "${head.layer.name}" are not [N, classes]; pets-export needs a 2-D softmax head.`);
  // The final softmax runs in float32 even in fp16 models: probabilities keep their precision.
  if (fp16) b.cast(logits, DataType.FLOAT, ONNX_NAMES.logits);
  else b.rename(logits.name, ONNX_NAMES.logits);
  b.node('Softmax', [ONNX_NAMES.logits], ONNX_NAMES.probabilities, { axis: attr.int(1) }, true);
  b.prune([ONNX_NAMES.probabilities, ONNX_NAMES.logits]);

  return petsModelBytes({ builder: b, graphName: model.name, contract, opset, fp16, origin: 'exported', provenance: options.provenance, foldedBatchNorms: folded.size });
}
