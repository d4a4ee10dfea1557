// Serializes inference on one session and batches what waits: concurrent classify() calls queue their
// preprocessed images, and each run takes up to maxBatch of them. onnxruntime-web rejects overlapping
// runs on a session, and batching is also what makes many small calls fast.

/** One image's model outputs. */
export interface ImageOutputs {
  probabilities: Float32Array;
  /** Pre-softmax scores when the model exports them. */
  logits: Float32Array | null;
}

/** Runs a batch: `x` holds `count` images back to back; returns per-class outputs for each image in order. */
export type RunBatch = (x: Float32Array, count: number) => Promise<{ probabilities: Float32Array; logits: Float32Array | null }>;

interface Pending {
  data: Float32Array;
  resolve: (outputs: ImageOutputs) => void;
  reject: (error: unknown) => void;
}

export class Batcher {
  private readonly queue: Pending[] = [];
  private running = false;
  private scheduled = false;

  /**
   * @param run executes one batch on the session
   * @param imageSize floats per image (H * W * 3)
   * @param classes outputs per image
   * @param maxBatch most images per run
   */
  constructor(
    private readonly run: RunBatch,
    private readonly imageSize: number,
    private readonly classes: number,
    private readonly maxBatch: number,
  ) {}

  /**
   * Queues one preprocessed image; resolves with its outputs once its batch has run. `data` is read when
   * its batch runs, not now: leave it unchanged until the promise settles.
   */
  infer(data: Float32Array): Promise<ImageOutputs> {
    if (data.length !== this.imageSize) {
      return Promise.reject(new RangeError(`An input image must have ${this.imageSize} floats; got ${data.length}.`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ data, resolve, reject });
      // Start on the next microtask, not now: images queued together in one synchronous burst (infer()
      // of a batch, classify() of decoded pixels) then go in one run rather than the first one alone.
      if (this.running || this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        void this.drain();
      });
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          // Inside the try: a caller's buffer detached meanwhile (transferred) fails this batch, not the queue.
          const x = contiguous(batch, this.imageSize) ?? new Float32Array(batch.length * this.imageSize);
          if (x.buffer !== batch[0].data.buffer) batch.forEach((item, i) => x.set(item.data, i * this.imageSize));
          const out = await this.run(x, batch.length);
          const c = this.classes;
          batch.forEach((item, i) =>
            item.resolve({
              probabilities: out.probabilities.slice(i * c, (i + 1) * c),
              logits: out.logits ? out.logits.slice(i * c, (i + 1) * c) : null,
            }),
          );
        } catch (error) {
          batch.forEach((item) => item.reject(error));
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/**
 * The batch as one view when its images already lie back to back in one buffer (infer() of a
 * preprocessed batch), so that it is not copied; null otherwise.
 */
function contiguous(batch: Pending[], imageSize: number): Float32Array | null {
  const first = batch[0].data;
  for (let i = 1; i < batch.length; i++) {
    const data = batch[i].data;
    if (data.buffer !== first.buffer || data.byteOffset !== first.byteOffset + i * imageSize * 4) return null;
  }
  return new Float32Array(first.buffer, first.byteOffset, batch.length * imageSize);
}
