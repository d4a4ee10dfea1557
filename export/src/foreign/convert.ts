// The one place a loaded foreign model meets the converters: Layers models go through exportModel(),
// graph models through exportGraphModel().
import type { ModelContract } from '@pets/runtime/contract';
import { exportModel, type ExportedModel } from '../export-model.js';
import { exportGraphModel } from '../graph/index.js';
import type { LoadedTfjsModel } from './load.js';

export interface ConvertOptions {
  opset: number;
  fp16: boolean;
  foldBatchNorm: boolean;
  provenance: Record<string, unknown>;
  /** The output is logits (a softmax is added); default: detected from the model's last op. */
  logits: boolean;
}

export function convertTfjsModel(loaded: LoadedTfjsModel, contract: ModelContract, options: ConvertOptions): ExportedModel {
  const { logits, ...rest } = options;
  if (loaded.format === 'layers') {
    return exportModel(loaded.model, contract, { ...rest, outputs: logits ? 'logits' : 'auto' });
  }
  return exportGraphModel(loaded.model, contract, { ...rest, outputs: logits ? 'logits' : 'auto' });
}
