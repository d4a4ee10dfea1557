// Triton's ModelConfig schema, loaded from the model_config.proto vendored in export/proto/triton/
// (BSD-3-Clause, source and commit in PROVENANCE.md there), so that field names, enum values and types
// of a generated config.pbtxt come from Triton's own definition.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** proto/ is two levels up from src/triton/ and three from dist/src/triton/. */
function protoPath(): string {
  for (const relative of ['../../proto/triton/model_config.proto', '../../../proto/triton/model_config.proto']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('export/proto/triton/model_config.proto is missing from the @pets/export package');
}

let configType: protobuf.Type | undefined;

/** inference.ModelConfig with the .proto's snake_case field names. */
export function modelConfigType(): protobuf.Type {
  if (!configType) {
    const root = new protobuf.Root().loadSync(protoPath(), { keepCase: true });
    root.resolveAll();
    configType = root.lookupType('inference.ModelConfig');
  }
  return configType;
}
