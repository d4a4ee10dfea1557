// What tfjs itself says for a foreign model on a batch: probabilities and logits, as the export must
// reproduce them: the same head detection as the exporters (a softmax output gives both, logits from the
// tensor before it; a linear output is logits, and tfjs' softmax of it is the reference probabilities).
import { graphDefOf, graphHead, graphModelReference } from '../graph/index.js';
import { tfjsReference, type TfjsOutputs } from '../verify/tfjs-reference.js';
import type { LoadedTfjsModel } from './load.js';

/**
 * Reference outputs of a loaded tfjs model on x ([n, H, W, 3], already normalized). `logits`: the model's
 * output is logits whatever its last op (pets-export --logits).
 */
export function foreignReference(loaded: LoadedTfjsModel, x: Float32Array, shape: readonly number[], logits = false): TfjsOutputs {
  if (loaded.format === 'layers') return tfjsReference(loaded.model, x, shape, logits ? 'logits' : 'auto');
  const head = graphHead(loaded.model, graphDefOf(loaded.model), logits ? 'logits' : 'auto');
  return graphModelReference(loaded.model, head, x, shape);
}
