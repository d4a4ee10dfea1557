// The one export module that imports @tensorflow/tfjs-converter: loading graph models, and reading the
// GraphDef a loaded GraphModel was built from.
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import type { io } from '@pets/train/tfjs';
import { ExportError } from '../errors.js';
import type { GraphDef } from './graph-def.js';

export { loadGraphModel, type GraphModel };

/**
 * The GraphDef (modelTopology) of a loaded graph model. GraphModel keeps its artifacts in a private field and
 * offers them publicly only through the asynchronous save(); the field is read here, in one place, and checked.
 */
export function graphDefOf(model: GraphModel): GraphDef {
  const artifacts = (model as unknown as { artifacts?: io.ModelArtifacts }).artifacts;
  const topology = artifacts?.modelTopology as Partial<GraphDef> | undefined;
  if (!topology || !Array.isArray(topology.node)) {
    throw new ExportError('The model is not a loaded tfjs graph model: it has no GraphDef (modelTopology.node).');
  }
  return topology as GraphDef;
}
