// Identity, and Cast to the dtype a tensor already has, for the wasm backend without copying: the output
// shares the input's memory (reference-counted, as the built-in Reshape does). The built-ins copy, and
// while gradients are recorded the engine clones (Identity) every tensor a gradient will need, and ReLU's
// gradient casts a float32 mask to float32: about 5% of a model3 training step, and a quarter of its
// peak memory (train/scripts/bench-train.ts).
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { CastAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

type ShareArgs = { inputs: { x?: TensorInfo }; backend: BackendWasm; attrs: Partial<CastAttrs> };

function makeShareConfig(kernelName: 'Identity' | 'Cast', fallback: KernelConfig | undefined): KernelConfig {
  const kernel = (args: ShareArgs): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (x === undefined) throw new TypeError(`${kernelName} needs input "x".`);
    const sameType = kernelName === 'Identity' || attrs.dtype === x.dtype;
    // Strings live in JavaScript, not on the heap: the built-in handles them.
    if (!sameType || x.dtype === 'string') {
      if (fallback === undefined) throw new RangeError(`${kernelName} of a ${x.dtype} tensor to ${String(attrs.dtype)} is not supported on wasm.`);
      return fallback.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: kernel as unknown as KernelFunc,
    // The engine runs setup for the kernels registered when the backend starts: the fallback needs its own.
    setupFunc: fallback?.setupFunc,
  };
}

/** Identity on wasm by sharing; string tensors go to `fallback`, the built-in. */
export function makeIdentityConfig(fallback: KernelConfig | undefined): KernelConfig {
  return makeShareConfig('Identity', fallback);
}

/** Cast on wasm: to the same dtype by sharing; real conversions go to `fallback`, the built-in. */
export function makeCastConfig(fallback: KernelConfig | undefined): KernelConfig {
  return makeShareConfig('Cast', fallback);
}
