// Which precision a pets ONNX model computes in, read from its initializers' element types without
// decoding the weights: ModelProto.graph (7) -> GraphProto.initializer (5) -> TensorProto.data_type (2).
// int8 models (pets-export --dtype int8) store int8 weights behind DequantizeLinear; fp16 models store
// float16 weights. Pure: shared by the Node and browser entries.
import protobuf from 'protobufjs/minimal.js';

export type ModelDtype = 'fp32' | 'fp16' | 'int8';

const DATA_TYPE = { FLOAT: 1, INT8: 3, FLOAT16: 10 } as const;
const FIELD = { graph: 7, initializer: 5, dataType: 2 } as const;

/** Counts of initializers per TensorProto.DataType. */
function initializerTypes(bytes: Uint8Array): Map<number, number> {
  const reader = protobuf.Reader.create(bytes);
  const counts = new Map<number, number>();
  const fields = (end: number, visit: (field: number, wireType: number) => boolean) => {
    while (reader.pos < end) {
      const tag = reader.uint32();
      if (!visit(tag >>> 3, tag & 7)) reader.skipType(tag & 7);
    }
  };
  const nested = (field: number, wireType: number, expected: number, visit: (end: number) => void): boolean => {
    if (field !== expected || wireType !== 2) return false;
    visit(reader.uint32() + reader.pos);
    return true;
  };
  try {
    fields(bytes.length, (f, w) => nested(f, w, FIELD.graph, (graphEnd) => fields(graphEnd, (g, gw) => nested(g, gw, FIELD.initializer, (tensorEnd) => {
      let type: number | undefined;
      fields(tensorEnd, (t, tw) => {
        if (t !== FIELD.dataType || tw !== 0) return false;
        type = reader.int32();
        return true;
      });
      if (type !== undefined) counts.set(type, (counts.get(type) ?? 0) + 1);
    }))));
  } catch {
    // A graph this walk cannot read is onnxruntime's to reject; the initializers seen so far decide.
  }
  return counts;
}

/** 'int8' when weights are int8, 'fp16' when most float weights are float16, else 'fp32'. */
export function modelDtype(bytes: Uint8Array): ModelDtype {
  const counts = initializerTypes(bytes);
  if ((counts.get(DATA_TYPE.INT8) ?? 0) > 0) return 'int8';
  return (counts.get(DATA_TYPE.FLOAT16) ?? 0) > (counts.get(DATA_TYPE.FLOAT) ?? 0) ? 'fp16' : 'fp32';
}
