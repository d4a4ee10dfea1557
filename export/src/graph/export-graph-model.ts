// exportGraphModel(): a tfjs graph model (tfjs-converter format) and its input contract -> ONNX bytes, with
// the same input, outputs (probabilities and logits), metadata and options as exportModel(). Walks the
// GraphDef from the logits back to the input, translating node by node (op-table.ts), constants folded.
import { checkOutputWidth, ModelContractError, ONNX_NAMES, type ModelContract } from '@pets/runtime/contract';
import { ExportError, UnsupportedOpError } from '../errors.js';
import { attr, GraphBuilder } from '../onnx/graph-builder.js';
import { checkOpset, DEFAULT_OPSET } from '../onnx/opset.js';
import { petsModelBytes, type ExportedModel } from '../onnx/pets-model.js';
import { DataType } from '../onnx/types.js';
import { GraphContext, OpContext, type Constant, type GValue, type Tensor } from './context.js';
import { Attrs, dataInputs, reachableNodes, type GraphDef, type NodeDef } from './graph-def.js';
import { graphHead, type GraphOutputs } from './graph-head.js';
import { GRAPH_OPS, SUPPORTED_GRAPH_OPS } from './op-table.js';
import { constant } from './ops/fold.js';
import { pruneUnused } from './prune.js';
import { graphDefOf, type GraphModel } from './tfjs-converter.js';

/** Options of exportGraphModel(). */
export interface ExportGraphModelOptions {
  /** ONNX opset, MIN_OPSET..MAX_OPSET. Default DEFAULT_OPSET (17). */
  opset?: number;
  /** Weights and compute in float16; the input and outputs stay float32 (Cast nodes). Default false. */
  fp16?: boolean;
  /** What the model outputs: 'auto' reads a final Softmax as probabilities, anything else as logits. Default 'auto'. */
  outputs?: GraphOutputs;
  /** JSON-able provenance stored under ONNX_METADATA_KEYS.provenance. Default none. */
  provenance?: Record<string, unknown>;
}

/** Every reachable op translatable, before any work: the most useful thing to hear about a model. */
function checkOps(order: NodeDef[]): void {
  for (const node of order) {
    if (!Object.hasOwn(GRAPH_OPS, node.op)) throw new UnsupportedOpError(node.op, node.name, undefined, SUPPORTED_GRAPH_OPS);
  }
}

function checkInput(model: GraphModel, order: NodeDef[], contract: ModelContract): void {
  const placeholders = order.filter((n) => n.op === 'Placeholder');
  if (model.inputNodes.length !== 1 || placeholders.length !== 1) {
    throw new ExportError(`The model has ${Math.max(model.inputNodes.length, placeholders.length)} inputs; a pets model has one image input.`);
  }
  const attrs = new Attrs(placeholders[0]);
  const dtype = attrs.type('dtype', 'DT_FLOAT');
  if (dtype !== 'DT_FLOAT') throw new ModelContractError(`The model's input "${placeholders[0].name}" is ${dtype}; a pets model takes a float32 image.`);
  const shape = attrs.shape('shape');
  const { height, width } = contract.imageSize;
  const fits = (d: number, want: number): boolean => d === -1 || d === want;
  if (shape && (shape.length !== 4 || !fits(shape[1], height) || !fits(shape[2], width) || !fits(shape[3], 3))) {
    throw new ModelContractError(`The model's input shape ${JSON.stringify(shape)} does not match its contract's [null, ${height}, ${width}, 3].`);
  }
}

/** The loaded model's weights by node name, as tfjs decoded them (quantized weights dequantized). */
function constants(model: GraphModel): (name: string) => Constant | undefined {
  const weights = model.weights;
  return (name) => {
    const tensor = weights[name]?.[0];
    if (!tensor) return undefined;
    if (tensor.dtype === 'string' || tensor.dtype === 'complex64') return undefined;
    return constant(tensor.dtype, tensor.shape, tensor.dataSync() as ArrayLike<number>);
  };
}

function translate(graph: GraphContext, order: NodeDef[]): Map<string, GValue> {
  const values = new Map<string, GValue>();
  for (const node of order) {
    const inputs = dataInputs(node).map((ref) => {
      if (ref.output !== 0) throw new UnsupportedOpError(node.op, node.name, `it reads output ${ref.output} of "${ref.node}" (only first outputs are supported)`);
      const value = values.get(ref.node);
      if (!value) throw new Error(`Internal error: the input "${ref.node}" of "${node.name}" was not translated`);
      return value;
    });
    values.set(node.name, GRAPH_OPS[node.op](new OpContext(graph, node, inputs)));
  }
  return values;
}

export function exportGraphModel(model: GraphModel, contract: ModelContract, options: ExportGraphModelOptions = {}): ExportedModel {
  const opset = options.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const fp16 = options.fp16 ?? false;
  const graphDef: GraphDef = graphDefOf(model);
  const head = graphHead(model, graphDef, options.outputs ?? 'auto');
  const order = reachableNodes(graphDef, head.logits);
  checkOps(order);
  checkInput(model, order, contract);

  const b = new GraphBuilder(Object.values(ONNX_NAMES));
  const { height, width } = contract.imageSize;
  let input: Tensor = { kind: 'tensor', name: ONNX_NAMES.input, shape: [-1, height, width, 3], perm: [0, 1, 2, 3] };
  if (fp16) input = { ...input, name: b.node('Cast', [input.name], `${ONNX_NAMES.input}/fp16`, { to: attr.int(DataType.FLOAT16) }) };
  const graph = new GraphContext(b, opset, input, constants(model));
  const values = translate(graph, order);

  const result = values.get(head.logits);
  if (result?.kind !== 'tensor') throw new ExportError(`The model's logits "${head.logits}" do not depend on its input.`);
  const logits = graph.tfjsOrder(graph.hwcOrder(result));
  if (logits.shape.length !== 2) throw new ExportError(`The logits "${head.logits}" have shape [${logits.shape.join(', ')}]; pets-export needs [batch, classes].`);
  checkOutputWidth(contract, logits.shape[1]);
  // The final softmax runs in float32 even in fp16 models: probabilities keep their precision.
  if (fp16) b.node('Cast', [logits.name], ONNX_NAMES.logits, { to: attr.int(DataType.FLOAT) }, true);
  else if (logits.name === ONNX_NAMES.input) b.node('Identity', [logits.name], ONNX_NAMES.logits, {}, true);
  else b.rename(logits.name, ONNX_NAMES.logits);
  b.node('Softmax', [ONNX_NAMES.logits], ONNX_NAMES.probabilities, { axis: attr.int(1) }, true);
  pruneUnused(b, [ONNX_NAMES.probabilities, ONNX_NAMES.logits]);

  return petsModelBytes({ builder: b, graphName: 'tfjs_graph_model', contract, opset, fp16, origin: 'translated from a TensorFlow.js graph model', provenance: options.provenance, foldedBatchNorms: 0 });
}
