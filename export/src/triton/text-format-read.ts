// Reads Protocol Buffers text format (https://protobuf.dev/reference/protobuf/textformat-spec/) against a
// protobufjs Type, for Triton's config.pbtxt.
//
// Why hand-written: protobufjs reads .proto files and the binary and JSON encodings, not the text format,
// and npm has no maintained text-format library; the one prototxt parser there (prototxt-parser) reads
// Caffe files without a schema, so it cannot tell an enum from a misspelt string, a message from a
// scalar, nor an unknown field name, which is what a check against model_config.proto must catch. This
// module resolves every field name, enum value and scalar type against the schema as it reads, and covers
// the syntax Triton's own configs use: `name: value`, `name { ... }` (colon optional), `name [ ... ]`
// lists of scalars or messages, map entries as `{ key: ... value: ... }`, `#` comments, quoted strings
// with C escapes (adjacent strings concatenated), and `,`/`;` separators. Extensions (`[pkg.ext]`) and
// `Any` expansion are refused: model_config.proto uses neither.
import protobuf from 'protobufjs';
import { FLOAT_TYPES, INTEGER_RANGES, isMap, TextFormatError, type TextMessage, type TextValue } from './text-format.js';

type Token = { kind: 'ident' | 'number' | 'string' | 'symbol'; text: string; line: number };

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (/[{}[\]<>:,;]/.test(c)) {
      tokens.push({ kind: 'symbol', text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (text[i] !== c) {
        if (i >= text.length || text[i] === '\n') throw new TextFormatError('unterminated string', line);
        if (text[i] !== '\\') {
          value += text[i++];
          continue;
        }
        const e = text[i + 1];
        if (e in ESCAPES) {
          value += ESCAPES[e];
          i += 2;
        } else if (/[0-7]/.test(e)) {
          const digits = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
          value += String.fromCharCode(parseInt(digits, 8));
          i += 1 + digits.length;
        } else if (e === 'x') {
          const digits = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2))?.[0];
          if (!digits) throw new TextFormatError('\\x needs hex digits', line);
          value += String.fromCharCode(parseInt(digits, 16));
          i += 2 + digits.length;
        } else {
          throw new TextFormatError(`unknown escape \\${e}`, line);
        }
      }
      i++;
      tokens.push({ kind: 'string', text: value, line });
    } else {
      const word = /^-?[A-Za-z0-9_.+-]+/.exec(text.slice(i))?.[0];
      if (!word) throw new TextFormatError(`unexpected character ${JSON.stringify(c)}`, line);
      tokens.push({ kind: /^[A-Za-z_][A-Za-z0-9_]*$/.test(word) ? 'ident' : 'number', text: word, line });
      i += word.length;
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private line(): number {
    return (this.peek() ?? this.tokens.at(-1))?.line ?? 1;
  }

  private next(what: string): Token {
    const token = this.tokens[this.pos++];
    if (!token) throw new TextFormatError(`unexpected end of text, expected ${what}`, this.line());
    return token;
  }

  private take(symbol: string): boolean {
    if (this.peek()?.kind === 'symbol' && this.peek()?.text === symbol) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expect(symbol: string): void {
    const token = this.next(`"${symbol}"`);
    if (token.kind !== 'symbol' || token.text !== symbol) throw new TextFormatError(`expected "${symbol}", got ${JSON.stringify(token.text)}`, token.line);
  }

  /** Fields until `close` (or the end of text when close is null). */
  message(type: protobuf.Type, close: string | null): TextMessage {
    const out: TextMessage = {};
    const oneofs = new Map<string, string>();
    for (;;) {
      const token = this.peek();
      if (!token) {
        if (close !== null) throw new TextFormatError(`unexpected end of text, expected "${close}"`, this.line());
        return out;
      }
      if (close !== null && token.kind === 'symbol' && token.text === close) {
        this.pos++;
        return out;
      }
      const nameToken = this.next('a field name');
      if (nameToken.kind !== 'ident') throw new TextFormatError(`expected a field name of ${type.fullName.slice(1)}, got ${JSON.stringify(nameToken.text)}`, nameToken.line);
      const name = nameToken.text;
      const field = type.fields[name];
      if (!field) {
        throw new TextFormatError(`${type.fullName.slice(1)} has no field "${name}" (fields: ${Object.keys(type.fields).join(', ')})`, nameToken.line);
      }
      const oneof = field.partOf?.name;
      if (oneof) {
        const other = oneofs.get(oneof);
        if (other && other !== name) throw new TextFormatError(`"${name}" and "${other}" are both set, but oneof ${oneof} allows one`, nameToken.line);
        oneofs.set(oneof, name);
      }
      this.fieldValue(type, field, out, nameToken.line);
      if (!this.take(',')) this.take(';');
    }
  }

  private fieldValue(type: protobuf.Type, field: protobuf.FieldBase, out: TextMessage, line: number): void {
    const name = field.name;
    const messageType = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
    const composite = isMap(field) || messageType !== null;
    const colon = this.take(':');
    if (!colon && !composite) throw new TextFormatError(`expected ":" after scalar field "${name}"`, line);
    const values: TextValue[] = [];
    if (this.take('[')) {
      if (!field.repeated && !isMap(field)) throw new TextFormatError(`"${name}" is not repeated: a list is not allowed`, line);
      if (!this.take(']')) {
        do values.push(this.single(field, messageType));
        while (this.take(','));
        this.expect(']');
      }
    } else {
      values.push(this.single(field, messageType));
    }
    if (isMap(field)) {
      const map = (out[name] ??= {}) as TextMessage;
      for (const entry of values as [string, TextValue][]) map[entry[0]] = entry[1];
    } else if (field.repeated) {
      ((out[name] ??= []) as TextValue[]).push(...values);
    } else {
      if (name in out) throw new TextFormatError(`"${name}" of ${type.fullName.slice(1)} is given twice but is not repeated`, line);
      out[name] = values[0];
    }
  }

  /** One value: a message in braces, a map entry (as [key, value]), or a scalar. */
  private single(field: protobuf.FieldBase, messageType: protobuf.Type | null): TextValue {
    if (isMap(field)) return this.mapEntry(field, messageType);
    if (messageType) return this.braced(messageType, field.name);
    return this.scalar(field, field.type);
  }

  /** A message in braces (or angle brackets). */
  private braced(type: protobuf.Type, name: string): TextMessage {
    if (this.take('{')) return this.message(type, '}');
    if (this.take('<')) return this.message(type, '>');
    throw new TextFormatError(`"${name}" is a message (${type.name}): expected "{"`, this.line());
  }

  private mapEntry(field: protobuf.MapField, valueType: protobuf.Type | null): [string, TextValue] {
    const close = this.take('{') ? '}' : this.take('<') ? '>' : null;
    if (!close) throw new TextFormatError(`map "${field.name}" entries are written { key: ... value: ... }`, this.line());
    let key: TextValue | undefined;
    let value: TextValue | undefined;
    while (!this.take(close)) {
      const token = this.next('key or value');
      if (token.text === 'key' && key === undefined) {
        this.expect(':');
        key = field.keyType === 'string' ? this.stringValue() : this.scalar(field, field.keyType);
      } else if (token.text === 'value' && value === undefined) {
        const colon = this.take(':');
        if (valueType) value = this.braced(valueType, `${field.name} value`);
        else if (colon) value = this.scalar(field, field.type);
        else throw new TextFormatError(`expected ":" after value of map "${field.name}"`, token.line);
      } else {
        throw new TextFormatError(`map "${field.name}" entries hold one key and one value; got ${JSON.stringify(token.text)}`, token.line);
      }
      if (!this.take(',')) this.take(';');
    }
    if (key === undefined) throw new TextFormatError(`a "${field.name}" entry has no key`, this.line());
    return [String(key), value ?? (valueType ? {} : defaultScalar(field))];
  }

  private stringValue(): string {
    const token = this.next('a string');
    if (token.kind !== 'string') throw new TextFormatError(`expected a quoted string, got ${JSON.stringify(token.text)}`, token.line);
    let value = token.text;
    while (this.peek()?.kind === 'string') value += this.next('a string').text;
    return value;
  }

  private scalar(field: protobuf.FieldBase, type: string): TextValue {
    const where = `"${field.name}"`;
    if (field.resolvedType instanceof protobuf.Enum && type === field.type) {
      const values = field.resolvedType.values;
      const token = this.next('an enum value');
      if (token.kind === 'ident' && token.text in values) return token.text;
      if (token.kind === 'number' && /^-?\d+$/.test(token.text)) {
        const name = Object.keys(values).find((k) => values[k] === Number(token.text));
        if (name) return name;
      }
      throw new TextFormatError(`${where} must be one of ${Object.keys(values).join(', ')}; got ${JSON.stringify(token.text)}`, token.line);
    }
    if (type === 'string' || type === 'bytes') return this.stringValue();
    const token = this.next(`a value for ${where}`);
    if (type === 'bool' && token.kind !== 'string') {
      if (['true', 'True', 't', '1'].includes(token.text)) return true;
      if (['false', 'False', 'f', '0'].includes(token.text)) return false;
    }
    if (type === 'bool') throw new TextFormatError(`${where} must be true or false; got ${JSON.stringify(token.text)}`, token.line);
    if (FLOAT_TYPES.has(type)) {
      const text = token.text.replace(/[fF]$/, '');
      if (/^-?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
      if (/^nan$/i.test(text)) return NaN;
      if (token.kind !== 'number' || !/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
        throw new TextFormatError(`${where} must be a number; got ${JSON.stringify(token.text)}`, token.line);
      }
      return Number(text);
    }
    const range = INTEGER_RANGES[type];
    if (!range) throw new TextFormatError(`${where} has type ${type}, which this reader does not know`, token.line);
    const value = token.kind === 'number' && /^-?(0x[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.test(token.text) ? parseInteger(token.text) : NaN;
    if (!Number.isInteger(value)) throw new TextFormatError(`${where} (${type}) must be an integer; got ${JSON.stringify(token.text)}`, token.line);
    if (value < range[0] || value > range[1]) throw new TextFormatError(`${where} (${type}) is out of range: ${token.text}`, token.line);
    return value;
  }
}

function parseInteger(text: string): number {
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  const value = digits.startsWith('0x') ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
  return negative ? -value : value;
}

function defaultScalar(field: protobuf.MapField): TextValue {
  if (field.type === 'string' || field.type === 'bytes') return '';
  if (field.type === 'bool') return false;
  if (field.resolvedType instanceof protobuf.Enum) return Object.keys(field.resolvedType.values)[0];
  return 0;
}

/** Reads a text-format message as a `type`; throws TextFormatError naming the line of the first problem. */
export function parseTextProto(type: protobuf.Type, text: string): TextMessage {
  return new Parser(tokenize(text)).message(type, null);
}
