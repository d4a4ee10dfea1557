// One test per layer converter against tfjs: random weights, odd image sizes, float32 and float16, each file
// through the ONNX checker rules (layer-parity.ts); then a model mixing them on photos of the bundled sample.
// Layers that only exist to be left out (dropouts, noise) are checked to leave no node behind.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { tfl } from '@pets/train/tfjs';
import { decodeModel, exportModel, SUPPORTED_ACTIVATIONS, TOLERANCE, verificationInputs } from '../src/index.js';
import { assertLayerParity, on, randomizeNonKernels } from './layer-parity.js';
import { checkModel } from './onnx-checker.js';
import { contractFor, parity, PETS_MINI, ready, sampleLabels } from './fixtures.js';

before(ready);

const L = tfl.layers;
type ConvArgs = Parameters<typeof L.conv2d>[0];
/** A Conv2D, 'same' unless told. */
const conv = (name: string, filters: number, kernelSize: ConvArgs['kernelSize'], extra: Partial<ConvArgs> = {}) => L.conv2d({ padding: 'same', ...extra, filters, kernelSize, name });

describe('convolutions', () => {
  test('Conv2D: dilation, strides 1-3 per axis, same and valid, fused activations', async () => {
    const ops = await assertLayerParity({
      image: [13, 11, 3],
      build: (x) => {
        x = on(conv('dilated', 4, 3, { dilationRate: [2, 1], padding: 'same', activation: 'swish' }), x);
        x = on(conv('strided', 5, [3, 2], { strides: [2, 3], padding: 'valid', activation: 'elu' }), x);
        return on(conv('strided_same', 3, 3, { strides: 2, padding: 'same', activation: 'tanh' }), x);
      },
    });
    assert.equal(ops.Conv, 3);
  });

  test('Conv2DTranspose: kernel larger, equal and smaller than the stride, same and valid', async () => {
    const ops = await assertLayerParity({
      image: [5, 7, 3],
      build: (x) => {
        x = on(L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 't_k3s2_same' }), x);
        x = on(L.conv2dTranspose({ filters: 3, kernelSize: [2, 1], strides: [3, 2], padding: 'valid', name: 't_k_lt_s_valid' }), x);
        x = on(L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 1, padding: 'valid', useBias: false, name: 't_k3s1_valid' }), x);
        return on(L.conv2dTranspose({ filters: 2, kernelSize: 1, strides: 2, padding: 'same', name: 't_k1s2_same' }), x);
      },
    });
    assert.equal(ops.ConvTranspose, 4);
  });

  test('DepthwiseConv2D: depth multipliers 1-3, strides, same and valid', async () => {
    await assertLayerParity({
      image: [11, 9, 3],
      build: (x) => {
        x = on(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 3, strides: [1, 2], padding: 'same', name: 'dw_m3' }), x);
        return on(L.depthwiseConv2d({ kernelSize: [2, 3], depthMultiplier: 2, strides: 2, padding: 'valid', activation: 'relu6', name: 'dw_m2' }), x);
      },
    });
  });

  test('SeparableConv2D: depth multipliers, dilation, strides, same and valid, with and without bias', async () => {
    const ops = await assertLayerParity({
      image: [12, 9, 3],
      build: (x) => {
        x = on(L.separableConv2d({ filters: 5, kernelSize: 3, depthMultiplier: 2, dilationRate: 2, padding: 'same', activation: 'relu', name: 'sep_dilated' }), x);
        x = on(L.separableConv2d({ filters: 4, kernelSize: [3, 2], strides: 2, padding: 'valid', useBias: false, name: 'sep_strided' }), x);
        return on(L.separableConv2d({ filters: 3, kernelSize: 3, depthMultiplier: 3, strides: [2, 1], padding: 'same', name: 'sep_m3' }), x);
      },
    });
    assert.equal(ops.Conv, 6, 'a depthwise and a pointwise Conv each');
  });
});

describe('Dense, normalization', () => {
  test('Dense on an image (rank 4: a 1x1 Conv) and on [steps, features] (a MatMul)', async () => {
    const ops = await assertLayerParity({
      image: [5, 7, 3],
      build: (x) => {
        x = on(L.dense({ units: 6, activation: 'gelu', name: 'per_pixel' }), x);
        x = on(L.reshape({ targetShape: [35, 6], name: 'steps' }), x);
        return on(L.dense({ units: 2, activation: 'sigmoid', name: 'per_step' }), x);
      },
    });
    assert.equal(ops.MatMul, 1);
  });

  test('BatchNormalization over the channels, the height, the width, and flat features, not folded', async () => {
    await assertLayerParity({
      image: [7, 5, 3],
      variants: [{ foldBatchNorm: false }],
      build: (x) => {
        x = on(conv('c', 4, 3, { activation: 'relu' }), x);
        x = on(L.batchNormalization({ axis: -1, name: 'bn_channels' }), x);
        x = on(L.batchNormalization({ axis: 1, epsilon: 0.01, name: 'bn_height' }), x);
        x = on(L.batchNormalization({ axis: 2, center: false, name: 'bn_width' }), x);
        x = on(L.flatten({ name: 'f' }), x);
        return on(L.batchNormalization({ name: 'bn_flat' }), x);
      },
    });
  });

  test('LayerNormalization over the channels, over [H, W, C], and over flat features; ReduceMean axes before and from opset 18', async () => {
    await assertLayerParity({
      image: [6, 5, 3],
      variants: [{ opset: 13 }, { opset: 18 }, { opset: 22 }],
      build: (x) => {
        x = on(conv('c', 4, 3), x);
        x = on(L.layerNormalization({ name: 'ln_channels' }), x);
        x = on(L.layerNormalization({ axis: [1, 2, 3], epsilon: 0.01, name: 'ln_image' }), x);
        x = on(L.flatten({ name: 'f' }), x);
        return on(L.layerNormalization({ center: false, name: 'ln_flat' }), x);
      },
    });
  });
});

describe('activations', () => {
  for (const activation of SUPPORTED_ACTIVATIONS) {
    test(`${activation}, as an Activation layer on an image and fused in a Dense`, async () => {
      await assertLayerParity({
        image: [5, 3, 3],
        build: (x) => {
          // Scaled up so that the activations' shapes (saturation, thresholds) are exercised.
          x = on(conv('c', 4, 3, { kernelInitializer: tfl.initializers.randomUniform({ minval: -1, maxval: 1, seed: 3 }) }), x);
          x = on(L.activation({ activation: activation as 'relu', name: 'act' }), x);
          x = on(L.flatten({ name: 'f' }), x);
          return on(L.dense({ units: 6, activation: activation as 'relu', name: 'fused' }), x);
        },
      });
    });
  }

  test('ReLU (maxValue), LeakyReLU, PReLU (per element and shared over H, W), ELU, ThresholdedReLU', async () => {
    const ops = await assertLayerParity({
      image: [5, 7, 3],
      build: (x) => {
        x = on(conv('c1', 4, 3), x);
        x = on(L.reLU({ maxValue: 0.4, name: 'relu_max' }), x);
        x = on(conv('c2', 4, 3), x);
        x = on(L.leakyReLU({ alpha: 0.2, name: 'leaky' }), x);
        x = on(L.prelu({ name: 'prelu_all' }), x);
        x = on(L.prelu({ sharedAxes: [1, 2], name: 'prelu_channels' }), x);
        x = on(L.elu({ name: 'elu' }), x);
        x = on(L.thresholdedReLU({ theta: 0.1, name: 'thresholded' }), x);
        x = on(L.reLU({ name: 'relu' }), x);
        x = on(L.flatten({ name: 'f' }), x);
        return on(L.prelu({ name: 'prelu_flat' }), x);
      },
    });
    assert.equal(ops.PRelu, 3);
    assert.equal(ops.ThresholdedRelu, 1);
  });

  // tfjs-core's softmax runs on the last axis only ("Softmax along a non-last dimension is not yet supported").
  test('Softmax over the channels of an image (axis -1 and 3), of [steps, features] (2), and of flat features (default 1)', async () => {
    const ops = await assertLayerParity({
      image: [5, 4, 3],
      build: (x) => {
        x = on(conv('c', 4, 3), x);
        x = on(L.softmax({ axis: -1, name: 'softmax_channels' }), x);
        x = on(L.softmax({ axis: 3, name: 'softmax_axis3' }), x);
        x = on(L.reshape({ targetShape: [10, 8], name: 'steps' }), x);
        x = on(L.softmax({ axis: 2, name: 'softmax_steps' }), x);
        x = on(L.flatten({ name: 'f' }), x);
        return on(L.softmax({ name: 'softmax_flat' }), x);
      },
    });
    assert.equal(ops.Softmax, 5, 'four layers and the exported probabilities');
  });
});

describe('pooling, padding, cropping, upsampling', () => {
  test("MaxPooling2D and AveragePooling2D ('same' and 'valid'), global pooling with and without keepDims", async () => {
    const ops = await assertLayerParity({
      image: [13, 10, 3],
      build: (x) => {
        x = on(conv('c', 4, 3), x);
        x = on(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'max_valid' }), x);
        x = on(L.averagePooling2d({ poolSize: [2, 3], strides: [1, 2], padding: 'same', name: 'avg_same' }), x);
        // A squeeze-and-excitation gate: [C] -> [1, 1, C] times [H, W, C] (ONNX broadcasting).
        const squeezed = on(L.globalMaxPooling2d({ name: 'gmax_gate' }), x);
        const gate = on(L.reshape({ targetShape: [1, 1, 4], name: 'gate_shape' }), on(L.dense({ units: 4, activation: 'sigmoid', name: 'excite' }), squeezed));
        const flat = on(L.globalAveragePooling2d({ name: 'gavg' }), x);
        const gated = on(L.multiply({ name: 'gate' }), [x, gate]);
        const pooled = on(L.globalMaxPooling2d({ name: 'gmax' }), gated);
        return on(L.concatenate({ name: 'both' }), [pooled, flat]);
      },
    });
    assert.equal(ops.GlobalMaxPool, 2);
  });

  test('ZeroPadding2D, Cropping2D and UpSampling2D (nearest and bilinear), opsets 13 to 22', async () => {
    const ops = await assertLayerParity({
      image: [5, 6, 3],
      variants: [{ opset: 13 }, { opset: 22, fp16: true }],
      build: (x) => {
        x = on(conv('c', 3, 3), x);
        x = on(L.zeroPadding2d({ padding: [[1, 2], [0, 3]], name: 'pad' }), x);
        x = on(L.cropping2D({ cropping: [[2, 0], [1, 3]], name: 'crop' }), x);
        x = on(L.upSampling2d({ size: [2, 3], name: 'up_nearest' }), x);
        x = on(L.zeroPadding2d({ name: 'pad1' }), x);
        x = on(L.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'up_bilinear' }), x);
        return on(L.cropping2D({ cropping: 1, name: 'crop1' }), x);
      },
    });
    assert.deepEqual([ops.Pad, ops.Slice, ops.Resize], [2, 2, 2]);
  });
});

describe('shapes: Reshape, Flatten, Permute, RepeatVector', () => {
  test('Permute of an image (two orders), Reshape to rank 2 and 4, Flatten of [steps, features]', async () => {
    await assertLayerParity({
      image: [5, 4, 3],
      build: (x) => {
        x = on(conv('c', 2, 3), x);
        x = on(L.permute({ dims: [2, 1, 3], name: 'swap_hw' }), x);
        x = on(conv('c2', 3, 2), x);
        x = on(L.permute({ dims: [3, 1, 2], name: 'channels_first' }), x);
        x = on(L.reshape({ targetShape: [6, 10], name: 'steps' }), x);
        x = on(L.permute({ dims: [2, 1], name: 'transpose' }), x);
        return on(L.flatten({ name: 'flat_steps' }), x);
      },
    });
  });

  test('Rescaling of the input (x / 127.5 - 1) before a Conv', async () => {
    const ops = await assertLayerParity({ image: [5, 3, 3], build: (x) => on(conv('c', 2, 3), on(L.rescaling({ scale: 1 / 127.5, offset: -1, name: 'rescale' }), x)) });
    assert.equal(ops.Mul, 1);
  });

  test('RepeatVector after global pooling, then a Dense per step', async () => {
    const ops = await assertLayerParity({
      image: [5, 5, 3],
      build: (x) => {
        x = on(conv('c', 3, 3), x);
        x = on(L.globalAveragePooling2d({ name: 'gap' }), x);
        x = on(L.repeatVector({ n: 4, name: 'repeat' }), x);
        return on(L.dense({ units: 2, name: 'per_step' }), x);
      },
    });
    assert.equal(ops.Tile, 1);
  });
});

describe('merges', () => {
  test('Add, Multiply, Average (3 inputs), Maximum, Minimum, on NHWC and NCHW inputs together', async () => {
    await assertLayerParity({
      image: [5, 7, 3],
      build: (image) => {
        const a = on(conv('a', 3, 3), image);
        const b = on(conv('b', 3, 1), image);
        const sum = on(L.add({ name: 'add' }), [image, a]); // the raw NHWC input and an NCHW Conv output
        const product = on(L.multiply({ name: 'mul' }), [sum, b]);
        const mean = on(L.average({ name: 'avg' }), [product, a, b]);
        const high = on(L.maximum({ name: 'max' }), [mean, a]);
        return on(L.minimum({ name: 'min' }), [high, b, sum]);
      },
    });
  });

  // tfjs joins along the last axis for every negative axis (backend/tfjs_backend.ts concatenate()): -2 joins channels.
  test('Concatenate over channels, height (axis 1), width (axis 2), -2 (as tfjs: the channels), and flat features in two orders', async () => {
    await assertLayerParity({
      image: [5, 4, 3],
      build: (image) => {
        const a = on(conv('a', 2, 3), image);
        const channels = on(L.concatenate({ name: 'cat_channels' }), [image, a]);
        const height = on(L.concatenate({ axis: 1, name: 'cat_height' }), [channels, channels]);
        const width = on(L.concatenate({ axis: 2, name: 'cat_width' }), [height, on(conv('b', 5, 1), height)]);
        const minus2 = on(L.concatenate({ axis: -2, name: 'cat_minus2' }), [width, width]);
        const flatNchw = on(L.flatten({ name: 'f1' }), minus2); // C,H,W order inside the exporter
        const flatNhwc = on(L.flatten({ name: 'f2' }), image); // H,W,C order
        return on(L.concatenate({ name: 'cat_flat' }), [flatNchw, flatNhwc]);
      },
    });
  });
});

describe('inference no-ops', () => {
  test('Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout and AlphaDropout leave no node', async () => {
    const ops = await assertLayerParity({
      image: [3, 5, 3],
      build: (x) => {
        x = on(L.dropout({ rate: 0.5, name: 'dropout' }), x);
        x = on(L.gaussianNoise({ stddev: 1, name: 'noise' }), x);
        x = on(L.gaussianDropout({ rate: 0.3, name: 'gdrop' }), x);
        x = on(L.alphaDropout({ rate: 0.3, name: 'adrop' }), x);
        x = on(L.reshape({ targetShape: [15, 3], name: 'steps' }), x);
        return on(L.spatialDropout1d({ rate: 0.5, name: 'sdrop' }), x);
      },
    });
    assert.deepEqual(ops, { Reshape: 1, Flatten: 1, Gemm: 1, Softmax: 1 }, 'only the shape layers, the case head and its softmax');
  });
});

describe('on photos', () => {
  test('a model mixing the new converters matches tfjs on photos of the bundled sample (float32 and float16)', async () => {
    const labels = await sampleLabels();
    const contract = contractFor(labels, 32);
    const photos = await verificationInputs({ contract, count: 4, data: PETS_MINI, dataExplicit: true, testFraction: 0.2, seed: 42 });
    const image = tfl.input({ shape: [32, 32, 3] });
    let x = on(L.rescaling({ scale: 2, offset: -0.5, name: 'rescale' }), image);
    x = on(L.separableConv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'swish', name: 'sep' }), x);
    const skip = on(L.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'up' }), x);
    x = on(L.add({ name: 'join' }), [skip, on(L.upSampling2d({ name: 'nearest' }), x)]);
    x = on(L.cropping2D({ cropping: [[0, 1], [1, 0]], name: 'crop' }), x); // 32 -> 31
    x = on(L.layerNormalization({ name: 'ln' }), x);
    x = on(L.concatenate({ name: 'cat' }), [x, on(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'gelu', name: 'dw' }), x)]);
    x = on(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }), x);
    x = on(L.globalAveragePooling2d({ name: 'gap' }), x);
    x = on(L.dense({ units: labels.length, activation: 'softmax', name: 'probs' }), x);
    const model = tfl.model({ inputs: image, outputs: x });
    randomizeNonKernels(model, 2);
    for (const fp16 of [false, true]) {
      const { bytes } = exportModel(model, contract, { fp16 });
      checkModel(decodeModel(bytes));
      const m = await parity(model, bytes, photos);
      const tolerance = fp16 ? TOLERANCE.fp16 : TOLERANCE.fp32;
      assert.ok(m.maxAbsDiff <= tolerance && m.maxLogitRelErr <= tolerance, `fp16 ${fp16}: ${JSON.stringify(m)}`);
    }
    model.dispose();
  });
});
