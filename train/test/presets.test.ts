// The five presets: architecture parameter counts against the reference study's tables (hand-computed
// below from the layer stack), training defaults, image-size limits, seeding and the logits model.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_AUGMENT } from '../src/augment.js';
import { chooseBackend } from '../src/backend/index.js';
import { tf, type LayersModel, type Tensor } from '../src/backend/tf.js';
import {
  ImageSizeError,
  PRESET_NAMES,
  PRESETS,
  buildModel,
  logitsModel,
  presetConfig,
  type Architecture,
  type ModelSpec,
} from '../src/presets.js';
import { formatSummary, summarize } from '../src/summary.js';

const CLASSES = 37;

function spec(architecture: Architecture, imageSize: number, overrides: Partial<ModelSpec> = {}): ModelSpec {
  return { architecture, dropout: 0, imageSize, numClasses: CLASSES, seed: 1, ...overrides };
}

/** Builds the model, runs `use` on it and disposes it whatever happens. */
function withModel<T>(s: ModelSpec, use: (model: LayersModel) => T): T {
  const model = buildModel(s);
  try {
    return use(model);
  } finally {
    model.dispose();
  }
}

function layerParams(model: LayersModel): Record<string, number> {
  return Object.fromEntries(model.layers.map((layer) => [layer.name, layer.countParams()]));
}

function dropoutRates(model: LayersModel): number[] {
  return model.layers.filter((layer) => layer.getClassName() === 'Dropout').map((layer) => Number(layer.getConfig().rate));
}

before(async () => {
  await chooseBackend('wasm');
});

describe('presets: training defaults', () => {
  test('the transfer presets, then the five reference presets, in order', () => {
    assert.deepEqual([...PRESET_NAMES], ['mobilenet', 'darknet', 'model1', 'model2', 'model3', 'model4', 'model5']);
    assert.deepEqual(Object.keys(PRESETS).sort(), [...PRESET_NAMES].sort());
  });

  test('architecture, dropout, augmentation, learning rate, batch size, image size', () => {
    const expected = {
      model1: { architecture: 'plain-cnn', dropout: 0, augment: null, learningRate: 1e-3 },
      model2: { architecture: 'bn-gap-cnn', dropout: 0, augment: null, learningRate: 1e-3 },
      model3: { architecture: 'bn-gap-cnn', dropout: 0.5, augment: null, learningRate: 1e-3 },
      model4: { architecture: 'bn-gap-cnn', dropout: 0.5, augment: DEFAULT_AUGMENT, learningRate: 1e-3 },
      model5: { architecture: 'bn-gap-cnn', dropout: 0.5, augment: DEFAULT_AUGMENT, learningRate: 3e-4 },
      mobilenet: { architecture: 'transfer', dropout: 0.5, augment: null, learningRate: 3e-3 },
      darknet: { architecture: 'transfer', dropout: 0.5, augment: null, learningRate: 3e-3 },
    } as const;
    for (const name of PRESET_NAMES) {
      const config = presetConfig(name);
      assert.equal(config.architecture, expected[name].architecture, name);
      assert.equal(config.dropout, expected[name].dropout, name);
      assert.deepEqual(config.augment, expected[name].augment, name);
      assert.equal(config.learningRate, expected[name].learningRate, name);
      assert.equal(config.batchSize, 32, name);
      assert.equal(config.imageSize, 224, name);
      assert.ok(Number.isInteger(config.epochs) && config.epochs > 0, name);
    }
  });

  test('presetConfig returns a copy: editing it leaves PRESETS alone', () => {
    const config = presetConfig('model4');
    config.learningRate = 42;
    assert.ok(config.augment);
    config.augment.rotationDegrees = 90;
    assert.equal(PRESETS.model4.learningRate, 1e-3);
    assert.equal(PRESETS.model4.augment?.rotationDegrees, 10);
    assert.equal(DEFAULT_AUGMENT.rotationDegrees, 10);
  });

  test('BAD CALL - presetConfig("nope") lists the valid presets', () => {
    assert.throws(
      () => presetConfig('nope'),
      (error: Error) => {
        assert.equal(error.name, 'RangeError');
        assert.match(error.message, /Unknown preset "nope"\. Expected one of: mobilenet, darknet, model1, model2, model3, model4, model5\./);
        return true;
      },
    );
  });

  test('BAD CALL - presetConfig("toString") (an Object.prototype key) is rejected', () => {
    assert.throws(() => presetConfig('toString'), { name: 'RangeError', message: /Unknown preset "toString"/ });
  });
});

describe('presets: parameter counts at 224 x 224, 37 classes', () => {
  let model1: LayersModel;
  let model2: LayersModel;
  before(() => {
    model1 = buildModel(spec('plain-cnn', 224));
    model2 = buildModel(spec('bn-gap-cnn', 224));
  });
  after(() => {
    model1.dispose();
    model2.dispose();
  });

  test('model1 (plain-cnn): 25,930,789 in total, per layer as in the study', () => {
    assert.equal(model1.countParams(), 25_930_789);
    const params = layerParams(model1);
    assert.equal(params.conv1, 9_472); // 7*7*3*64 + 64
    assert.equal(params.conv2, 73_856); // 3*3*64*128 + 128
    assert.equal(params.conv3, 147_584); // 3*3*128*128 + 128
    assert.equal(params.dense1, 25_690_368); // 100352*256 + 256
    assert.equal(params.logits, 9_509); // 256*37 + 37
    assert.deepEqual(model1.getLayer('flatten').outputShape, [null, 100_352]); // 28*28*128
    assert.deepEqual(model1.getLayer('pool2').outputShape, [null, 28, 28, 128]);
    assert.deepEqual(model1.outputs[0].shape, [null, CLASSES]);
    assert.deepEqual(dropoutRates(model1), []);
  });

  test('model2 (bn-gap-cnn): 1,128,997 in total, per layer as in the study', () => {
    assert.equal(model2.countParams(), 1_128_997);
    const params = layerParams(model2);
    assert.equal(params.conv1, 9_472);
    assert.equal(params.bn1, 256); // 4 * 64
    assert.equal(params.conv2, 73_856);
    assert.equal(params.bn2, 512);
    assert.equal(params.conv3, 147_584);
    assert.equal(params.bn3, 512);
    assert.equal(params.conv4, 295_168); // 3*3*128*256 + 256
    assert.equal(params.bn4, 1_024);
    assert.equal(params.conv5, 590_080); // 3*3*256*256 + 256
    assert.equal(params.bn5, 1_024);
    assert.equal(params.logits, 9_509);
    assert.deepEqual(model2.getLayer('gap').outputShape, [null, 256]);
    assert.deepEqual(dropoutRates(model2), []);
  });

  test('summarize: totals split into trainable and non-trainable (BatchNorm moving statistics)', () => {
    const s1 = summarize(model1);
    assert.equal(s1.totalParams, 25_930_789);
    assert.equal(s1.nonTrainableParams, 0);
    assert.equal(s1.trainableParams, 25_930_789);
    assert.equal(s1.layers.find((l) => l.name === 'dense1')?.params, 25_690_368);
    assert.deepEqual(s1.layers.find((l) => l.name === 'flatten')?.outputShape, [null, 100_352]);
    const s2 = summarize(model2);
    assert.equal(s2.totalParams, 1_128_997);
    // Moving mean and variance: 2 * (64 + 128 + 128 + 256 + 256).
    assert.equal(s2.nonTrainableParams, 1_664);
    assert.equal(s2.trainableParams, 1_128_997 - 1_664);
  });

  test('formatSummary: Keras-style text with grouped totals', () => {
    const text = formatSummary(summarize(model1));
    assert.match(text, /^Model: "plain-cnn"/);
    assert.ok(text.includes('Total params: 25,930,789'), text);
    assert.ok(text.includes('Trainable params: 25,930,789'), text);
    assert.ok(text.includes('Non-trainable params: 0'), text);
    assert.match(text, /dense1 \(Dense\)\s+\(None, 256\)\s+25,690,368/);
    assert.match(text, /flatten \(Flatten\)\s+\(None, 100352\)\s+0/);
    assert.ok(formatSummary(summarize(model2)).includes('Total params: 1,128,997'));
  });
});

describe('presets: model3-5 add dropout only', () => {
  for (const name of ['model3', 'model4', 'model5'] as const) {
    test(`${name}: 1,128,997 params and one Dropout of rate 0.5 before the logits`, () => {
      const config = presetConfig(name);
      withModel({ architecture: config.architecture, dropout: config.dropout, imageSize: 224, numClasses: CLASSES, seed: 1 }, (model) => {
        assert.equal(model.countParams(), 1_128_997);
        assert.deepEqual(dropoutRates(model), [0.5]);
        const names = model.layers.map((layer) => layer.name);
        assert.equal(names.indexOf('dropout') + 1, names.indexOf('logits'));
      });
    });
  }
});

describe('presets: other image sizes', () => {
  test('model1 at 96: flatten 12*12*128 = 18,432, dense1 and total shrink accordingly', () => {
    // conv1 stride 2 'same': ceil(96/2) = 48; pool1: 24; pool2: 12.
    withModel(spec('plain-cnn', 96), (model) => {
      assert.deepEqual(model.getLayer('flatten').outputShape, [null, 18_432]);
      const dense1 = 18_432 * 256 + 256;
      assert.equal(model.getLayer('dense1').countParams(), dense1);
      assert.equal(model.countParams(), 9_472 + 73_856 + 147_584 + dense1 + 9_509);
    });
  });

  test('model1 at an odd size, 101: conv1 rounds up, pools round down', () => {
    // ceil(101/2) = 51; floor(51/2) = 25; floor(25/2) = 12.
    withModel(spec('plain-cnn', 101), (model) => {
      assert.deepEqual(model.getLayer('conv1').outputShape, [null, 51, 51, 64]);
      assert.deepEqual(model.getLayer('pool1').outputShape, [null, 25, 25, 64]);
      assert.deepEqual(model.getLayer('flatten').outputShape, [null, 12 * 12 * 128]);
    });
  });

  test('model2 has the same parameter count at every size', () => {
    for (const size of [15, 32, 96, 160]) {
      withModel(spec('bn-gap-cnn', size), (model) => assert.equal(model.countParams(), 1_128_997, `size ${size}`));
    }
  });

  test('the class count only changes the logits layer', () => {
    withModel(spec('bn-gap-cnn', 32, { numClasses: 2 }), (model) => {
      assert.equal(model.getLayer('logits').countParams(), 256 * 2 + 2);
      assert.equal(model.countParams(), 1_128_997 - 9_509 + 514);
    });
  });

  test('bn-gap-cnn: 15 is the smallest size that works', () => {
    withModel(spec('bn-gap-cnn', 15), (model) => assert.deepEqual(model.getLayer('pool3').outputShape, [null, 1, 1, 256]));
  });

  test('plain-cnn: 7 is the smallest size that works', () => {
    withModel(spec('plain-cnn', 7), (model) => assert.deepEqual(model.getLayer('flatten').outputShape, [null, 128]));
  });

  test('BAD CALL - bn-gap-cnn at 14 throws ImageSizeError naming the minimum 15', () => {
    assert.throws(
      () => buildModel(spec('bn-gap-cnn', 14)),
      (error: Error) => {
        assert.equal(error.name, 'ImageSizeError');
        assert.ok(error instanceof ImageSizeError);
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /Image size 14 is too small for bn-gap-cnn: it needs at least 15 pixels a side \(--image-size 15 or more\)/);
        return true;
      },
    );
  });

  test('BAD CALL - plain-cnn at 6 throws ImageSizeError naming the minimum 7', () => {
    assert.throws(() => buildModel(spec('plain-cnn', 6)), { name: 'ImageSizeError', message: /too small for plain-cnn: it needs at least 7 pixels/ });
  });

  test('BAD CALL - a non-integer image size throws ImageSizeError', () => {
    assert.throws(() => buildModel(spec('bn-gap-cnn', 32.5)), { name: 'ImageSizeError', message: /Image size 32\.5/ });
  });
});

describe('presets: seeded initial weights', () => {
  const weightsOf = (s: ModelSpec): Float32Array[] => withModel(s, (model) => model.getWeights().map((w) => w.dataSync() as Float32Array));

  test('the same seed gives identical weights; another seed gives different kernels', () => {
    const a = weightsOf(spec('bn-gap-cnn', 16, { numClasses: 3, seed: 7 }));
    const b = weightsOf(spec('bn-gap-cnn', 16, { numClasses: 3, seed: 7 }));
    const c = weightsOf(spec('bn-gap-cnn', 16, { numClasses: 3, seed: 8 }));
    assert.equal(a.length, b.length);
    a.forEach((w, i) => assert.deepEqual(w, b[i], `weight ${i}`));
    // conv1's kernel is the first weight; biases and BatchNorm parameters start constant whatever the seed.
    assert.notDeepEqual(a[0], c[0]);
    const differing = a.filter((w, i) => w.some((v, j) => v !== c[i][j])).length;
    assert.equal(differing, 6, 'the 5 conv kernels and the logits kernel differ');
  });

  test('layers get distinct initial kernels (each its own derived seed)', () => {
    withModel(spec('bn-gap-cnn', 16, { numClasses: 3, seed: 7 }), (model) => {
      // Kernels differ in shape and Glorot limit, so compare the draws scaled to their limits:
      // with a shared seed they would be the same sequence.
      const draws = (name: string): number[] => {
        const kernel = model.getLayer(name).getWeights()[0];
        const [kh, kw, inC, outC] = kernel.shape;
        const limit = Math.sqrt(6 / (kh * kw * inC + kh * kw * outC));
        return Array.from(kernel.dataSync().slice(0, 100), (v) => v / limit);
      };
      const conv4 = draws('conv4');
      const conv5 = draws('conv5');
      assert.ok(conv4.every((v) => Math.abs(v) <= 1 + 1e-6) && conv5.every((v) => Math.abs(v) <= 1 + 1e-6), 'Glorot-uniform range');
      assert.ok(conv4.some((v, i) => Math.abs(v - conv5[i]) > 1e-3));
    });
  });

  test('plain-cnn: the same seed gives identical weights', () => {
    const a = weightsOf(spec('plain-cnn', 16, { numClasses: 3, seed: 3 }));
    const b = weightsOf(spec('plain-cnn', 16, { numClasses: 3, seed: 3 }));
    a.forEach((w, i) => assert.deepEqual(w, b[i], `weight ${i}`));
  });
});

describe('presets: logitsModel', () => {
  const TOLERANCE = 1e-6;

  function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
    assert.equal(a.length, b.length);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    return max;
  }

  for (const architecture of ['bn-gap-cnn', 'plain-cnn'] as const) {
    test(`${architecture}: softmax(logits) equals model.predict within ${TOLERANCE}, also after the weights change`, () => {
      const model = buildModel(spec(architecture, 24, { numClasses: 5, seed: 11, dropout: 0.5 }));
      const logits = logitsModel(model);
      const x = tf.randomUniform([3, 24, 24, 3], 0, 1, 'float32', 5);
      const compare = (): void => {
        const [probs, fromLogits] = tf.tidy(() => [model.predict(x) as Tensor, tf.softmax(logits.predict(x) as Tensor)]);
        assert.deepEqual(probs.shape, [3, 5]);
        assert.deepEqual(fromLogits.shape, [3, 5]);
        assert.ok(maxAbsDiff(probs.dataSync(), fromLogits.dataSync()) <= TOLERANCE);
        tf.dispose([probs, fromLogits]);
      };
      try {
        assert.equal(logits.outputs[0].shape[1], 5);
        compare();
        // Changing the model's logits bias must show through the logits model: they share variables.
        const layer = model.getLayer('logits');
        const [kernel] = layer.getWeights();
        const bias = tf.tensor1d([5, -3, 0, 2, 1]);
        layer.setWeights([kernel, bias]);
        bias.dispose();
        compare();
        assert.equal(logits.trainableWeights.length, model.trainableWeights.length);
        logits.trainableWeights.forEach((w, i) => assert.equal(w.read(), model.trainableWeights[i].read()));
      } finally {
        x.dispose();
        model.dispose();
      }
    });
  }
});
