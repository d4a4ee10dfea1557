// The stages of a run. A reference preset has one; a transfer preset trains its head on the frozen
// backbone first (stage "head", epochs 1..E) and may then fine-tune the top of the backbone at a lower
// learning rate (stage "fine-tune", epochs E+1..E+F), as Keras' transfer-learning guide and fastai's
// fine_tune do. Epoch numbers run on across stages, so checkpoints, history and --resume need no stage field.

export type StageName = 'train' | 'head' | 'fine-tune';

export interface Stage {
  name: StageName;
  /** First and last epoch of the stage (inclusive). */
  first: number;
  last: number;
  learningRate: number;
  /** The head trains on features computed once per image (frozen backbone, no augmentation). */
  cachedFeatures: boolean;
}

export interface StagePlanInput {
  architecture: string;
  epochs: number;
  learningRate: number;
  fineTuneEpochs: number;
  fineTuneLearningRate: number | null;
  augment: unknown;
  /** Whether a head stage without augmentation may train on cached features. */
  cacheFeatures: boolean;
}

export function planStages(config: StagePlanInput): Stage[] {
  if (config.architecture !== 'transfer') {
    return [{ name: 'train', first: 1, last: config.epochs, learningRate: config.learningRate, cachedFeatures: false }];
  }
  const stages: Stage[] = [{ name: 'head', first: 1, last: config.epochs, learningRate: config.learningRate, cachedFeatures: config.cacheFeatures && !config.augment }];
  if (config.fineTuneEpochs > 0) {
    stages.push({
      name: 'fine-tune',
      first: config.epochs + 1,
      last: config.epochs + config.fineTuneEpochs,
      learningRate: config.fineTuneLearningRate ?? config.learningRate / 10,
      cachedFeatures: false,
    });
  }
  return stages;
}
