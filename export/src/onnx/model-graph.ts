// A tfjs model as the flat list of layer calls the exporter converts. Nested models (a Sequential or
// functional model used as a layer, as Teachable Machine saves a truncated MobileNet and its head) are
// walked into: the inner model's input stands for the tensor it was called on, and the call's output for
// the inner model's output, so the ONNX graph is one node list whatever the nesting.
import type { Layer, LayersModel, SymbolicTensor } from '@pets/train/tfjs';

export interface LayerCall {
  layer: Layer;
  /** Ids of its input tensors in the flattened graph. */
  inputs: number[];
  /** Id of its output tensor. */
  output: number;
}

export interface LayerGraph {
  /** Every layer that computes something (not InputLayer), each after the calls producing its inputs. */
  calls: LayerCall[];
  /** Ids of the model's input tensors. */
  inputs: number[];
  /** Id of the model's (first) output tensor in the flattened graph. */
  output: number;
  /** Layers and nested models called more than once (in any model), which the exporter refuses. */
  shared: { layer: Layer; timesCalled: number }[];
}

function isModel(layer: Layer): layer is LayersModel {
  const candidate = layer as Partial<LayersModel>;
  return Array.isArray(candidate.layers) && Array.isArray(candidate.inputs) && Array.isArray(candidate.outputs);
}

/**
 * The calls of `layer` that belong to `container`. A layer can also be called by another model that
 * shares it (pets' transfer models train their head through a second model on cached features); tfjs
 * records a container's own calls in `containerNodes`, keyed by Container.nodeKey, and saves only those.
 */
function callsIn(container: LayersModel, layer: Layer): Layer['inboundNodes'] {
  const keys = (container as unknown as { containerNodes?: Set<string> }).containerNodes;
  const nodeKey = (container.constructor as unknown as { nodeKey?: (l: Layer, i: number) => string }).nodeKey;
  if (!keys || !nodeKey) return layer.inboundNodes;
  const own = layer.inboundNodes.filter((_, i) => keys.has(nodeKey(layer, i)));
  // A Sequential keeps its graph in an inner functional model and records no nodes of its own.
  return own.length > 0 ? own : layer.inboundNodes;
}

export function layerGraph(model: LayersModel): LayerGraph {
  const alias = new Map<number, number>();
  const resolve = (t: SymbolicTensor): number => alias.get(t.id) ?? t.id;
  const defined = new Set(model.inputs.map((t) => t.id));
  const calls: LayerCall[] = [];
  const shared: LayerGraph['shared'] = [];

  const walk = (container: LayersModel): void => {
    for (const layer of container.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      if (isModel(layer)) {
        walkNested(layer);
        continue;
      }
      // A shared layer is refused; its first call stands for it until then.
      const nodes = callsIn(container, layer);
      const node = nodes[0];
      if (!node) throw new Error(`Internal error: layer ${layer.name} of ${container.name} is not connected`);
      if (nodes.length > 1) shared.push({ layer, timesCalled: nodes.length });
      const output = node.outputTensors[0].id;
      calls.push({ layer, inputs: node.inputTensors.map(resolve), output });
      defined.add(output);
    }
  };

  const walkNested = (inner: LayersModel): void => {
    // A model's first inbound node is its own (its inputs to its outputs, no inbound layers); the others
    // are calls. A Sequential that starts with a model takes that model's input as its own, without a
    // call: then the model's own node is the one whose inputs are already defined.
    const own = inner.inboundNodes.filter((n) => n.inboundLayers.length === 0);
    const called = inner.inboundNodes.filter((n) => n.inboundLayers.length > 0);
    const node = [...called, ...own].find((n) => n.inputTensors.every((t) => defined.has(resolve(t))));
    if (!node) throw new Error(`Internal error: nested model ${inner.name} is not connected to the model's input`);
    if (called.length > 1) shared.push({ layer: inner, timesCalled: called.length });
    node.inputTensors.forEach((t, i) => {
      const id = resolve(t);
      if (inner.inputs[i].id !== id) alias.set(inner.inputs[i].id, id);
    });
    walk(inner);
    node.outputTensors.forEach((t, i) => {
      const id = resolve(inner.outputs[i]);
      if (t.id !== id) alias.set(t.id, id);
      defined.add(id);
    });
  };

  walk(model);
  return { calls, inputs: model.inputs.map((t) => t.id), output: resolve(model.outputs[0]), shared };
}
