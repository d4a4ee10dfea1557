// classify()'s cache: one classifier per model (and options), created once even under concurrent calls.
// Pure: shared by the Node and browser entries.

type ModelKey = string | Uint8Array | ArrayBuffer;

export class ClassifierCache<T> {
  private readonly byPath = new Map<string, Promise<T>>();
  private readonly byBytes = new WeakMap<object, Map<string, Promise<T>>>();

  /** The cached classifier for (model, settings), creating it with `create` the first time. */
  get(model: ModelKey, settings: string, create: () => Promise<T>): Promise<T> {
    const map = typeof model === 'string' ? this.byPath : this.bytesMap(model);
    const key = typeof model === 'string' ? `${model}\n${settings}` : settings;
    let entry = map.get(key);
    if (!entry) {
      entry = create();
      map.set(key, entry);
      // A failed creation is not cached, so a corrected file can be retried.
      entry.catch(() => map.delete(key));
    }
    return entry;
  }

  /** Forgets every cached classifier and returns them, for disposal. */
  async clear(): Promise<T[]> {
    const all = await Promise.allSettled([...this.byPath.values()]);
    this.byPath.clear();
    return all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  private bytesMap(model: Uint8Array | ArrayBuffer): Map<string, Promise<T>> {
    let map = this.byBytes.get(model);
    if (!map) {
      map = new Map();
      this.byBytes.set(model, map);
    }
    return map;
  }
}
