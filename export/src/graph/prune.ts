// Drops nodes and initializers nothing reads (a converter may make a value a later one does not use, e.g.
// a layout conversion), so that the written graph has no dead ends.
import type { GraphBuilder } from '../onnx/graph-builder.js';

export function pruneUnused(builder: GraphBuilder, outputs: readonly string[]): void {
  const used = new Set(outputs);
  const kept = new Set<number>();
  for (let i = builder.nodes.length - 1; i >= 0; i--) {
    const node = builder.nodes[i];
    if (!node.output.some((o) => used.has(o))) continue;
    kept.add(i);
    for (const input of node.input) used.add(input);
  }
  const nodes = builder.nodes.filter((_, i) => kept.has(i));
  builder.nodes.splice(0, builder.nodes.length, ...nodes);
  const initializers = builder.initializers.filter((init) => used.has(init.name));
  builder.initializers.splice(0, builder.initializers.length, ...initializers);
}
