// A pets ONNX model -> Triton's ModelConfig (as config.pbtxt data): platform onnxruntime_onnx, inputs and
// outputs with the datatypes and dims of the model's graph, dynamic batching, the label file on the class
// outputs, one instance group, and the pets input contract as a model parameter so that a client can read
// it from Triton's GET /v2/models/{name}/config.
// Field meanings: Triton's docs/user_guide/model_configuration.md and export/proto/triton/model_config.proto.
import { checkOutputWidth, ModelContractError, ONNX_METADATA_KEYS, ONNX_NAMES, parseContract, type ModelContract } from '@pets/runtime/contract';
import { ExportError } from '../errors.js';
import type { ModelProto, ValueInfoProto } from '../onnx/types.js';
import type { TextMessage } from './text-format.js';

/** Where Triton runs the model's instances. */
export const TRITON_INSTANCE_KINDS = ['gpu', 'cpu', 'auto'] as const;
export type TritonInstanceKind = (typeof TRITON_INSTANCE_KINDS)[number];

/**
 * Model config parameter holding the contract JSON, the ONNX metadata key (GET /v2/models/{name}/config
 * gives it as parameters["pets.contract"].string_value, on Triton as on pets-serve).
 */
export const TRITON_CONTRACT_PARAMETER = ONNX_METADATA_KEYS.contract;

/** The label file Triton's classification extension reads, next to config.pbtxt. */
export const TRITON_LABEL_FILE = 'labels.txt';

/** Largest batch Triton forms (from one request or by dynamic batching), the runtime's default batch. */
export const DEFAULT_TRITON_MAX_BATCH = 16;

/** How long Triton's dynamic batcher waits for more requests to join a batch (1 ms, a fifth of one image's CPU time). */
export const DEFAULT_TRITON_QUEUE_DELAY_US = 1000;

export interface TritonConfigOptions {
  /** Model name in the repository and in URLs. */
  name: string;
  /** max_batch_size; 0 turns batching off (dims then include the batch dimension). Default 16. */
  maxBatchSize?: number;
  /** instance_group kind: gpu (KIND_GPU), cpu (KIND_CPU) or auto (GPU when present). Default gpu. */
  instanceKind?: TritonInstanceKind;
  /** dynamic_batching.max_queue_delay_microseconds. Default 1000. */
  queueDelayMicroseconds?: number;
}

/** onnx.proto TensorProto.DataType -> model_config.proto DataType. */
const ONNX_TO_TRITON: Record<number, string> = {
  1: 'TYPE_FP32', 2: 'TYPE_UINT8', 3: 'TYPE_INT8', 4: 'TYPE_UINT16', 5: 'TYPE_INT16', 6: 'TYPE_INT32', 7: 'TYPE_INT64',
  8: 'TYPE_STRING', 9: 'TYPE_BOOL', 10: 'TYPE_FP16', 11: 'TYPE_FP64', 12: 'TYPE_UINT32', 13: 'TYPE_UINT64', 16: 'TYPE_BF16',
};

const KIND: Record<TritonInstanceKind, string> = { gpu: 'KIND_GPU', cpu: 'KIND_CPU', auto: 'KIND_AUTO' };

/** Triton model names become folder names and URL segments: letters, digits, _ . - and not starting with a dot. */
export function checkTritonName(name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name)) {
    throw new RangeError(`"name" must be 1-128 letters, digits, "_", "." or "-", not starting with "."; got ${JSON.stringify(name)}.`);
  }
  return name;
}

/** The contract pets-export embedded in the model; ModelContractError when it has none. */
export function contractOfModel(model: ModelProto): ModelContract {
  const json = (model.metadata_props ?? []).find((p) => p.key === ONNX_METADATA_KEYS.contract)?.value;
  if (json === undefined) {
    throw new ModelContractError(`The model has no "${ONNX_METADATA_KEYS.contract}" metadata: export it with pets-export, which embeds the input contract.`);
  }
  return parseContract(json);
}

/** A graph input or output as a Triton tensor: datatype and dims (without the batch dimension when batching). */
function tensorOf(value: ValueInfoProto, batching: boolean, what: string): { data_type: string; dims: number[] } {
  const tensor = value.type?.tensor_type;
  const dataType = tensor ? ONNX_TO_TRITON[tensor.elem_type] : undefined;
  if (!tensor || !dataType) throw new ExportError(`The model's ${what} "${value.name}" is not a tensor of a type Triton knows (elem_type ${tensor?.elem_type}).`);
  const dims = (tensor.shape?.dim ?? []).map((d) => (d.dim_value !== undefined && d.dim_value > 0 ? d.dim_value : -1));
  if (!batching) return { data_type: dataType, dims };
  if (dims.length === 0 || dims[0] !== -1) {
    throw new ExportError(
      `The model's ${what} "${value.name}" has no dynamic batch dimension (shape [${dims.join(', ')}]): Triton can batch it only with max_batch_size 0 (--triton-max-batch 0).`,
    );
  }
  return { data_type: dataType, dims: dims.slice(1) };
}

/** Checks the options and returns them with their defaults. */
export function checkTritonOptions(options: TritonConfigOptions): Required<TritonConfigOptions> {
  const maxBatchSize = options.maxBatchSize ?? DEFAULT_TRITON_MAX_BATCH;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 0 || maxBatchSize > 2 ** 31 - 1) {
    throw new RangeError(`"maxBatchSize" must be an integer >= 0 (0: no batching); got ${String(options.maxBatchSize)}.`);
  }
  const instanceKind = options.instanceKind ?? 'gpu';
  if (!TRITON_INSTANCE_KINDS.includes(instanceKind)) {
    throw new RangeError(`Unsupported instance kind "${String(instanceKind)}". Expected one of: ${TRITON_INSTANCE_KINDS.join(', ')}.`);
  }
  const queueDelayMicroseconds = options.queueDelayMicroseconds ?? DEFAULT_TRITON_QUEUE_DELAY_US;
  if (!Number.isInteger(queueDelayMicroseconds) || queueDelayMicroseconds < 0) {
    throw new RangeError(`"queueDelayMicroseconds" must be an integer >= 0; got ${String(options.queueDelayMicroseconds)}.`);
  }
  return { name: checkTritonName(options.name), maxBatchSize, instanceKind, queueDelayMicroseconds };
}

/** The ModelConfig of a pets model, as text-format data (enums by name). */
export function tritonModelConfig(model: ModelProto, contract: ModelContract, options: TritonConfigOptions): TextMessage {
  const { name, maxBatchSize, instanceKind, queueDelayMicroseconds } = checkTritonOptions(options);
  const batching = maxBatchSize > 0;
  const graph = model.graph;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  // Opset < 9 models list their weights among the graph inputs too; those are not fed by requests.
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name));
  const outputs = graph.output ?? [];
  const probabilities = outputs.find((o) => o.name === ONNX_NAMES.probabilities);
  if (!probabilities) {
    throw new ModelContractError(`The model has no "${ONNX_NAMES.probabilities}" output (outputs: ${outputs.map((o) => o.name).join(', ')}).`);
  }
  const classes = labelsOutputWidth(probabilities);
  checkOutputWidth(contract, classes);
  const config: TextMessage = {
    name,
    platform: 'onnxruntime_onnx',
    max_batch_size: maxBatchSize,
    input: inputs.map((v) => ({ name: v.name, ...tensorOf(v, batching, 'input') })),
    output: outputs.map((v) => {
      const tensor = tensorOf(v, batching, 'output');
      // Triton's classification extension names classes from the label file of the output it ranks.
      const perClass = tensor.dims.at(-1) === contract.labels.length;
      return { name: v.name, ...tensor, ...(perClass ? { label_filename: TRITON_LABEL_FILE } : {}) };
    }),
    ...(batching ? { dynamic_batching: { max_queue_delay_microseconds: queueDelayMicroseconds } } : {}),
    instance_group: [{ count: 1, kind: KIND[instanceKind] }],
    parameters: { [TRITON_CONTRACT_PARAMETER]: { string_value: JSON.stringify(contract) } },
  };
  return config;
}

function labelsOutputWidth(output: ValueInfoProto): number {
  const last = output.type?.tensor_type?.shape?.dim?.at(-1)?.dim_value;
  return typeof last === 'number' ? last : 0;
}

/** labels.txt: one label per line in output index order, as Triton's label_filename expects. */
export function tritonLabelFile(contract: ModelContract): string {
  for (const label of contract.labels) {
    if (/[\r\n]/.test(label)) throw new ExportError(`Label ${JSON.stringify(label)} has a line break: it cannot be written to ${TRITON_LABEL_FILE}, one label per line.`);
  }
  return `${contract.labels.join('\n')}\n`;
}
