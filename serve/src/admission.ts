// The bounded queue in front of the runtime's batcher: a request is admitted only while the images
// waiting or running stay under the limit; the rest get 503 with Retry-After at once, so memory stays
// bounded however many clients push.
import { ServeError } from './errors.js';

export class Admission {
  private pending = 0;

  constructor(
    /** Most images admitted (decoding, queued or running) at once. */
    readonly limit: number,
    /** Told the new depth on every change (the queue-depth gauge). */
    private readonly onDepth: (depth: number) => void = () => {},
  ) {}

  get depth(): number {
    return this.pending;
  }

  /** Runs `work` on `images` admitted images, or throws 503 when they do not fit now. */
  async run<T>(images: number, work: () => Promise<T>): Promise<T> {
    if (images > this.limit) throw new ServeError(413, `The request holds ${images} images; the server admits at most ${this.limit} at once (--max-queue).`);
    if (this.pending + images > this.limit) {
      throw new ServeError(503, `The server is busy: ${this.pending} images are queued (limit ${this.limit}). Retry later.`, { 'retry-after': '1' });
    }
    this.pending += images;
    this.onDepth(this.pending);
    try {
      return await work();
    } finally {
      this.pending -= images;
      this.onDepth(this.pending);
    }
  }
}
