// exportModel(): a tfjs Layers model (Sequential or functional) and its input contract -> ONNX bytes.
// Walks the layers in topological order, converts each (onnx/layers/), folds BatchNormalization into the
// Conv before it, and ends with the graph outputs every pets model has: probabilities and logits.
import { checkOutputWidth, ModelContractError, ONNX_METADATA_KEYS, ONNX_NAMES, serializeContract, type ModelContract } from '@pets/runtime/contract';
import type { Layer, LayersModel, SymbolicTensor } from '@pets/train/tfjs';
import { ExportError, UnsupportedLayerError } from './errors.js';
import { GraphBuilder, attr, type Value } from './onnx/graph-builder.js';
import { batchNormParams, checkSupported, convertLayer, type LayerContext, type LayerWeight } from './onnx/layers/index.js';
import { findSoftmaxHead } from './onnx/model-head.js';
import { checkOpset, DEFAULT_OPSET } from './onnx/opset.js';
import { encodeModel } from './onnx/schema.js';
import { batchedFloat, toModelProto } from './onnx/serialize.js';
import { DataType } from './onnx/types.js';
import { EXPORTER } from './version.js';

/** Options of exportModel(). */
export interface ExportModelOptions {
  /** ONNX opset, MIN_OPSET..MAX_OPSET. Default DEFAULT_OPSET (17). */
  opset?: number;
  /** Weights and compute in float16; the input and outputs stay float32 (Cast nodes). Default false. */
  fp16?: boolean;
  /** Fold each BatchNormalization into the Conv before it. Default true. */
  foldBatchNorm?: boolean;
  /** JSON-able provenance stored under ONNX_METADATA_KEYS.provenance. Default none. */
  provenance?: Record<string, unknown>;
}

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

/** The symbolic inputs of a layer called exactly once (shared layers are not supported). */
function inputsOf(layer: Layer): SymbolicTensor[] {
  if (layer.inboundNodes.length !== 1) {
    throw new UnsupportedLayerError(layer.getClassName(), layer.name, `it is called ${layer.inboundNodes.length} times (shared layers are not supported)`);
  }
  const input = layer.input as SymbolicTensor | SymbolicTensor[];
  return Array.isArray(input) ? input : [input];
}

function outputOf(layer: Layer): SymbolicTensor {
  return layer.output as SymbolicTensor;
}

function layerWeights(layer: Layer): Map<string, LayerWeight> {
  // getWeights() hands out the layer's own variables: read them, never dispose them.
  const tensors = layer.getWeights();
  return new Map(
    layer.weights.map((w, i) => [w.originalName.split('/').pop() as string, { data: tensors[i].dataSync() as Float32Array, shape: tensors[i].shape }]),
  );
}

/** Conv2D layers (by name) whose output feeds only a BatchNormalization, which is then folded in. */
function planBatchNormFolds(model: LayersModel): Map<string, Layer> {
  const consumers = new Map<number, number>();
  for (const layer of model.layers) for (const t of inputsOf(layer)) consumers.set(t.id, (consumers.get(t.id) ?? 0) + 1);
  const folds = new Map<string, Layer>();
  for (const bn of model.layers) {
    if (bn.getClassName() !== 'BatchNormalization') continue;
    const conv = inputsOf(bn)[0].sourceLayer as Layer;
    const out = outputOf(conv);
    if (conv.getClassName() === 'Conv2D' && conv.getConfig().activation === 'linear' && consumers.get(out.id) === 1 && out.id !== model.outputs[0].id) {
      folds.set(conv.name, bn);
    }
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

function docString(contract: ModelContract): string {
  const { height, width } = contract.imageSize;
  return [
    `Oxford-IIIT Pet style classifier over ${contract.labels.length} classes, exported by ${EXPORTER.name} ${EXPORTER.version}.`,
    `Input "${ONNX_NAMES.input}": float32 [N, ${height}, ${width}, 3], NHWC, RGB, x = (p * scale - mean) / std for 8-bit p.`,
    `Outputs "${ONNX_NAMES.probabilities}" (softmax) and "${ONNX_NAMES.logits}" (before the softmax): float32 [N, ${contract.labels.length}].`,
    `Labels, preprocessing (size, normalization, resize) and provenance: metadata_props "${ONNX_METADATA_KEYS.contract}" and "${ONNX_METADATA_KEYS.provenance}" (JSON).`,
  ].join('\n');
}

export function exportModel(model: LayersModel, contract: ModelContract, options: ExportModelOptions = {}): ExportedModel {
  const opset = options.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const fp16 = options.fp16 ?? false;
  // Unsupported layers first: that is the most useful thing to hear about an unexportable model.
  for (const layer of model.layers) if (layer.getClassName() !== 'InputLayer') checkSupported(layer.getClassName(), layer.name);
  checkInput(model, contract);
  const head = findSoftmaxHead(model);
  checkOutputWidth(contract, outputOf(head.layer).shape[1] as number);
  const folds = options.foldBatchNorm ?? true ? planBatchNormFolds(model) : new Map<string, Layer>();
  const folded = new Set([...folds.values()].map((bn) => bn.name));

  const b = new GraphBuilder(Object.values(ONNX_NAMES));
  const { height, width } = contract.imageSize;
  let input: Value = { name: ONNX_NAMES.input, layout: 'nhwc', shape: [height, width, 3], elemType: DataType.FLOAT };
  if (fp16) input = b.cast(input, DataType.FLOAT16);
  const values = new Map<number, Value>([[model.inputs[0].id, input]]);
  const context = (layer: Layer, inputs: Value[]): LayerContext => ({
    builder: b, layer, className: layer.getClassName(), config: layer.getConfig(), inputs, weights: layerWeights(layer),
  });
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer' || (layer === head.layer && head.kind === 'layer')) continue;
    const inputs = inputsOf(layer).map((t) => {
      const value = values.get(t.id);
      if (!value) throw new Error(`Internal error: the input of layer ${layer.name} was not converted`);
      return value;
    });
    if (folded.has(layer.name)) {
      values.set(outputOf(layer).id, inputs[0]); // already applied by the Conv before it
      continue;
    }
    const ctx = context(layer, inputs);
    const bn = folds.get(layer.name);
    if (bn) ctx.foldBatchNorm = batchNormParams(context(bn, [inputs[0]]));
    if (layer === head.layer) ctx.activation = 'linear';
    values.set(outputOf(layer).id, convertLayer(ctx));
  }

  const headInput = head.kind === 'layer' ? inputsOf(head.layer)[0] : outputOf(head.layer);
  const logits = b.tfjsOrder(values.get(headInput.id) as Value);
  if (logits.layout !== 'flat') throw new ExportError(`The logits before "${head.layer.name}" are not [N, classes]; pets-export needs a 2-D softmax head.`);
  // The final softmax runs in float32 even in fp16 models: probabilities keep their precision.
  if (fp16) b.cast(logits, DataType.FLOAT, ONNX_NAMES.logits);
  else b.rename(logits.name, ONNX_NAMES.logits);
  b.node('Softmax', [ONNX_NAMES.logits], ONNX_NAMES.probabilities, { axis: attr.int(1) }, true);

  const classes = contract.labels.length;
  const metadata: Record<string, string> = { [ONNX_METADATA_KEYS.contract]: serializeContract(contract) };
  if (options.provenance) metadata[ONNX_METADATA_KEYS.provenance] = JSON.stringify(options.provenance);
  const proto = toModelProto({
    builder: b,
    graphName: model.name,
    inputs: [batchedFloat(ONNX_NAMES.input, [height, width, 3], 'NHWC RGB image batch, normalized as the contract says')],
    outputs: [
      batchedFloat(ONNX_NAMES.probabilities, [classes], 'class probabilities (softmax over the logits), in contract label order'),
      batchedFloat(ONNX_NAMES.logits, [classes], 'pre-softmax logits'),
    ],
    opset,
    fp16,
    producer: EXPORTER,
    docString: docString(contract),
    metadata,
  });
  const opCounts: Record<string, number> = {};
  for (const node of b.nodes) opCounts[node.op_type] = (opCounts[node.op_type] ?? 0) + 1;
  const parameters = b.initializers.reduce((n, i) => n + (i.data instanceof Float32Array ? i.data.length : 0), 0);
  return { bytes: encodeModel(proto), opCounts, foldedBatchNorms: folded.size, parameters };
}
