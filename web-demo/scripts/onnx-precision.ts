// Reads which float type an ONNX model stores its weights in (pets-export --fp16 writes float16 weights
// and keeps float32 inputs and outputs), walking the protobuf wire format: ModelProto.graph (7) ->
// GraphProto.initializer (5) -> TensorProto.data_type (2).
import protobuf from 'protobufjs/minimal.js';

const FLOAT = 1;
const FLOAT16 = 10;

/** Calls `visit(field, reader)` for each field of the message in bytes[start, end); visit reads or skips it. */
function fields(reader: protobuf.Reader, end: number, visit: (field: number, wireType: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (!visit(tag >>> 3, tag & 7)) reader.skipType(tag & 7);
  }
}

function tensorDataType(reader: protobuf.Reader, end: number): number | undefined {
  let dataType: number | undefined;
  fields(reader, end, (field, wireType) => {
    if (field !== 2 || wireType !== 0) return false;
    dataType = reader.int32();
    return true;
  });
  return dataType;
}

/** 'fp16' when the weights are float16, else 'fp32'. */
export function onnxWeightPrecision(bytes: Uint8Array): 'fp16' | 'fp32' {
  const reader = protobuf.Reader.create(bytes);
  const counts = { [FLOAT]: 0, [FLOAT16]: 0 } as Record<number, number>;
  fields(reader, bytes.length, (field, wireType) => {
    if (field !== 7 || wireType !== 2) return false;
    const graphEnd = reader.uint32() + reader.pos;
    fields(reader, graphEnd, (graphField, graphWire) => {
      if (graphField !== 5 || graphWire !== 2) return false;
      const tensorEnd = reader.uint32() + reader.pos;
      const type = tensorDataType(reader, tensorEnd);
      if (type !== undefined) counts[type] = (counts[type] ?? 0) + 1;
      return true;
    });
    return true;
  });
  return counts[FLOAT16] > counts[FLOAT] ? 'fp16' : 'fp32';
}
