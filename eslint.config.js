// Lint rules, including the fences that keep platform code apart (see ../shared/STYLE.md in the design notes):
// tfjs only in train/src/backend/, onnxruntime-node and sharp only in runtime/src/backend/node*,
// onnxruntime-web only in runtime/src/backend/web*, and a pure contract/preprocessing core.
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

const tfjs = { group: ['@tensorflow/*'], message: 'Import TensorFlow.js through train/src/backend/tf.ts, the one place that chooses the backend.' };
const ortNode = { group: ['onnxruntime-node', 'sharp'], message: 'Only runtime/src/backend/node*.ts may import onnxruntime-node or sharp.' };
const ortWeb = { group: ['onnxruntime-web', 'onnxruntime-web/*'], message: 'Only runtime/src/backend/web*.ts may import onnxruntime-web.' };
const exportTfjs = { ...tfjs, message: 'Import TensorFlow.js as @pets/train/tfjs, so export runs on the backend train chose.' };
const exportOrt = { group: ['onnxruntime-node', 'onnxruntime-web', 'onnxruntime-web/*'], message: 'Only export/src/verify/ort.ts may import onnxruntime.' };
const platform = { group: ['node:*', 'fs', 'path', 'os', 'url', 'crypto'], message: 'The contract and preprocessing are pure: no Node built-ins.' };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'web-demo/public/**', 'web-demo/build/**', '**/.scratch/**', 'export/test/teachable-machine/*.cjs' /* vendored, see its PROVENANCE.md */] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'import/no-extraneous-dependencies': ['error', { devDependencies: ['**/test/**', '**/scripts/**', '**/bench/**'], packageDir: [import.meta.dirname, `${import.meta.dirname}/train`, `${import.meta.dirname}/runtime`, `${import.meta.dirname}/export`, `${import.meta.dirname}/serve`, `${import.meta.dirname}/test`, `${import.meta.dirname}/web-demo`] }],
    },
  },
  {
    files: ['train/src/**/*.ts', 'runtime/src/**/*.ts', 'export/src/**/*.ts', 'serve/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['train/src/**/*.ts'],
    ignores: ['train/src/backend/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [tfjs] }] },
  },
  {
    files: ['export/src/**/*.ts'],
    ignores: ['export/src/verify/ort.ts', 'export/src/graph/tfjs-converter.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [exportTfjs, exportOrt] }] },
  },
  {
    // The graph-model loader: tfjs-converter chooses no backend, it runs on the tfjs-core instance train set up.
    files: ['export/src/graph/tfjs-converter.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ ...exportTfjs, group: ['@tensorflow/*', '!@tensorflow/tfjs-converter'] }, exportOrt] }] },
  },
  {
    files: ['export/src/verify/ort.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [exportTfjs] }] },
  },
  {
    // pets-serve runs models only through @pets/runtime's classifier: no onnxruntime, sharp, tfjs or exporter.
    files: ['serve/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ortNode, ortWeb, tfjs, { group: ['@pets/train', '@pets/train/*', '@pets/export'], message: 'pets-serve serves exported models through @pets/runtime only.' }] }] },
  },
  {
    files: ['runtime/src/**/*.ts'],
    ignores: ['runtime/src/backend/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ortNode, ortWeb] }] },
  },
  {
    files: ['runtime/src/contract.ts', 'runtime/src/preprocess.ts', 'runtime/src/resize.ts', 'runtime/src/wasm/**', 'runtime/src/errors.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ortNode, ortWeb, tfjs, platform] }] },
  },
  {
    files: ['runtime/src/backend/web*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ortNode, platform] }] },
  },
  {
    files: ['runtime/src/backend/node*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ortWeb] }] },
  },
  {
    // The demo page runs in browsers and goes through @pets/runtime's browser entry only.
    files: ['web-demo/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['onnxruntime-*', 'sharp', '@pets/runtime/node', '@pets/runtime/node-decode', 'node:*'], message: 'web-demo/src runs in browsers: import @pets/runtime (its "browser" entry), nothing Node-only.' }] }],
    },
  },
  {
    // node:test's test() and describe() return promises the runner awaits itself.
    files: ['**/test/**/*.ts', 'test/*.ts', '**/scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
