// A tfjs model as the flat list of layer calls the exporter converts. Nested models (a Sequential or
// functional model used as a layer, as Teachable Machine saves a truncated MobileNet and its head) are
// walked into: the inner model's inputs stand for the tensors it was called on, and the call's outputs for
// the inner model's outputs, so the ONNX graph is one node list whatever the nesting. A layer called more
// than once (a shared layer, or a nested model applied twice) gives one call per use, each with its own tensors.
import type { Layer, LayersModel } from '@pets/train/tfjs';

export interface LayerCall {
  layer: Layer;
  /** Ids of its input tensors in the flattened graph. */
  inputs: number[];
  /** Id of its output tensor. */
  output: number;
}

export interface LayerGraph {
  /** Every layer call that computes something (not InputLayer), each after the calls producing its inputs. */
  calls: LayerCall[];
  /** Ids of the model's input tensors. */
  inputs: number[];
  /** Id of the model's (first) output tensor in the flattened graph. */
  output: number;
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

/**
 * The model's calls in an order where each call's inputs are computed before it. Within a container, a node
 * is emitted once its input tensors are known; layers are visited in the container's order (topological by
 * layer), again until nothing changes, which orders the later calls of shared layers too. Calls of a layer
 * from other models (whose inputs never become known here) are left out.
 */
export function layerGraph(model: LayersModel): LayerGraph {
  let nextId = 0;
  const calls: LayerCall[] = [];

  /** Expands `container` with its input tensors bound to flat ids; returns the flat ids of its outputs. */
  const expand = (container: LayersModel, inputIds: number[]): number[] => {
    const local = new Map<number, number>(container.inputs.map((t, i) => [t.id, inputIds[i]]));
    const pending = container.layers
      .filter((layer) => layer.getClassName() !== 'InputLayer')
      .flatMap((layer) => (isModel(layer) ? layer.inboundNodes : callsIn(container, layer)).map((node) => ({ layer, node })));
    for (let progress = true; progress; ) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const { layer, node } = pending[i];
        if (!node.inputTensors.every((t) => local.has(t.id))) continue;
        const inputs = node.inputTensors.map((t) => local.get(t.id) as number);
        // A model's own node maps its inputs to its outputs: a Sequential that starts with a model uses it
        // as its own first step, with no call; it counts only where its inputs are this container's.
        const outputs = isModel(layer) ? expand(layer, inputs) : [nextId++];
        if (!isModel(layer)) calls.push({ layer, inputs, output: outputs[0] });
        node.outputTensors.forEach((t, o) => local.set(t.id, outputs[o]));
        pending.splice(i--, 1);
        progress = true;
      }
    }
    return container.outputs.map((t) => {
      const id = local.get(t.id);
      if (id === undefined) throw new Error(`Internal error: the output of ${container.name} is not connected to its inputs`);
      return id;
    });
  };

  const inputs = model.inputs.map(() => nextId++);
  const [output] = expand(model, inputs);
  return { calls, inputs, output };
}
