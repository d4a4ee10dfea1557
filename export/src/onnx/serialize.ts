// GraphBuilder contents -> ModelProto: initializers as little-endian raw_data (float16 for --fp16
// models), typed graph inputs/outputs with a dynamic batch dimension, opset/IR versions and metadata.
import { toFloat16Array } from './fp16.js';
import type { GraphBuilder, Initializer } from './graph-builder.js';
import { irVersionFor } from './opset.js';
import { DataType, type ModelProto, type TensorProto, type ValueInfoProto } from './types.js';

if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) {
  throw new Error('pets-export writes ONNX raw_data from typed arrays and needs a little-endian machine');
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function tensor(init: Initializer, fp16: boolean): TensorProto {
  if (init.data instanceof BigInt64Array) return { name: init.name, dims: init.dims, data_type: DataType.INT64, raw_data: bytesOf(init.data) };
  if (fp16 && !init.float32) return { name: init.name, dims: init.dims, data_type: DataType.FLOAT16, raw_data: bytesOf(toFloat16Array(init.data)) };
  return { name: init.name, dims: init.dims, data_type: DataType.FLOAT, raw_data: bytesOf(init.data) };
}

/** A float32 tensor value with a symbolic batch dimension first. */
export function batchedFloat(name: string, dims: number[], doc: string): ValueInfoProto {
  return {
    name,
    doc_string: doc,
    type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_param: 'batch' }, ...dims.map((d) => ({ dim_value: d }))] } } },
  };
}

export interface SerializeArgs {
  builder: GraphBuilder;
  graphName: string;
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  opset: number;
  fp16: boolean;
  producer: { name: string; version: string };
  docString: string;
  metadata: Record<string, string>;
}

export function toModelProto(args: SerializeArgs): ModelProto {
  return {
    ir_version: irVersionFor(args.opset),
    opset_import: [{ domain: '', version: args.opset }],
    producer_name: args.producer.name,
    producer_version: args.producer.version,
    doc_string: args.docString,
    graph: {
      name: args.graphName,
      node: args.builder.nodes,
      initializer: args.builder.initializers.map((init) => tensor(init, args.fp16)),
      input: args.inputs,
      output: args.outputs,
    },
    metadata_props: Object.entries(args.metadata).map(([key, value]) => ({ key, value })),
  };
}
