// node test/dist/src/unpack-nsfwjs.js OUT: writes nsfwjs' three models as TensorFlow.js folders under OUT
// (OUT/mobilenet_v2, OUT/mobilenet_v2_mid, OUT/inception_v3, each with labels.txt), for pets-export --tfjs.
import { join } from 'node:path';
import { NSFWJS_MODELS, NSFWJS_VERSION, unpackNsfwjsModel } from './nsfwjs-models.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node test/dist/src/unpack-nsfwjs.js OUT_DIR\n');
  process.exitCode = 2;
} else {
  for (const model of NSFWJS_MODELS) {
    const file = await unpackNsfwjsModel(model, join(out, model.name));
    process.stdout.write(`nsfwjs ${NSFWJS_VERSION} ${model.title} (${model.format}, ${model.imageSize}x${model.imageSize}): ${file}\n`);
  }
}
