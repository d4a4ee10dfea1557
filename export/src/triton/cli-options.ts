// pets-export's --triton-* flags, and writing each exported model into the Triton repository they name.
/* eslint-disable no-console -- reports on the CLI's stderr */
import type { Options } from 'yargs';
import { DEFAULT_TRITON_MAX_BATCH, TRITON_INSTANCE_KINDS, type TritonInstanceKind } from './model-config.js';
import { writeTritonRepository } from './write-repository.js';

export const TRITON_CLI_OPTIONS = {
  'triton-repo': { type: 'string', describe: 'Also write each exported model into this Triton model repository: DIR/<name>/{config.pbtxt,labels.txt,1/model.onnx} (docs/triton.md)' },
  'triton-instance': { choices: TRITON_INSTANCE_KINDS, default: 'gpu' as TritonInstanceKind, describe: "config.pbtxt's instance_group: gpu (KIND_GPU), cpu (KIND_CPU) or auto (GPU when present, else CPU)" },
  'triton-max-batch': { type: 'number', default: DEFAULT_TRITON_MAX_BATCH, describe: "config.pbtxt's max_batch_size (0: no batching)" },
} as const satisfies Record<string, Options>;

export interface TritonCliArgs {
  tritonRepo?: string;
  tritonInstance: TritonInstanceKind;
  tritonMaxBatch: number;
}

/** Writes each model into the repository; one failing model is reported and the others still go in. */
export async function writeTritonModels(files: string[], args: TritonCliArgs): Promise<{ file: string; error: Error }[]> {
  const failures: { file: string; error: Error }[] = [];
  if (!args.tritonRepo) return failures;
  for (const file of files) {
    try {
      const written = await writeTritonRepository({ model: file, repository: args.tritonRepo, instanceKind: args.tritonInstance, maxBatchSize: args.tritonMaxBatch });
      console.error(`triton: wrote ${written.dir} (config.pbtxt, labels.txt, 1/model.onnx)`);
    } catch (error) {
      failures.push({ file, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return failures;
}
