// Reading a tfjs-converter GraphDef (model.json's modelTopology): its nodes, their attributes in the JSON
// form of tensorflow/core/framework/attr_value.proto, and the nodes an output depends on, in order.
import { ExportError } from '../errors.js';

/** attr_value.proto as tfjs-converter writes it to JSON: int64s as strings, strings as base64. */
export interface AttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
  tensor?: unknown;
}

export interface NodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
  device?: string;
}

export interface GraphDef {
  node: NodeDef[];
  versions?: unknown;
}

const decodeBase64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** Typed readers of one node's attributes, with defaults for absent ones. */
export class Attrs {
  constructor(private readonly node: NodeDef) {}

  has(name: string): boolean {
    return this.node.attr?.[name] !== undefined;
  }

  string(name: string, fallback: string): string {
    const value = this.node.attr?.[name]?.s;
    return value === undefined ? fallback : decodeBase64(value);
  }

  int(name: string, fallback: number): number {
    const value = this.node.attr?.[name]?.i;
    return value === undefined ? fallback : Number(value);
  }

  float(name: string, fallback: number): number {
    return this.node.attr?.[name]?.f ?? fallback;
  }

  /** A dtype attribute, e.g. "DT_FLOAT". */
  type(name: string, fallback: string): string {
    return this.node.attr?.[name]?.type ?? fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    return this.node.attr?.[name]?.b ?? fallback;
  }

  ints(name: string, fallback: number[]): number[] {
    const list = this.node.attr?.[name]?.list;
    return list === undefined ? fallback : (list.i ?? []).map(Number);
  }

  strings(name: string): string[] {
    return (this.node.attr?.[name]?.list?.s ?? []).map(decodeBase64);
  }

  /** A shape attribute (Placeholder's): -1 for unknown dimensions, undefined for an unknown rank. */
  shape(name: string): number[] | undefined {
    const shape = this.node.attr?.[name]?.shape;
    if (!shape || shape.unknownRank) return undefined;
    return (shape.dim ?? []).map((d) => Number(d.size ?? -1));
  }
}

/** A node input reference: "name", "name:k" (output k) or "^name" (a control dependency). */
export function parseInput(ref: string): { node: string; output: number; control: boolean } {
  if (ref.startsWith('^')) return { node: ref.slice(1), output: 0, control: true };
  const match = /^(.*):(\d+)$/.exec(ref);
  return match ? { node: match[1], output: Number(match[2]), control: false } : { node: ref, output: 0, control: false };
}

/** The data inputs of a node (control dependencies dropped). */
export function dataInputs(node: NodeDef): { node: string; output: number }[] {
  return (node.input ?? []).map(parseInput).filter((input) => !input.control);
}

/** The nodes `output` depends on, each after its inputs. */
export function reachableNodes(graph: GraphDef, output: string): NodeDef[] {
  const byName = new Map(graph.node.map((n) => [n.name, n]));
  const order: NodeDef[] = [];
  const state = new Map<string, 'open' | 'done'>();
  // Iterative depth-first search: real graphs are deep enough to overflow recursion.
  const stack: { node: NodeDef; next: number }[] = [];
  const push = (name: string, from: string): void => {
    const node = byName.get(name);
    if (!node) throw new ExportError(`The GraphDef has no node "${name}" (read by "${from}").`);
    if (state.get(name) === 'open') throw new ExportError(`The GraphDef has a cycle through "${name}".`);
    if (state.get(name) === 'done') return;
    state.set(name, 'open');
    stack.push({ node, next: 0 });
  };
  push(output, 'the graph output');
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = dataInputs(top.node);
    if (top.next < inputs.length) {
      push(inputs[top.next++].node, top.node.name);
      continue;
    }
    stack.pop();
    state.set(top.node.name, 'done');
    order.push(top.node);
  }
  return order;
}
