/*
 * Cross-origin isolation for static hosts that can't send headers (GitHub Pages and the like).
 *
 * The lab needs COOP + COEP for SharedArrayBuffer (wasm threads) and the 5 us timer. This service worker passes
 * every same-origin response through unchanged except for three added headers. The page registers it once and
 * reloads; from then on the page and its workers are cross-origin isolated. It caches nothing and never touches
 * requests to other origins (the lab makes none).
 */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin) return;
  // 'only-if-cached' outside same-origin mode throws; leave such requests to the browser.
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.status === 0 || response.type === 'opaque') return response;
      const headers = new Headers(response.headers);
      for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }),
  );
});
