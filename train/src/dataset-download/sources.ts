// Where the Oxford-IIIT Pet archives come from and what they must hash to: VGG's file server, or a mirror
// with the same file names. The md5s are those of torchvision's OxfordIIITPet._RESOURCES, which names the
// same files under https://www.robots.ox.ac.uk/~vgg/data/pets/data/ (usable as --mirror).
import { DatasetDownloadError } from './errors.js';

export const ARCHIVE_NAMES = ['images', 'annotations'] as const;
export type ArchiveName = (typeof ARCHIVE_NAMES)[number];

export const OFFICIAL_BASE_URL = 'https://thor.robots.ox.ac.uk/~vgg/data/pets';

export const OFFICIAL_MD5: Readonly<Record<ArchiveName, string>> = {
  images: '5c4f3ee8e5d25df40f4fd59a7f44e54c',
  annotations: '95a8c909bbe2e81eed6a22bccdf3f68f',
};

export interface ArchiveSource {
  name: ArchiveName;
  url: string;
  md5: string;
}

/** The two archives under `baseUrl` (default the official server), with the md5s they must have. */
export function archiveSources(baseUrl = OFFICIAL_BASE_URL, md5: Partial<Record<ArchiveName, string>> = {}): ArchiveSource[] {
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new DatasetDownloadError(`Mirror "${baseUrl}" is not a URL; expected e.g. https://example.org/pets (it must serve images.tar.gz and annotations.tar.gz).`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new DatasetDownloadError(`Mirror "${baseUrl}" must be an http(s) URL.`);
  }
  return ARCHIVE_NAMES.map((name) => ({ name, url: new URL(`${name}.tar.gz`, base).href, md5: (md5[name] ?? OFFICIAL_MD5[name]).toLowerCase() }));
}

/** Parses --md5's "images=HEX,annotations=HEX" (either part may be left out). */
export function parseMd5Overrides(text: string): Partial<Record<ArchiveName, string>> {
  const result: Partial<Record<ArchiveName, string>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value, ...rest] = part.split('=');
    if (!(ARCHIVE_NAMES as readonly string[]).includes(key) || rest.length > 0 || !/^[0-9a-fA-F]{32}$/.test(value ?? '')) {
      throw new DatasetDownloadError(`--md5 part "${part}" must be NAME=HEX with NAME one of: ${ARCHIVE_NAMES.join(', ')} and HEX 32 hex digits (e.g. images=5c4f…,annotations=95a8…).`);
    }
    result[key as ArchiveName] = value.toLowerCase();
  }
  return result;
}
