// Reads what a pets ONNX model carries about itself: the input contract and provenance in metadata_props.
// onnxruntime's JavaScript API does not expose model metadata, so the ModelProto's top-level fields are
// read here with protobufjs' wire-format reader, skipping the graph (the weights) without decoding it.
// Pure: no platform imports, shared by the Node and browser entries.
import protobuf from 'protobufjs/minimal.js';
import { ModelContractError, ONNX_METADATA_KEYS, parseContract, type ModelContract } from './contract.js';

/** onnx.proto field numbers: ModelProto.metadata_props, producer_name; StringStringEntryProto key/value. */
const FIELD = { producerName: 2, metadataProps: 14, entryKey: 1, entryValue: 2 } as const;
const WIRE_LENGTH_DELIMITED = 2;

export interface ModelMetadata {
  /** metadata_props as a map. */
  props: Record<string, string>;
  producerName: string;
}

/** Top-level metadata of an ONNX model file; throws ModelContractError when the bytes are not ONNX. */
export function readOnnxMetadata(bytes: Uint8Array): ModelMetadata {
  // Zero bytes parse as an empty ModelProto, which would be reported as a model without the contract.
  if (bytes.byteLength === 0) throw new ModelContractError('The model is empty (0 bytes): not an ONNX file. Export one with pets-export.');
  const props: Record<string, string> = {};
  let producerName = '';
  try {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === FIELD.metadataProps && wire === WIRE_LENGTH_DELIMITED) {
        const end = reader.uint32() + reader.pos;
        let key = '';
        let value = '';
        while (reader.pos < end) {
          const entryTag = reader.uint32();
          if (entryTag >>> 3 === FIELD.entryKey) key = reader.string();
          else if (entryTag >>> 3 === FIELD.entryValue) value = reader.string();
          else reader.skipType(entryTag & 7);
        }
        props[key] = value;
      } else if (field === FIELD.producerName && wire === WIRE_LENGTH_DELIMITED) {
        producerName = reader.string();
      } else {
        reader.skipType(wire);
      }
    }
  } catch (error) {
    throw new ModelContractError(`The model is not a readable ONNX file (${(error as Error).message}).`);
  }
  return { props, producerName };
}

/** The input contract embedded by pets-export; ModelContractError when the model has none. */
export function contractFromMetadata(metadata: ModelMetadata): ModelContract {
  const json = metadata.props[ONNX_METADATA_KEYS.contract];
  if (json === undefined) {
    const by = metadata.producerName ? ` (produced by "${metadata.producerName}")` : '';
    throw new ModelContractError(
      `The model${by} has no "${ONNX_METADATA_KEYS.contract}" metadata: export it with pets-export, which embeds the input contract.`,
    );
  }
  return parseContract(json);
}

/** Provenance JSON embedded by pets-export, or null when absent or unreadable. */
export function provenanceFromMetadata(metadata: ModelMetadata): Record<string, unknown> | null {
  const json = metadata.props[ONNX_METADATA_KEYS.provenance];
  if (json === undefined) return null;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
