// The service worker (sw.js): keeps every file the page used, so that a reload works offline. The page
// sends the list once the model runs (its first load is not yet controlled); later requests are kept as
// they pass. Serves from that cache first, else the network. Each build has its own cache (VERSION, a
// hash of the site's files); a new build's worker deletes the old ones.

declare const VERSION: string;

// The WebWorker library's types clash with the DOM library this folder is checked with: the little used here.
interface WaitUntil extends Event {
  waitUntil(done: Promise<unknown>): void;
}
interface Fetching extends WaitUntil {
  request: Request;
  respondWith(response: Promise<Response>): void;
}
interface Message extends WaitUntil {
  data: unknown;
  ports: readonly MessagePort[];
}
interface WorkerScope {
  location: Location;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', listener: (event: WaitUntil) => void): void;
  addEventListener(type: 'fetch', listener: (event: Fetching) => void): void;
  addEventListener(type: 'message', listener: (event: Message) => void): void;
}

const worker = self as unknown as WorkerScope;
const PREFIX = 'pets-demo-';
const CACHE = `${PREFIX}${VERSION}`;

/** The message the page sends: the URLs to keep. */
export interface KeepMessage {
  type: 'keep';
  urls: string[];
}

const sameOrigin = (url: string) => new URL(url).origin === worker.location.origin;

worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
      await worker.clients.claim();
    })(),
  );
});

async function keep(urls: string[]): Promise<number> {
  const cache = await caches.open(CACHE);
  let kept = 0;
  for (const url of new Set(urls.filter(sameOrigin))) {
    if (!(await cache.match(url))) {
      const response = await fetch(url);
      if (response.status !== 200) continue;
      await cache.put(url, response);
    }
    kept++;
  }
  return kept;
}

worker.addEventListener('message', (event) => {
  const message = event.data as Partial<KeepMessage>;
  if (message?.type !== 'keep' || !Array.isArray(message.urls)) return;
  const reply = event.ports[0];
  event.waitUntil(
    keep(message.urls).then(
      (kept) => reply?.postMessage({ kept }),
      (error: Error) => reply?.postMessage({ error: error.message }),
    ),
  );
});

async function cacheFirst(request: Request, wait: (done: Promise<unknown>) => void): Promise<Response> {
  const cache = await caches.open(CACHE);
  // The page under any ?ep=... is the same file.
  const hit = await cache.match(request, { ignoreSearch: request.mode === 'navigate' });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.status === 200) wait(cache.put(request, response.clone()));
  return response;
}

worker.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || request.headers.has('range') || !sameOrigin(request.url)) return;
  event.respondWith(cacheFirst(request, (done) => event.waitUntil(done)));
});
