// writeTritonRepository(): a pets .onnx file -> one model folder of a Triton model repository:
//   <repository>/<name>/config.pbtxt, <repository>/<name>/labels.txt, <repository>/<name>/<version>/model.onnx
// The folder is assembled under a temporary name inside the repository and renamed into place, so that
// Triton (or a reader) never sees a partial folder, and a failure leaves the repository as it was.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ExportError } from '../errors.js';
import { decodeModel } from '../onnx/schema.js';
import type { ModelProto } from '../onnx/types.js';
import { checkTritonOptions, contractOfModel, TRITON_LABEL_FILE, tritonLabelFile, tritonModelConfig, type TritonConfigOptions } from './model-config.js';
import { modelConfigType } from './schema.js';
import { formatTextProto } from './text-format-write.js';
import { parseTextProto } from './text-format-read.js';

export interface TritonRepositoryOptions extends Omit<TritonConfigOptions, 'name'> {
  /** The .onnx file written by pets-export. */
  model: string;
  /** The model repository folder (created when missing). */
  repository: string;
  /** Model name (its folder). Default: the file name without .onnx. */
  name?: string;
  /** Version folder. Default 1. */
  version?: number;
}

export interface TritonRepositoryResult {
  name: string;
  /** The model's folder: <repository>/<name>. */
  dir: string;
  configFile: string;
  labelsFile: string;
  modelFile: string;
  /** config.pbtxt's text. */
  config: string;
}

function fsReason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

async function readModel(file: string): Promise<{ bytes: Uint8Array; model: ModelProto }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ExportError(`Cannot read the model ${file}: ${fsReason(error)}.`);
  }
  try {
    if (bytes.length === 0) throw new Error('0 bytes');
    return { bytes, model: decodeModel(bytes) };
  } catch (error) {
    throw new ExportError(`${file} is not an ONNX model (${(error as Error).message}).`);
  }
}

/** config.pbtxt text for the config, proven to read back as the same ModelConfig under Triton's schema. */
export function formatTritonConfig(config: ReturnType<typeof tritonModelConfig>): string {
  const type = modelConfigType();
  const text = formatTextProto(type, config);
  const back = parseTextProto(type, text);
  const problem = type.verify(type.fromObject(back));
  if (problem || JSON.stringify(back) !== JSON.stringify(config)) throw new Error(`Internal error: config.pbtxt does not read back as written (${problem ?? 'values differ'}).`);
  return text;
}

/** Moves `from` to `to`, replacing a folder already at `to`; on failure `to` is as it was. */
async function replaceFolder(from: string, to: string, scratch: string): Promise<void> {
  const old = join(scratch, `.old-${randomBytes(4).toString('hex')}`);
  const hadOld = await rename(to, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw new ExportError(`Cannot replace ${to}: ${fsReason(error)}.`);
    },
  );
  try {
    await rename(from, to);
  } catch (error) {
    if (hadOld) await rename(old, to).catch(() => {});
    throw new ExportError(`Cannot write ${to}: ${fsReason(error)}.`);
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}

export async function writeTritonRepository(options: TritonRepositoryOptions): Promise<TritonRepositoryResult> {
  if (typeof options !== 'object' || options === null || typeof options.model !== 'string' || typeof options.repository !== 'string') {
    throw new TypeError('writeTritonRepository needs { model, repository }: the .onnx file and the repository folder.');
  }
  const file = resolve(options.model);
  const name = options.name ?? basename(file).replace(/\.onnx$/i, '');
  const settings = checkTritonOptions({ ...options, name });
  const version = options.version ?? 1;
  if (!Number.isInteger(version) || version < 1) throw new RangeError(`"version" must be a positive integer; got ${String(options.version)}.`);
  const { bytes, model } = await readModel(file);
  const contract = contractOfModel(model);
  const config = formatTritonConfig(tritonModelConfig(model, contract, settings));
  const labels = tritonLabelFile(contract);

  const repository = resolve(options.repository);
  try {
    await mkdir(repository, { recursive: true });
  } catch (error) {
    throw new ExportError(`Cannot create the Triton repository ${repository}: ${fsReason(error)}.`);
  }
  if (!(await stat(repository)).isDirectory()) throw new ExportError(`The Triton repository ${repository} is not a folder.`);
  const dir = join(repository, name);
  // A dot folder in the repository itself: same file system as the target, so that rename() is atomic.
  const tmp = await mkdtemp(join(repository, `.${name}.tmp-`)).catch((error: unknown) => {
    throw new ExportError(`Cannot write to the Triton repository ${repository}: ${fsReason(error)}.`);
  });
  try {
    await mkdir(join(tmp, String(version)));
    await writeFile(join(tmp, 'config.pbtxt'), config);
    await writeFile(join(tmp, TRITON_LABEL_FILE), labels);
    await writeFile(join(tmp, String(version), 'model.onnx'), bytes);
    await replaceFolder(tmp, dir, repository);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    if (error instanceof ExportError) throw error;
    throw new ExportError(`Cannot write ${dir}: ${fsReason(error)}.`);
  }
  return {
    name,
    dir,
    configFile: join(dir, 'config.pbtxt'),
    labelsFile: join(dir, TRITON_LABEL_FILE),
    modelFile: join(dir, String(version), 'model.onnx'),
    config,
  };
}
