// Where a graph model's logits are: the input of its final Softmax (through any Identity), or its output
// itself when the model ends in logits. Shared by the exporter and the tfjs reference, so both agree.
import { ExportError } from '../errors.js';
import { dataInputs, type GraphDef, type NodeDef } from './graph-def.js';
import type { GraphModel } from './tfjs-converter.js';

/** What a graph model's output is. */
export type GraphOutputs = 'probabilities' | 'logits' | 'auto';

export interface GraphHead {
  /** The model's output node. */
  output: string;
  /** The node whose output is the logits. */
  logits: string;
  /** The Softmax node between them, when the model ends in one. */
  softmax?: string;
}

const nodeName = (tensorName: string): string => tensorName.replace(/:\d+$/, '');

/** `outputs`: 'auto' takes a final Softmax as the probabilities and anything else as logits. */
export function graphHead(model: GraphModel, graph: GraphDef, outputs: GraphOutputs = 'auto'): GraphHead {
  if (!['probabilities', 'logits', 'auto'].includes(outputs)) {
    throw new RangeError(`Unsupported outputs "${String(outputs)}". Expected one of: probabilities, logits, auto.`);
  }
  if (model.outputNodes.length !== 1) {
    throw new ExportError(`The model has ${model.outputNodes.length} outputs (${model.outputNodes.join(', ')}); a pets model has one, the class scores.`);
  }
  const output = nodeName(model.outputNodes[0]);
  const byName = new Map<string, NodeDef>(graph.node.map((n) => [n.name, n]));
  let node = byName.get(output);
  while (node?.op === 'Identity') node = byName.get(dataInputs(node)[0]?.node ?? '');
  const softmax = node?.op === 'Softmax' ? node : undefined;
  if (outputs === 'probabilities' && !softmax) {
    throw new ExportError(`The model's output "${output}" is not a Softmax (it is ${node?.op ?? 'unknown'}); export it with outputs "logits" to add one.`);
  }
  if (softmax && outputs !== 'logits') return { output, logits: dataInputs(softmax)[0].node, softmax: softmax.name };
  return { output, logits: output };
}
