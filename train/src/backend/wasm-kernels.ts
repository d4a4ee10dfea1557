// Gradient kernels the tfjs wasm backend lacks (work in progress: see train/test/wasm-kernels.test.ts).
export function registerWasmTrainingKernels(): void {}
