// The pretrained backbones pets knows by name, as data: where the files are (a bundled folder under
// data/backbones, a published URL), their bundle digest, preprocessing and the default layers to cut at
// and to fine-tune from. `pets-train backbones` prints this table.
import type { ModelContract } from '@pets/runtime/contract';

export type Normalization = ModelContract['normalization'];

export interface KnownBackbone {
  /** The name --backbone accepts. */
  name: string;
  /** Other names --backbone accepts. */
  aliases: string[];
  description: string;
  /** Folder under data/backbones; used in preference to `url`. */
  bundled?: string;
  /** The published model.json. */
  url?: string;
  /** Bundle digest (see bundleDigest in manifest.ts) of the bundled folder, checked when it loads. */
  sha256?: string;
  /** x = (p * scale - mean[c]) / std[c] for 8-bit RGB values p. */
  normalization: Normalization;
  /** The input side the model was trained at. */
  inputSize: number;
  /** The default layer whose output is the feature map. */
  featureLayer: string;
  /** The default first layer trained when fine-tuning. */
  unfreezeFrom: string;
  /** One line: the license(s) of the weights and their conversion. */
  license: string;
}

const freezeNormalization = (n: Normalization): Normalization => Object.freeze({ scale: n.scale, mean: Object.freeze(n.mean), std: Object.freeze(n.std) }) as Normalization;

export const NORMALIZATION_NAMES = ['unit', 'symmetric', 'imagenet'] as const;
export type NormalizationName = (typeof NORMALIZATION_NAMES)[number];

/** unit: x/255; symmetric: x/127.5 - 1; imagenet: torchvision's mean and std on x/255. */
export const NORMALIZATIONS: Record<NormalizationName, Normalization> = Object.freeze({
  unit: freezeNormalization({ scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] }),
  symmetric: freezeNormalization({ scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1] }),
  imagenet: freezeNormalization({ scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }),
});

/** A normalization by name (a fresh copy); RangeError listing the names otherwise. */
export function parseNormalization(value: string): Normalization {
  const found = (NORMALIZATION_NAMES as readonly string[]).includes(value) ? NORMALIZATIONS[value as NormalizationName] : undefined;
  if (!found) throw new RangeError(`Unsupported normalization "${value}". Expected one of: ${NORMALIZATION_NAMES.join(', ')}.`);
  return { scale: found.scale, mean: [...found.mean], std: [...found.std] };
}

/** The name of a normalization in NORMALIZATIONS, if it is one of them. */
export function normalizationName(n: Normalization): NormalizationName | undefined {
  const same = (a: readonly number[], b: readonly number[]) => a.every((x, i) => Math.abs(x - b[i]) < 1e-12);
  return NORMALIZATION_NAMES.find((name) => {
    const m = NORMALIZATIONS[name];
    return Math.abs(m.scale - n.scale) < 1e-12 && same(m.mean, n.mean) && same(m.std, n.std);
  });
}

const MOBILENET_URL = (alpha: string, size: number) => `https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_${alpha}_${size}/model.json`;
const MOBILENET_LICENSE = 'Apache-2.0 (Google)';

function mobilenet(alpha: string, size: number): KnownBackbone {
  const name = `mobilenet_v1_${alpha}_${size}`;
  const short = alpha === '0.50' ? [`mobilenet_v1_0.5_${size}`] : [];
  return {
    name,
    aliases: short,
    description: `MobileNet v1, width ${Number(alpha)}, ${size}×${size}, ImageNet (tfjs-models)`,
    url: MOBILENET_URL(alpha, size),
    normalization: NORMALIZATIONS.symmetric,
    inputSize: size,
    featureLayer: 'conv_pw_13_relu',
    unfreezeFrom: 'conv_dw_12',
    license: MOBILENET_LICENSE,
  };
}

const BUNDLED: KnownBackbone[] = [
  {
    ...mobilenet('0.75', 224),
    aliases: ['mobilenet'],
    bundled: 'mobilenet_v1_0.75_224',
    sha256: 'e123ff31dc2bf4d1bb7a95bca2196ba8ceb335fef6f0b3ccc87ea5613d434e20',
  },
  {
    name: 'darknet-tiny',
    aliases: ['darknet'],
    description: 'Darknet reference "tiny" ImageNet classifier, 224×224 (ml5 conversion)',
    bundled: 'darknet-tiny',
    sha256: 'f766be97d4c2be383b5cae35200103820ddfd36148dc07e392b7e1d645833567',
    normalization: NORMALIZATIONS.unit,
    inputSize: 224,
    featureLayer: 'leaky_re_lu_15',
    unfreezeFrom: 'conv2d_13',
    license: 'MIT (ml5 conversion and labels); weights public domain',
  },
];

const PUBLISHED: KnownBackbone[] = ['0.25', '0.50', '0.75', '1.0']
  .flatMap((alpha) => [128, 160, 192, 224].map((size) => mobilenet(alpha, size)))
  .filter((b) => !BUNDLED.some((k) => k.name === b.name));

export const KNOWN_BACKBONES: readonly KnownBackbone[] = Object.freeze([...BUNDLED, ...PUBLISHED].map((b) => Object.freeze({ ...b, aliases: Object.freeze(b.aliases) as string[] })));

/** A known backbone by name or alias (case-insensitive). */
export function findKnownBackbone(name: string): KnownBackbone | undefined {
  const key = name.trim().toLowerCase();
  return KNOWN_BACKBONES.find((b) => b.name.toLowerCase() === key || b.aliases.some((a) => a.toLowerCase() === key));
}

/** The known backbone published at this model.json URL. */
export function findKnownByUrl(url: string): KnownBackbone | undefined {
  return KNOWN_BACKBONES.find((b) => b.url === url);
}
