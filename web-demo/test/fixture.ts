// Test fixtures: a model from a tiny training run on the bundled sample, exported by pets-export (fp32
// and fp16), and the Chromium the browser tests drive (never downloaded: the system's, or PETS_CHROMIUM).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { repoDir, webDemoDir } from '../scripts/build.js';

export const sampleImages = join(repoDir, 'data', 'pets-mini', 'images');
export const artifactsDir = join(webDemoDir, 'test-artifacts');

/** The browser, and why the browser tests are skipped when there is none. */
export const chromiumPath = process.env.PETS_CHROMIUM ?? '/usr/bin/chromium';
export const noChromium = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (set PETS_CHROMIUM to a Chromium or Chrome binary)`;

/** Flags for headless Chromium in a container; --enable-unsafe-webgpu gives WebGPU a (software) adapter. */
export function chromiumArgs(webgpu: boolean): string[] {
  const args = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
  return webgpu ? [...args, '--enable-unsafe-webgpu'] : args;
}

function run(bin: string, args: string[]): void {
  const result = spawnSync(join(repoDir, 'node_modules', '.bin', bin), args, { encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stderr}${result.stdout}`);
}

export interface FixtureModels {
  fp32: string;
  fp16: string;
}

/** Trains model3 at 64x64 for one epoch (about 10 s) and exports it in both precisions into `dir`. */
export async function makeModels(dir: string): Promise<FixtureModels> {
  await mkdir(dir, { recursive: true });
  const runDir = join(dir, 'run');
  run('pets-train', ['--data', join(repoDir, 'data', 'pets-mini'), '--preset', 'model3', '--image-size', '64', '--epochs', '1', '--out', runDir]);
  const models = { fp32: join(dir, 'model.onnx'), fp16: join(dir, 'model-fp16.onnx') };
  run('pets-export', ['--run', runDir, '--out', models.fp32]);
  run('pets-export', ['--run', runDir, '--out', models.fp16, '--fp16']);
  return models;
}

export async function artifactPath(name: string): Promise<string> {
  await mkdir(artifactsDir, { recursive: true });
  return join(artifactsDir, name);
}
