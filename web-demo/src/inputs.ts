// The ways to give the page a photo: the file input, drag and drop, paste, and the sample buttons.
import { breedName } from './view.js';

/** A photo to classify: its bytes, the name to show, and a URL to display it. */
export interface PickedImage {
  blob: Blob;
  name: string;
}

export type ImageHandler = (image: PickedImage) => void;

function firstFile(list: FileList | null | undefined): File | undefined {
  return list && list.length > 0 ? list[0] : undefined;
}

export function watchFileInput(input: HTMLInputElement, onImage: ImageHandler): void {
  // Space opens the chooser everywhere; Chromium's native Enter is unreliable, so Enter opens it here.
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.repeat) return;
    event.preventDefault();
    input.click();
  });
  input.addEventListener('change', () => {
    const file = firstFile(input.files);
    if (file) onImage({ blob: file, name: file.name });
    // Choosing the same file again should classify it again.
    input.value = '';
  });
}

/** Dropping anywhere on the page works; the zone lights up while something is dragged over the page. */
export function watchDrops(zone: HTMLElement, onImage: ImageHandler, onEmpty: () => void): void {
  let depth = 0;
  const setActive = (active: boolean) => zone.classList.toggle('dragging', active);
  document.addEventListener('dragenter', (event) => {
    if (!event.dataTransfer?.types.includes('Files')) return;
    depth += 1;
    setActive(true);
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) setActive(false);
  });
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    setActive(false);
    const file = firstFile(event.dataTransfer?.files);
    if (file) onImage({ blob: file, name: file.name });
    else onEmpty();
  });
}

/** Ctrl+V / Cmd+V with an image on the clipboard (a copied image or a copied file). */
export function watchPaste(onImage: ImageHandler): void {
  document.addEventListener('paste', (event) => {
    const items = Array.from(event.clipboardData?.items ?? []);
    const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/')) ?? items.find((i) => i.kind === 'file');
    const file = item?.getAsFile();
    if (!file) return;
    event.preventDefault();
    onImage({ blob: file, name: file.name && file.name !== 'image.png' ? file.name : 'pasted image' });
  });
}

/** One button per sample photo; a click (or Enter/Space) fetches it and hands it over like a picked file. */
export function showSamples(list: HTMLElement, samples: { url: string; label: string }[], onImage: ImageHandler, onError: (error: Error) => void): void {
  list.replaceChildren(
    ...samples.map((sample) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'sample';
      button.dataset.sample = sample.url;
      const image = document.createElement('img');
      image.src = sample.url;
      image.alt = '';
      image.loading = 'lazy';
      image.decoding = 'async';
      const caption = document.createElement('span');
      caption.textContent = breedName(sample.label);
      button.append(image, caption);
      button.setAttribute('aria-label', `Classify the sample photo of a ${breedName(sample.label)}`);
      button.addEventListener('click', () => {
        fetch(sample.url)
          .then((response) => {
            if (!response.ok) throw new Error(`Cannot load the sample ${sample.url}: HTTP ${response.status}.`);
            return response.blob();
          })
          .then((blob) => onImage({ blob, name: sample.url.split('/').pop() ?? sample.url }), onError);
      });
      item.append(button);
      return item;
    }),
  );
}
