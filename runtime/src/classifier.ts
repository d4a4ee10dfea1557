// The platform-independent classifier: model metadata -> contract, decode -> preprocess -> batched run ->
// sorted predictions. Node and browser entries supply a Platform (decoding, model loading, sessions).
import { ModelContractError, checkOutputWidth, ONNX_NAMES, type ModelContract } from './contract.js';
import { ImageDecodeError } from './errors.js';
import { Batcher, type ImageOutputs } from './batcher.js';
import { modelDtype, type ModelDtype } from './onnx-dtype.js';
import { contractFromMetadata, provenanceFromMetadata, readOnnxMetadata } from './onnx-metadata.js';
import { checkDecodedPixels, preprocess, type DecodedPixels } from './preprocess.js';

/** One class and its probability. */
export interface Prediction {
  label: string;
  probability: number;
  /** Output index of the class. */
  index: number;
}

/** A batch item's result: its predictions, or the error that stopped it (the others still run). */
export type ClassifyOutcome = { ok: true; predictions: Prediction[] } | { ok: false; error: Error };

/** What runs and why. */
export interface ClassifierInfo {
  /** The execution provider that runs the model. */
  executionProvider: string;
  /** Why the providers tried before it were not used; null when the first choice runs. */
  reason: string | null;
  labels: string[];
  inputSize: { height: number; width: number };
  contract: ModelContract;
  /**
   * The precision the model computes in: fp32, fp16 (float16 weights) or int8 (QDQ int8 weights); null only
   * for a remote classifier given no model file, whose weights are on the server.
   */
  dtype: ModelDtype | null;
  /** Where the model came from (pets-export's provenance metadata), or null. */
  provenance: Record<string, unknown> | null;
}

/** Per-call options of classify(). */
export interface PredictOptions {
  /** How many of the most probable classes to return. Default 5. */
  topK?: number;
  /** Return every class (sorted), overriding topK. Default false. */
  all?: boolean;
}

/** Minimal view of an onnxruntime InferenceSession shared by onnxruntime-node and onnxruntime-web. */
export interface SessionLike {
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

/** What a platform provides to the shared classifier. */
export interface Platform<Input> {
  /** Reads model bytes (a path in Node, a URL in browsers), or passes bytes through. */
  loadModel(model: string | Uint8Array | ArrayBuffer): Promise<Uint8Array>;
  /** Creates a session on the best usable execution provider whose session passes `probe`. */
  createSession(bytes: Uint8Array, probe: (session: SessionLike) => Promise<void>): Promise<{ session: SessionLike; executionProvider: string; reason: string | null }>;
  /** Decodes one encoded input; throws ImageDecodeError naming it. */
  decode(input: Input, name: string): Promise<DecodedPixels>;
  /** An onnxruntime float32 tensor. */
  tensor(data: Float32Array, dims: number[]): unknown;
}

/** Most images per session run when calls are batched. */
export const DEFAULT_MAX_BATCH = 16;

function isDecodedPixels(input: unknown): input is DecodedPixels {
  return typeof input === 'object' && input !== null && 'data' in input && 'width' in input && 'height' in input && 'channels' in input;
}

function checkTopK(options: PredictOptions, classes: number): number {
  if (options.all) return classes;
  const topK = options.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`"topK" must be a positive integer; got ${String(topK)}.`);
  return Math.min(topK, classes);
}

/** Sorts probabilities into predictions (ties keep index order) and keeps the top k. */
export function topPredictions(probabilities: Float32Array, labels: string[], k: number): Prediction[] {
  return Array.from(probabilities, (probability, index) => ({ label: labels[index], probability, index }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, k);
}

export class Classifier<Input> {
  private readonly batcher: Batcher;

  private constructor(
    private readonly platform: Platform<Input>,
    private readonly session: SessionLike,
    readonly info: ClassifierInfo,
    private readonly maxBatch: number,
    onBatch?: (size: number) => void,
  ) {
    const { height, width } = info.inputSize;
    const hasLogits = session.outputNames.includes(ONNX_NAMES.logits);
    this.batcher = new Batcher(
      async (x, count) => {
        onBatch?.(count);
        const out = await session.run({ [ONNX_NAMES.input]: platform.tensor(x, [count, height, width, 3]) });
        checkOutputWidth(info.contract, out[ONNX_NAMES.probabilities].dims.at(-1) ?? 0);
        return {
          probabilities: out[ONNX_NAMES.probabilities].data as Float32Array,
          logits: hasLogits ? (out[ONNX_NAMES.logits].data as Float32Array) : null,
        };
      },
      height * width * 3,
      info.labels.length,
      maxBatch,
    );
  }

  /**
   * Reads the model's contract, opens a session and checks the model's outputs against the contract.
   * `onBatch` is told the size of each inference run (a server's batch-size metric).
   */
  static async create<Input>(
    platform: Platform<Input>,
    model: string | Uint8Array | ArrayBuffer,
    maxBatch = DEFAULT_MAX_BATCH,
    onBatch?: (size: number) => void,
  ): Promise<Classifier<Input>> {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`"maxBatch" must be a positive integer; got ${String(maxBatch)}.`);
    const bytes = await platform.loadModel(model);
    const metadata = readOnnxMetadata(bytes);
    const contract = contractFromMetadata(metadata);
    const { height, width } = contract.imageSize;
    // One run on a blank image before any user input: the outputs must exist, match the label count,
    // and be probabilities (a provider that loads a model but computes garbage is skipped).
    const probe = async (session: SessionLike) => {
      if (!session.outputNames.includes(ONNX_NAMES.probabilities)) {
        throw new ModelContractError(`The model has no "${ONNX_NAMES.probabilities}" output (outputs: ${session.outputNames.join(', ')}).`);
      }
      const out = await session.run({ [ONNX_NAMES.input]: platform.tensor(new Float32Array(height * width * 3), [1, height, width, 3]) });
      const probabilities = out[ONNX_NAMES.probabilities];
      checkOutputWidth(contract, probabilities.dims.at(-1) ?? 0);
      const sum = Array.from(probabilities.data as Float32Array).reduce((a, b) => a + b, 0);
      if (!(Math.abs(sum - 1) <= 1e-3)) throw new Error(`the probabilities of a blank image sum to ${sum}, not 1`);
    };
    const { session, executionProvider, reason } = await platform.createSession(bytes, probe);
    const info: ClassifierInfo = {
      executionProvider,
      reason,
      labels: contract.labels,
      inputSize: { ...contract.imageSize },
      contract,
      dtype: modelDtype(bytes),
      provenance: provenanceFromMetadata(metadata),
    };
    const classifier = new Classifier(platform, session, info, maxBatch, onBatch);
    return classifier;
  }

  /**
   * A classifier on a session opened elsewhere (a remote inference server's), with the info the caller
   * read about it: the same preprocessing, batching and results as create()'s.
   */
  static fromSession<Input>(platform: Platform<Input>, session: SessionLike, info: ClassifierInfo, maxBatch = DEFAULT_MAX_BATCH): Classifier<Input> {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`"maxBatch" must be a positive integer; got ${String(maxBatch)}.`);
    return new Classifier(platform, session, info, maxBatch);
  }

  /**
   * Model outputs for already preprocessed input: `x` is [count, H, W, 3] per the contract. `x` is read
   * when its batch runs (without a copy when it is one batch): leave it unchanged until this settles.
   */
  async infer(x: Float32Array): Promise<ImageOutputs[]> {
    const { height, width } = this.info.inputSize;
    const size = height * width * 3;
    if (x.length === 0 || x.length % size !== 0) throw new RangeError(`"x" must hold whole images of ${height}x${width}x3 floats; got ${x.length}.`);
    return Promise.all(Array.from({ length: x.length / size }, (_, i) => this.batcher.infer(x.subarray(i * size, (i + 1) * size))));
  }

  /** Decodes and preprocesses one input exactly as training did: the tensor the model is fed. */
  async preprocess(input: Input | DecodedPixels, name = 'input'): Promise<Float32Array> {
    const pixels = isDecodedPixels(input) ? input : await this.platform.decode(input, name);
    if (isDecodedPixels(input)) checkDecodedPixels(input);
    return preprocess(pixels, this.info.contract);
  }

  private async classifyOne(input: Input | DecodedPixels, name: string, k: number): Promise<Prediction[]> {
    const x = await this.preprocess(input, name);
    const { probabilities } = await this.batcher.infer(x);
    return topPredictions(probabilities, this.info.labels, k);
  }

  /** One input: its predictions (throws ImageDecodeError for a bad image). */
  classify(input: Input | DecodedPixels, options?: PredictOptions): Promise<Prediction[]>;
  /** Several inputs, batched: one outcome per input, in order; a bad one does not stop the others. */
  classify(inputs: (Input | DecodedPixels)[], options?: PredictOptions): Promise<ClassifyOutcome[]>;
  async classify(inputs: Input | DecodedPixels | (Input | DecodedPixels)[], options: PredictOptions = {}): Promise<Prediction[] | ClassifyOutcome[]> {
    const k = checkTopK(options, this.info.labels.length);
    if (!Array.isArray(inputs)) return this.classifyOne(inputs, describeInput(inputs, 0, false), k);
    // Groups of maxBatch: a group's images are decoded and preprocessed concurrently and queued together
    // once all are ready, so that they go in one run (a run started on the first image alone competes
    // with the group's decoding for the same cores), and the next group is prepared while this one runs.
    // At most two groups' images are in memory at once, however many inputs there are.
    const outcomes: ClassifyOutcome[] = [];
    const prepare = (start: number) =>
      Promise.all(
        inputs.slice(start, start + this.maxBatch).map((input, j) => {
          const name = describeInput(input, start + j, true);
          return this.preprocess(input, name).then(
            (x) => ({ name, x }),
            (error: unknown) => ({ name, error }),
          );
        }),
      );
    let group = await prepare(0);
    for (let start = 0; start < inputs.length; start += this.maxBatch) {
      // Queues the whole group now (each async callback runs up to its infer() call synchronously).
      const done = Promise.all(
        group.map(async (item): Promise<ClassifyOutcome> => {
          try {
            if ('error' in item) throw item.error;
            const { probabilities } = await this.batcher.infer(item.x);
            return { ok: true, predictions: topPredictions(probabilities, this.info.labels, k) };
          } catch (error) {
            return { ok: false, error: error instanceof Error ? error : new ImageDecodeError(item.name, String(error)) };
          }
        }),
      );
      // The next group is prepared one microtask later, after the batcher (scheduled by those infer()
      // calls) has started this group's run: preprocessing decoded pixels synchronously would delay it.
      const following = start + this.maxBatch;
      const next = following < inputs.length ? Promise.resolve().then(() => prepare(following)) : null;
      outcomes.push(...(await done));
      if (next) group = await next;
    }
    return outcomes;
  }

  /** Releases the session; the classifier cannot be used afterwards. */
  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** How an input is named in errors: its path, or its position and size. */
export function describeInput(input: unknown, index: number, inBatch: boolean): string {
  const at = inBatch ? ` #${index}` : '';
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) return `buffer${at} (${input.byteLength} bytes)`;
  if (isDecodedPixels(input)) return `pixels${at} (${input.width}x${input.height}x${input.channels})`;
  return `input${at}`;
}
