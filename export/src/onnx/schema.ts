// The ONNX protobuf schema, loaded from the official onnx.proto vendored in export/proto/.
//
// Why protobufjs 7 with the vendored .proto rather than the onnx-proto package: onnx-proto 8.0.1 is
// generated from ONNX 1.10 (IR 8) and pins protobufjs 6, which is unmaintained and would be a second copy
// next to the protobufjs 7 that onnxruntime-web already brings. The vendored file is the ONNX project's own
// (IR 10, Apache-2.0, header kept), so the field numbers and types come from the spec, not from our hands.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { ModelProto } from './types.js';

/** The onnx.proto next to the package: proto/ is two levels up from both src/onnx/ and dist/src/onnx/. */
function protoPath(): string {
  for (const relative of ['../../proto/onnx.proto', '../../../proto/onnx.proto']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('export/proto/onnx.proto is missing from the @pets/export package');
}

let modelType: protobuf.Type | undefined;

/** onnx.ModelProto, with the .proto's snake_case field names (ir_version, raw_data) kept. */
export function modelProtoType(): protobuf.Type {
  modelType ??= new protobuf.Root().loadSync(protoPath(), { keepCase: true }).lookupType('onnx.ModelProto');
  return modelType;
}

/** Serializes a ModelProto; throws when a field does not fit the schema. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new Error(`Internal error: the ONNX model does not fit onnx.proto: ${problem}`);
  return type.encode(model).finish();
}

/** Parses ONNX bytes into plain objects (int64 as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  return type.toObject(type.decode(bytes), { longs: Number, enums: Number, bytes: Uint8Array, defaults: false, arrays: true }) as ModelProto;
}
