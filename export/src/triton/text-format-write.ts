// Writes a message in Protocol Buffers text format against a protobufjs Type (Triton's config.pbtxt):
// every field name, enum value and scalar type is checked against the schema as it is written.
import protobuf from 'protobufjs';
import { FLOAT_TYPES, isMap, type TextMessage, type TextValue } from './text-format.js';

/** Quotes a string: printable ASCII and UTF-8 as they are, the rest as C escapes. */
export function quoteString(value: string): string {
  const escaped = value.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '"') return '\\"';
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`;
  });
  return `"${escaped}"`;
}

function formatScalar(field: protobuf.FieldBase, type: string, value: TextValue, where: string): string {
  if (field.resolvedType instanceof protobuf.Enum) {
    if (typeof value !== 'string' || !(value in field.resolvedType.values)) {
      throw new Error(`${where} must be one of ${Object.keys(field.resolvedType.values).join(', ')}; got ${JSON.stringify(value)}`);
    }
    return value;
  }
  if (type === 'string' || type === 'bytes') {
    if (typeof value !== 'string') throw new Error(`${where} must be a string; got ${JSON.stringify(value)}`);
    return quoteString(value);
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') throw new Error(`${where} must be true or false; got ${JSON.stringify(value)}`);
    return String(value);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${where} must be a finite number; got ${JSON.stringify(value)}`);
  if (!FLOAT_TYPES.has(type) && !Number.isInteger(value)) throw new Error(`${where} (${type}) must be an integer; got ${value}`);
  return String(value);
}

function formatFields(type: protobuf.Type, message: TextMessage, indent: string): string[] {
  const lines: string[] = [];
  const inner = `${indent}  `;
  for (const [name, value] of Object.entries(message)) {
    const field = type.fields[name];
    const where = `${type.name}.${name}`;
    if (!field) throw new Error(`${type.name} has no field "${name}"`);
    const messageType = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
    if (isMap(field)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} must be an object (a map)`);
      for (const [key, entry] of Object.entries(value)) {
        const keyText = field.keyType === 'string' ? quoteString(key) : formatScalar(field, field.keyType, Number(key), `${where} key`);
        lines.push(`${indent}${name} {`, `${inner}key: ${keyText}`);
        if (messageType) lines.push(`${inner}value {`, ...formatFields(messageType, entry as TextMessage, `${inner}  `), `${inner}}`);
        else lines.push(`${inner}value: ${formatScalar(field, field.type, entry, `${where} value`)}`);
        lines.push(`${indent}}`);
      }
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new Error(`${where} is repeated: give an array`);
      if (messageType) {
        lines.push(`${indent}${name} [`);
        value.forEach((item, i) => {
          lines.push(`${inner}{`, ...formatFields(messageType, item as TextMessage, `${inner}  `), `${inner}}${i < value.length - 1 ? ',' : ''}`);
        });
        lines.push(`${indent}]`);
      } else {
        lines.push(`${indent}${name}: [ ${value.map((v, i) => formatScalar(field, field.type, v, `${where}[${i}]`)).join(', ')} ]`);
      }
    } else if (messageType) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} must be an object (a message)`);
      lines.push(`${indent}${name} {`, ...formatFields(messageType, value, inner), `${indent}}`);
    } else {
      lines.push(`${indent}${name}: ${formatScalar(field, field.type, value, where)}`);
    }
  }
  return lines;
}

/** The text format of `message` as a `type`; throws naming the field when a value does not fit the schema. */
export function formatTextProto(type: protobuf.Type, message: TextMessage): string {
  return `${formatFields(type, message, '').join('\n')}\n`;
}
