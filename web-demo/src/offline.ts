// Registers the service worker (sw.ts) and, once the model runs, sends it every file this page loaded,
// so that a reload works without a network. The page's <html> gets data-offline="ready" when they are
// kept (or "failed", with the reason in data-offline-error).
import type { KeepMessage } from './sw.js';

async function keepUsedFiles(): Promise<number> {
  const registration = await navigator.serviceWorker.ready;
  const page = new URL(location.href);
  page.search = '';
  page.hash = '';
  const urls = [page.href, ...performance.getEntriesByType('resource').map((entry) => entry.name)].filter((url) => new URL(url).origin === location.origin);
  const channel = new MessageChannel();
  const reply = new Promise<{ kept?: number; error?: string }>((done) => (channel.port1.onmessage = (event) => done(event.data as { kept?: number; error?: string })));
  registration.active?.postMessage({ type: 'keep', urls } satisfies KeepMessage, [channel.port2]);
  const { kept, error } = await reply;
  if (error !== undefined || kept === undefined) throw new Error(error ?? 'no reply');
  return kept;
}

export function keepForOffline(serviceWorker: string, ready: Promise<unknown>): void {
  if (!('serviceWorker' in navigator)) return;
  const root = document.documentElement;
  navigator.serviceWorker
    .register(serviceWorker)
    .then(() => ready)
    .then(keepUsedFiles)
    .then(
      (kept) => {
        root.dataset.offline = 'ready';
        root.dataset.offlineFiles = String(kept);
      },
      (error: Error) => {
        root.dataset.offline = 'failed';
        root.dataset.offlineError = error.message;
      },
    );
}
