// Protocol Buffers text format (https://protobuf.dev/reference/protobuf/textformat-spec/) against a
// protobufjs Type: what the writer (text-format-write.ts) and the reader (text-format-read.ts) share.
import protobuf from 'protobufjs';

/** A text that does not parse, or does not fit the schema; `line` is 1-based. */
export class TextFormatError extends Error {
  override name = 'TextFormatError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** A message as plain data: snake_case field names, enums by name, 64-bit integers as numbers, maps as objects. */
export type TextMessage = { [field: string]: TextValue };
export type TextValue = string | number | boolean | TextMessage | TextValue[];

export const INTEGER_RANGES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sint64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sfixed64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  fixed64: [0, Number.MAX_SAFE_INTEGER],
};
export const FLOAT_TYPES = new Set(['float', 'double']);

export function isMap(field: protobuf.FieldBase): field is protobuf.MapField {
  return field instanceof protobuf.MapField;
}

